//! `build eval` end to end: notebooks run through the kernel's engine (d2l preloaded), outputs
//! are stored and reused, and failures name the notebook, cell, line and compiler message.
//!
//! Slow the first time on a machine: the engine's cache slot compiles `d2l` and `tch`
//! (minutes); later runs take seconds per notebook. One test, so the book is evaluated once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn eval_book() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("book");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evalbook");
    for entry in walkdir::WalkDir::new(&src)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let to = root.join(entry.path().strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), to).unwrap();
    }
    (dir, root)
}

/// Runs d2l-book with the data and scale switches set; returns (ok, stdout, stderr).
fn d2l_book(root: &Path, data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("D2L_DATA_DIR", data_dir)
        .env("D2L_SCALE", "0.5")
        .env("CI", "1")
        .output()
        .expect("run d2l-book");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stored(root: &Path, stem: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("_build/eval").join(format!("{stem}.json")))
        .unwrap_or_else(|e| panic!("no stored outputs for {stem}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn eval_runs_notebooks_caches_outputs_and_reports_failures() {
    let (tmp, root) = eval_book();
    let data_dir = tmp.path().join("data");

    // 1. Both notebooks run; outputs are stored in nbformat form.
    let (ok, out, err) = d2l_book(&root, &data_dir, &["build", "eval"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("eval: 2 notebooks: 2 executed (3 cells), 0 from cache"),
        "{out}"
    );
    let prints = stored(&root, "chapter_eval/prints");
    let cells = prints["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0]["outputs"][0]["output_type"], "stream");
    assert_eq!(cells[0]["outputs"][0]["text"], "answer = 42\n");
    let second = serde_json::to_string(&cells[1]).unwrap();
    assert!(
        second.contains(&format!("data dir = {}", data_dir.display())),
        "D2L_DATA_DIR reaches the cells: {second}"
    );
    assert!(
        second.contains("scale = 0.5"),
        "D2L_SCALE reaches the cells: {second}"
    );
    let result = cells[1]["outputs"].as_array().unwrap().last().unwrap();
    assert_eq!(result["output_type"], "execute_result");
    assert_eq!(result["data"]["text/plain"], "43");
    let display = serde_json::to_string(&stored(&root, "chapter_eval/display")).unwrap();
    // The content block is the cell's last output, so it is the cell's result (as in the kernel).
    assert!(
        display.contains("\"output_type\":\"execute_result\"")
            && display.contains("image/svg+xml")
            && display.contains("class=\\\"evaluated\\\""),
        "{display}"
    );

    // 2. Nothing changed: nothing runs.
    let (ok, out, err) = d2l_book(&root, &data_dir, &["build", "eval"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("eval: 2 notebooks: 0 executed (0 cells), 2 from cache"),
        "{out}"
    );

    // 3. The outputs reach the HTML and the notebooks; the synthetic page says so.
    let (ok, out, err) = d2l_book(&root, &data_dir, &["build", "html"]);
    assert!(ok, "{out}\n{err}");
    let html = std::fs::read_to_string(root.join("_build/html/chapter_eval/prints.html")).unwrap();
    assert!(
        html.contains("answer = 42") && html.contains("43"),
        "{html}"
    );
    assert!(!html.contains("build-notice"));
    let html = std::fs::read_to_string(root.join("_build/html/chapter_eval/display.html")).unwrap();
    assert!(
        html.contains("class=\"evaluated\"") && html.contains("admonition build-notice"),
        "{html}"
    );
    let nb = std::fs::read_to_string(root.join("_build/html/notebooks/chapter_eval/prints.ipynb"))
        .unwrap();
    assert!(nb.contains("answer = 42"), "{nb}");

    // 4. One notebook changes: only it runs again.
    let path = root.join("chapter_eval/prints.md");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n```{.rust .input}\nprintln!(\"again {}\", answer * 2);\n```\n";
    std::fs::write(&path, text).unwrap();
    let (ok, out, err) = d2l_book(&root, &data_dir, &["build", "eval"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("eval: 2 notebooks: 1 executed (3 cells), 1 from cache"),
        "{out}"
    );
    assert!(serde_json::to_string(&stored(&root, "chapter_eval/prints"))
        .unwrap()
        .contains("again 84"));

    // 5. A compile error fails the build with the notebook path, cell, line and message;
    //    --keep-going still stores the notebooks that worked.
    std::fs::write(
        root.join("chapter_eval/broken.md"),
        "# Broken\n\n```{.rust .input}\nlet fine = 1;\n```\n\n```{.rust .input}\n// Hide outputs\nlet broken: i32 = \"text\";\n```\n",
    )
    .unwrap();
    let index = std::fs::read_to_string(root.join("index.md"))
        .unwrap()
        .replace(
            "chapter_eval/display\n",
            "chapter_eval/display\nchapter_eval/broken\n",
        );
    std::fs::write(root.join("index.md"), index).unwrap();
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("answer * 2", "answer * 3"),
    )
    .unwrap();
    let (ok, out, err) = d2l_book(
        &root,
        &data_dir,
        &["build", "eval", "--keep-going", "-j", "1"],
    );
    assert!(!ok, "a failing cell fails the build\n{out}\n{err}");
    assert!(out.contains("eval: 3 notebooks: 2 executed"), "{out}");
    assert!(
        err.contains("chapter_eval/broken.md:9: cell 2 failed: CompilationError: mismatched types"),
        "{err}"
    );
    assert!(
        err.contains("let broken: i32 = \"text\";"),
        "the compiler's message shows the code: {err}"
    );
    assert!(
        serde_json::to_string(&stored(&root, "chapter_eval/prints"))
            .unwrap()
            .contains("again 126"),
        "--keep-going stores what worked"
    );
    assert!(
        !root.join("_build/eval/chapter_eval/broken.json").exists(),
        "failed notebooks are not stored"
    );

    // 6. A cell that hangs is stopped at the time limit, and the error names it.
    std::fs::write(root.join("chapter_eval/broken.md"), "# Hangs\n\n```{.rust .input}\nlet fine = 1;\n```\n\n```{.rust .input}\nstd::thread::sleep(std::time::Duration::from_secs(600));\n```\n").unwrap();
    let started = std::time::Instant::now();
    let (ok, out, err) = d2l_book(&root, &data_dir, &["build", "eval", "--cell-timeout", "60"]);
    assert!(!ok, "{out}\n{err}");
    assert!(
        err.contains(
            "chapter_eval/broken.md:8: cell 2 failed: Timeout: the cell ran longer than 60 s"
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(240),
        "stopped at the limit, not at the end of the sleep"
    );
}
