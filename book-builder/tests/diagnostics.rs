//! Warnings and errors name file:line; `--warning-is-error` makes warnings fatal;
//! unimplemented targets never report success.

mod common;

use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn book(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "book.toml",
        "[book]\ntitle = \"T\"\ntabs = [\"rust\"]\n[build]\nbibliography = \"refs.bib\"\n",
    );
    write(
        dir.path(),
        "refs.bib",
        "@book{known, title={K}, author={A, B}, year={2000}}\n",
    );
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    dir
}

#[test]
fn each_problem_is_reported_at_its_line() {
    let dir = book(&[
        ("index.md", "# Home\n\n```toc\n:numbered:\nchapter_a/index\nchapter_a/missing\n```\n"),
        ("chapter_a/index.md", "# A\n:label:`sec_a`\n\nSee :numref:`nope` and :cite:`known,unknown`.\n\n## Again\n:label:`sec_a`\n\nA :bogus:`thing` here.\n\n:begin_tab:`rust`\nnever closed\n"),
    ]);
    let (ok, _, err) = common::cli(dir.path(), &["build", "html"]);
    assert!(!ok, "an undefined toc entry is an error");
    let expect = [
        "index.md:6: error: toc entry `chapter_a/missing`",
        "chapter_a/index.md:4: warning: undefined label `nope`",
        "chapter_a/index.md:4: warning: undefined citation `unknown`",
        "chapter_a/index.md:7: warning: duplicate label `sec_a`, first defined at chapter_a/index.md:2",
        "chapter_a/index.md:9: warning: unknown directive `:bogus:`",
        "chapter_a/index.md:11: error: `:begin_tab:` is never closed",
    ];
    for e in expect {
        assert!(err.contains(e), "missing {e:?} in:\n{err}");
    }
    assert!(
        !err.contains("`known`"),
        "a defined citation was reported:\n{err}"
    );
}

#[test]
fn warnings_fail_the_build_only_with_warning_is_error() {
    let dir = book(&[("index.md", "# Home\n\nSee :numref:`nope`.\n")]);
    let (ok, out, err) = common::cli(dir.path(), &["build", "html"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("html: 1 pages")
            && err.contains("index.md:3: warning: undefined label `nope`")
    );
    let html = std::fs::read_to_string(dir.path().join("_build/html/index.html")).unwrap();
    assert!(html.contains("class=\"broken-ref\""));
    let (ok, _, err) = common::cli(dir.path(), &["build", "html", "--warning-is-error"]);
    assert!(!ok);
    assert!(
        err.contains("--warning-is-error makes warnings fatal"),
        "{err}"
    );
}

#[test]
fn all_builds_every_output_and_clean_removes_only_the_output() {
    let (_tmp, root) = common::fixture_copy();
    assert!(common::cli(&root, &["build", "lib"]).0);
    let (ok, out, err) = common::cli(
        &root,
        &["build", "all", "--skip-eval", "--warning-is-error"],
    );
    assert!(ok, "{out}\n{err}");
    // Two tabs (rust, pytorch): a notebook folder per tab, as d2lbook writes them.
    assert!(
        out.contains("html: 7 pages")
            && out.contains("notebooks: 14 .ipynb files")
            && out.contains("is up to date"),
        "{out}"
    );
    assert!(
        out.contains("eval: skipped (--skip-eval)")
            && out.contains("pdf: ")
            && root.join("_build/pdf/fixture-book.pdf").exists(),
        "{out}"
    );
    // clean removes only the output folder.
    let (ok, _, _) = common::cli(&root, &["clean"]);
    assert!(
        ok && !root.join("_build").exists()
            && root.join("index.md").exists()
            && root.join("lib_out/mod.rs").exists()
    );
}

#[test]
fn bad_notebooks_get_a_diagnostic_with_their_line() {
    let dir = book(&[
        (
            "index.md",
            "# Home\n\n```toc\nchapter_a/fence\nchapter_a/latin1\nchapter_a/empty\n```\n",
        ),
        (
            "chapter_a/fence.md",
            "# Fence\n\ntext\n\n```{.rust .input}\nlet x = 1;\n",
        ),
        ("chapter_a/empty.md", ""),
    ]);
    // A notebook saved as Latin-1 on its third line.
    std::fs::write(
        dir.path().join("chapter_a/latin1.md"),
        b"# Latin\n\ncaf\xe9\n",
    )
    .unwrap();
    write(dir.path(), "refs.bib", "@book{known, title={K}, author={A, B}, year={2000}}\n\n\n@book{broken, title={never closed\n");
    let (ok, _, err) = common::cli(dir.path(), &["build", "html"]);
    assert!(!ok, "{err}");
    for expected in [
        "chapter_a/fence.md:5: error: code block opened with ``` is never closed",
        "chapter_a/latin1.md:3: error: this line is not UTF-8",
        "chapter_a/empty.md:1: warning: the notebook is empty",
        "refs.bib:4: error: cannot parse the bibliography",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    // `..` in a notebook glob is refused with what to do.
    write(
        dir.path(),
        "book.toml",
        "[book]\ntitle = \"T\"\n[build]\nnotebooks = [\"index.md\", \"../other/*.md\"]\n",
    );
    let (ok, _, err) = common::cli(dir.path(), &["build", "html"]);
    assert!(
        !ok && err.contains("\"../other/*.md\"") && err.contains("leaves the book folder"),
        "{err}"
    );
}

#[test]
fn each_diagnostic_prints_once() {
    let dir = book(&[(
        "index.md",
        "# Home\n\nSee :numref:`nope`.\n\n```{.rust .input}\n//@save\npub fn f() {}\n```\n",
    )]);
    write(
        dir.path(),
        "book.toml",
        "[book]\ntitle = \"T\"\n[build]\nlib_dir = \"lib\"\n",
    );
    for args in [&["build", "lib"][..], &["build", "all", "--skip-eval"][..]] {
        let (ok, out, err) = common::cli(dir.path(), args);
        assert!(ok || args.contains(&"all"), "{out}\n{err}");
        assert_eq!(
            err.matches("undefined label `nope`").count(),
            1,
            "{args:?}:\n{err}"
        );
    }
}
