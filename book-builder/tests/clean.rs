//! `clean` deletes only the builder's own output folder, and `book.toml` cannot point the
//! output folder at the book or its sources.

mod common;

#[test]
fn clean_deletes_only_marked_output() {
    let (_tmp, root) = common::fixture_copy();
    let out = root.join("_build");
    // A folder the builder did not write (the fixture's store import writes _build/eval only).
    std::fs::remove_dir_all(&out).ok();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    let (ok, _, err) = common::cli(&root, &["clean"]);
    assert!(
        !ok && err.contains("refusing to delete") && err.contains(".d2l-book-output"),
        "{err}"
    );
    assert!(out.join("mine.txt").exists());
    // After a build the folder is marked, and clean removes it.
    let (ok, out_text, err) = common::cli(&root, &["build", "html"]);
    assert!(ok, "{out_text}\n{err}");
    let (ok, stdout, err) = common::cli(&root, &["clean"]);
    assert!(ok && stdout.contains("removed"), "{stdout}\n{err}");
    assert!(!out.exists());
}

#[test]
fn output_folders_that_hold_sources_are_refused() {
    for output_dir in ["./", "chapter_basics", "img"] {
        let (_tmp, root) = common::fixture_copy();
        let toml = std::fs::read_to_string(root.join("book.toml"))
            .unwrap()
            .replace(
                "output_dir = \"_build\"",
                &format!("output_dir = {output_dir:?}"),
            );
        std::fs::write(root.join("book.toml"), toml).unwrap();
        let (ok, _, err) = common::cli(&root, &["clean"]);
        assert!(!ok && err.contains("output_dir"), "{output_dir}: {err}");
        assert!(
            root.join("chapter_basics/intro.md").exists() && root.join("img/neuron.svg").exists()
        );
    }
}

#[test]
fn damaged_stored_outputs_are_reported() {
    let (_tmp, root) = common::fixture_copy();
    let stored = root.join("_build/eval/chapter_basics/intro.json");
    let text = std::fs::read_to_string(&stored).unwrap();
    std::fs::write(&stored, &text[..text.len() / 2]).unwrap();
    let (ok, _, err) = common::cli(&root, &["build", "html"]);
    assert!(ok, "a warning only: {err}");
    assert!(
        err.contains("chapter_basics/intro.md:1: warning") && err.contains("are damaged"),
        "{err}"
    );
    let (ok, _, err) = common::cli(&root, &["build", "html", "--warning-is-error"]);
    assert!(!ok && err.contains("are damaged"), "{err}");
}
