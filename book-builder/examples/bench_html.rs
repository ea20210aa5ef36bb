//! Benchmark: generate a 200-page book and time a full HTML build.
//!
//! `cargo run --release -p d2l-book --example bench_html [-- --keep DIR] [--runs N]`
//!
//! Prints the time of each phase (load = parse + passes, html = render and
//! write) for several runs and the median total, against the 2 s goal. With
//! `--keep DIR` the generated book stays in DIR (with a d2lbook `config.ini`,
//! so the same book can be built by d2lbook for comparison).

use d2l_book::render::html::Html;

#[path = "common/bookgen.rs"]
mod bookgen;
#[path = "common/timing.rs"]
mod timing;

fn main() -> anyhow::Result<()> {
    let (keep, runs) = timing::args(5);
    let tmp = tempfile::tempdir()?;
    let root = keep.unwrap_or_else(|| tmp.path().join("book"));
    let pages = bookgen::generate(&root)?;
    println!("generated {pages} pages in {}", root.display());
    let median = timing::time_runs(&root, runs, "html", |book| timing::render_with(&Html, book))?;
    println!(
        "median full HTML build of {pages} pages: {:.1} ms ({:.2}x of the 2 s goal)",
        timing::ms(median),
        median.as_secs_f64() / 2.0
    );
    Ok(())
}
