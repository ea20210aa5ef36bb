//! Evaluation: the pass ([`Evaluate`]) that fills [`crate::model::Cell::outputs`] by running
//! each notebook's executable cells (the default tab) through the `d2l-engine` [`Engine`],
//! `d2l` preloaded.
//!
//! Every notebook runs in order in an engine of its own worker; up to `jobs` notebooks run at
//! once (each worker's engine takes its own cache slot). A worker keeps its engine from one
//! notebook to the next and resets it in between ([`Engine::reset`]: a new evaluation process,
//! no variables, items or `use`s, `d2l` loaded again), which spares each notebook the ~13 s
//! rust-analyzer warm-up of a new engine. After a failed notebook the worker starts a new one. Outputs are stored under `<output_dir>/eval/` with a key
//! over the code and the environment ([`key`]), so an unchanged notebook is not run again.
//! A failing cell stops its notebook and fails the build with the notebook's path, the cell
//! number, the source line and the compiler's message; `keep_going` collects every failure.
//!
//! The engine re-executes the current program as its evaluation process, so a program that
//! evaluates must call [`d2l_engine::runtime_hook`] first thing in `main` (`d2l-book` does).

pub mod collect;
pub mod key;
pub mod progress;
pub mod schedule;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{bail, Result};
use d2l_engine::{CellError, Engine, EngineOptions};

use crate::diag::{Diagnostics, Report};
use crate::model::{BlockKind, Book};
use crate::outputs::{attach, CellOutputs};
use crate::passes::Pass;
use collect::NbSink;

/// The evaluation pass: runs every notebook whose stored outputs are stale, attaches all
/// outputs and stores the new ones; fails naming every failed cell.
pub struct Evaluate {
    /// Parallelism, keep-going and progress bars.
    pub options: EvalOptions,
}

impl Pass for Evaluate {
    fn name(&self) -> &'static str {
        "eval"
    }

    fn run(&self, book: &mut Book) -> Result<Report> {
        let mut diags = Diagnostics::default();
        let report = evaluate(book, &self.options, &mut diags)?;
        if !report.failures.is_empty() {
            // What ran is worth knowing even when the build fails.
            println!("eval: {}", report.stats);
            let list: String = report.failures.iter().map(|f| f.to_string()).collect();
            let hint = if self.options.keep_going {
                ""
            } else {
                "\n(stopped at the first failure; --keep-going evaluates the rest and reports every failure)"
            };
            bail!(
                "evaluation failed in {} cell(s):\n{list}{hint}",
                report.failures.len()
            );
        }
        Ok(Report::done(diags, format!("eval: {}", report.stats)))
    }
}

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Notebooks run at the same time (at least 1).
    pub jobs: usize,
    /// Go on after a failure and report all of them at the end.
    pub keep_going: bool,
    /// Draw progress bars (see [`progress::wanted`]).
    pub progress: bool,
    /// The longest a cell may run before it is stopped and the build fails naming it.
    pub cell_timeout: std::time::Duration,
}

/// [`EvalOptions::cell_timeout`] unless `--cell-timeout` says otherwise: far above any cell of
/// the book at CI's scale, far below CI's own limit.
pub const DEFAULT_CELL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(900);

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            jobs: 1,
            keep_going: false,
            progress: progress::wanted(),
            cell_timeout: DEFAULT_CELL_TIMEOUT,
        }
    }
}

/// What an evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// Notebooks with executable cells.
    pub notebooks: usize,
    /// Notebooks that ran (their stored outputs were missing or stale).
    pub executed: usize,
    /// Notebooks whose stored outputs were current.
    pub cached: usize,
    /// Cells run, over all notebooks.
    pub cells_run: usize,
}

impl std::fmt::Display for EvalStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} notebooks: {} executed ({} cells), {} from cache",
            self.notebooks, self.executed, self.cells_run, self.cached
        )
    }
}

/// A cell that failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The notebook, relative to the book root.
    pub path: PathBuf,
    /// 1-based number of the cell among the notebook's executable cells.
    pub cell: usize,
    /// 1-based line in the notebook that the error points at.
    pub line: usize,
    /// What the engine reported.
    pub error: CellError,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{}:{}: cell {} failed: {}: {}",
            self.path.display(),
            self.line,
            self.cell,
            self.error.name,
            self.error.value
        )?;
        for line in &self.error.traceback {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// The result of [`evaluate`].
#[derive(Debug, Default)]
pub struct EvalReport {
    /// Counts.
    pub stats: EvalStats,
    /// Failed cells, in book order.
    pub failures: Vec<Failure>,
}

/// One notebook to evaluate.
struct Job {
    page: usize,
    name: String,
    path: PathBuf,
    /// (code, line of the cell's fence).
    cells: Vec<(String, usize)>,
    key: String,
    code_hash: String,
    /// Seconds the notebook took when it last ran, if it ran before.
    previous_seconds: Option<f64>,
}

/// What running one notebook gave.
struct Ran {
    job: usize,
    cells: Vec<CellOutputs>,
    failure: Option<Failure>,
    /// Wall-clock seconds, engine start included.
    seconds: f64,
}

/// Runs every notebook whose stored outputs are stale, attaches all outputs to the book and
/// stores the new ones. Failures are returned in the report (the caller fails the build).
pub fn evaluate(
    book: &mut Book,
    opts: &EvalOptions,
    diags: &mut Diagnostics,
) -> Result<EvalReport> {
    // The switches are inherited anyway; named here so that the data and scale switches reach
    // the cells even when the engine stops inheriting the environment.
    let engine_options = EngineOptions {
        env: key::PASSED_ENV
            .iter()
            .filter_map(|v| Some((v.to_string(), std::env::var(v).ok()?)))
            .collect(),
        ..Default::default()
    };
    let env = key::Environment::compute(
        engine_options.d2l_crate.as_deref(),
        engine_options.libtorch.as_deref(),
    )?;
    let out_dir = book.config.output_dir();
    let tab = book.config.default_tab().to_string();
    let tabs = book.config.book.tabs.clone();
    let mut report = EvalReport::default();
    let mut jobs = Vec::new();
    let mut from_cache = Vec::new();
    let chapters = schedule::Chapters::of(book);
    let unowned = env.unowned(&chapters.names);
    for (i, page) in book.pages.iter().enumerate() {
        let mut cells = Vec::new();
        let mut other_lang = None;
        for block in &page.blocks {
            let BlockKind::Code(c) = &block.kind else {
                continue;
            };
            if !c.executable || !block.tabs.names(&tabs).contains(&tab.as_str()) {
                continue;
            }
            if c.lang != "rust" {
                other_lang.get_or_insert((block.line, c.lang.clone()));
                continue;
            }
            cells.push((c.code.clone(), block.line));
        }
        if let Some((line, lang)) = other_lang {
            diags.warn(&page.path, line, format!("{lang} cells are not evaluated (the engine runs Rust); this page keeps no outputs"));
            continue;
        }
        if cells.is_empty() {
            continue;
        }
        report.stats.notebooks += 1;
        let codes = || cells.iter().map(|(c, _)| c.as_str());
        let sees: Vec<String> = chapters
            .visible_from(i)
            .iter()
            .chain(&unowned)
            .cloned()
            .collect();
        let (key, code_hash) = (env.key(codes(), &sees), key::code_hash(codes()));
        // A damaged store file is no reason to stop: the page runs again and replaces it.
        let stored = store::read(&out_dir, &page.stem).unwrap_or_else(|message| {
            eprintln!("{message}: running {} again", page.path.display());
            None
        });
        match stored {
            Some(stored) if stored.key == key && stored.cells.len() == cells.len() => {
                report.stats.cached += 1;
                from_cache.push((i, stored.cells));
            }
            stale => {
                let previous_seconds = stale.and_then(|s| s.seconds);
                jobs.push(Job {
                    page: i,
                    name: page.stem.clone(),
                    path: page.path.clone(),
                    cells,
                    key,
                    code_hash,
                    previous_seconds,
                })
            }
        }
    }
    for (i, cells) in from_cache {
        attach(&mut book.pages[i], &tab, &tabs, cells);
    }
    let root = book.config.root.clone();
    let results = run_jobs(&jobs, opts, &engine_options, &root);
    for ran in results {
        let job = &jobs[ran.job];
        report.stats.executed += 1;
        report.stats.cells_run += ran.cells.len();
        match ran.failure {
            Some(failure) => report.failures.push(failure),
            None => {
                let stored = store::Stored {
                    key: job.key.clone(),
                    code_hash: job.code_hash.clone(),
                    source: job.path.display().to_string(),
                    seconds: Some(ran.seconds),
                    cells: ran.cells.clone(),
                };
                store::write(&out_dir, &job.name, &stored)?;
            }
        }
        // Partial outputs of a failed notebook still show its error in the pages.
        let mut cells = ran.cells;
        cells.resize_with(job.cells.len(), Default::default);
        attach(&mut book.pages[job.page], &tab, &tabs, cells);
    }
    report
        .failures
        .sort_by(|a, b| (&a.path, a.cell).cmp(&(&b.path, b.cell)));
    Ok(report)
}

/// Runs the jobs on up to `opts.jobs` threads, each notebook in its own engine.
fn run_jobs(
    jobs: &[Job],
    opts: &EvalOptions,
    engine_options: &EngineOptions,
    root: &Path,
) -> Vec<Ran> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let bars = progress::Progress::new(jobs.len(), opts.progress);
    let previous: Vec<Option<f64>> = jobs.iter().map(|j| j.previous_seconds).collect();
    let sizes: Vec<usize> = jobs.iter().map(|j| j.cells.len()).collect();
    let order = schedule::longest_first(&previous, &sizes);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, jobs.len()) {
            let tx = tx.clone();
            let (next, stop, bars, order) = (&next, &stop, &bars, &order);
            s.spawn(move || {
                // The worker's engine, kept from one notebook to the next.
                let mut engine = None;
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= jobs.len() || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let k = order[n];
                    let bar = bars.notebook(&jobs[k].name, jobs[k].cells.len());
                    let ran = run_notebook(
                        k,
                        &jobs[k],
                        &mut engine,
                        engine_options,
                        root,
                        &bar,
                        opts.cell_timeout,
                    );
                    bars.done(&bar);
                    if ran.failure.is_some() && !opts.keep_going {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if tx.send(ran).is_err() {
                        break;
                    }
                }
            });
        }
    });
    drop(tx);
    bars.finish();
    let mut results: Vec<Ran> = rx.into_iter().collect();
    results.sort_by_key(|r| r.job);
    results
}

/// Runs one notebook's cells in order in the worker's engine (reset) or a new one, stopping at
/// the first failure.
fn run_notebook(
    k: usize,
    job: &Job,
    engine: &mut Option<Engine>,
    engine_options: &EngineOptions,
    root: &Path,
    bar: &indicatif::ProgressBar,
    limit: std::time::Duration,
) -> Ran {
    let started = std::time::Instant::now();
    // The worker's engine, reset, or a new one when there is none or the reset fails.
    let reused = engine
        .take()
        .and_then(|mut e| e.reset().is_ok().then_some(e));
    let fresh = match reused {
        Some(e) => Ok(e),
        None => Engine::new(engine_options.clone()),
    };
    let (cells, failure) = match fresh {
        Ok(mut e) => {
            let (cells, failure) = run_cells(job, &mut e, root, bar, limit);
            // A notebook that failed may have left the engine in any state: the next one gets a
            // new engine.
            if failure.is_none() {
                *engine = Some(e);
            }
            (cells, failure)
        }
        Err(e) => {
            let error = CellError::new(
                "EngineError",
                format!("cannot start the evaluation engine: {e:#}"),
            );
            let line = job.cells.first().map_or(1, |c| c.1);
            (
                Vec::new(),
                Some(Failure {
                    path: job.path.clone(),
                    cell: 1,
                    line,
                    error,
                }),
            )
        }
    };
    Ran {
        job: k,
        cells,
        failure,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The cells of `job` run in `engine`: their outputs, and the failure that stopped them.
fn run_cells(
    job: &Job,
    engine: &mut Engine,
    root: &Path,
    bar: &indicatif::ProgressBar,
    limit: std::time::Duration,
) -> (Vec<CellOutputs>, Option<Failure>) {
    // Starting the engine and loading `d2l` can take minutes on a cold cache: it must not count
    // against the first cell's time limit.
    if let Err(error) = engine.wait_ready() {
        let line = job.cells.first().map_or(1, |c| c.1 + 1);
        return (
            Vec::new(),
            Some(Failure {
                path: job.path.clone(),
                cell: 1,
                line,
                error,
            }),
        );
    }
    let mut cells = Vec::with_capacity(job.cells.len());
    for (n, (code, fence_line)) in job.cells.iter().enumerate() {
        let mut sink = NbSink::default();
        let result = with_time_limit(engine, limit, |engine| engine.execute(code, &mut sink));
        let count = n as u32 + 1;
        cells.push(CellOutputs {
            execution_count: Some(count),
            outputs: sink.finish(&result, count),
        });
        bar.inc(1);
        if let Err(error) = result {
            let line = source_line(root, &job.path, *fence_line, code, &error);
            return (
                cells,
                Some(Failure {
                    path: job.path.clone(),
                    cell: n + 1,
                    line,
                    error,
                }),
            );
        }
    }
    (cells, None)
}

/// Runs `run` on `engine`, interrupting the cell if it takes longer than `limit`; a stopped
/// cell fails with a `Timeout` error that says which limit it hit.
fn with_time_limit(
    engine: &mut Engine,
    limit: std::time::Duration,
    run: impl FnOnce(&mut Engine) -> Result<Option<d2l_engine::Display>, CellError>,
) -> Result<Option<d2l_engine::Display>, CellError> {
    let interrupter = engine.interrupter();
    let (done, finished) = mpsc::channel::<()>();
    let timed_out = std::sync::Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
            flag.store(true, Ordering::SeqCst);
            interrupter.interrupt();
        }
    });
    let result = run(engine);
    let _ = done.send(());
    let _ = watchdog.join();
    if timed_out.load(Ordering::SeqCst) {
        return Err(CellError::new("Timeout", format!("the cell ran longer than {} s and was stopped (raise the limit with --cell-timeout SECONDS)", limit.as_secs())));
    }
    result
}

/// The notebook line an error points at: the cell line of the compiler's `cell:LINE:COL`
/// found in the markdown after the cell's fence, else the cell's first line.
fn source_line(
    root: &Path,
    path: &Path,
    fence_line: usize,
    code: &str,
    error: &CellError,
) -> usize {
    let first = fence_line + 1;
    let Some(cell_line) = error.traceback.iter().find_map(|l| cell_line(l)) else {
        return first;
    };
    let Some(wanted) = code.lines().nth(cell_line.saturating_sub(1)) else {
        return first;
    };
    let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
    text.lines()
        .enumerate()
        .skip(fence_line)
        .find(|(_, l)| l.trim_end() == wanted.trim_end())
        .map_or(first + cell_line - 1, |(i, _)| i + 1)
}

/// `  --> cell:3:9` → 3.
fn cell_line(line: &str) -> Option<usize> {
    let rest = line.trim_start().strip_prefix("--> cell:")?;
    rest.split(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_spans_map_to_notebook_lines() {
        assert_eq!(cell_line("  --> cell:3:9"), Some(3));
        assert_eq!(cell_line("error: x"), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.md"),
            "# T\n\n```{.rust .input}\n// Hide code\nlet a = 1;\nlet b: i32 = \"x\";\n```\n",
        )
        .unwrap();
        let error = CellError {
            name: "CompilationError".into(),
            value: "mismatched types".into(),
            traceback: vec![
                "error[E0308]: mismatched types".into(),
                "  --> cell:2:14".into(),
            ],
        };
        // The directive line was removed from the cell's code, so line 2 of the code is line 6.
        assert_eq!(
            source_line(
                dir.path(),
                Path::new("a.md"),
                3,
                "let a = 1;\nlet b: i32 = \"x\";",
                &error
            ),
            6
        );
        let panic = CellError::new("Panic", "boom");
        assert_eq!(
            source_line(dir.path(), Path::new("a.md"), 3, "let a = 1;", &panic),
            4
        );
    }
}
