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
        self.events.push(format!("display[{id},{}]:{}", display.update, display.text("text/plain").unwrap_or("")));
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
    let expected = ["out:before", "display[fig,false]:figure 1", "out:between", "display[fig,true]:figure 2", "out:after"];
    assert_eq!(events, expected, "displays arrive where they were written, updates included");
}

fn a_final_value_is_the_result(engine: &mut Engine) {
    let (events, result) = run(engine, "println!(\"x\");\n40 + 2");
    assert_eq!(events, ["out:x"]);
    let display = result.expect("no error").expect("a result");
    assert_eq!(display.text("text/plain"), Some("42"));
}

fn main() {
    d2l_engine::runtime_hook();
    let cache = tempfile::tempdir().expect("temporary cache");
    let options = EngineOptions { d2l_crate: None, cache_root: cache.path().to_owned(), libtorch: None, env: Vec::new() };
    let mut engine = Engine::new(options).expect("engine starts");
    let tests: [(&str, fn(&mut Engine)); 2] = [
        ("displays_keep_their_order_among_printed_lines", displays_keep_their_order_among_printed_lines),
        ("a_final_value_is_the_result", a_final_value_is_the_result),
    ];
    for (name, test) in tests {
        test(&mut engine);
        println!("test {name} ... ok");
    }
}
