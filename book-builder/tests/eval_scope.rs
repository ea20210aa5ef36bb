//! A notebook's eval key covers only the generated chapter modules it can see: a new `//@save`
//! item in a later chapter re-runs that chapter, and the earlier ones come from the store. Run
//! end to end through `build eval` against a small stand-in `d2l` crate (compiled by the engine
//! in seconds), so the test also shows the store recording each notebook's time.

use std::path::Path;
use std::process::Command;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A `d2l` with the layout `build lib` generates: `src/book/mod.rs` and a module per chapter.
fn stand_in_d2l(dir: &Path) {
    write(&dir.join("Cargo.toml"), "[package]\nname = \"d2l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n\n[workspace]\n");
    write(
        &dir.join("src/lib.rs"),
        "pub mod book;\npub use book::*;\npub mod prelude {}\npub mod scale { pub fn use_env() {} }\n",
    );
    write(&dir.join("src/book/mod.rs"), "//! GENERATED\npub mod chapter_one;\npub use self::chapter_one::*;\npub mod chapter_two;\npub use self::chapter_two::*;\n");
    write(
        &dir.join("src/book/chapter_one.rs"),
        "pub fn one() -> i32 { 1 }\n",
    );
    write(
        &dir.join("src/book/chapter_two.rs"),
        "pub fn two() -> i32 { 2 }\n",
    );
}

fn book(dir: &Path) {
    write(&dir.join("book.toml"), "[book]\ntitle = \"Scope\"\nauthors = [\"T\"]\ntabs = [\"rust\"]\n\n[build]\nnotebooks = [\"index.md\", \"chapter_*/*.md\"]\noutput_dir = \"_build\"\nlib_dir = \"lib_out\"\n");
    write(
        &dir.join("index.md"),
        "# Scope\n\n```toc\n:maxdepth: 2\n:numbered:\n\nchapter_one/uses\nchapter_two/uses\n```\n",
    );
    write(
        &dir.join("chapter_one/uses.md"),
        "# One\n\n```{.rust .input}\nd2l::one()\n```\n",
    );
    write(
        &dir.join("chapter_two/uses.md"),
        "# Two\n\n```{.rust .input}\nd2l::one() + d2l::two()\n```\n",
    );
}

fn eval(root: &Path, krate: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .arg("--root")
        .arg(root)
        .args(["build", "eval"])
        .env("D2L_CRATE_PATH", krate)
        // Slots of its own, so that the stand-in crate neither takes nor rewrites the machine's
        // default slots, which hold the book's compiled `d2l`.
        .env("D2L_KERNEL_CACHE", krate.with_file_name("evcxr"))
        .env_remove("D2L_EVAL_STORE")
        .env("CI", "1")
        .output()
        .expect("run d2l-book");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_later_chapters_new_item_leaves_earlier_chapters_in_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let (krate, root) = (tmp.path().join("d2l"), tmp.path().join("book"));
    stand_in_d2l(&krate);
    book(&root);
    let out = eval(&root, &krate);
    assert!(
        out.contains("eval: 2 notebooks: 2 executed (2 cells), 0 from cache"),
        "{out}"
    );
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("_build/eval/chapter_two/uses.json")).unwrap(),
    )
    .unwrap();
    assert!(
        stored["seconds"].as_f64().is_some_and(|s| s > 0.0),
        "the store records the time: {stored}"
    );

    // Chapter two saves a new item: only chapter two runs again.
    write(
        &krate.join("src/book/chapter_two.rs"),
        "pub fn two() -> i32 { 2 }\n/// New.\npub fn three() -> i32 { 3 }\n",
    );
    let out = eval(&root, &krate);
    assert!(
        out.contains("eval: 2 notebooks: 1 executed (1 cells), 1 from cache"),
        "{out}"
    );

    // Chapter one changes: both run, since chapter two sees chapter one's module.
    write(
        &krate.join("src/book/chapter_one.rs"),
        "pub fn one() -> i32 { 10 }\n",
    );
    let out = eval(&root, &krate);
    assert!(
        out.contains("eval: 2 notebooks: 2 executed (2 cells), 0 from cache"),
        "{out}"
    );
}
