//! Benchmark (not a test): the book's training loop in Rust against d2l 1.0.3 (PyTorch) on the
//! same libtorch 2.11.0, in one go.
//!
//! `make bench-python` (= `scripts/setup`, `scripts/bench-setup`, then
//! `cargo bench -p d2l --bench vs_python`) trains, on each side, one epoch of softmax regression
//! (batch 256, lr 0.1), the concise MLP with 256 hidden units (batch 256, lr 0.1) and LeNet
//! (batch 128, lr 0.1) on the same synthetic Fashion-MNIST IDX files, with the validation pass,
//! the progress board on, and the same number of libtorch threads. Each side builds its data
//! module outside the timed region and times `fit`; the summary gives training examples per
//! second (min and median over the repetitions) and the ratio of the medians, Rust over Python.
//!
//! A third side is the floor: the same model, optimizer and batches in a hand-written tch loop
//! (no board, no metrics, batches gathered before the clock). A second table gives the book's
//! `Trainer` (board on) against it: the trainer's overhead, to be at most 5 % on the MLP and
//! LeNet (softmax has no target: its ~0.08 s epoch is too short for the per-epoch work to be a
//! steady share). `D2L_BENCH_SIDES=rust` runs the trainer and the floor without Python.
//!
//! Settings: `D2L_BENCH_REPS` (default 3), `D2L_BENCH_THREADS` (default: all cores),
//! `D2L_BENCH_TASKS` (e.g. `softmax,mlp`), `D2L_BENCH_SIDES` (`rust` or `python` alone), `D2L_BENCH_PYTHON` (default: the bench venv of
//! `scripts/bench-setup`), `D2L_BENCH_DEVICE=cpu|cuda` (default: `d2l::try_gpu()`).

#[path = "vs_python/sides.rs"]
mod sides;

use sides::{floor_side, python_side, rust_side, FloorSummary, Summary, Task};

const TASKS: [Task; 3] = [
    Task {
        name: "softmax",
        batch_size: 256,
        lr: 0.1,
        target: 1.5,
        overhead_target: None,
    },
    Task {
        name: "mlp",
        batch_size: 256,
        lr: 0.1,
        target: 1.5,
        overhead_target: Some(0.05),
    },
    Task {
        name: "lenet",
        batch_size: 128,
        lr: 0.1,
        target: 1.1,
        overhead_target: Some(0.05),
    },
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // A benchmark compares full epochs: the CI switch must not shorten the Rust side only.
    if std::env::var_os(d2l::scale::SCALE_ENV).is_some() {
        eprintln!(
            "vs_python: ignoring {} (both sides train full epochs)",
            d2l::scale::SCALE_ENV
        );
        std::env::remove_var(d2l::scale::SCALE_ENV);
    }
    let reps: usize = env_or("D2L_BENCH_REPS", 3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: i32 = env_or("D2L_BENCH_THREADS", cores as i32);
    // d2l::try_gpu() loads libtorch's CUDA backend first; naming Device::Cuda(0) without it fails.
    let device = match std::env::var("D2L_BENCH_DEVICE").as_deref() {
        Ok("cpu") => tch::Device::Cpu,
        Ok("cuda") => match d2l::try_gpu() {
            tch::Device::Cpu => {
                panic!("vs_python: D2L_BENCH_DEVICE=cuda but d2l finds no GPU (run d2l-devices)")
            }
            gpu => gpu,
        },
        _ => d2l::try_gpu(),
    };
    let wanted = std::env::var("D2L_BENCH_TASKS").unwrap_or_default();
    let tasks: Vec<&Task> = TASKS
        .iter()
        .filter(|t| wanted.is_empty() || wanted.split(',').any(|w| w.trim() == t.name))
        .collect();
    tch::set_num_threads(threads);

    let dirs =
        sides::prepare_data().unwrap_or_else(|e| panic!("vs_python: preparing the data: {e}"));
    println!(
        "vs_python: {reps} repetitions, {threads} libtorch threads on each side, device {device:?}"
    );
    println!(
        "data: synthetic Fashion-MNIST (60000 train / 10000 val) in {}",
        dirs.root.display()
    );

    // `D2L_BENCH_SIDES=rust` (or `python`) runs one side alone, for profiling; no ratios then.
    let sides = std::env::var("D2L_BENCH_SIDES").unwrap_or_else(|_| "both".into());
    let mut summaries = Vec::new();
    let mut floors = Vec::new();
    for task in tasks {
        let rust = if sides == "python" {
            Vec::new()
        } else {
            rust_side(task, reps, device)
        };
        if sides != "python" {
            floors.push(FloorSummary::new(
                task,
                rust.clone(),
                floor_side(task, reps, device),
            ));
        }
        let python = if sides == "rust" {
            Vec::new()
        } else {
            python_side(task, reps, threads, device, &dirs)
                .unwrap_or_else(|e| panic!("vs_python: Python side of {}: {e}", task.name))
        };
        if !rust.is_empty() && !python.is_empty() {
            summaries.push(Summary::new(task, rust, python));
        }
    }
    println!();
    println!("{}", Summary::header());
    for summary in &summaries {
        println!("{summary}");
    }
    println!();
    println!("{}", FloorSummary::header());
    for floor in &floors {
        println!("{floor}");
    }
}
