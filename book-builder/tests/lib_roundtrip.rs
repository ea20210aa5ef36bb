//! `build lib`: extract the saved cells, compile them, `--check` is clean;
//! edit a cell and `--check` fails with a diff summary.

mod common;

use std::path::Path;
use std::process::Command;

/// Compiles `lib_dir` as `mod book` of a throwaway library crate with rustc.
fn compile(lib_dir: &Path, scratch: &Path) -> (bool, String) {
    let krate = scratch.join("crate");
    std::fs::create_dir_all(krate.join("book")).unwrap();
    copy_tree(lib_dir, &krate.join("book"));
    std::fs::write(
        krate.join("lib.rs"),
        "#![deny(warnings, missing_docs)]\n//! Test crate.\npub mod book;\npub use book::*;\n",
    )
    .unwrap();
    let out = Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--crate-name",
            "libtest",
            "--out-dir",
        ])
        .arg(scratch)
        .arg(krate.join("lib.rs"))
        .output()
        .expect("run rustc");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_long_chapter_becomes_one_module_per_section_and_back() {
    let (tmp, root) = common::fixture_copy();
    let lib = root.join("lib_out");
    // A saved cell of 1,200 lines makes chapter_basics longer than SPLIT_LINES.
    let page = root.join("chapter_basics/tables.md");
    let long_cell: String = (0..400)
        .map(|i| format!("/// Number {i}.\npub fn number_{i}() -> i32 {{\n    {i}\n}}\n"))
        .collect();
    let original = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        format!("{original}\n```{{.rust .input}}\n//@save\n{long_cell}```\n"),
    )
    .unwrap();
    let (ok, out, err) = common::cli(&root, &["build", "lib"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        !lib.join("chapter_basics.rs").exists(),
        "the long chapter is a folder now"
    );
    let index = std::fs::read_to_string(lib.join("chapter_basics/mod.rs")).unwrap();
    assert!(
        index.contains(
            "pub mod intro;\npub use self::intro::*;\npub mod tables;\npub use self::tables::*;"
        ),
        "{index}"
    );
    let tables = std::fs::read_to_string(lib.join("chapter_basics/tables.rs")).unwrap();
    assert!(
        tables.starts_with(
            "//! Items of Section 1.2, \"Tables and Equations\" (`chapter_basics/tables.md`)."
        ) && tables.contains("pub fn number_399()"),
        "{}",
        &tables[..200]
    );
    assert!(
        lib.join("chapter_more.rs").exists(),
        "a short chapter stays one file"
    );
    let (compiled, msg) = compile(&lib, tmp.path());
    assert!(compiled, "the split library does not compile:\n{msg}");
    assert!(
        common::cli(&root, &["build", "lib", "--check"]).0,
        "a fresh split library is up to date"
    );
    // The chapter gets short again: one file, and the section folder is gone.
    std::fs::write(&page, original).unwrap();
    assert!(common::cli(&root, &["build", "lib"]).0);
    assert!(lib.join("chapter_basics.rs").exists() && !lib.join("chapter_basics").exists());
    assert!(common::cli(&root, &["build", "lib", "--check"]).0);
}

#[test]
fn extracted_library_compiles_and_check_tracks_edits() {
    let (tmp, root) = common::fixture_copy();
    let lib = root.join("lib_out");
    // Before extraction the check fails and names the missing files.
    let (ok, _, err) = common::cli(&root, &["build", "lib", "--check"]);
    assert!(!ok);
    assert!(err.contains("mod.rs: missing"), "{err}");

    let (ok, out, err) = common::cli(&root, &["build", "lib"]);
    assert!(ok, "{out}\n{err}");
    let basics = std::fs::read_to_string(lib.join("chapter_basics.rs")).unwrap();
    assert!(
        basics.contains(
            "/// Defined in Section 1.1 (Introduction), `chapter_basics/intro.md`.\npub fn square"
        ),
        "{basics}"
    );
    assert!(basics.contains("/// Defined in Section 1.2 (Tables and Equations), `chapter_basics/tables.md`.\nimpl Sizes"));
    assert!(
        basics.find("fn square").unwrap() < basics.find("struct Sizes").unwrap(),
        "book order"
    );
    let more = std::fs::read_to_string(lib.join("chapter_more.rs")).unwrap();
    assert!(
        more.contains("pub fn add(a: i32, b: i32)") && !more.contains("import torch"),
        "python save cells stay out"
    );
    let (compiled, msg) = compile(&lib, tmp.path());
    assert!(compiled, "generated library does not compile:\n{msg}");

    let (ok, out, err) = common::cli(&root, &["build", "lib", "--check"]);
    assert!(ok, "fresh library reported out of date:\n{out}\n{err}");
    assert!(out.contains("up to date"));

    // Edit a saved cell: the check must fail and say what changed.
    let page = root.join("chapter_basics/intro.md");
    let text = std::fs::read_to_string(&page)
        .unwrap()
        .replace("    x * x\n", "    x * x * 1.0\n");
    std::fs::write(&page, text).unwrap();
    let (ok, _, err) = common::cli(&root, &["build", "lib", "--check"]);
    assert!(!ok, "check passed after an edit");
    assert!(
        err.contains("chapter_basics.rs: +1 -1 lines") && err.contains("+     x * x * 1.0"),
        "{err}"
    );
    // Writing again makes it clean, and the result still compiles.
    assert!(common::cli(&root, &["build", "lib"]).0);
    assert!(common::cli(&root, &["build", "lib", "--check"]).0);
    assert!(compile(&lib, &tmp.path().join("again")).0);
}

#[test]
fn hand_written_files_are_never_overwritten() {
    let (_tmp, root) = common::fixture_copy();
    let lib = root.join("lib_out");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("mod.rs"), "// mine\n").unwrap();
    let (ok, _, err) = common::cli(&root, &["build", "lib"]);
    assert!(!ok);
    assert!(err.contains("was not generated by d2l-book"), "{err}");
    assert_eq!(
        std::fs::read_to_string(lib.join("mod.rs")).unwrap(),
        "// mine\n"
    );
}
