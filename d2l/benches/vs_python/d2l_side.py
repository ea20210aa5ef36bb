"""The Python side of `cargo bench -p d2l --bench vs_python`: d2l 1.0.3 (PyPI) on torch.

Usage: d2l_side.py TASK REPS THREADS DEVICE WORKDIR
Trains the book's model for TASK (softmax | mlp | lenet) for one epoch with d2l's own Trainer,
FashionMNIST data module (torchvision reading WORKDIR/../data/FashionMNIST/raw) and progress
board, REPS times, and prints one line `D2L_BENCH {"task": ..., "seconds": [...]}`. The data
module is built outside the timed region, as on the Rust side; only `trainer.fit` is timed.
"""
import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")  # a script has no display; d2l's board still draws into a figure

import torch
from torch import nn
from d2l import torch as d2l

TASKS = {  # name: (batch size, learning rate), as in the book
    "softmax": (256, 0.1),
    "mlp": (256, 0.1),
    "lenet": (128, 0.1),
}


class MLP(d2l.Classifier):
    """The concise MLP of the book's section on MLPs (not saved in d2l 1.0.3)."""

    def __init__(self, num_outputs, num_hiddens, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_hiddens), nn.ReLU(),
                                 nn.LazyLinear(num_outputs))


def model_for(task, lr, device):
    if task == "softmax":
        model = d2l.SoftmaxRegression(num_outputs=10, lr=lr)
    elif task == "mlp":
        model = MLP(num_outputs=10, num_hiddens=256, lr=lr)
    else:
        model = d2l.LeNet(lr=lr)
    # Materialise the lazy layers (and, for LeNet, apply the book's init) before timing.
    dummy = torch.zeros(1, 1, 28, 28)
    model.apply_init([dummy], d2l.init_cnn if task == "lenet" else None)
    return model


def main():
    task, reps, threads, device, workdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    os.chdir(workdir)  # d2l's DataModule reads from '../data'
    batch_size, lr = TASKS[task]
    num_gpus = 1 if device == "cuda" else 0
    seconds = []
    for _ in range(reps):
        data = d2l.FashionMNIST(batch_size=batch_size)
        model = model_for(task, lr, device)
        trainer = d2l.Trainer(max_epochs=1, num_gpus=num_gpus)
        if num_gpus:
            torch.cuda.synchronize()
        start = time.perf_counter()
        trainer.fit(model, data)
        if num_gpus:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        d2l.plt.close("all")
    # On a line of its own: the board leaves terminal clear-line codes on stdout.
    print("\nD2L_BENCH " + json.dumps({"task": task, "seconds": seconds,
                                     "train_examples": len(data.train)}), flush=True)


if __name__ == "__main__":
    main()
