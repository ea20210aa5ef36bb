//! A user's own crate, outside this workspace, depends on `d2l` by path, builds, and trains the
//! linear regression of chapter 3 (the README's "Using d2l from your own crate", as a test).
//!
//! The crate borrows this workspace's `.cargo/config.toml` (written by `scripts/setup`: libtorch,
//! its rpath, the shared target dir), its `Cargo.lock` and its dev profile, so that cargo reuses
//! the artifacts of `tch` and `d2l` instead of compiling them cold. What it does not borrow is
//! the point of the test: it is a separate package with its own `main`, outside the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

const MAIN_RS: &str = r#"use d2l::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tch::manual_seed(0);
    let true_w = Tensor::from_slice(&[2.0f32, -3.4]);
    let true_b = 4.2;
    let data = d2l::SyntheticRegressionData::new(&true_w, true_b);
    let mut model = d2l::linear_regression(2, 0.03);
    let mut trainer = Trainer::new(3);
    let history = trainer.fit(&mut model, &data)?;
    let (w, b) = d2l::get_w_b(&model);
    let w_error = (w.reshape([-1]) - &true_w).abs().max().double_value(&[]);
    let b_error = (b.double_value(&[0]) - true_b).abs();
    println!("scale {} epochs {}", trainer.scale, history.len());
    println!("error in w {w_error:.5} error in b {b_error:.5}");
    Ok(())
}
"#;

/// The `[profile.*]` tables of the workspace manifest, so that the user's crate builds its
/// dependencies exactly as the workspace does (same artifacts in the shared target dir).
fn profiles(manifest: &str) -> String {
    match manifest.find("[profile.") {
        Some(start) => {
            let rest = &manifest[start..];
            let end = rest.find("\n[patch").unwrap_or(rest.len());
            rest[..end].to_string()
        }
        None => String::new(),
    }
}

/// Variables cargo sets for a test binary (this package's manifest dir, name, version, …), which
/// a user's shell does not have. Build scripts watch some of them (ring's watches
/// `CARGO_MANIFEST_DIR`), so passing them on rebuilt ring, rustls, ureq and `d2l` in the shared
/// target dir here, and once more in the workspace's next build.
fn set_by_cargo_for_this_test(name: &str) -> bool {
    const PREFIXES: [&str; 3] = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_"];
    const NAMES: [&str; 4] = [
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix)) || NAMES.contains(&name)
}

#[test]
fn a_crate_outside_the_workspace_trains_linear_regression_with_d2l() {
    let root = workspace_root();
    let config = root.join(".cargo/config.toml");
    assert!(
        config.exists(),
        "{} is missing: run scripts/setup first",
        config.display()
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let krate = dir.path().join("my-linreg");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::create_dir_all(krate.join(".cargo")).unwrap();
    let workspace_manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let d2l = root.join("d2l");
    let manifest = format!(
        "[package]\nname = \"my-linreg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nd2l = {{ path = {:?} }}\n\n{}",
        d2l.display().to_string(),
        profiles(&workspace_manifest)
    );
    std::fs::write(krate.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(krate.join("src/main.rs"), MAIN_RS).unwrap();
    std::fs::copy(&config, krate.join(".cargo/config.toml")).unwrap();
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();

    // D2L_SCALE is set, as in CI: a program that did not opt in must still train all 3 epochs.
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["run", "--quiet", "--offline"])
        .current_dir(&krate)
        .env("D2L_SCALE", "0.1")
        .env_remove("CARGO_TARGET_DIR");
    for (name, _) in std::env::vars_os() {
        if set_by_cargo_for_this_test(&name.to_string_lossy()) {
            cargo.env_remove(name);
        }
    }
    let out = cargo.output().expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the user's crate failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    assert!(
        stdout.contains("scale 1 epochs 3"),
        "D2L_SCALE leaked into a program that did not ask for it:\n{stdout}"
    );
    let errors: Vec<f64> = stdout
        .lines()
        .find(|l| l.starts_with("error in w"))
        .expect("the program reports its errors")
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    assert_eq!(errors.len(), 2, "{stdout}");
    // Three epochs of minibatch SGD at lr 0.03 on 1000 noisy examples (noise sd 0.01).
    assert!(
        errors[0] < 0.05 && errors[1] < 0.05,
        "not trained to the stated error (0.05): {errors:?}"
    );
}
