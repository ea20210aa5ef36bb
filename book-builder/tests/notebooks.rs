//! `.ipynb` output: valid nbformat 4.5 (checked by Python's nbformat), the
//! d2l-rust kernelspec, directives turned into plain markdown, and outputs.

mod common;

use serde_json::Value;

fn python() -> String {
    std::env::var("D2L_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

#[test]
fn notebooks_validate_and_read_as_plain_markdown() {
    let (_tmp, root) = common::fixture_copy();
    let (ok, out, err) = common::cli(&root, &["build", "notebooks"]);
    assert!(ok, "{out}\n{err}");
    let dir = root.join("_build/html/notebooks");
    let files: Vec<_> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "ipynb"))
        .map(|e| e.path().to_path_buf())
        .collect();
    assert_eq!(files.len(), 7);
    // The real validator, over every notebook.
    let script = "import sys, nbformat\nfor p in sys.argv[1:]:\n    nb = nbformat.read(p, as_version=4)\n    nbformat.validate(nb)\n    assert nb.nbformat_minor == 5, p\nprint('validated', len(sys.argv) - 1)\n";
    let run = std::process::Command::new(python())
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
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "validated 7");

    let nb: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("chapter_basics/intro.ipynb")).unwrap(),
    )
    .unwrap();
    assert_eq!(nb["metadata"]["kernelspec"]["name"], "d2l-rust");
    assert_eq!(nb["metadata"]["kernelspec"]["display_name"], "Rust (d2l)");
    assert_eq!(nb["metadata"]["kernelspec"]["language"], "rust");
    let cells = nb["cells"].as_array().unwrap();
    let markdown: String = cells
        .iter()
        .filter(|c| c["cell_type"] == "markdown")
        .map(|c| c["source"].as_str().unwrap().to_string() + "\n")
        .collect();
    assert!(markdown.starts_with("# 1.1. Introduction"), "{markdown}");
    assert!(markdown.contains("[Fig. 1.1.1](#fig_neuron)"), "{markdown}");
    assert!(
        markdown.contains("[Table 1.2.1](../chapter_basics/tables.ipynb#tab_sizes)"),
        "{markdown}"
    );
    assert!(markdown.contains("(Legendre, 1805; Gauss, 1809)"));
    assert!(markdown.contains("\\tag{1.1.1}"));
    assert!(
        markdown.contains("**Fig. 1.1.1** A single neuron") && markdown.contains("width=\"300px\"")
    );
    assert!(
        markdown.contains("Rust squares with a function.") && !markdown.contains("PyTorch squares")
    );
    for directive in [
        ":label:",
        ":numref:",
        ":cite",
        ":begin_tab:",
        ":eqlabel:",
        ":width:",
    ] {
        assert!(
            !markdown.contains(directive),
            "{directive} left in markdown"
        );
    }
    // Code cells: only the default tab, with outputs and hide flags.
    let code: Vec<&Value> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
    assert_eq!(code.len(), 7);
    assert!(code
        .iter()
        .all(|c| !c["source"].as_str().unwrap().contains("def square")));
    assert_eq!(code[1]["outputs"][0]["text"], "9\n");
    assert_eq!(code[1]["execution_count"], 2);
    assert_eq!(code[2]["metadata"]["jupyter"]["source_hidden"], true);
    assert_eq!(code[4]["outputs"][0]["output_type"], "error");
    // The listing stays a fenced block in markdown.
    assert!(markdown.contains("```rust\nfn listing_only() {}\n```"));
}

#[test]
fn a_python_book_gets_a_python_kernel() {
    let (_tmp, root) = common::fixture_copy();
    let toml = std::fs::read_to_string(root.join("book.toml"))
        .unwrap()
        .replace(
            "tabs = [\"rust\", \"pytorch\"]",
            "tabs = [\"pytorch\", \"rust\"]",
        );
    std::fs::write(root.join("book.toml"), toml).unwrap();
    let (ok, _, err) = common::cli(&root, &["build", "notebooks"]);
    assert!(ok, "{err}");
    let nb: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("_build/html/notebooks/chapter_more/python.ipynb"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(nb["metadata"]["kernelspec"]["language"], "python");
    let sources: Vec<&str> = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2);
    assert!(sources[0].contains("def add") && sources[1].contains("shared by every tab"));
}

#[test]
fn a_cell_with_both_hide_flags_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), "[book]\ntitle = \"T\"\n").unwrap();
    std::fs::write(
        dir.path().join("index.md"),
        "# Home\n\n```{.rust .input}\n// Hide code\n// Hide outputs\nlet x = 1;\n```\n",
    )
    .unwrap();
    let (ok, out, err) = common::cli(dir.path(), &["build", "notebooks"]);
    assert!(ok, "{out}\n{err}");
    let nb: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("_build/html/notebooks/index.ipynb")).unwrap(),
    )
    .unwrap();
    let code = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cell_type"] == "code")
        .unwrap()
        .clone();
    assert_eq!(
        code["metadata"]["jupyter"],
        serde_json::json!({"source_hidden": true, "outputs_hidden": true})
    );
}
