//! Shared helpers: a fresh copy of the fixture book in a temporary folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Copies `tests/fixtures/book` into a new temporary folder and returns it.
pub fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/book");
    let dst = dir.path().join("book");
    copy_dir(&src, &dst);
    (dir, dst)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() == "_build" || entry.file_name() == "lib_out" {
                continue;
            }
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// Runs the `d2l-book` binary with `args` in `root`; returns (exit ok, stdout, stderr).
pub fn cli(root: &Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_d2l-book")).arg("--root").arg(root).args(args).output().expect("run d2l-book");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}
