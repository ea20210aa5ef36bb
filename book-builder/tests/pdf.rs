//! `build pdf` on the fixture book, read back with poppler's pdftotext and pdftoppm.
//!
//! Needs poppler-utils (`apt-get install -y poppler-utils`, done by `scripts/setup`).

mod common;

use std::path::Path;
use std::process::Command;

fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install poppler-utils (apt-get install -y poppler-utils)")
    })
}

fn pdf_text(pdf: &Path) -> String {
    let out = poppler("pdftotext", &[pdf.as_os_str(), "-".as_ref()]);
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fixture_book_builds_to_a_pdf_with_numbers_math_code_outputs_and_references() {
    let (_tmp, root) = common::fixture_copy_with_outputs(|text| {
        // The intro's second cell publishes two notices, as `d2l` does for a stand-in data set
        // and a shortened run (the second one twice: it is shown once).
        let notice = |json: &str| {
            format!(
                r#"{{"output_type": "display_data", "metadata": {{}}, "data": {{"text/plain": "notice", "application/vnd.d2l.notice+json": {json:?}}}}}"#
            )
        };
        let synthetic = notice(
            r#"{"kind":"synthetic-data","dataset":"Fashion-MNIST","switch":"D2L_FASHION_MNIST=synthetic"}"#,
        );
        let scaled = notice(r#"{"kind":"scaled-run","scale":0.1}"#);
        let text = text.replace(
            "[\"9\\n\"]}]",
            &format!("[\"9\\n\"]}}, {synthetic}, {scaled}, {scaled}]"),
        );
        // An image output that cannot be decoded (bad checksum) costs only that image.
        text.replace("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/5ncLrgAAAABJRU5ErkJggg==", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9GtQAAAABJRU5ErkJggg==")
    });

    let (ok, out, err) = common::cli(&root, &["build", "pdf"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        err.contains("chapter_basics/intro.md:") && err.contains("cannot be embedded in the PDF"),
        "the broken image is reported: {err}"
    );
    let pdf = root.join("_build/pdf/fixture-book.pdf");
    assert!(out.contains("pdf: ") && pdf.exists(), "{out}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    let text = pdf_text(&pdf);
    let squashed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Title page, contents and chapter titles with the model's numbers.
    assert!(
        squashed.contains("Fixture Book") && squashed.contains("Test Author"),
        "{squashed}"
    );
    assert!(squashed.contains("Contents"), "{squashed}");
    for title in [
        "1 Basics",
        "1.1 Introduction",
        "1.2 Tables and Equations",
        "2 More",
    ] {
        assert!(
            squashed.contains(title),
            "missing heading {title:?} in:\n{squashed}"
        );
    }
    // Numbered figure and table captions, and references showing the numbers.
    assert!(
        squashed.contains("Fig. 1.1.1 A single neuron"),
        "{squashed}"
    );
    assert!(
        squashed.contains("The figure Fig. 1.1.1 shows one neuron"),
        "{squashed}"
    );
    assert!(
        squashed.contains("Table 1.2.1 Sizes of things"),
        "{squashed}"
    );
    assert!(
        squashed.contains("the loss is (1.1.1)") && squashed.contains("(1.2.1)"),
        "{squashed}"
    );
    assert!(
        squashed.contains("The next section is Section 1.2"),
        "{squashed}"
    );
    // Math glyphs: the sum and the hat of the loss, the transpose of the inline formula.
    assert!(
        text.contains('∑') || text.contains('Σ'),
        "no summation sign in:\n{text}"
    );
    assert!(text.contains('⊤'), "no transpose sign in:\n{text}");
    // Code and its outputs; hidden code and hidden outputs stay hidden.
    assert!(
        squashed.contains("pub fn square(x: f64) -> f64"),
        "{squashed}"
    );
    assert!(
        squashed.contains("println!(\"{}\", square(3.0));"),
        "{squashed}"
    );
    assert!(
        squashed.contains("16.0") && squashed.contains("mismatched types"),
        "{squashed}"
    );
    assert!(
        squashed.contains("an image output that could not be embedded"),
        "{squashed}"
    );
    assert!(
        !squashed.contains("SHOULD-BE-HIDDEN") && !squashed.contains("d2l::plot(&[1.0"),
        "{squashed}"
    );
    // The PyTorch tab is not the book's default tab: its code is not in the PDF.
    assert!(!squashed.contains("def square(x)"), "{squashed}");
    // Synthetic data and the shortened run are announced, once, in the box and not as outputs.
    assert!(
        squashed.contains("Synthetic data.")
            && squashed
                .contains("a generated stand-in for Fashion-MNIST (D2L_FASHION_MNIST=synthetic)"),
        "{squashed}"
    );
    assert_eq!(
        squashed
            .matches("training shortened to 0.1 of its full length")
            .count(),
        1,
        "{squashed}"
    );
    assert!(
        !squashed.contains("notice"),
        "notices are not shown as outputs: {squashed}"
    );
    // Citations and the bibliography.
    assert!(
        squashed.contains("Gauss (1809)")
            && squashed.contains("(Legendre, 1805; Gauss, 1809)")
            && squashed.contains("(McCulloch and Pitts, 1943)"),
        "{squashed}"
    );
    assert!(squashed.contains("References"), "{squashed}");
    for entry in [
        "Theoria motus corporum coelestium",
        "A logical calculus of the ideas immanent",
        "Legendre",
    ] {
        assert!(
            squashed.contains(entry),
            "missing bibliography entry {entry:?}"
        );
    }
    // Page numbers in the footer: the page of the References ends with its number.
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 5, "{} pages", pages.len());
    assert!(
        pages.iter().any(|p| p.trim_end().ends_with("\n1")),
        "no page numbered 1:\n{text}"
    );

    // Pages render to images (what a reader sees).
    let png_dir = tempfile::tempdir().unwrap();
    let prefix = png_dir.path().join("page");
    let out = poppler(
        "pdftoppm",
        &[
            "-png".as_ref(),
            "-r".as_ref(),
            "60".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = std::fs::read_dir(png_dir.path()).unwrap().count();
    assert_eq!(rendered, pages.len(), "one image per page");
    if let Ok(dir) = std::env::var("D2L_PDF_TEST_KEEP") {
        // For looking at the pages: D2L_PDF_TEST_KEEP=/tmp/pages cargo test --test pdf
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&pdf, Path::new(&dir).join("fixture.pdf")).unwrap();
        for e in std::fs::read_dir(png_dir.path()).unwrap().flatten() {
            std::fs::copy(e.path(), Path::new(&dir).join(e.file_name())).unwrap();
        }
    }

    // The same outputs are announced as synthetic in the HTML and the notebook.
    let (ok, out, err) = common::cli(&root, &["build", "html"]);
    assert!(ok, "{out}\n{err}");
    let html = std::fs::read_to_string(root.join("_build/html/chapter_basics/intro.html")).unwrap();
    assert!(
        html.contains(
            "class=\"admonition build-notice\"><p class=\"admonition-title\">Synthetic data</p>"
        ),
        "no notice in the HTML"
    );
    assert!(
        html.contains("training shortened to 0.1 of its full length")
            && !html.contains("vnd.d2l.notice"),
        "{html}"
    );
    let tables =
        std::fs::read_to_string(root.join("_build/html/chapter_basics/tables.html")).unwrap();
    assert!(
        !tables.contains("build-notice"),
        "a page without notices has no box"
    );
    let nb = std::fs::read_to_string(root.join("_build/html/notebooks/chapter_basics/intro.ipynb"))
        .unwrap();
    assert!(
        nb.contains("**Synthetic data.**") && !nb.contains("vnd.d2l.notice"),
        "the note, and no notice outputs, in the notebook"
    );
}
