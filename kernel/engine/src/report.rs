//! Readable errors for a cell: compiler messages pointed at the cell's own lines, panics and
//! crashes of the evaluation process.
//!
//! ANSI rule: everything the engine reports is plain text. Escape codes that arrive from the
//! compiler or a panicking cell are stripped, so notebooks, HTML pages and terminals all show
//! the same readable text.

/// An error that a cell produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// A short name: `CompilationError`, `Panic`, `Interrupted`, `Crash` or `EngineError`.
    pub name: String,
    /// One line saying what went wrong.
    pub value: String,
    /// The full report, line by line (compiler spans with the cell's code, or panic output).
    pub traceback: Vec<String>,
}

impl CellError {
    /// An error with a one-line report.
    pub fn new(name: &str, value: impl Into<String>) -> CellError {
        let value = strip_ansi(&value.into());
        CellError {
            name: name.to_owned(),
            traceback: value.lines().map(str::to_owned).collect(),
            value,
        }
    }
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.traceback.join("\n"))
    }
}

/// Removes ANSI escape sequences (CSI `ESC [ … letter` and OSC `ESC ] … BEL`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\u{7}' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Renders evcxr's compilation errors against the cell's code.
pub fn compilation_error(code: &str, errors: &[evcxr::CompilationError]) -> CellError {
    let lines: Vec<&str> = code.lines().collect();
    // evcxr reports warnings with the errors; the errors (what stopped the cell) come first.
    let mut errors: Vec<&evcxr::CompilationError> = errors.iter().collect();
    errors.sort_by_key(|e| e.level() != "error");
    let mut traceback = Vec::new();
    for error in &errors {
        let header = match error.code() {
            Some(code) => format!("{}[{code}]: {}", error.level(), error.message()),
            None => format!("{}: {}", error.level(), error.message()),
        };
        traceback.push(strip_ansi(&header));
        let spanned = error.spanned_messages();
        for message in spanned {
            match &message.span {
                Some(span) => {
                    traceback.push(format!(
                        "  --> cell:{}:{}",
                        span.start_line, span.start_column
                    ));
                    if let Some(source) = lines.get(span.start_line.saturating_sub(1)) {
                        traceback.push(format!("   | {source}"));
                        let width = if span.end_line == span.start_line {
                            span.end_column.saturating_sub(span.start_column).max(1)
                        } else {
                            1
                        };
                        let pad = " ".repeat(span.start_column.saturating_sub(1));
                        traceback.push(
                            format!("   | {pad}{} {}", "^".repeat(width), message.label)
                                .trim_end()
                                .to_owned(),
                        );
                    }
                }
                None => traceback.extend(message.lines.iter().map(|l| strip_ansi(l))),
            }
        }
        if spanned.is_empty() {
            // Not in the user's code: show what the compiler rendered.
            traceback.extend(strip_ansi(&error.rendered()).lines().map(str::to_owned));
        }
        for help in error.help() {
            traceback.extend(
                strip_ansi(&format!("help: {help}"))
                    .lines()
                    .map(str::to_owned),
            );
        }
        if let Some(hint) = error.evcxr_extra_hint() {
            traceback.push(format!("note: {hint}"));
        }
        traceback.push(String::new());
    }
    while traceback.last().is_some_and(String::is_empty) {
        traceback.pop();
    }
    let value = errors
        .first()
        .filter(|e| e.level() == "error")
        .map(|e| strip_ansi(&e.message()))
        .unwrap_or_else(|| "compilation failed".to_owned());
    CellError {
        name: "CompilationError".into(),
        value,
        traceback,
    }
}

/// The error for a panic whose report (`thread 'main' panicked at src/lib.rs:27:1:`, the
/// message, a note) is `lines`. The location in evcxr's generated `src/lib.rs` (`generated`)
/// becomes the cell's own (`cell:2:1`) when that line of generated code is a line of `code`.
pub fn panic_error(lines: Vec<String>, code: &str, generated: &str) -> CellError {
    let mut traceback = lines;
    if let Some(first) = traceback.first_mut() {
        if let Some(located) = cell_location(first, code, generated) {
            *first = located;
        }
    }
    // The note about RUST_BACKTRACE is about evcxr's process, not something a reader can use.
    traceback.retain(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"));
    let value = traceback
        .get(1)
        .or(traceback.first())
        .cloned()
        .unwrap_or_else(|| "the cell panicked".into());
    CellError {
        name: "Panic".into(),
        value,
        traceback,
    }
}

/// `thread 'main' panicked at src/lib.rs:L:C:` with the location moved into the cell.
fn cell_location(header: &str, code: &str, generated: &str) -> Option<String> {
    const GENERATED: &str = "src/lib.rs:";
    let at = header.find(" panicked at src/lib.rs:")? + " panicked at ".len();
    let rest = &header[at + GENERATED.len()..];
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts.next()?.parse().ok()?;
    let column: usize = parts.next()?.parse().ok()?;
    let tail = parts.next().unwrap_or("");
    let text = generated.lines().nth(line.checked_sub(1)?)?;
    let wanted = text.trim();
    let (cell_line, source) = code
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim() == wanted && !wanted.is_empty())?;
    // The generated line may be indented differently from the cell's.
    let indent = |s: &str| s.len() - s.trim_start().len();
    let cell_column = (column + indent(source))
        .checked_sub(indent(text))
        .filter(|&c| c > 0)
        .unwrap_or(1);
    Some(format!(
        "{}cell:{}:{}:{}",
        &header[..at],
        cell_line + 1,
        cell_column,
        tail
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_and_title_sequences() {
        assert_eq!(strip_ansi("\u{1b}[1;31merror\u{1b}[0m: x"), "error: x");
        assert_eq!(strip_ansi("\u{1b}]0;title\u{7}ok"), "ok");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn panic_location_moves_into_the_cell() {
        let generated = "fn run() {\nlet x = 1;\npanic!(\"boom\");\n}";
        let lines = vec![
            "thread 'main' panicked at src/lib.rs:3:1:".to_owned(),
            "boom".to_owned(),
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
                .to_owned(),
        ];
        let error = panic_error(lines, "let x = 1;\n  panic!(\"boom\");", generated);
        assert_eq!(error.name, "Panic");
        assert_eq!(error.value, "boom");
        assert_eq!(
            error.traceback,
            ["thread 'main' panicked at cell:2:3:", "boom"]
        );
    }

    #[test]
    fn a_panic_outside_the_cell_keeps_its_location() {
        let lines = vec![
            "thread 'main' panicked at /x/d2l/src/lib.rs:9:5:".to_owned(),
            "deep".to_owned(),
        ];
        let error = panic_error(lines.clone(), "d2l::f();", "d2l::f();");
        assert_eq!(error.traceback, lines);
    }

    #[test]
    fn one_line_error_keeps_lines() {
        let e = CellError::new("Panic", "thread panicked\n\u{1b}[2mnote\u{1b}[0m");
        assert_eq!(e.traceback, vec!["thread panicked", "note"]);
    }
}
