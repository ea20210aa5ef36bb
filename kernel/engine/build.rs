//! Fingerprints the engine's own sources and the evcxr patch, so that the book builder's
//! evaluation cache knows when the code that runs cells changed (`d2l_engine::FINGERPRINT`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let patch = manifest.join("../../vendor/evcxr/patches/d2l-rs.patch");
    let mut inputs = vec![manifest.join("Cargo.toml"), patch.clone()];
    files(&manifest.join("src"), &mut inputs);
    inputs.sort();
    let mut hasher = DefaultHasher::new();
    for path in &inputs {
        path.strip_prefix(&manifest)
            .unwrap_or(path)
            .hash(&mut hasher);
        std::fs::read(path).unwrap_or_default().hash(&mut hasher);
    }
    println!(
        "cargo:rustc-env=D2L_ENGINE_FINGERPRINT={:016x}",
        hasher.finish()
    );
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed={}", patch.display());
}
