//! Benchmark: generate a 200-page book and time `build pdf` (goal: under 30 s).
//!
//! `cargo run --release -p d2l-book --example bench_pdf [-- --keep DIR] [--runs N]`
//!
//! The book is the one of `bench_html`, with stored outputs (text and an SVG plot per
//! section) so that output rendering is measured too. Prints load, typeset and total times
//! per run, the PDF's size and page count (when `pdfinfo` is installed), and the median
//! total against the goal.

use d2l_book::render::pdf::{self, Pdf};

#[path = "common/bookgen.rs"]
mod bookgen;
#[path = "common/timing.rs"]
mod timing;

const GOAL_S: f64 = 30.0;

/// Stored outputs for every generated section: each part prints its loss, the last part
/// also shows a plot.
fn add_outputs(root: &std::path::Path) -> anyhow::Result<()> {
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"240\"><rect width=\"360\" height=\"240\" fill=\"white\" stroke=\"black\"/><polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"20,220 80,150 140,110 200,90 260,80 340,76\"/></svg>";
    let (book, _) = d2l_book::load::load_book(root)?;
    for (i, page) in book.pages.iter().enumerate() {
        if !page
            .stem
            .rsplit('/')
            .next()
            .is_some_and(|name| name.starts_with("section_"))
        {
            continue;
        }
        let mut cells = Vec::new();
        for part in 0..4 {
            cells.push(serde_json::json!({"execution_count": part * 2 + 1, "outputs": []}));
            let mut outputs = vec![
                serde_json::json!({"output_type": "stream", "name": "stdout", "text": "0.125\n"}),
            ];
            if part == 3 {
                outputs.push(serde_json::json!({"output_type": "display_data", "data": {"image/svg+xml": svg, "text/plain": "<Figure>"}, "metadata": {}}));
            }
            cells.push(serde_json::json!({"execution_count": part * 2 + 2, "outputs": outputs}));
        }
        d2l_book::eval::store::import(
            &book,
            i,
            serde_json::from_value(serde_json::Value::Array(cells))?,
        )?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let (keep, runs) = timing::args(3);
    let tmp = tempfile::tempdir()?;
    let root = keep.unwrap_or_else(|| tmp.path().join("book"));
    let pages = bookgen::generate(&root)?;
    add_outputs(&root)?;
    println!("generated {pages} pages in {}", root.display());
    let mut out_file = None;
    let median = timing::time_runs(&root, runs, "pdf", |book| {
        let report = timing::render_with(&Pdf, book)?;
        out_file = Some(
            d2l_book::render::Layout::of(&book.config, None)
                .pdf
                .join(pdf::file_name(book)),
        );
        Ok(report)
    })?;
    if let Some(out_file) = out_file {
        let size = std::fs::metadata(&out_file)?.len();
        let info = std::process::Command::new("pdfinfo")
            .arg(&out_file)
            .output()
            .ok();
        let pdf_pages = info
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_string()))
            })
            .unwrap_or_else(|| "? (pdfinfo not installed)".into());
        println!(
            "pdf: {} ({:.1} MB, {pdf_pages} PDF pages)",
            out_file.display(),
            size as f64 / 1e6
        );
    }
    println!(
        "median `build pdf` of {pages} pages: {:.2} s ({:.2}x of the {GOAL_S} s goal)",
        median.as_secs_f64(),
        median.as_secs_f64() / GOAL_S
    );
    Ok(())
}
