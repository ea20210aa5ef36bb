//! Benchmark (not a test): our engine against evcxr's own `CommandContext`, in one run.
//!
//! Measures the median latency of a trivial cell (`1 + 1`) over 20 executions, and the
//! first-cell latency of a fresh context (ours: `d2l` preloaded from a warm cache; evcxr's:
//! a stock context, nothing preloaded). Prints the numbers and their ratios.
//!
//! Beside wall-clock time it prints CPU time (this process and the `cargo`/`rustc` runs it
//! waited for): on a busy machine wall time mostly measures the queue for a core, while CPU
//! time is what a cell costs. The load average is printed too.
//!
//! Run: `cargo run --release -p d2l-kernel --bin d2l-kernel-bench` (or a debug build).

use d2l_kernel::engine::{CollectingSink, Engine, EngineOptions};
use std::time::{Duration, Instant};

const RUNS: usize = 20;

fn main() -> anyhow::Result<()> {
    d2l_kernel::runtime_hook();
    println!("load average at start: {}", load_average());

    // Warm our cache (pays the first `:dep d2l` compile once if the cache is cold).
    let warm_start = Instant::now();
    drop(ready_engine()?);
    println!("cache warm-up (ours, not measured): {:.2} s", warm_start.elapsed().as_secs_f64());

    // Fresh context, first cell.
    let (ours_first, ours) = measure(ready_engine_timed_first_cell);
    let mut ours = ours?;
    let (theirs_first, theirs) = measure(|| -> anyhow::Result<evcxr::CommandContext> {
        let (mut context, _outputs) = evcxr::CommandContext::new().map_err(|e| anyhow::anyhow!("{e}"))?;
        context.execute("1 + 1").map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(context)
    });
    let mut theirs = theirs?;

    // Trivial cells.
    let ours_cells = repeat(|| {
        let mut sink = CollectingSink::default();
        let result = ours.execute("1 + 1", &mut sink);
        assert_eq!(result.ok().flatten().and_then(|d| d.text("text/plain").map(str::to_owned)).as_deref(), Some("2"));
    });
    let theirs_cells = repeat(|| {
        let out = theirs.execute("1 + 1").expect("evcxr runs 1 + 1");
        assert_eq!(out.get("text/plain"), Some("2"));
    });

    println!("trivial cell `1 + 1`, median of {RUNS}:");
    report("d2l-kernel engine (d2l preloaded)", median(&ours_cells));
    report("evcxr CommandContext (stock)     ", median(&theirs_cells));
    ratios(median(&ours_cells), median(&theirs_cells), "ours <= 0.5 s");
    println!("fresh context, first cell:");
    report("d2l-kernel engine, warm cache, d2l loaded", ours_first);
    report("evcxr CommandContext, fresh temp dir     ", theirs_first);
    ratios(ours_first, theirs_first, "ours <= 3 s");
    println!("load average at end: {}", load_average());
    Ok(())
}

/// Wall-clock and CPU time of one measured piece of work.
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    cpu: Duration,
}

fn report(label: &str, cost: Cost) {
    println!("  {label}: {:.3} s wall, {:.3} s CPU", cost.wall.as_secs_f64(), cost.cpu.as_secs_f64());
}

fn ratios(ours: Cost, theirs: Cost, target: &str) {
    println!(
        "  ratio ours/evcxr: {:.2} wall, {:.2} CPU  (target: {target} wall)",
        ratio(ours.wall, theirs.wall),
        ratio(ours.cpu, theirs.cpu)
    );
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

fn measure<T>(work: impl FnOnce() -> T) -> (Cost, T) {
    let (start, cpu_start) = (Instant::now(), cpu_time());
    let value = work();
    (Cost { wall: start.elapsed(), cpu: cpu_time().saturating_sub(cpu_start) }, value)
}

fn repeat(mut cell: impl FnMut()) -> Vec<Cost> {
    (0..RUNS).map(|_| measure(&mut cell).0).collect()
}

/// Medians of wall and CPU time, each taken on its own.
fn median(costs: &[Cost]) -> Cost {
    let mut walls: Vec<Duration> = costs.iter().map(|c| c.wall).collect();
    let mut cpus: Vec<Duration> = costs.iter().map(|c| c.cpu).collect();
    walls.sort();
    cpus.sort();
    Cost { wall: walls[walls.len() / 2], cpu: cpus[cpus.len() / 2] }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// User and system time of this process and of the children it has waited for (`cargo`,
/// `rustc` and the linker; the long-lived evaluation processes are not counted).
fn cpu_time() -> Duration {
    let usage = |who| {
        // SAFETY: getrusage only writes into the struct we hand it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut usage) };
        let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        seconds(usage.ru_utime) + seconds(usage.ru_stime)
    };
    usage(libc::RUSAGE_SELF) + usage(libc::RUSAGE_CHILDREN)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
