//! Answers shell and control requests: the kernel's behaviour, free of sockets.
//!
//! Handlers run on a blocking thread; what they publish on IOPub goes through an
//! [`Iopub`] sender and their reply is returned to the socket task.

use super::history::History;
use super::message::{Message, PROTOCOL_VERSION};
use crate::engine::{completeness, Completeness, Display, Engine, OutputSink};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Sends messages to the IOPub socket task.
pub type Iopub = UnboundedSender<Message>;

/// Asks the front end for a line of input on the stdin channel (`input_request`).
#[derive(Clone)]
pub struct Stdin {
    /// To the stdin socket task: the request, and where its answer goes.
    pub requests: UnboundedSender<(Message, std::sync::mpsc::Sender<Option<String>>)>,
    /// Counts interrupts: a new one abandons the wait for an answer.
    pub interrupts: Arc<AtomicU64>,
}

impl Stdin {
    /// Sends `input_request` for `parent` and waits for the reply's value; `None` when the
    /// channel is gone or an interrupt comes first.
    fn ask(&self, parent: &Message, prompt: &str, password: bool) -> Option<String> {
        let interrupts = self.interrupts.load(Ordering::SeqCst);
        let request = parent.reply(
            "input_request",
            json!({"prompt": prompt, "password": password}),
        );
        let (answer, answered) = std::sync::mpsc::channel();
        self.requests.send((request, answer)).ok()?;
        loop {
            match answered.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(value) => return value,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    if self.interrupts.load(Ordering::SeqCst) == interrupts => {}
                Err(_) => return None,
            }
        }
    }
}

/// The state behind the shell channel: the engine, execution count and history.
pub struct Kernel {
    engine: Engine,
    stdin: Option<Stdin>,
    execution_count: i64,
    history: History,
}

/// What the kernel_info reply says.
pub fn kernel_info() -> Value {
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "d2l-kernel",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "rust",
            "version": "",
            "mimetype": "text/rust",
            "file_extension": ".rs",
            "codemirror_mode": "rust",
            "pygments_lexer": "rust",
        },
        "banner": concat!("d2l-kernel ", env!("CARGO_PKG_VERSION"),
            " — Rust for Dive into Deep Learning (evcxr; `use d2l::prelude::*;` is loaded)"),
        "help_links": [{"text": "evcxr commands: type :help", "url": "https://github.com/evcxr/evcxr"}],
        "debugger": false,
    })
}

impl Kernel {
    /// A kernel over `engine`; cells that read stdin ask through `stdin` when the request
    /// allows it (`allow_stdin`), and get end of file otherwise.
    pub fn new(engine: Engine, stdin: Option<Stdin>) -> Kernel {
        Kernel {
            engine,
            stdin,
            execution_count: 0,
            history: History::default(),
        }
    }

    /// Handles one shell request; `None` for message types without a reply.
    pub fn handle_shell(&mut self, request: &Message, iopub: &Iopub) -> Option<Message> {
        let content = &request.content;
        let reply = match request.msg_type() {
            "kernel_info_request" => request.reply("kernel_info_reply", kernel_info()),
            "execute_request" => self.execute(request, iopub),
            "is_complete_request" => {
                let code = content["code"].as_str().unwrap_or("");
                let body = match completeness(code) {
                    Completeness::Complete => json!({"status": "complete"}),
                    Completeness::Incomplete { indent } => {
                        json!({"status": "incomplete", "indent": indent})
                    }
                    Completeness::Invalid => json!({"status": "invalid"}),
                };
                request.reply("is_complete_reply", body)
            }
            "complete_request" => request.reply("complete_reply", self.complete(content)),
            "inspect_request" => request.reply("inspect_reply", self.inspect(content)),
            "history_request" => request.reply(
                "history_reply",
                json!({"status": "ok", "history": self.history.query(content)}),
            ),
            "comm_info_request" => {
                request.reply("comm_info_reply", json!({"status": "ok", "comms": {}}))
            }
            _ => return None,
        };
        Some(reply)
    }

    fn execute(&mut self, request: &Message, iopub: &Iopub) -> Message {
        let code = request.content["code"].as_str().unwrap_or("");
        let silent = request.content["silent"].as_bool().unwrap_or(false);
        let store = request.content["store_history"].as_bool().unwrap_or(true) && !silent;
        if store {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        publish(
            iopub,
            request.child(
                "execute_input",
                json!({"code": code, "execution_count": count}),
            ),
        );
        let allow_stdin = request.content["allow_stdin"].as_bool().unwrap_or(false);
        let stdin = self.stdin.as_ref().filter(|_| allow_stdin);
        let mut sink = IopubSink {
            iopub,
            request,
            silent,
            stdin,
            text: String::new(),
        };
        let outcome = self.engine.execute(code, &mut sink);
        let mut output_text = std::mem::take(&mut sink.text);
        let reply = match outcome {
            Ok(result) => {
                if let Some(result) = result {
                    if let Some(text) = result.text("text/plain") {
                        output_text.push_str(text);
                    }
                    if !silent {
                        publish(
                            iopub,
                            request.child(
                                "execute_result",
                                json!({
                                    "execution_count": count,
                                    "data": result.data,
                                    "metadata": {},
                                }),
                            ),
                        );
                    }
                }
                json!({"status": "ok", "execution_count": count, "user_expressions": {}, "payload": []})
            }
            Err(error) => {
                let body = json!({"ename": &error.name, "evalue": &error.value, "traceback": &error.traceback});
                if !silent {
                    publish(iopub, request.child("error", body.clone()));
                }
                output_text.push_str(&error.traceback.join("\n"));
                let mut reply = body;
                reply["status"] = json!("error");
                reply["execution_count"] = json!(count);
                reply
            }
        };
        if store {
            self.history.push(count, code, &output_text);
        }
        request.reply("execute_reply", reply)
    }

    fn complete(&mut self, content: &Value) -> Value {
        let code = content["code"].as_str().unwrap_or("");
        let cursor = content["cursor_pos"]
            .as_u64()
            .map_or(code.chars().count(), |c| c as usize);
        let byte_pos = char_to_byte(code, cursor);
        match self.engine.complete(code, byte_pos) {
            Ok(found) => json!({
                "status": "ok",
                "matches": found.matches,
                "cursor_start": byte_to_char(code, found.start),
                "cursor_end": byte_to_char(code, found.end),
                "metadata": {},
            }),
            Err(_) => {
                json!({"status": "ok", "matches": [], "cursor_start": cursor, "cursor_end": cursor, "metadata": {}})
            }
        }
    }

    fn inspect(&mut self, content: &Value) -> Value {
        let code = content["code"].as_str().unwrap_or("");
        let cursor = content["cursor_pos"]
            .as_u64()
            .map_or(code.chars().count(), |c| c as usize);
        let byte_pos = char_to_byte(code, cursor);
        // Hover looks at the expression ending at the cursor: extend to the end of the word.
        let end = code[byte_pos..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(code.len(), |i| byte_pos + i);
        match self.engine.inspect(&code[..end], end) {
            Ok(Some((plain, html))) => json!({
                "status": "ok", "found": true, "metadata": {},
                "data": {"text/plain": plain, "text/html": html},
            }),
            _ => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
        }
    }
}

/// Sends one IOPub message (a closed channel means the kernel is stopping: nothing to do).
pub fn publish(iopub: &Iopub, message: Message) {
    let _ = iopub.send(message);
}

/// Publishes `status` (`busy` or `idle`) with `parent` as its parent.
pub fn status(iopub: &Iopub, parent: &Message, state: &str) {
    publish(
        iopub,
        parent.child("status", json!({"execution_state": state})),
    );
}

/// Turns engine output into IOPub messages as it happens.
struct IopubSink<'a> {
    iopub: &'a Iopub,
    request: &'a Message,
    silent: bool,
    /// Where input comes from, if the front end allows it.
    stdin: Option<&'a Stdin>,
    /// Text output kept for history.
    text: String,
}

impl IopubSink<'_> {
    fn stream(&mut self, name: &str, text: &str) {
        self.text.push_str(text);
        if !self.silent {
            publish(
                self.iopub,
                self.request
                    .child("stream", json!({"name": name, "text": text})),
            );
        }
    }
}

impl OutputSink for IopubSink<'_> {
    fn input(&mut self, prompt: &str, password: bool) -> Option<String> {
        self.stdin?.ask(self.request, prompt, password)
    }
    fn stdout(&mut self, text: &str) {
        self.stream("stdout", text);
    }
    fn stderr(&mut self, text: &str) {
        self.stream("stderr", text);
    }
    fn display(&mut self, display: &Display) {
        if self.silent {
            return;
        }
        let mut transient = Map::new();
        if let Some(id) = &display.display_id {
            transient.insert("display_id".into(), json!(id));
        }
        let msg_type = if display.update {
            "update_display_data"
        } else {
            "display_data"
        };
        publish(
            self.iopub,
            self.request.child(
                msg_type,
                json!({
                    "data": display.data,
                    "metadata": {},
                    "transient": transient,
                }),
            ),
        );
    }
}

/// Jupyter counts cursor positions in Unicode code points; Rust strings in bytes.
pub fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

/// The code-point offset of byte offset `byte` (clamped to the text).
pub fn byte_to_char(text: &str, byte: usize) -> usize {
    text.char_indices().take_while(|(i, _)| *i < byte).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_code_points() {
        let text = "let é = 1;";
        assert_eq!(char_to_byte(text, 5), 6);
        assert_eq!(byte_to_char(text, 6), 5);
        assert_eq!(char_to_byte(text, 100), text.len());
    }

    #[test]
    fn kernel_info_names_rust() {
        let info = kernel_info();
        assert_eq!(info["language_info"]["name"], "rust");
        assert_eq!(info["language_info"]["file_extension"], ".rs");
        assert_eq!(info["language_info"]["mimetype"], "text/rust");
        assert_eq!(info["protocol_version"], "5.3");
    }
}
