//! The base the book stands on: tensors through `d2l`, the device helpers, and the CUDA loader's
//! fallbacks. `D2L_EXPECT_GPUS=n` makes the device tests assert an exact GPU count (the GPU
//! machine runs them with 1); without it they assert what a machine without GPUs must see.

use std::path::Path;
use std::process::Command;

use d2l::cuda_loader::{load_cuda_library_from, CudaLibrary, CUDA_DIR_ENV};
use d2l::prelude::*;

fn expected_gpus() -> usize {
    std::env::var("D2L_EXPECT_GPUS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn tensor_op_through_d2l() {
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let y = x.matmul(&x);
    assert_eq!(
        Vec::<f32>::try_from(y.flatten(0, -1)).unwrap(),
        vec![7.0, 10.0, 15.0, 22.0]
    );
}

#[test]
fn device_helpers_match_the_machine() {
    let n = expected_gpus();
    assert_eq!(d2l::num_gpus(), n);
    assert_eq!(d2l::cpu(), Device::Cpu);
    assert_eq!(d2l::gpu(1), Device::Cuda(1));
    assert_eq!(
        d2l::try_gpu_at(n),
        Device::Cpu,
        "a GPU index past the last one falls back"
    );
    if n == 0 {
        assert_eq!(d2l::try_gpu(), Device::Cpu);
        assert_eq!(d2l::try_all_gpus(), vec![Device::Cpu]);
    } else {
        assert_eq!(d2l::try_gpu(), Device::Cuda(0));
        assert_eq!(
            d2l::try_all_gpus(),
            (0..n).map(Device::Cuda).collect::<Vec<_>>()
        );
        let x = Tensor::ones([3, 3], (Kind::Float, Device::Cuda(0)));
        let y = x.matmul(&x).sum(Kind::Float);
        assert_eq!(y.device(), Device::Cuda(0));
        assert_eq!(f64::try_from(y).unwrap(), 27.0);
    }
}

#[test]
fn loader_reports_absent_library() {
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        load_cuda_library_from(empty.path()),
        CudaLibrary::Absent {
            searched: vec![empty.path().to_path_buf()]
        }
    );
}

#[test]
fn loader_reports_unloadable_library_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libtorch_cuda.so"), b"not an ELF file").unwrap();
    match load_cuda_library_from(dir.path()) {
        CudaLibrary::Failed { error, .. } => assert!(!error.is_empty()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Runs the `d2l-devices` binary, as a user would, with the CUDA lib dir forced to `dir`.
fn devices_report(dir: Option<&Path>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_d2l-devices"));
    match dir {
        Some(dir) => cmd.env(CUDA_DIR_ENV, dir),
        None => cmd.env_remove(CUDA_DIR_ENV),
    };
    let out = cmd.output().expect("d2l-devices runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "d2l-devices failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn absent_cuda_library_falls_back_to_cpu() {
    let empty = tempfile::tempdir().unwrap();
    let report = devices_report(Some(empty.path()));
    assert!(report.contains("cuda library: absent"), "{report}");
    assert!(
        report.contains("cuda backend registered: false"),
        "{report}"
    );
    assert!(report.contains("num_gpus: 0"), "{report}");
    assert!(
        report.contains("tensor op on Cpu: [2, 2] = [5.0, 14.0, 14.0, 50.0]"),
        "{report}"
    );
}

#[test]
fn broken_cuda_library_falls_back_to_cpu() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libtorch_cuda.so"), b"garbage").unwrap();
    let report = devices_report(Some(dir.path()));
    assert!(report.contains("cuda library: failed"), "{report}");
    assert!(report.contains("tensor op on Cpu"), "{report}");
}

#[test]
fn present_cuda_library_uses_the_gpus_the_machine_has() {
    let report = devices_report(None);
    assert!(
        report.contains("cuda library: loaded"),
        "the PyPI libtorch ships libtorch_cuda.so: {report}"
    );
    // Loaded too late, ATen keeps its CPU-only stub and sees no GPU even on a GPU machine.
    assert!(report.contains("cuda backend registered: true"), "{report}");
    assert!(
        report.contains(&format!("num_gpus: {}", expected_gpus())),
        "{report}"
    );
    let device = if expected_gpus() == 0 {
        "Cpu"
    } else {
        "Cuda(0)"
    };
    assert!(
        report.contains(&format!(
            "tensor op on {device}: [2, 2] = [5.0, 14.0, 14.0, 50.0]"
        )),
        "{report}"
    );
}
