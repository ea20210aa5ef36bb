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
        CellError { name: name.to_owned(), traceback: value.lines().map(str::to_owned).collect(), value }
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
                    traceback.push(format!("  --> cell:{}:{}", span.start_line, span.start_column));
                    if let Some(source) = lines.get(span.start_line.saturating_sub(1)) {
                        traceback.push(format!("   | {source}"));
                        let width = if span.end_line == span.start_line {
                            span.end_column.saturating_sub(span.start_column).max(1)
                        } else {
                            1
                        };
                        let pad = " ".repeat(span.start_column.saturating_sub(1));
                        traceback.push(format!("   | {pad}{} {}", "^".repeat(width), message.label).trim_end().to_owned());
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
            traceback.extend(strip_ansi(&format!("help: {help}")).lines().map(str::to_owned));
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
    CellError { name: "CompilationError".into(), value, traceback }
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
    fn one_line_error_keeps_lines() {
        let e = CellError::new("Panic", "thread panicked\n\u{1b}[2mnote\u{1b}[0m");
        assert_eq!(e.traceback, vec!["thread panicked", "note"]);
    }
}
