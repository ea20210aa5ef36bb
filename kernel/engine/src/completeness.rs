//! Is a piece of Rust code ready to run? Answers Jupyter's `is_complete` question (a front end
//! asks it on every Enter in a console, so it must be cheap and never compile anything).
//!
//! Two passes: a bracket-and-literal scan (open brackets, strings and comments give the next
//! line's indent; a closing bracket that matches nothing is invalid), then rust-analyzer's
//! parser (`ra_ap_syntax`, the one evcxr uses) on the cell as a function body: a syntax error
//! at the very end (`let x =`, `1 +`) wants more input; one before the end is invalid.

/// The verdict on a piece of code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Brackets balance and no literal or comment is left open.
    Complete,
    /// More input is expected; the suggested indent for the next line.
    Incomplete { indent: String },
    /// A closing bracket that matches nothing: no amount of further input fixes it.
    Invalid,
}

/// The verdict on `code`, a cell of Rust statements, items, evcxr `:` commands and a final
/// expression.
pub fn completeness(code: &str) -> Completeness {
    match scan(code) {
        Completeness::Complete => parse(code),
        other => other,
    }
}

/// Parses the cell as the body of a function; judges by where the first syntax error is.
fn parse(code: &str) -> Completeness {
    use ra_ap_syntax::{Edition, SourceFile};
    // evcxr's commands (`:dep`, `:vars`) are not Rust: blank them, keeping the offsets.
    let rust: String = code.split_inclusive('\n').map(blank_command).collect();
    const PREFIX: &str = "fn d2l_cell() {\n";
    let wrapped = format!("{PREFIX}{rust}\n}}");
    let end = PREFIX.len() + rust.trim_end().len();
    // A missing `;` after the last statement is evcxr's business (it accepts `let x = 1`).
    let errors: Vec<_> = SourceFile::parse(&wrapped, Edition::CURRENT)
        .errors()
        .into_iter()
        .filter(|e| !(usize::from(e.range().start()) >= end && e.to_string().contains("SEMICOLON")))
        .collect();
    match errors.iter().map(|e| usize::from(e.range().start())).min() {
        None => Completeness::Complete,
        Some(at) if at >= end => Completeness::Incomplete {
            indent: String::new(),
        },
        Some(_) => Completeness::Invalid,
    }
}

/// An evcxr command line turned into spaces (same length, newline kept); other lines as they are.
fn blank_command(line: &str) -> String {
    if line.trim_start().starts_with(':') {
        line.chars()
            .map(|c| if c == '\n' { c } else { ' ' })
            .collect()
    } else {
        line.to_owned()
    }
}

/// Scans `code` for open brackets, strings, chars and comments.
fn scan(code: &str) -> Completeness {
    let chars: Vec<char> = code.chars().collect();
    let mut stack: Vec<char> = Vec::new();
    let mut i = 0;
    let mut open_literal = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut depth = 1;
                i += 2;
                while i < chars.len() && depth > 0 {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 1;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                open_literal |= depth > 0;
                continue;
            }
            'r' if matches!(next, Some('"') | Some('#')) && !prev_is_ident(&chars, i) => {
                if let Some(end) = raw_string_end(&chars, i + 1) {
                    i = end;
                    continue;
                }
                if raw_string_start(&chars, i + 1) {
                    open_literal = true;
                    break;
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    open_literal = true;
                    break;
                }
            }
            '\'' => i = skip_char_literal(&chars, i),
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(want) {
                    return Completeness::Invalid;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if open_literal || !stack.is_empty() {
        Completeness::Incomplete {
            indent: "    ".repeat(stack.len()),
        }
    } else {
        Completeness::Complete
    }
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// With `start` just after `r`: is this `#*"` the start of a raw string?
fn raw_string_start(chars: &[char], start: usize) -> bool {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    chars.get(start + hashes) == Some(&'"')
}

/// With `start` just after `r`: the index after a closed raw string, if it is one.
fn raw_string_end(chars: &[char], start: usize) -> Option<usize> {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    if chars.get(start + hashes) != Some(&'"') {
        return None;
    }
    let mut i = start + hashes + 1;
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    None
}

/// Skips a char literal (`'a'`, `'\n'`, `'\u{1F600}'`); a lifetime (`'a`) is left alone.
fn skip_char_literal(chars: &[char], i: usize) -> usize {
    if chars.get(i + 1) == Some(&'\\') {
        if let Some(close) = chars[i + 2..].iter().position(|&c| c == '\'') {
            return i + 2 + close;
        }
    } else if chars.get(i + 2) == Some(&'\'') {
        return i + 2;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_code() {
        for code in [
            "1 + 1",
            "let x = vec![1, 2];",
            "fn f<'a>(x: &'a str) -> &'a str { x }",
            "let c = '}';",
            "let s = \"{(\";",
            "// {\n1",
            "let r = r#\"}\"#;",
        ] {
            assert_eq!(completeness(code), Completeness::Complete, "{code}");
        }
    }

    #[test]
    fn incomplete_code_with_indent() {
        assert_eq!(
            completeness("fn f() {"),
            Completeness::Incomplete {
                indent: "    ".into()
            }
        );
        assert_eq!(
            completeness("fn f() {\n if x {"),
            Completeness::Incomplete {
                indent: "        ".into()
            }
        );
        assert!(matches!(
            completeness("let s = \"abc"),
            Completeness::Incomplete { .. }
        ));
        assert!(matches!(
            completeness("/* open"),
            Completeness::Incomplete { .. }
        ));
    }

    #[test]
    fn unfinished_statements_are_incomplete() {
        for code in [
            "let x =",
            "let x = 1 +",
            "1 +",
            "let v: Vec<i32> = vec![1]\n    .into_iter()\n    .collect();\nlet w = v\n    .len() *",
            "fn f() -> i32 { 1 }\nlet y =",
        ] {
            assert_eq!(
                completeness(code),
                Completeness::Incomplete {
                    indent: String::new()
                },
                "{code}"
            );
        }
    }

    #[test]
    fn evcxr_commands_and_items_are_complete() {
        for code in [
            ":dep rand = \"0.8\"\nuse rand::Rng;",
            ":vars",
            "struct P { x: i32 }\nimpl P { fn get(&self) -> i32 { self.x } }\nP { x: 1 }.get()",
            "let x = 1;\nx",
            "let y = 2",
        ] {
            assert_eq!(completeness(code), Completeness::Complete, "{code}");
        }
    }

    #[test]
    fn a_syntax_error_before_the_end_is_invalid() {
        assert_eq!(completeness("let = 1;\nlet y = 2;"), Completeness::Invalid);
    }

    #[test]
    fn invalid_code() {
        assert_eq!(completeness("}"), Completeness::Invalid);
        assert_eq!(completeness("(1 + 2]"), Completeness::Invalid);
    }
}
