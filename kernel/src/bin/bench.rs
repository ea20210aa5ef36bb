//! Benchmark (not a test): our engine against evcxr's own `CommandContext`, in one run.
//!
//! Measures the median latency of a trivial cell (`1 + 1`) over 20 executions, and the
//! first-cell latency of a fresh context (ours: `d2l` preloaded from a warm cache; evcxr's:
//! a plain context, nothing preloaded). Prints the numbers and their ratios, and what our first
//! `let` cell costs when it is sent right after the first cell. evcxr is the workspace's
//! vendored 0.22.0 (vendor/evcxr/PATCHES.md), so its side shares our evcxr fixes: it is the
//! cost of evcxr without `d2l`.
//!
//! Each side runs in a fresh process of its own (this binary, re-executed with `--side`), as a
//! kernel does, so neither inherits the other's process-wide state (evcxr's environment
//! variables, rust-analyzer's interned tables). A first child only warms the build cache (pays
//! the first `:dep d2l` compile if the cache is cold).
//!
//! Beside wall-clock time it prints CPU time (the measuring process and the `cargo`/`rustc` runs
//! it waited for): on a busy machine wall time mostly measures the queue for a core, while CPU
//! time is what a cell costs. The load average is printed too.
//!
//! Run: `cargo run --release -p d2l-kernel --bin d2l-kernel-bench` (or a debug build).

use d2l_kernel::engine::{CollectingSink, Engine, EngineOptions};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 20;

/// The first `let` cell: a tensor, as a chapter's first cells make.
const LET_CELL: &str =
    "let bench_x = Tensor::arange(12, (Kind::Float, Device::Cpu)).reshape([3, 4]);";
/// The cell after it, which loads the variable (so needs its type).
const USE_CELL: &str = "bench_x.sum(Kind::Float)";

fn main() -> anyhow::Result<()> {
    d2l_kernel::runtime_hook();
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, side] = args.as_slice() {
        if flag == "--side" {
            return measure_side(side);
        }
    }
    println!("load average at start: {}", load_average());
    let warm_start = Instant::now();
    run_side("warm-up")?;
    println!(
        "cache warm-up (ours, not measured): {:.2} s",
        warm_start.elapsed().as_secs_f64()
    );
    let (ours_first, ours_cells, ours_let) = run_side("ours")?;
    let (theirs_first, theirs_cells, _) = run_side("evcxr")?;

    println!("trivial cell `1 + 1`, median of {RUNS}:");
    report("d2l-kernel engine (d2l preloaded)", ours_cells);
    report("evcxr CommandContext (no d2l)    ", theirs_cells);
    ratios(ours_cells, theirs_cells, "ours <= 0.30 s");
    println!("fresh context, first cell:");
    report("d2l-kernel engine, warm cache, d2l loaded", ours_first);
    report("evcxr CommandContext, fresh temp dir     ", theirs_first);
    ratios(ours_first, theirs_first, "ours <= 2.0 s");
    if let Some(FirstLet { cell, next }) = ours_let {
        println!("first `let` cell, sent right after the first cell (target <= 1.5 s):");
        report("d2l-kernel engine", cell);
        println!(
            "the cell after it, which uses the variable (waits for what is left of the analysis warm-up):"
        );
        report("d2l-kernel engine", next);
    }
    println!("load average at end: {}", load_average());
    Ok(())
}

/// Runs one side in a child process; returns its first-cell cost, its median trivial cell and,
/// for ours, its first `let` cell and the cell after it.
fn run_side(side: &str) -> anyhow::Result<(Cost, Cost, Option<FirstLet>)> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe).args(["--side", side]).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "side {side} failed: {}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("costs "))
        .ok_or_else(|| anyhow::anyhow!("side {side} printed no costs: {stdout}"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let cost = |i: usize| Cost {
        wall: Duration::from_secs_f64(numbers[i]),
        cpu: Duration::from_secs_f64(numbers[i + 1]),
    };
    let lets = (numbers.len() >= 8).then(|| FirstLet {
        cell: cost(4),
        next: cost(6),
    });
    Ok((cost(0), cost(2), lets))
}

/// In a child: the first cell of a fresh context of `side`, then `RUNS` trivial cells; prints
/// `costs <first wall> <first cpu> <median wall> <median cpu> [<let wall> <let cpu> <next wall>
/// <next cpu>]` in seconds.
fn measure_side(side: &str) -> anyhow::Result<()> {
    let mut first_let = None;
    let (first, cells) = match side {
        "warm-up" => {
            let mut engine = Engine::new(EngineOptions::default())?;
            engine.wait_ready().map_err(|e| anyhow::anyhow!("{e}"))?;
            let zero = Cost {
                wall: Duration::ZERO,
                cpu: Duration::ZERO,
            };
            (zero, vec![zero])
        }
        "ours" => {
            let (first, engine) = measure(ready_engine_timed_first_cell);
            let mut engine = engine?;
            let (let_cost, result) =
                measure(|| engine.execute(LET_CELL, &mut CollectingSink::default()));
            anyhow::ensure!(result.is_ok(), "the `let` cell failed: {result:?}");
            let mut sink = CollectingSink::default();
            let (use_cost, result) = measure(|| engine.execute(USE_CELL, &mut sink));
            let shown = format!(
                "{:?} {:?} {}",
                result.map_err(|e| anyhow::anyhow!("the cell using the variable failed: {e}"))?,
                sink.displays,
                sink.stdout
            );
            anyhow::ensure!(
                shown.contains("66"),
                "the cell using the variable showed {shown:?}"
            );
            first_let = Some(FirstLet {
                cell: let_cost,
                next: use_cost,
            });
            // A preload that failed (say, a binary built in another checkout whose `d2l/` is
            // gone) leaves a kernel without d2l whose cells are 3x cheaper: refuse to measure it.
            let mut sink = CollectingSink::default();
            let device = engine.execute("d2l::try_gpu()", &mut sink);
            anyhow::ensure!(
                matches!(&device, Ok(Some(d)) if d.text("text/plain").is_some()),
                "d2l is not loaded in this engine: {device:?}\n{}",
                sink.stderr
            );
            let cells = repeat(|| {
                let mut sink = CollectingSink::default();
                let result = engine.execute("1 + 1", &mut sink);
                assert_eq!(
                    result
                        .ok()
                        .flatten()
                        .and_then(|d| d.text("text/plain").map(str::to_owned))
                        .as_deref(),
                    Some("2")
                );
            });
            (first, cells)
        }
        "evcxr" => {
            let (first, context) = measure(|| -> anyhow::Result<evcxr::CommandContext> {
                let (mut context, _outputs) =
                    evcxr::CommandContext::new().map_err(|e| anyhow::anyhow!("{e}"))?;
                context
                    .execute("1 + 1")
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(context)
            });
            let mut context = context?;
            let cells = repeat(|| {
                let out = context.execute("1 + 1").expect("evcxr runs 1 + 1");
                assert_eq!(out.get("text/plain"), Some("2"));
            });
            (first, cells)
        }
        other => anyhow::bail!("unknown side {other:?} (warm-up, ours or evcxr)"),
    };
    let cells = median(&cells);
    let mut line = format!(
        "costs {} {} {} {}",
        first.wall.as_secs_f64(),
        first.cpu.as_secs_f64(),
        cells.wall.as_secs_f64(),
        cells.cpu.as_secs_f64()
    );
    for cost in first_let.iter().flat_map(|l| [l.cell, l.next]) {
        line += &format!(" {} {}", cost.wall.as_secs_f64(), cost.cpu.as_secs_f64());
    }
    println!("{line}");
    Ok(())
}

/// The first `let` cell of a kernel and the cell after it, which uses its variable.
struct FirstLet {
    cell: Cost,
    next: Cost,
}

/// Wall-clock and CPU time of one measured piece of work.
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    cpu: Duration,
}

fn report(label: &str, cost: Cost) {
    println!(
        "  {label}: {:.3} s wall, {:.3} s CPU",
        cost.wall.as_secs_f64(),
        cost.cpu.as_secs_f64()
    );
}

fn ratios(ours: Cost, theirs: Cost, target: &str) {
    println!(
        "  ratio ours/evcxr: {:.2} wall, {:.2} CPU  (target: {target} wall)",
        ratio(ours.wall, theirs.wall),
        ratio(ours.cpu, theirs.cpu)
    );
}

/// A fresh engine through its first `1 + 1` (start-up and preload included).
fn ready_engine_timed_first_cell() -> anyhow::Result<Engine> {
    let mut engine = Engine::new(EngineOptions::default())?;
    let mut sink = CollectingSink::default();
    engine
        .execute("1 + 1", &mut sink)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(engine)
}

fn measure<T>(work: impl FnOnce() -> T) -> (Cost, T) {
    let (start, cpu_start) = (Instant::now(), cpu_time());
    let value = work();
    (
        Cost {
            wall: start.elapsed(),
            cpu: cpu_time().saturating_sub(cpu_start),
        },
        value,
    )
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
    Cost {
        wall: walls[walls.len() / 2],
        cpu: cpus[cpus.len() / 2],
    }
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
