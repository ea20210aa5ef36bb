//! Benchmark (not a test): our engine against evcxr's own `CommandContext`, in one run.
//!
//! Measures the median latency of a trivial cell (`1 + 1`) over 20 executions, and the
//! first-cell latency of a fresh context (ours: `d2l` preloaded from a warm cache; evcxr's:
//! a stock context, nothing preloaded). Prints the numbers and their ratios.
//!
//! Run: `cargo run --release -p d2l-kernel --bin d2l-kernel-bench` (or a debug build).

use d2l_kernel::engine::{CollectingSink, Engine, EngineOptions};
use std::time::{Duration, Instant};

const RUNS: usize = 20;

fn main() -> anyhow::Result<()> {
    d2l_kernel::runtime_hook();

    // Warm our cache (pays the first `:dep d2l` compile once if the cache is cold).
    let warm_start = Instant::now();
    drop(ready_engine()?);
    println!("cache warm-up (ours, not measured): {:.2} s", warm_start.elapsed().as_secs_f64());

    // Fresh context, first cell.
    let start = Instant::now();
    let mut ours = ready_engine_timed_first_cell()?;
    let ours_first = start.elapsed();
    let start = Instant::now();
    let (mut theirs, _outputs) = evcxr::CommandContext::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    theirs.execute("1 + 1").map_err(|e| anyhow::anyhow!("{e}"))?;
    let theirs_first = start.elapsed();

    // Trivial cells.
    let ours_median = median(|| {
        let mut sink = CollectingSink::default();
        let result = ours.execute("1 + 1", &mut sink);
        assert_eq!(result.ok().flatten().and_then(|d| d.text("text/plain").map(str::to_owned)).as_deref(), Some("2"));
    });
    let theirs_median = median(|| {
        let out = theirs.execute("1 + 1").expect("evcxr runs 1 + 1");
        assert_eq!(out.get("text/plain"), Some("2"));
    });

    println!("trivial cell `1 + 1`, median of {RUNS}:");
    println!("  d2l-kernel engine (d2l preloaded): {:.3} s", ours_median.as_secs_f64());
    println!("  evcxr CommandContext (stock):      {:.3} s", theirs_median.as_secs_f64());
    println!("  ratio ours/evcxr: {:.2}  (target: ours <= 0.5 s)", ratio(ours_median, theirs_median));
    println!("fresh context, first cell:");
    println!("  d2l-kernel engine, warm cache, d2l loaded: {:.3} s", ours_first.as_secs_f64());
    println!("  evcxr CommandContext, fresh temp dir:      {:.3} s", theirs_first.as_secs_f64());
    println!("  ratio ours/evcxr: {:.2}  (target: ours <= 3 s)", ratio(ours_first, theirs_first));
    Ok(())
}

fn ready_engine() -> anyhow::Result<Engine> {
    let mut engine = Engine::new(EngineOptions::default())?;
    engine.wait_ready().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(engine)
}

/// A fresh engine through its first `1 + 1` (start-up and preload included).
fn ready_engine_timed_first_cell() -> anyhow::Result<Engine> {
    let mut engine = Engine::new(EngineOptions::default())?;
    let mut sink = CollectingSink::default();
    engine.execute("1 + 1", &mut sink).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(engine)
}

fn median(mut cell: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            cell();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
