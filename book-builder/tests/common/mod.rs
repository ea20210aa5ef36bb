//! Shared helpers: a fresh copy of the fixture book in a temporary folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Copies `tests/fixtures/book` into a new temporary folder and returns it, with the outputs of
/// `tests/fixtures/outputs` in its eval store (as if evaluated).
pub fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    fixture_copy_with_outputs(|text| text)
}

/// [`fixture_copy`], with each stored-outputs file's text changed by `edit` first.
pub fn fixture_copy_with_outputs(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dst = dir.path().join("book");
    copy_dir(&fixtures.join("book"), &dst);
    let (book, _) = d2l_book::load::load_book(&dst).expect("the fixture book loads");
    let outputs = fixtures.join("outputs");
    for entry in walkdir::WalkDir::new(&outputs)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let rel = entry
            .path()
            .strip_prefix(&outputs)
            .unwrap()
            .with_extension("");
        let stem = rel.to_string_lossy().replace('\\', "/");
        let page = book
            .page_index(&stem)
            .unwrap_or_else(|| panic!("outputs for a page the fixture lacks: {stem}"));
        let cells = serde_json::from_str(&edit(std::fs::read_to_string(entry.path()).unwrap()))
            .expect("stored outputs parse");
        d2l_book::eval::store::import(&book, page, cells).expect("store the fixture outputs");
    }
    (dir, dst)
}

/// Copies the fixture book `tests/fixtures/<name>` into a new temporary folder and returns it.
pub fn named_fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let dst = dir.path().join(name);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
        &dst,
    );
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run d2l-book");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
