//! Devices: the CPU and CUDA GPUs, as the book names them (`cpu`, `gpu`, `try_gpu`, ...).
//!
//! Every query first makes sure libtorch's CUDA backend is loaded (see [`crate::cuda_loader`]),
//! so a binary built on a machine without a GPU still finds the GPUs of the machine it runs on.

use tch::Device;

use crate::cuda_loader::cuda_library;

/// The CPU.
pub fn cpu() -> Device {
    Device::Cpu
}

/// The `i`-th GPU, whether or not it exists (as `torch.device('cuda:i')`).
pub fn gpu(i: usize) -> Device {
    Device::Cuda(i)
}

/// How many CUDA GPUs this process can use. Zero when libtorch has no CUDA backend.
pub fn num_gpus() -> usize {
    if !cuda_library().is_loaded() {
        return 0;
    }
    if tch::Cuda::is_available() {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    }
}

/// The first GPU if there is one, otherwise the CPU.
pub fn try_gpu() -> Device {
    try_gpu_at(0)
}

/// The `i`-th GPU if it exists, otherwise the CPU.
pub fn try_gpu_at(i: usize) -> Device {
    if i < num_gpus() {
        gpu(i)
    } else {
        cpu()
    }
}

/// All GPUs, or the CPU alone when there are none.
pub fn try_all_gpus() -> Vec<Device> {
    match num_gpus() {
        0 => vec![cpu()],
        n => (0..n).map(gpu).collect(),
    }
}
