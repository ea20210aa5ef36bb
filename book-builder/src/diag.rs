//! Warnings and errors about the book's sources, each with a file and line.
//!
//! Parsing and the passes never stop at the first problem: they collect
//! [`Diagnostic`]s so an author sees all of them at once. `--warning-is-error`
//! turns any warning into a failed build.

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The book still builds; something will look wrong.
    Warning,
    /// The output would be wrong or missing.
    Error,
}

/// One problem in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// The source file, relative to the book root.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            kind,
            self.message
        )
    }
}

/// The diagnostics of one build.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a warning.
    pub fn warn(&mut self, file: impl Into<PathBuf>, line: usize, message: impl Into<String>) {
        self.push(Severity::Warning, file.into(), line, message.into());
    }

    /// Records an error.
    pub fn error(&mut self, file: impl Into<PathBuf>, line: usize, message: impl Into<String>) {
        self.push(Severity::Error, file.into(), line, message.into());
    }

    fn push(&mut self, severity: Severity, file: PathBuf, line: usize, message: String) {
        self.items.push(Diagnostic {
            severity,
            file,
            line,
            message,
        });
    }

    /// All diagnostics, in the order they were found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// True when the build must fail: any error, or any warning under `--warning-is-error`.
    pub fn is_fatal(&self, warning_is_error: bool) -> bool {
        self.errors() > 0 || (warning_is_error && self.warnings() > 0)
    }

    /// Adds all diagnostics of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
}

/// What a pass or a renderer hands back to the driver: the problems it found, and a line for
/// the person running the build (`html: 88 pages in _build/html`).
#[derive(Debug, Default)]
pub struct Report {
    /// Problems with the sources, each with a file and line.
    pub diagnostics: Diagnostics,
    /// What was done, when it is worth a line of output.
    pub summary: Option<String>,
}

impl Report {
    /// A report with a summary line.
    pub fn done(diagnostics: Diagnostics, summary: impl Into<String>) -> Report {
        Report {
            diagnostics,
            summary: Some(summary.into()),
        }
    }
}

impl From<Diagnostics> for Report {
    fn from(diagnostics: Diagnostics) -> Report {
        Report {
            diagnostics,
            summary: None,
        }
    }
}
