//! Fenced code blocks: info strings and in-cell directives.
//!
//! `{.rust .input}` / `{.python .input n=3}` are executable cells; anything else
//! (```` ```rust ````, ```` ```bash ````) is a listing. Directive lines —
//! `//@save`, `#@save`, `//@tab a, b`, `#@tab all`, `// Hide code`,
//! `// Hide outputs` — set flags; tab and hide lines are removed from the code,
//! save markers stay visible so readers see what goes into the library.

use std::path::Path;

use crate::diag::Diagnostics;
use crate::model::{Cell, Tabs};

/// Parses a fenced block's info string and body.
pub fn parse_cell(info: &str, body: &str, line: usize, path: &Path, diags: &mut Diagnostics) -> (Cell, Tabs) {
    let (lang, executable) = parse_info(info);
    let mut cell = Cell { lang, executable, ..Cell::default() };
    let mut tabs = if executable { Tabs::Default } else { Tabs::All };
    let mut kept = Vec::new();
    for (k, l) in body.lines().enumerate() {
        let t = l.trim();
        let directive = t.strip_prefix("//").or_else(|| t.strip_prefix('#')).map(str::trim);
        match directive {
            Some(d) if d.starts_with("@tab") => {
                let names = super::tab_names(&d[4..]);
                if names.is_empty() {
                    diags.warn(path, line + 1 + k, "`@tab` needs a tab name or `all`, e.g. //@tab rust");
                } else if names.iter().any(|n| n == "all") {
                    tabs = Tabs::All;
                } else {
                    tabs = Tabs::Only(names);
                }
            }
            Some("@save") => {
                cell.save = true;
                kept.push(l);
            }
            Some(d) if d.eq_ignore_ascii_case("hide code") => cell.hide_code = true,
            Some(d) if d.eq_ignore_ascii_case("hide outputs") => cell.hide_outputs = true,
            _ => {
                // d2lbook also marks single items: `def f():  #@save`.
                if t.ends_with("@save") && (t.contains("#@save") || t.contains("//@save")) {
                    cell.save = true;
                }
                kept.push(l);
            }
        }
    }
    cell.code = kept.join("\n").trim_end().to_string();
    (cell, tabs)
}

/// `{.rust .input n=1}` → (`rust`, true); `rust` → (`rust`, false).
fn parse_info(info: &str) -> (String, bool) {
    let info = info.trim();
    if let Some(inner) = info.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let mut lang = String::new();
        let mut input = false;
        for tok in inner.split_whitespace() {
            match tok.strip_prefix('.') {
                Some("input") => input = true,
                Some(l) if lang.is_empty() => lang = l.to_string(),
                _ => {}
            }
        }
        (lang, input)
    } else {
        (info.split_whitespace().next().unwrap_or("").to_string(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_set_flags_and_leave_the_code() {
        let mut d = Diagnostics::default();
        let (c, tabs) = parse_cell("{.python .input  n=2}", "#@tab pytorch, mxnet\n# Hide outputs\nx = 1\n", 3, Path::new("a.md"), &mut d);
        assert_eq!(c.lang, "python");
        assert!(c.executable && c.hide_outputs && !c.hide_code && !c.save);
        assert_eq!(c.code, "x = 1");
        assert_eq!(tabs, Tabs::Only(vec!["pytorch".into(), "mxnet".into()]));
        let (c, tabs) = parse_cell("rust", "//@save\nfn f() {}\n", 1, Path::new("a.md"), &mut d);
        assert!(!c.executable && c.save);
        assert_eq!(c.code, "//@save\nfn f() {}");
        assert_eq!(tabs, Tabs::All);
        assert!(d.items().is_empty());
    }
}
