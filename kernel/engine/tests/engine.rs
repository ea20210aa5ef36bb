//! The engine on a real evcxr context, without `d2l` (so that it needs no libtorch build).
//!
//! evcxr re-executes the current program as its evaluation process, so this test has its own
//! `main` (harness = false) that calls `runtime_hook` first.

use d2l_engine::{CellError, Display, Engine, EngineOptions, OutputSink};

/// Everything a cell produced, in the order it arrived.
#[derive(Debug, Default)]
struct Recorder {
    events: Vec<String>,
}

impl OutputSink for Recorder {
    fn stdout(&mut self, text: &str) {
        self.events.push(format!("out:{}", text.trim_end()));
    }
    fn stderr(&mut self, text: &str) {
        self.events.push(format!("err:{}", text.trim_end()));
    }
    fn display(&mut self, display: &Display) {
        let id = display.display_id.as_deref().unwrap_or("-");
        self.events.push(format!(
            "display[{id},{}]:{}",
            display.update,
            display.text("text/plain").unwrap_or("")
        ));
    }
}

fn bundle(text: &str, target: &d2l_protocol::DisplayTarget) -> String {
    use d2l_protocol::{BEGIN_CONTENT, DISPLAY_MIME, END_CONTENT};
    format!("{BEGIN_CONTENT} text/plain\n{text}\n{END_CONTENT}\n{BEGIN_CONTENT} {DISPLAY_MIME}\n{}\n{END_CONTENT}", target.to_json())
}

fn run(engine: &mut Engine, code: &str) -> (Vec<String>, Result<Option<Display>, CellError>) {
    let mut recorder = Recorder::default();
    let result = engine.execute(code, &mut recorder);
    (recorder.events, result)
}

fn displays_keep_their_order_among_printed_lines(engine: &mut Engine) {
    use d2l_protocol::DisplayTarget;
    let first = bundle("figure 1", &DisplayTarget::with_id("fig"));
    let update = bundle("figure 2", &DisplayTarget::update("fig"));
    let code = format!("println!(\"before\");\nprintln!(\"{{}}\", {first:?});\nprintln!(\"between\");\nprintln!(\"{{}}\", {update:?});\nprintln!(\"after\");");
    let (events, result) = run(engine, &code);
    assert!(result.is_ok(), "{result:?}");
    let expected = [
        "out:before",
        "display[fig,false]:figure 1",
        "out:between",
        "display[fig,true]:figure 2",
        "out:after",
    ];
    assert_eq!(
        events, expected,
        "displays arrive where they were written, updates included"
    );
}

fn a_final_value_is_the_result(engine: &mut Engine) {
    let (events, result) = run(engine, "println!(\"x\");\n40 + 2");
    assert_eq!(events, ["out:x"]);
    let display = result.expect("no error").expect("a result");
    assert_eq!(display.text("text/plain"), Some("42"));
}

fn an_idle_interrupt_keeps_variables(engine: &mut Engine) {
    let (_, result) = run(engine, "let kept = 41;");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        !engine.interrupter().interrupt(),
        "no cell runs, so there is nothing to interrupt"
    );
    let (_, result) = run(engine, "kept + 1");
    let display = result
        .expect("the variable survived the interrupt")
        .expect("a result");
    assert_eq!(display.text("text/plain"), Some("42"));
}

fn a_panic_is_reported_once_at_the_cells_line(engine: &mut Engine) {
    let (events, result) = run(engine, "let a = 1;\npanic!(\"boom\");");
    assert_eq!(
        events,
        Vec::<String>::new(),
        "the panic is reported by the error alone, not on stderr too"
    );
    let error = result.expect_err("the cell panicked");
    assert_eq!(error.name, "Panic");
    assert_eq!(error.value, "boom");
    assert_eq!(error.traceback.len(), 2, "{:?}", error.traceback);
    assert!(
        error.traceback[0].ends_with(" panicked at cell:2:1:"),
        "{:?}",
        error.traceback
    );
    assert_eq!(error.traceback[1], "boom");
    // Printed stderr before the panic still streams.
    let (events, result) = run(engine, "eprintln!(\"before\");\npanic!(\"again\");");
    assert_eq!(events, ["err:before"]);
    assert_eq!(result.expect_err("panicked").value, "again");
}

fn a_cell_reading_stdin_gets_end_of_file(engine: &mut Engine) {
    // Without the fix the read waits forever: stop it after a while.
    let interrupter = engine.interrupter();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished
            .recv_timeout(std::time::Duration::from_secs(30))
            .is_err()
        {
            interrupter.interrupt();
        }
    });
    let (_, result) = run(
        engine,
        "let mut line = String::new();\nstd::io::stdin().read_line(&mut line).unwrap()",
    );
    let _ = done.send(());
    watchdog.join().unwrap();
    let display = result.expect("the read returns").expect("a result");
    assert_eq!(
        display.text("text/plain"),
        Some("0"),
        "the sink offers no input: end of file"
    );
}

/// Writes the crate `dir/name` with these `[dependencies]` lines and this `src/lib.rs`.
fn write_crate(
    dir: &std::path::Path,
    name: &str,
    dependencies: &str,
    lib_rs: &str,
) -> std::path::PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dependencies}"
    );
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(root.join("src/lib.rs"), lib_rs).unwrap();
    root
}

/// A stand-in for `d2l` whose build takes seconds, so that an interrupt can hit the preload.
fn fake_d2l(dir: &std::path::Path, build_seconds: u64) -> std::path::PathBuf {
    let d2l = write_crate(
        dir,
        "d2l",
        "",
        "pub mod prelude { pub const LOADED: i32 = 7; }\npub mod scale { pub fn use_env() {} }\n",
    );
    std::fs::write(d2l.join("build.rs"), format!("fn main() {{ std::thread::sleep(std::time::Duration::from_secs({build_seconds})); }}\n")).unwrap();
    d2l
}

/// An engine with its cache in `dir` that preloads the crate `d2l`.
fn engine_preloading(dir: &std::path::Path, d2l: std::path::PathBuf) -> Engine {
    let options = EngineOptions {
        d2l_crate: Some(d2l),
        cache_root: dir.join("cache"),
        libtorch: None,
        env: Vec::new(),
    };
    Engine::new(options).expect("engine starts")
}

/// An interrupt while the first cell waits for the preload stops that cell; the next cell
/// loads `d2l` again instead of running without it.
fn an_interrupted_preload_is_tried_again() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut engine = engine_preloading(dir.path(), fake_d2l(dir.path(), 8));
    let interrupter = engine.interrupter();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        interrupter.interrupt();
    });
    let (_, result) = run(&mut engine, "LOADED");
    stopper.join().unwrap();
    assert_eq!(result.expect_err("interrupted").name, "Interrupted");
    let (_, result) = run(&mut engine, "LOADED");
    let display = result.expect("d2l is loaded again").expect("a result");
    assert_eq!(display.text("text/plain"), Some("7"));
}

/// A reset engine has forgotten the last notebook (variables, items, `use`s) and has `d2l`
/// loaded again, as a new engine would.
fn a_reset_forgets_the_notebook_and_loads_d2l_again() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut engine = engine_preloading(dir.path(), fake_d2l(dir.path(), 0));
    for code in [
        "let old = 1;",
        "fn helper() -> i32 { 2 }",
        "use std::collections::HashMap;",
    ] {
        let (_, result) = run(&mut engine, code);
        assert!(result.is_ok(), "{code}: {result:?}");
    }
    engine.reset().expect("the engine resets");
    for gone in ["old", "helper()", "HashMap::<i32, i32>::new().len()"] {
        let (_, result) = run(&mut engine, gone);
        assert_eq!(
            result.expect_err(gone).name,
            "CompilationError",
            "{gone} is gone after the reset"
        );
    }
    let (_, result) = run(&mut engine, "LOADED");
    let display = result
        .expect("d2l's prelude is loaded again")
        .expect("a result");
    assert_eq!(display.text("text/plain"), Some("7"));
}

/// A `let` cell that arrives while the analysis warm-up runs (a new kernel's first seconds)
/// runs at once, and the next cell asks for the types (vendor/evcxr/PATCHES.md, patch 9). A
/// closure shows it: it cannot be kept, and without the deferral the cell defining it fails;
/// with it that cell runs, and the next cell reports the closure as not kept.
fn a_let_cell_during_the_analysis_warm_up_runs_at_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut engine = engine_preloading(dir.path(), fake_d2l(dir.path(), 0));
    let (_, result) = run(
        &mut engine,
        "let n = LOADED * 6;\nlet add_one = |a: i32| a + 1;",
    );
    assert!(
        result.is_ok(),
        "the first `let` cell ran at once: {result:?}"
    );
    let (_, result) = run(&mut engine, "n");
    let error = result.expect_err("the closure could not be kept");
    assert!(
        error.value.contains("`add_one`") && error.value.contains("explicit type"),
        "{error:?}"
    );
    let (_, result) = run(&mut engine, "n");
    let display = result.expect("n was kept").expect("a result");
    assert_eq!(display.text("text/plain"), Some("42"));
    let (_, result) = run(&mut engine, "add_one(1)");
    assert_eq!(
        result.expect_err("add_one is gone").name,
        "CompilationError"
    );
}

/// A stand-in for `d2l` whose prelude takes a trait of a crate it does not re-export, as
/// `tch::Tensor::ones(size: impl IntList, …)` takes torch-sys's `IntList`.
fn fake_d2l_over_a_sys_crate(dir: &std::path::Path) -> std::path::PathBuf {
    write_crate(
        dir,
        "sys",
        "",
        "pub trait IntList { fn count(&self) -> usize; }\n\
         impl<const N: usize> IntList for [i64; N] { fn count(&self) -> usize { N } }\n",
    );
    write_crate(
        dir,
        "d2l",
        "sys = { path = \"../sys\" }\n",
        "pub mod prelude { pub fn ones(size: impl sys::IntList) -> usize { size.count() } }\n\
         pub mod scale { pub fn use_env() {} }\n",
    )
}

/// rust-analyzer types a cell's variables with the traits of crates the cell cannot name
/// (vendor/evcxr/PATCHES.md, patch 9): `shape` is `[i64; 3]` because `ones` wants an
/// `IntList`, not the `[i32; 3]` of an integer literal alone.
fn a_variable_is_typed_with_traits_of_crates_a_cell_cannot_name() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut engine = engine_preloading(dir.path(), fake_d2l_over_a_sys_crate(dir.path()));
    // The first `let` cell may not wait for the analyzer (patch 9); the next one does.
    for code in ["let first = 1;", "first"] {
        let (_, result) = run(&mut engine, code);
        assert!(result.is_ok(), "{code}: {result:?}");
    }
    let (_, result) = run(&mut engine, "let shape = [2, 3, 4];\nones(shape)");
    let display = result.expect("shape is typed [i64; 3]").expect("a result");
    assert_eq!(display.text("text/plain"), Some("3"));
    let (_, result) = run(&mut engine, "ones(shape)");
    let display = result.expect("shape was kept").expect("a result");
    assert_eq!(display.text("text/plain"), Some("3"));
}

/// A test of this harness: its name and the function that runs it on the shared engine.
type NamedTest = (&'static str, fn(&mut Engine));

fn main() {
    d2l_engine::runtime_hook();
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let cache = tempfile::tempdir().expect("temporary cache");
    let options = EngineOptions {
        d2l_crate: None,
        cache_root: cache.path().to_owned(),
        libtorch: None,
        env: Vec::new(),
    };
    let mut engine = Engine::new(options).expect("engine starts");
    let tests: [NamedTest; 5] = [
        (
            "displays_keep_their_order_among_printed_lines",
            displays_keep_their_order_among_printed_lines,
        ),
        ("a_final_value_is_the_result", a_final_value_is_the_result),
        (
            "an_idle_interrupt_keeps_variables",
            an_idle_interrupt_keeps_variables,
        ),
        (
            "a_panic_is_reported_once_at_the_cells_line",
            a_panic_is_reported_once_at_the_cells_line,
        ),
        (
            "a_cell_reading_stdin_gets_end_of_file",
            a_cell_reading_stdin_gets_end_of_file,
        ),
    ];
    for (name, test) in tests {
        if wanted(name) {
            test(&mut engine);
            println!("test {name} ... ok");
        }
    }
    drop(engine);
    if wanted("a_reset_forgets_the_notebook_and_loads_d2l_again") {
        a_reset_forgets_the_notebook_and_loads_d2l_again();
        println!("test a_reset_forgets_the_notebook_and_loads_d2l_again ... ok");
    }
    if wanted("a_let_cell_during_the_analysis_warm_up_runs_at_once") {
        a_let_cell_during_the_analysis_warm_up_runs_at_once();
        println!("test a_let_cell_during_the_analysis_warm_up_runs_at_once ... ok");
    }
    if wanted("a_variable_is_typed_with_traits_of_crates_a_cell_cannot_name") {
        a_variable_is_typed_with_traits_of_crates_a_cell_cannot_name();
        println!("test a_variable_is_typed_with_traits_of_crates_a_cell_cannot_name ... ok");
    }
    if wanted("an_interrupted_preload_is_tried_again") {
        an_interrupted_preload_is_tried_again();
        println!("test an_interrupted_preload_is_tried_again ... ok");
    }
}
