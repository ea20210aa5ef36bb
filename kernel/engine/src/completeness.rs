//! Is a piece of Rust code ready to run? Answers Jupyter's `is_complete` question with a
//! bracket-and-literal scan (a front end asks this on every Enter in a console, so it must be
//! cheap and never compile anything).

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

/// Scans `code` for open brackets, strings, chars and comments.
pub fn completeness(code: &str) -> Completeness {
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
        Completeness::Incomplete { indent: "    ".repeat(stack.len()) }
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
        if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
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
        for code in ["1 + 1", "let x = vec![1, 2];", "fn f<'a>(x: &'a str) -> &'a str { x }", "let c = '}';", "let s = \"{(\";", "// {\n1", "let r = r#\"}\"#;"] {
            assert_eq!(completeness(code), Completeness::Complete, "{code}");
        }
    }

    #[test]
    fn incomplete_code_with_indent() {
        assert_eq!(completeness("fn f() {"), Completeness::Incomplete { indent: "    ".into() });
        assert_eq!(completeness("fn f() {\n if x {"), Completeness::Incomplete { indent: "        ".into() });
        assert!(matches!(completeness("let s = \"abc"), Completeness::Incomplete { .. }));
        assert!(matches!(completeness("/* open"), Completeness::Incomplete { .. }));
    }

    #[test]
    fn invalid_code() {
        assert_eq!(completeness("}"), Completeness::Invalid);
        assert_eq!(completeness("(1 + 2]"), Completeness::Invalid);
    }
}
