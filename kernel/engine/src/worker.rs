//! The thread that owns evcxr's `CommandContext` and serves requests one at a time.
//!
//! evcxr's context is not `Send`, so it lives on this thread from birth. The engine talks to
//! it over channels, which also lets the engine stream a cell's stdout while it runs.

use super::options::EngineOptions;
use super::report::{compilation_error, CellError};
use crossbeam_channel::{Receiver, Sender};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

/// Serialises the moment a context reads `EVCXR_TMPDIR` from the process environment.
static TMPDIR_ENV: Mutex<()> = Mutex::new(());

/// A completion list with its replaced range, in byte offsets of the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// Candidate texts.
    pub matches: Vec<String>,
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// A cell asks for a line of its stdin; `None` as the answer means end of file.
pub(crate) struct InputAsk {
    pub prompt: String,
    pub password: bool,
    pub answer: Sender<Option<String>>,
}

/// Requests the engine sends.
pub(crate) enum Request {
    Execute {
        code: String,
        reply: Sender<Result<BTreeMap<String, String>, CellError>>,
        input: Sender<InputAsk>,
    },
    Complete {
        code: String,
        pos: usize,
        reply: Sender<Result<Completions, String>>,
    },
    Inspect {
        code: String,
        pos: usize,
        reply: Sender<Result<Option<(String, String)>, String>>,
    },
}

/// What the worker reports while starting.
pub(crate) enum Startup {
    /// The context exists: its output channels and the evaluation process.
    Ready {
        stdout: Receiver<String>,
        stderr: Receiver<String>,
        child: Arc<Mutex<Child>>,
    },
    /// The context could not be created.
    Failed(String),
    /// The prelude ran (or failed with this message).
    Preloaded(Result<(), CellError>),
}

/// Starts the worker thread in `work_dir`; it runs `preload` (the commands that load `d2l`)
/// before the first request.
pub(crate) fn spawn(
    options: EngineOptions,
    preload: Option<String>,
    work_dir: PathBuf,
    startup: Sender<Startup>,
    requests: Receiver<Request>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("d2l-engine".into())
        .spawn(move || run(options, preload, &work_dir, startup, requests))
}

fn run(
    options: EngineOptions,
    preload: Option<String>,
    work_dir: &Path,
    startup: Sender<Startup>,
    requests: Receiver<Request>,
) {
    let lockfile = Lockfile::remember(&options, work_dir);
    let mut context = match create_context(&options, work_dir) {
        Ok((context, outputs, child)) => {
            lockfile.restore();
            let _ = startup.send(Startup::Ready {
                stdout: outputs.stdout,
                stderr: outputs.stderr,
                child,
            });
            context
        }
        Err(message) => {
            let _ = startup.send(Startup::Failed(message));
            return;
        }
    };
    if let Some(code) = &preload {
        let result = execute(&mut context, code, None).map(|_| ());
        if result.is_ok() {
            link_replayed_cells_against_stubs(&mut context, &options, work_dir);
            // Its result is not needed; a failure shows again in the cell that needs it.
            let _ = context.warm_up_analysis(ANALYSIS_WARM_UP);
        }
        let _ = startup.send(Startup::Preloaded(result));
    } else {
        let _ = startup.send(Startup::Preloaded(Ok(())));
    }
    while let Ok(request) = requests.recv() {
        match request {
            Request::Execute { code, reply, input } => {
                let _ = reply.send(execute(&mut context, &code, Some(&input)));
            }
            Request::Complete { code, pos, reply } => {
                let result = context
                    .completions(&code, pos)
                    .map(|c| Completions {
                        matches: c.completions.into_iter().map(|c| c.code).collect(),
                        start: c.start_offset,
                        end: c.end_offset,
                    })
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
            Request::Inspect { code, pos, reply } => {
                let result = context
                    .hover_at(&code, pos)
                    .map(|(plain, html)| (!plain.trim().is_empty()).then_some((plain, html)))
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
        }
    }
}

/// Once `d2l-dylib` is loaded, later cells link against stand-ins for libtorch's libraries
/// ([`write_link_stubs`](super::options::write_link_stubs)). Without the stand-ins a link only
/// takes longer, so a failure to write them is not reported.
fn link_replayed_cells_against_stubs(
    context: &mut evcxr::CommandContext,
    options: &EngineOptions,
    work_dir: &Path,
) {
    let Some(libtorch) = options.libtorch.as_deref() else {
        return;
    };
    if cfg!(target_os = "linux") && options.d2l_crate.is_some() {
        let stubs = super::options::write_link_stubs(work_dir, libtorch).ok();
        context.set_replay_link_stubs(stubs);
    }
}

/// The `let` cell whose analysis starts with the kernel, in the background.
///
/// evcxr asks rust-analyzer for the type of each new `let` variable. The first such question
/// builds the name tables of the standard library and of the crates a cell can name (`d2l`,
/// `tch`: several seconds), and the first method call on a tensor collects `tch`'s thousands of
/// inherent methods. The vendored evcxr (patch 9 in vendor/evcxr/PATCHES.md) asks this cell's
/// question on a thread of its own as soon as `d2l` is loaded, while the first cells (which
/// have no `let`, or need no analysis) run; the first `let` cell waits only for what is left.
const ANALYSIS_WARM_UP: &str =
    "let d2l_kernel_warm_up = Tensor::zeros([1], (Kind::Float, Device::Cpu)).sum(Kind::Float);";

type Created = (
    evcxr::CommandContext,
    evcxr::EvalContextOutputs,
    Arc<Mutex<Child>>,
);

fn create_context(options: &EngineOptions, work_dir: &Path) -> Result<Created, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let mut command = Command::new(exe);
    command.env(d2l_protocol::KERNEL_ENV, "1");
    // Cells link the standard library dynamically, and cargo's relative rpath to it breaks when
    // the library is moved out of `deps/`; the loader finds it through LD_LIBRARY_PATH instead.
    let mut library_path: Vec<PathBuf> = rustc_target_libdir().into_iter().collect();
    if let Some(libtorch) = &options.libtorch {
        library_path.push(libtorch.join("lib"));
        command.env("LIBTORCH", libtorch);
    }
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        library_path.extend(std::env::split_paths(&old));
    }
    if let Ok(joined) = std::env::join_paths(library_path) {
        command.env("LD_LIBRARY_PATH", joined);
    }
    command.envs(options.env.iter().map(|(k, v)| (k, v)));
    let (eval_context, outputs) = {
        let _guard = TMPDIR_ENV.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY (edition-2021 safe fn): the lock above keeps engines from racing on this
        // variable; evcxr reads it once, inside `with_subprocess_command`. It is put back at
        // once, so that another evcxr context in this process gets a directory of its own.
        let previous = std::env::var_os("EVCXR_TMPDIR");
        std::env::set_var("EVCXR_TMPDIR", work_dir);
        let created = evcxr::EvalContext::with_subprocess_command(command);
        match previous {
            Some(previous) => std::env::set_var("EVCXR_TMPDIR", previous),
            None => std::env::remove_var("EVCXR_TMPDIR"),
        }
        created.map_err(|e| {
            format!(
                "starting the evcxr evaluation context in {}: {e}",
                work_dir.display()
            )
        })?
    };
    let mut eval_context = eval_context;
    // Content blocks reach the engine as lines, in order, so that displays keep their place
    // among printed text and a board can update while its cell runs (vendor patch 4).
    eval_context.set_forward_content_blocks(true);
    let child = eval_context.process_handle();
    Ok((
        evcxr::CommandContext::with_eval_context(eval_context),
        outputs,
        child,
    ))
}

/// The `Cargo.lock` that cells build `d2l` with.
///
/// evcxr's new context compiles a first cell with no dependencies, which prunes the work
/// directory's lock file to the cell crate alone. The `:dep d2l` that follows would then resolve
/// every dependency again, asking the crates.io index for the newest versions (seconds, the
/// network, and a rebuild whenever a newer version has come out). So the lock is read before
/// the context starts and written back before the preload: the workspace's `Cargo.lock` (the
/// versions the workspace tested and already downloaded), else the directory's own.
struct Lockfile {
    path: PathBuf,
    contents: Option<Vec<u8>>,
}

impl Lockfile {
    fn remember(options: &EngineOptions, work_dir: &Path) -> Lockfile {
        let path = work_dir.join("Cargo.lock");
        let workspace = options
            .d2l_crate
            .as_ref()
            .map(|d2l| d2l.join("..").join("Cargo.lock"));
        let contents = workspace
            .and_then(|lock| std::fs::read(lock).ok())
            .or_else(|| std::fs::read(&path).ok());
        Lockfile { path, contents }
    }

    fn restore(&self) {
        if let Some(contents) = &self.contents {
            // Best effort: without it cargo resolves the versions itself.
            let _ = std::fs::write(&self.path, contents);
        }
    }
}

fn execute(
    context: &mut evcxr::CommandContext,
    code: &str,
    input: Option<&Sender<InputAsk>>,
) -> Result<BTreeMap<String, String>, CellError> {
    // A cell that reads stdin asks the engine, which asks its sink; no answer is end of file.
    let mut callbacks = evcxr::EvalCallbacks {
        input_reader: &|request| {
            let (answer, answered) = crossbeam_channel::bounded(1);
            let ask = InputAsk {
                prompt: request.prompt,
                password: request.is_password,
                answer,
            };
            let line = input
                .and_then(|input| input.send(ask).ok())
                .and_then(|()| answered.recv().ok().flatten());
            line.unwrap_or_else(|| evcxr::STDIN_EOF.to_owned())
        },
    };
    match context.execute_with_callbacks(code, &mut callbacks) {
        Ok(outputs) => Ok(outputs.content_by_mime_type.into_iter().collect()),
        Err(evcxr::Error::CompilationErrors(errors)) => Err(compilation_error(code, &errors)),
        Err(evcxr::Error::SubprocessTerminated(message)) => Err(CellError::new(
            "Crash",
            format!(
                "{}\nThe evaluation process died and was restarted: variables are gone, `use` items and `:dep`s remain.",
                message.trim_end()
            ),
        )),
        Err(evcxr::Error::TypeRedefinedVariablesLost(names)) => Err(CellError::new(
            "VariablesLost",
            format!("types were redefined, so these variables were dropped: {}", names.join(", ")),
        )),
        Err(other) => Err(CellError::new("EvcxrError", other.to_string())),
    }
}

/// The directory of the toolchain's `libstd-*.so` (`rustc --print target-libdir`).
fn rustc_target_libdir() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "target-libdir"])
        .output()
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = PathBuf::from(dir.trim());
    dir.is_dir().then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::{EngineOptions, Lockfile};

    #[test]
    fn lockfile_is_restored_from_the_workspace() {
        let workspace = tempfile::tempdir().unwrap();
        let d2l = workspace.path().join("d2l");
        std::fs::create_dir(&d2l).unwrap();
        std::fs::write(workspace.path().join("Cargo.lock"), "# workspace lock\n").unwrap();
        let slot = tempfile::tempdir().unwrap();
        std::fs::write(slot.path().join("Cargo.lock"), "# old slot lock\n").unwrap();
        let options = EngineOptions {
            d2l_crate: Some(d2l),
            ..EngineOptions::default()
        };
        let lockfile = Lockfile::remember(&options, slot.path());
        // What evcxr's first, dependency-free cell does to the lock.
        std::fs::write(slot.path().join("Cargo.lock"), "# pruned\n").unwrap();
        lockfile.restore();
        assert_eq!(
            std::fs::read_to_string(slot.path().join("Cargo.lock")).unwrap(),
            "# workspace lock\n"
        );
    }

    #[test]
    fn lockfile_without_a_workspace_keeps_the_slots_own() {
        let slot = tempfile::tempdir().unwrap();
        std::fs::write(slot.path().join("Cargo.lock"), "# slot lock\n").unwrap();
        let options = EngineOptions {
            d2l_crate: None,
            ..EngineOptions::default()
        };
        let lockfile = Lockfile::remember(&options, slot.path());
        std::fs::write(slot.path().join("Cargo.lock"), "# pruned\n").unwrap();
        lockfile.restore();
        assert_eq!(
            std::fs::read_to_string(slot.path().join("Cargo.lock")).unwrap(),
            "# slot lock\n"
        );
    }
}
