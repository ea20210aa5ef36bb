//! The timing loop shared by the builder's benchmark examples: `--keep DIR` and `--runs N`
//! arguments, one load + render per run, and the median total.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use d2l_book::diag::Report;
use d2l_book::driver::prepared_book;
use d2l_book::model::Book;
use d2l_book::render::{Layout, RenderContext, Renderer};

/// Runs one renderer on `book` into its folder of the book's default layout.
pub fn render_with(renderer: &dyn Renderer, book: &Book) -> anyhow::Result<Report> {
    let layout = Layout::of(&book.config, None);
    let ctx = RenderContext {
        book,
        config: &book.config,
        destination: renderer.destination(&layout),
        layout: &layout,
    };
    renderer.render(&ctx)
}

/// `--keep DIR` (where the generated book stays) and `--runs N` (default `default_runs`).
pub fn args(default_runs: usize) -> (Option<PathBuf>, usize) {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let keep = value("--keep").map(PathBuf::from);
    let runs = value("--runs")
        .and_then(|r| r.parse().ok())
        .unwrap_or(default_runs);
    (keep, runs)
}

/// Loads and renders the book at `root` `runs` times, printing the load and `phase` times of
/// each run and the first run's diagnostics; returns the median total.
pub fn time_runs(
    root: &Path,
    runs: usize,
    phase: &str,
    mut render: impl FnMut(&Book) -> anyhow::Result<Report>,
) -> anyhow::Result<Duration> {
    let mut totals = Vec::new();
    for run in 1..=runs.max(1) {
        let start = Instant::now();
        let (book, mut diags) = prepared_book(root)?;
        let loaded = start.elapsed();
        diags.extend(render(&book)?.diagnostics);
        let total = start.elapsed();
        if run == 1 {
            println!(
                "diagnostics: {} errors, {} warnings",
                diags.errors(),
                diags.warnings()
            );
            for d in diags.items().iter().take(5) {
                println!("  {d}");
            }
        }
        println!(
            "run {run}: load {:>7.1} ms, {phase} {:>8.1} ms, total {:>8.1} ms",
            ms(loaded),
            ms(total - loaded),
            ms(total)
        );
        totals.push(total);
    }
    totals.sort();
    Ok(totals[totals.len() / 2])
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
