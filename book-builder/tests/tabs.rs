//! A book in d2lbook's dialect with two code tabs (`tests/fixtures/tabbook`: rust and pytorch,
//! `%%tab` cells, a tab-extension setup cell, slide markers, a `(**$$…$$**)` equation with its
//! `:eqlabel:`, and a references page that places the bibliography): the site's tab groups, one
//! notebook folder per tab, and a PDF of the default tab.

mod common;

use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn built(target: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = common::named_fixture_copy("tabbook");
    let (ok, out, err) = common::cli(&root, &["build", target, "--warning-is-error"]);
    assert!(ok, "build {target} failed:\n{out}\n{err}");
    (tmp, root)
}

fn page(root: &Path, rel: &str) -> Html {
    Html::parse_document(
        &std::fs::read_to_string(root.join("_build/html").join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}")),
    )
}

#[test]
fn each_group_of_alternative_cells_gets_one_tab_bar() {
    let (_tmp, root) = built("html");
    let basics = page(&root, "chapter_tensors/basics.html");
    // Two groups of `%%tab`/`//@tab` cells and one of `:begin_tab:` prose, each with both tabs.
    let groups: Vec<ElementRef> = basics.select(&sel("article .tab-group")).collect();
    assert_eq!(groups.len(), 3, "{}", basics.html());
    for group in &groups {
        let buttons: Vec<(String, Option<&str>)> = group
            .select(&sel(".tab-bar .tab-button"))
            .map(|b| (text(b), b.value().attr("aria-selected")))
            .collect();
        assert_eq!(
            buttons,
            [
                ("rust".to_string(), Some("true")),
                ("pytorch".to_string(), Some("false"))
            ]
        );
        let panes: Vec<(&str, bool)> = group
            .select(&sel(".tab-pane"))
            .map(|p| {
                (
                    p.value().attr("data-tab").unwrap(),
                    p.value().attr("hidden").is_some(),
                )
            })
            .collect();
        assert_eq!(
            panes,
            [("rust", false), ("pytorch", true)],
            "the default tab shows, the other waits"
        );
    }
    let pane = |group: usize, tab: &str| {
        text(
            groups[group]
                .select(&sel(&format!(".tab-pane[data-tab={tab}]")))
                .next()
                .unwrap(),
        )
    };
    assert!(
        pane(0, "rust").contains("Tensor::arange")
            && pane(0, "pytorch").contains("torch.arange(12)")
    );
    assert_eq!(pane(1, "pytorch"), "PyTorch tensors know their dtype.");
    assert!(pane(2, "pytorch").contains("x.reshape(3, 4)"));
    // The listing and the prose belong to every tab: outside the groups.
    assert!(basics
        .select(&sel(".tab-group code.language-bash"))
        .next()
        .is_none());
    let html = basics.html();
    for gone in [
        "%%tab",
        "@tab",
        "%load_ext",
        "interact_select",
        "[**",
        "**]",
        "(**",
        "**)",
    ] {
        assert!(!html.contains(gone), "{gone} reached the page");
    }
    // Slide markers leave their text; the equation they wrapped keeps its label and number.
    let article = text(basics.select(&sel("article")).next().unwrap());
    assert!(
        article.contains("A tensor holds numbers in a grid. We create one with twelve entries, as"),
        "{article}"
    );
    assert_eq!(
        text(
            basics
                .select(&sel("#eq_affine .eqno"))
                .next()
                .expect("eq_affine is numbered")
        ),
        "(1.1.1)"
    );
    assert!(basics
        .select(&sel("#eq_affine .equation-body math[display=block]"))
        .next()
        .is_some());
    let layers = page(&root, "chapter_tensors/layers.html");
    let eqref = layers
        .select(&sel("a.reference"))
        .find(|a| text(*a) == "(1.1.1)")
        .expect("a reference to the equation");
    assert_eq!(
        eqref.value().attr("href"),
        Some("../chapter_tensors/basics.html#eq_affine")
    );
    // A notebook link per tab; the default one shows until another tab is chosen.
    let links: Vec<(&str, &str, bool)> = basics
        .select(&sel(".page-actions a.download"))
        .map(|a| {
            (
                a.value().attr("data-tab").unwrap(),
                a.value().attr("href").unwrap(),
                a.value().attr("hidden").is_some(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("rust", "../notebooks/chapter_tensors/basics.ipynb", false),
            (
                "pytorch",
                "../notebooks_pytorch/chapter_tensors/basics.ipynb",
                true
            )
        ]
    );
    for (_, href, _) in links {
        assert!(
            root.join("_build/html/chapter_tensors")
                .join(href)
                .is_file(),
            "{href}"
        );
    }
}

#[test]
fn the_references_page_holds_the_bibliography() {
    let (_tmp, root) = built("html");
    let refs = page(&root, "chapter_references/zreferences.html");
    let entry = refs
        .select(&sel("article ol.bibliography li[id=\"bib-Smith.2020\"]"))
        .next()
        .expect("the entry on the references page");
    assert!(text(entry).contains("Tensors for everyone") && text(entry).contains("2020"));
    let basics = page(&root, "chapter_tensors/basics.html");
    let cite = basics
        .select(&sel("a.citation"))
        .next()
        .expect("a citation");
    assert_eq!(text(cite), "Smith and Doe (2020)");
    assert_eq!(
        cite.value().attr("href"),
        Some("../chapter_references/zreferences.html#bib-Smith.2020")
    );
    // No second bibliography page, and no extra sidebar entry for it.
    assert!(!root.join("_build/html/bibliography.html").exists());
    let side: Vec<String> = basics.select(&sel("#sidebar a")).map(text).collect();
    assert_eq!(
        side.iter().filter(|s| s.contains("References")).count(),
        1,
        "{side:?}"
    );
}

fn notebook(dir: &Path, rel: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join(rel))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(rel).display())),
    )
    .unwrap()
}

fn sources(nb: &Value, kind: &str) -> Vec<String> {
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == kind)
        .map(|c| c["source"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_tab_gets_a_notebook_folder_with_only_its_cells() {
    let (_tmp, root) = built("notebooks");
    let rust_dir = root.join("_build/html/notebooks");
    let torch_dir = root.join("_build/html/notebooks_pytorch");
    let files: Vec<PathBuf> = [&rust_dir, &torch_dir]
        .iter()
        .flat_map(|d| {
            walkdir::WalkDir::new(d)
                .into_iter()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "ipynb"))
                .map(|e| e.path().to_path_buf())
        })
        .collect();
    assert_eq!(files.len(), 10, "5 pages × 2 tabs: {files:?}");
    let python = std::env::var("D2L_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = "import sys, nbformat\nfor p in sys.argv[1:]:\n    nbformat.validate(nbformat.read(p, as_version=4))\nprint('validated', len(sys.argv) - 1)\n";
    let run = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .expect("run python with nbformat (scripts/setup installs it)");
    assert!(
        run.status.success(),
        "nbformat rejected a notebook:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "validated 10");

    let rust = notebook(&rust_dir, "chapter_tensors/basics.ipynb");
    assert_eq!(rust["metadata"]["kernelspec"]["name"], "d2l-rust");
    let code = sources(&rust, "code");
    assert_eq!(
        code,
        [
            "let x = Tensor::arange(12, (Kind::Int64, Device::Cpu));",
            "let y = x.reshape([3, 4]);"
        ]
    );
    let markdown = sources(&rust, "markdown").join("\n");
    assert!(
        markdown.contains("Rust tensors know their element kind.")
            && !markdown.contains("PyTorch tensors"),
        "{markdown}"
    );
    assert!(
        markdown.contains("A tensor holds numbers in a grid.") && !markdown.contains("[**"),
        "{markdown}"
    );
    assert!(markdown.contains("\\tag{1.1.1}"), "{markdown}");

    let torch = notebook(&torch_dir, "chapter_tensors/basics.ipynb");
    assert_eq!(torch["metadata"]["kernelspec"]["language"], "python");
    let code = sources(&torch, "code");
    assert_eq!(
        code,
        ["import torch\nx = torch.arange(12)", "y = x.reshape(3, 4)"],
        "no setup cell, no %%tab line, no Rust"
    );
    let markdown = sources(&torch, "markdown").join("\n");
    assert!(
        markdown.contains("PyTorch tensors know their dtype.")
            && !markdown.contains("Rust tensors"),
        "{markdown}"
    );
    assert!(
        markdown.contains("```bash\ncargo run\n```"),
        "listings belong to every tab: {markdown}"
    );
    // Links between notebooks stay inside the tab's folder.
    let layers = sources(
        &notebook(&torch_dir, "chapter_tensors/layers.ipynb"),
        "markdown",
    )
    .join("\n");
    assert!(
        layers.contains("(../chapter_tensors/basics.ipynb#eq_affine)"),
        "{layers}"
    );
    assert_eq!(
        sources(
            &notebook(&torch_dir, "chapter_tensors/layers.ipynb"),
            "code"
        ),
        ["layer = torch.nn.Linear(4, 2)"]
    );
}

#[test]
fn the_pdf_shows_the_default_tab() {
    let (_tmp, root) = built("pdf");
    let pdf = root.join("_build/pdf/tab-book.pdf");
    let out = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install -y poppler-utils)");
    assert!(out.status.success());
    // Justified text may hyphenate a word at a line's end.
    let squashed = String::from_utf8_lossy(&out.stdout)
        .replace("-\n", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for shown in [
        "Tensor::arange(12",
        "x.reshape([3, 4])",
        "Rust tensors know their element kind.",
        "nn::linear(vs.root(), 4, 2",
        "A tensor holds numbers in a grid. We create one with twelve entries",
        "(1.1.1)",
    ] {
        assert!(
            squashed.contains(shown),
            "missing {shown:?} in:\n{squashed}"
        );
    }
    for hidden in [
        "torch.arange",
        "PyTorch tensors",
        "torch.nn.Linear",
        "interact_select",
        "%%tab",
        "[**",
        "(**",
    ] {
        assert!(
            !squashed.contains(hidden),
            "{hidden:?} is not the default tab's:\n{squashed}"
        );
    }
    // The bibliography is on the references page, once.
    assert_eq!(
        squashed.matches("Tensors for everyone").count(),
        1,
        "{squashed}"
    );
    let at = squashed.rfind("References").unwrap();
    assert!(
        squashed[at..].contains("Tensors for everyone"),
        "{squashed}"
    );
}

#[test]
fn a_book_builds_from_inside_its_folder() {
    let (_tmp, root) = common::named_fixture_copy("tabbook");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .args(["build", "html"])
        .current_dir(&root)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("html: 5 pages in ./_build/html"),
        "{stdout}"
    );
    assert!(root
        .join("_build/html/chapter_tensors/basics.html")
        .is_file());
    // `--root .` and `--root ./` too.
    for arg in [".", "./"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_d2l-book"))
            .args(["--root", arg, "build", "notebooks"])
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("notebooks: 10 .ipynb files"),
            "--root {arg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_build_that_finds_no_notebook_fails_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        "[book]\ntitle = \"T\"\n[build]\nnotebooks = [\"chapters/*.md\"]\n",
    )
    .unwrap();
    let (ok, out, err) = common::cli(dir.path(), &["build", "html"]);
    assert!(!ok, "an empty build is not a success: {out}");
    assert!(
        err.contains("no notebook found")
            && err.contains("chapters/*.md")
            && err.contains("run d2l-book in the folder that holds book.toml"),
        "{err}"
    );
    assert!(!out.contains("html: 0 pages"), "{out}");
}
