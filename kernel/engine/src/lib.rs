//! # d2l-engine — runs Rust cells with `d2l` preloaded
//!
//! evcxr plus the `d2l` prelude, the display protocol read back into [`Display`]s
//! ([`display`], following `d2l-protocol`), readable compiler errors ([`report`]) and a
//! persistent build cache ([`cache`]). It knows nothing of Jupyter: the kernel's protocol layer
//! (`d2l-kernel`) and the book builder (`d2l-book`) both drive it, and neither of them needs
//! the other.
//!
//! | module | job |
//! |---|---|
//! | [`Engine`] (this file) | one evaluation context: start, preload, execute, complete, inspect, interrupt |
//! | `worker` | the thread that owns evcxr's context |
//! | [`options`] | where `d2l`, libtorch and the cache are |
//! | [`cache`] | locked, reusable evcxr work directories |
//! | [`display`] | stdout lines → text and [`Display`] bundles |
//! | [`report`] | compiler errors and panics → [`CellError`] |
//! | [`completeness`] | `is_complete` for front ends |
//! | [`child`] | [`runtime_hook`], the evaluation process's entry |
//!
//! ```no_run
//! use d2l_engine::{Engine, EngineOptions, CollectingSink};
//! // First thing in `main` of any binary that uses the engine:
//! d2l_engine::runtime_hook();
//! let mut engine = Engine::new(EngineOptions::default())?;
//! let mut sink = CollectingSink::default();
//! let result = engine.execute("println!(\"hi\"); 1 + 1", &mut sink);
//! assert_eq!(sink.stdout, "hi\n");
//! assert_eq!(result.unwrap().unwrap().text("text/plain"), Some("2"));
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod cache;
pub mod child;
pub mod completeness;
pub mod display;
pub mod options;
pub mod report;
mod worker;

/// A hash of this crate's sources and of the evcxr patch it is built with: what the book
/// builder's evaluation cache keys on for "the code that runs cells".
pub const FINGERPRINT: &str = env!("D2L_ENGINE_FINGERPRINT");

pub use child::runtime_hook;
pub use completeness::{completeness, Completeness};
pub use display::{Display, StreamEvent, StreamParser};
pub use options::EngineOptions;
pub use report::CellError;
pub use worker::Completions;

use crossbeam_channel::{select, Receiver, Sender};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use worker::{Request, Startup};

/// Where a cell's output goes while it runs.
pub trait OutputSink {
    /// Text the cell wrote to stdout (whole lines, with their newline).
    fn stdout(&mut self, text: &str);
    /// Text the cell wrote to stderr (whole lines, with their newline).
    fn stderr(&mut self, text: &str);
    /// A rich display: create (`update == false`) or update the display `display_id`.
    fn display(&mut self, display: &Display);
    /// The cell reads its stdin: a line of input (without its newline) to give it, or `None`
    /// for end of file. The default has no one to ask: end of file at once.
    fn input(&mut self, prompt: &str, password: bool) -> Option<String> {
        let _ = (prompt, password);
        None
    }
}

/// An [`OutputSink`] that keeps everything, for tests and batch evaluation.
#[derive(Debug, Default, Clone)]
pub struct CollectingSink {
    /// All stdout text.
    pub stdout: String,
    /// All stderr text.
    pub stderr: String,
    /// All displays, in order.
    pub displays: Vec<Display>,
}

impl OutputSink for CollectingSink {
    fn stdout(&mut self, text: &str) {
        self.stdout.push_str(text);
    }
    fn stderr(&mut self, text: &str) {
        self.stderr.push_str(text);
    }
    fn display(&mut self, display: &Display) {
        self.displays.push(display.clone());
    }
}

/// What a successful cell returns: its result bundle (`execute_result`), if it has one.
pub type CellResult = Result<Option<Display>, CellError>;

/// Stops the running cell from any thread. Cloning is cheap.
///
/// Only a running cell is stopped: between cells an interrupt does nothing, so that a stray
/// interrupt never costs the session its variables.
#[derive(Clone, Default)]
pub struct Interrupter {
    state: Arc<Mutex<Running>>,
    requested: Arc<AtomicBool>,
}

/// What the interrupter may stop: the evaluation process, while a cell runs.
#[derive(Default)]
struct Running {
    child: Option<Arc<Mutex<Child>>>,
    cell: bool,
}

impl Interrupter {
    /// Stops the running cell: kills the evaluation process, which evcxr restarts, and the cell
    /// ends as `Interrupted`. Returns whether a cell was running (otherwise nothing happens).
    pub fn interrupt(&self) -> bool {
        let state = self.lock();
        if !state.cell {
            return false;
        }
        self.requested.store(true, Ordering::SeqCst);
        if let Some(child) = state.child.as_ref() {
            if let Ok(mut child) = child.lock() {
                let _ = child.kill();
            }
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the start or the end of a cell.
    fn set_running(&self, cell: bool) {
        let mut state = self.lock();
        if cell {
            self.requested.store(false, Ordering::SeqCst);
        }
        state.cell = cell;
    }

    /// The evaluation process is known: interrupt it now if an interrupt came first.
    fn set_child(&self, child: Arc<Mutex<Child>>) {
        let mut state = self.lock();
        if state.cell && self.requested.load(Ordering::SeqCst) {
            if let Ok(mut child) = child.lock() {
                let _ = child.kill();
            }
        }
        state.child = Some(child);
    }

    fn was_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

struct Io {
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

/// One evaluation context (one kernel session, or one notebook of the builder).
pub struct Engine {
    requests: Option<Sender<Request>>,
    startup: Receiver<Startup>,
    io: Option<Io>,
    preload: Option<Result<(), CellError>>,
    /// The preload, to try again after an interrupt or a crash stopped it.
    preload_code: Option<String>,
    interrupter: Interrupter,
    worker: Option<std::thread::JoinHandle<()>>,
    _slot: cache::Slot,
}

impl Engine {
    /// Starts an engine; evcxr starts and `d2l` loads in the background, so this returns at
    /// once and the first request waits only for what is still missing.
    pub fn new(options: EngineOptions) -> anyhow::Result<Engine> {
        let slot = cache::Slot::acquire(&options.cache_root)?;
        let preload_code = match options.d2l_crate.as_deref() {
            Some(d2l) => Some(
                options::preload_code(slot.dir(), d2l, options.libtorch.as_deref()).map_err(
                    |e| {
                        anyhow::anyhow!(
                            "writing the d2l-dylib crate into {}: {e}",
                            slot.dir().display()
                        )
                    },
                )?,
            ),
            None => None,
        };
        let (startup_tx, startup) = crossbeam_channel::unbounded();
        let (requests, requests_rx) = crossbeam_channel::unbounded();
        let worker = worker::spawn(
            options,
            preload_code.clone(),
            slot.dir().to_owned(),
            startup_tx,
            requests_rx,
        )?;
        Ok(Engine {
            requests: Some(requests),
            startup,
            io: None,
            preload: None,
            preload_code,
            interrupter: Interrupter::default(),
            worker: Some(worker),
            _slot: slot,
        })
    }

    /// A handle that interrupts this engine's running cell.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    /// Waits until evcxr runs and the prelude is loaded; returns the prelude's error, if any.
    pub fn wait_ready(&mut self) -> Result<(), CellError> {
        let mut discard = CollectingSink::default();
        self.ensure_ready(&mut discard)
    }

    /// Makes the engine as good as a new one for the next notebook: evcxr's `:clear` drops
    /// every variable, item and `use` and restarts the evaluation process, then `d2l` is loaded
    /// again. What stays is what only costs time: the compiled dependencies and rust-analyzer's
    /// index of them, so the next notebook's first `let` does not wait ~13 s for the analysis to
    /// warm up again (measured through the kernel: 14.1 s in a new engine, 0.9 s after a reset).
    pub fn reset(&mut self) -> Result<(), CellError> {
        self.wait_ready()?;
        self.run_quietly(":clear")?;
        if let Some(code) = self.preload_code.clone() {
            let verdict = self.run_quietly(&code);
            self.preload = Some(verdict.clone());
            verdict?;
        }
        Ok(())
    }

    fn ensure_ready(&mut self, sink: &mut dyn OutputSink) -> Result<(), CellError> {
        if self.io.is_none() {
            match self.startup.recv() {
                Ok(Startup::Ready {
                    stdout,
                    stderr,
                    child,
                }) => {
                    self.interrupter.set_child(child);
                    self.io = Some(Io { stdout, stderr });
                }
                Ok(Startup::Failed(message)) => return Err(CellError::new("EngineError", message)),
                Ok(Startup::Preloaded(_)) | Err(_) => {
                    return Err(CellError::new(
                        "EngineError",
                        "the evaluation thread stopped",
                    ))
                }
            }
        }
        if self.preload.is_none() {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let startup = self.startup.clone();
            // Forward the preload verdict through the same pump that streams its output.
            std::thread::spawn(move || {
                let verdict = match startup.recv() {
                    Ok(Startup::Preloaded(result)) => result,
                    _ => Err(CellError::new(
                        "EngineError",
                        "the evaluation thread stopped",
                    )),
                };
                let _ = tx.send(verdict.map(|()| Default::default()));
            });
            let verdict = self
                .pump(
                    "",
                    rx,
                    &crossbeam_channel::never(),
                    &mut CollectingSink::default(),
                )
                .map(|_| ());
            self.preload_verdict(verdict, sink)?;
        } else if self.preload_failed_by_chance() {
            if let Some(code) = self.preload_code.clone() {
                let verdict = self.run_quietly(&code);
                self.preload_verdict(verdict, sink)?;
            }
        }
        Ok(())
    }

    /// Was the preload stopped by an interrupt or a crash (worth another try), rather than by
    /// an error in its code?
    fn preload_failed_by_chance(&self) -> bool {
        matches!(&self.preload, Some(Err(e)) if e.name == "Crash" || e.name == "Interrupted")
    }

    /// Keeps the preload's verdict. An interrupted preload stops the cell that waited for it
    /// (the next cell tries the preload again); another failure is reported, and cells run
    /// without `d2l`.
    fn preload_verdict(
        &mut self,
        verdict: Result<(), CellError>,
        sink: &mut dyn OutputSink,
    ) -> Result<(), CellError> {
        let interrupted = self.interrupter.was_requested();
        self.preload = Some(verdict.map_err(|e| if interrupted { interrupted_error() } else { e }));
        match &self.preload {
            Some(Err(error)) if error.name == "Interrupted" => Err(error.clone()),
            Some(Err(error)) => {
                let again = if self.preload_failed_by_chance() {
                    "the next cell tries again"
                } else {
                    "cells run without it"
                };
                sink.stderr(&format!(
                    "d2l-kernel: loading d2l failed; {again}.\n{}\n",
                    error.traceback.join("\n")
                ));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Runs code whose output nobody needs (the preload).
    fn run_quietly(&mut self, code: &str) -> Result<(), CellError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (input, asks) = crossbeam_channel::unbounded();
        self.send(Request::Execute {
            code: code.to_owned(),
            reply: tx,
            input,
        })?;
        self.pump("", rx, &asks, &mut CollectingSink::default())
            .map(|_| ())
    }

    /// Runs one cell, streaming its output to `sink`.
    pub fn execute(&mut self, code: &str, sink: &mut dyn OutputSink) -> CellResult {
        // The cell runs (and can be interrupted) from now on, also while it waits for the
        // preload.
        self.interrupter.set_running(true);
        let result = self.ensure_ready(sink).and_then(|()| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let (input, asks) = crossbeam_channel::unbounded();
            self.send(Request::Execute {
                code: code.to_owned(),
                reply: tx,
                input,
            })?;
            self.pump(code, rx, &asks, sink)
        });
        self.interrupter.set_running(false);
        result
    }

    /// Completions at byte offset `pos` of `code`.
    pub fn complete(&mut self, code: &str, pos: usize) -> Result<Completions, String> {
        self.ensure_ready(&mut CollectingSink::default())
            .map_err(|e| e.value)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Request::Complete {
            code: code.to_owned(),
            pos,
            reply: tx,
        })
        .map_err(|e| e.value)?;
        rx.recv()
            .map_err(|_| "the evaluation thread stopped".to_owned())?
    }

    /// Type and docs of what is at byte offset `pos`: `(plain text, html)`, if anything.
    pub fn inspect(&mut self, code: &str, pos: usize) -> Result<Option<(String, String)>, String> {
        self.ensure_ready(&mut CollectingSink::default())
            .map_err(|e| e.value)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Request::Inspect {
            code: code.to_owned(),
            pos,
            reply: tx,
        })
        .map_err(|e| e.value)?;
        rx.recv()
            .map_err(|_| "the evaluation thread stopped".to_owned())?
    }

    /// The source evcxr generated for the last cell (`src/lib.rs` of the work directory).
    fn generated_source(&self) -> String {
        std::fs::read_to_string(self._slot.dir().join("src").join("lib.rs")).unwrap_or_default()
    }

    fn send(&self, request: Request) -> Result<(), CellError> {
        self.requests
            .as_ref()
            .and_then(|r| r.send(request).ok())
            .ok_or_else(|| CellError::new("EngineError", "the evaluation thread stopped"))
    }

    /// Streams output until `reply` arrives, then turns the rest into the cell's result.
    fn pump(
        &mut self,
        code: &str,
        reply: Receiver<Result<std::collections::BTreeMap<String, String>, CellError>>,
        asks: &Receiver<worker::InputAsk>,
        sink: &mut dyn OutputSink,
    ) -> CellResult {
        let io = self
            .io
            .as_ref()
            .ok_or_else(|| CellError::new("EngineError", "engine not started"))?;
        let mut parser = StreamParser::new();
        let mut panic = PanicWatch::default();
        let outcome = loop {
            select! {
                recv(io.stdout) -> line => if let Ok(line) = line { emit(&mut parser, &line, sink) },
                recv(io.stderr) -> line => if let Ok(line) = line { panic.forward(&line, sink) },
                recv(asks) -> ask => if let Ok(ask) = ask {
                    let _ = ask.answer.send(sink.input(&ask.prompt, ask.password));
                },
                recv(reply) -> outcome => break outcome.unwrap_or_else(|_| {
                    Err(CellError::new("EngineError", "the evaluation thread stopped"))
                }),
            }
        };
        // evcxr waits for its stdout channel to drain before replying; stderr comes through a
        // thread of its own, so give it a moment to catch up.
        while let Ok(line) = io.stdout.try_recv() {
            emit(&mut parser, &line, sink);
        }
        while let Ok(line) = io.stderr.recv_timeout(Duration::from_millis(15)) {
            panic.forward(&line, sink);
        }
        panic.flush(sink);
        let trailing = parser.finish();
        match outcome {
            Err(error)
                if error.name == "Crash"
                    && (self.interrupter.was_requested() || error.value.contains("SIGINT")) =>
            {
                Err(interrupted_error())
            }
            Err(error) => Err(error),
            Ok(_) if panic.seen() => Err(panic.into_error(code, &self.generated_source())),
            Ok(outputs) => Ok(result_bundle(trailing, outputs)),
        }
    }
}

fn interrupted_error() -> CellError {
    CellError::new("Interrupted", "the cell was interrupted; the evaluation process restarted (variables are gone, `use` items and `:dep`s remain)")
}

fn emit(parser: &mut StreamParser, line: &str, sink: &mut dyn OutputSink) {
    for event in parser.feed(line) {
        match event {
            StreamEvent::Line(text) => sink.stdout(&format!("{text}\n")),
            StreamEvent::Display(display) => sink.display(&display),
        }
    }
}

/// The cell's result: its trailing bundle (a final expression) merged with evcxr's own
/// outputs (command results such as `:vars`).
fn result_bundle(
    trailing: Option<Display>,
    outputs: std::collections::BTreeMap<String, String>,
) -> Option<Display> {
    let mut result = trailing.unwrap_or(Display {
        data: Default::default(),
        display_id: None,
        update: false,
    });
    for (mime, value) in display::bundle_data(outputs) {
        result.data.entry(mime).or_insert(value);
    }
    // A cell ending in a unit-valued `for`, `match` or `if` has nothing to show (like Python's
    // None), not a `()`.
    let only_unit = result.data.len() == 1
        && result
            .data
            .get("text/plain")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.trim() == "()");
    (!result.data.is_empty() && !only_unit).then_some(result)
}

/// Recognises a panic in the stderr of the evaluation process and keeps its lines for the
/// cell's error (the one place a panic is reported).
#[derive(Default)]
struct PanicWatch {
    lines: Vec<String>,
    /// Blank stderr lines held back: the blank line before a panic report belongs to it.
    blanks: usize,
}

impl PanicWatch {
    /// Passes a stderr line on to `sink`, unless it belongs to a panic report.
    fn forward(&mut self, line: &str, sink: &mut dyn OutputSink) {
        if self.lines.is_empty() && line.trim().is_empty() {
            self.blanks += 1;
            return;
        }
        if self.see(line) {
            self.blanks = 0;
            return;
        }
        self.flush(sink);
        sink.stderr(&format!("{line}\n"));
    }

    /// Passes on the blank lines held back.
    fn flush(&mut self, sink: &mut dyn OutputSink) {
        for _ in 0..std::mem::take(&mut self.blanks) {
            sink.stderr("\n");
        }
    }

    /// Looks at one stderr line; `true` if it belongs to a panic report (and is kept here).
    fn see(&mut self, line: &str) -> bool {
        let line = report::strip_ansi(line);
        if self.lines.is_empty()
            && !(line.starts_with("thread '") && line.contains(" panicked at "))
        {
            return false;
        }
        if self.lines.len() < 50 {
            self.lines.push(line);
        }
        true
    }
    fn seen(&self) -> bool {
        !self.lines.is_empty()
    }
    fn into_error(self, code: &str, generated: &str) -> CellError {
        report::panic_error(self.lines, code, generated)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the request channel ends the worker, which drops evcxr's context and with it
        // the evaluation process.
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
