//! Benchmark: generate a 200-page book and time a full HTML build.
//!
//! `cargo run --release -p d2l-book --example bench_html [-- --keep DIR] [--runs N]`
//!
//! Prints the time of each phase (load = parse + passes, html = render and
//! write) for several runs and the median total, against the 2 s goal. With
//! `--keep DIR` the generated book stays in DIR (with a d2lbook `config.ini`,
//! so the same book can be built by d2lbook for comparison).

use std::time::Instant;

use d2l_book::load::load_book;
use d2l_book::render::{html::Html, Renderer};

#[path = "common/bookgen.rs"]
mod bookgen;
use bookgen::generate;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let keep = args.iter().position(|a| a == "--keep").and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let runs: usize = args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)).and_then(|r| r.parse().ok()).unwrap_or(5);
    let tmp = tempfile::tempdir()?;
    let root = keep.clone().unwrap_or_else(|| tmp.path().join("book"));
    let pages = generate(&root)?;
    println!("generated {pages} pages in {}", root.display());
    let mut totals = Vec::new();
    for run in 1..=runs {
        let start = Instant::now();
        let (book, mut diags) = load_book(&root)?;
        let loaded = start.elapsed();
        Html::for_book(&book).render(&book, &mut diags)?;
        let total = start.elapsed();
        if run == 1 {
            println!("diagnostics: {} errors, {} warnings", diags.errors(), diags.warnings());
            for d in diags.items().iter().take(5) {
                println!("  {d}");
            }
        }
        println!("run {run}: load {:>7.1} ms, html {:>7.1} ms, total {:>7.1} ms", ms(loaded), ms(total - loaded), ms(total));
        totals.push(total);
    }
    totals.sort();
    let median = totals[totals.len() / 2];
    println!("median full HTML build of {pages} pages: {:.1} ms ({:.2}x of the 2 s goal)", ms(median), median.as_secs_f64() / 2.0);
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
