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
#[derive(Clone, Default)]
pub struct Interrupter {
    child: Arc<Mutex<Option<Arc<Mutex<Child>>>>>,
    requested: Arc<AtomicBool>,
}

impl Interrupter {
    /// Kills the evaluation process; evcxr restarts it and the cell ends as `Interrupted`.
    pub fn interrupt(&self) {
        self.requested.store(true, Ordering::SeqCst);
        let slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = slot.as_ref() {
            if let Ok(mut child) = child.try_lock() {
                let _ = child.kill();
            } else if let Ok(mut child) = child.lock() {
                let _ = child.kill();
            }
        }
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
    interrupter: Interrupter,
    worker: Option<std::thread::JoinHandle<()>>,
    _slot: cache::Slot,
}

impl Engine {
    /// Starts an engine; evcxr starts and `d2l` loads in the background, so this returns at
    /// once and the first request waits only for what is still missing.
    pub fn new(options: EngineOptions) -> anyhow::Result<Engine> {
        let slot = cache::Slot::acquire(&options.cache_root)?;
        let (startup_tx, startup) = crossbeam_channel::unbounded();
        let (requests, requests_rx) = crossbeam_channel::unbounded();
        let worker = worker::spawn(options, slot.dir().to_owned(), startup_tx, requests_rx)?;
        Ok(Engine {
            requests: Some(requests),
            startup,
            io: None,
            preload: None,
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

    fn ensure_ready(&mut self, sink: &mut dyn OutputSink) -> Result<(), CellError> {
        if self.io.is_none() {
            match self.startup.recv() {
                Ok(Startup::Ready { stdout, stderr, child }) => {
                    *self.interrupter.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
                    self.io = Some(Io { stdout, stderr });
                }
                Ok(Startup::Failed(message)) => return Err(CellError::new("EngineError", message)),
                Ok(Startup::Preloaded(_)) | Err(_) => {
                    return Err(CellError::new("EngineError", "the evaluation thread stopped"))
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
                    _ => Err(CellError::new("EngineError", "the evaluation thread stopped")),
                };
                let _ = tx.send(verdict.map(|()| Default::default()));
            });
            let mut quiet = CollectingSink::default();
            let verdict = self.pump(rx, &mut quiet).map(|_| ());
            if let Err(error) = &verdict {
                sink.stderr(&format!(
                    "d2l-kernel: loading d2l failed; cells run without it.\n{}\n",
                    error.traceback.join("\n")
                ));
            }
            self.preload = Some(verdict);
        }
        Ok(())
    }

    /// Runs one cell, streaming its output to `sink`.
    pub fn execute(&mut self, code: &str, sink: &mut dyn OutputSink) -> CellResult {
        self.ensure_ready(sink)?;
        self.interrupter.requested.store(false, Ordering::SeqCst);
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Request::Execute { code: code.to_owned(), reply: tx })?;
        self.pump(rx, sink)
    }

    /// Completions at byte offset `pos` of `code`.
    pub fn complete(&mut self, code: &str, pos: usize) -> Result<Completions, String> {
        self.ensure_ready(&mut CollectingSink::default()).map_err(|e| e.value)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Request::Complete { code: code.to_owned(), pos, reply: tx }).map_err(|e| e.value)?;
        rx.recv().map_err(|_| "the evaluation thread stopped".to_owned())?
    }

    /// Type and docs of what is at byte offset `pos`: `(plain text, html)`, if anything.
    pub fn inspect(&mut self, code: &str, pos: usize) -> Result<Option<(String, String)>, String> {
        self.ensure_ready(&mut CollectingSink::default()).map_err(|e| e.value)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Request::Inspect { code: code.to_owned(), pos, reply: tx }).map_err(|e| e.value)?;
        rx.recv().map_err(|_| "the evaluation thread stopped".to_owned())?
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
        reply: Receiver<Result<std::collections::BTreeMap<String, String>, CellError>>,
        sink: &mut dyn OutputSink,
    ) -> CellResult {
        let io = self.io.as_ref().ok_or_else(|| CellError::new("EngineError", "engine not started"))?;
        let mut parser = StreamParser::new();
        let mut panic = PanicWatch::default();
        let outcome = loop {
            select! {
                recv(io.stdout) -> line => if let Ok(line) = line { emit(&mut parser, &line, sink) },
                recv(io.stderr) -> line => if let Ok(line) = line { panic.see(&line); sink.stderr(&format!("{line}\n")) },
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
            panic.see(&line);
            sink.stderr(&format!("{line}\n"));
        }
        let trailing = parser.finish();
        match outcome {
            Err(error) if error.name == "Crash" && (self.interrupter.requested.load(Ordering::SeqCst) || error.value.contains("SIGINT")) => Err(
                CellError::new("Interrupted", "the cell was interrupted; the evaluation process restarted (variables are gone, `use` items and `:dep`s remain)"),
            ),
            Err(error) => Err(error),
            Ok(_) if panic.seen() => Err(panic.into_error()),
            Ok(outputs) => Ok(result_bundle(trailing, outputs)),
        }
    }
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
fn result_bundle(trailing: Option<Display>, outputs: std::collections::BTreeMap<String, String>) -> Option<Display> {
    let mut result = trailing.unwrap_or(Display { data: Default::default(), display_id: None, update: false });
    for (mime, value) in display::bundle_data(outputs) {
        result.data.entry(mime).or_insert(value);
    }
    // A cell ending in a unit-valued `for`, `match` or `if` has nothing to show (like Python's
    // None), not a `()`.
    let only_unit = result.data.len() == 1 && result.data.get("text/plain").and_then(|v| v.as_str()).is_some_and(|v| v.trim() == "()");
    (!result.data.is_empty() && !only_unit).then_some(result)
}

/// Recognises a panic in the stderr of the evaluation process.
#[derive(Default)]
struct PanicWatch {
    lines: Vec<String>,
}

impl PanicWatch {
    fn see(&mut self, line: &str) {
        let line = report::strip_ansi(line);
        if !self.lines.is_empty() || (line.starts_with("thread '") && line.contains(" panicked at ")) {
            if self.lines.len() < 50 {
                self.lines.push(line);
            }
        }
    }
    fn seen(&self) -> bool {
        !self.lines.is_empty()
    }
    fn into_error(self) -> CellError {
        let value = self.lines.get(1).cloned().unwrap_or_else(|| self.lines[0].clone());
        CellError { name: "Panic".into(), value, traceback: self.lines }
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
