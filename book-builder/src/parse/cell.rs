//! Fenced code blocks: info strings and in-cell directives.
//!
//! `{.rust .input}` / `{.python .input n=3}` are executable cells; anything else
//! (```` ```rust ````, ```` ```bash ````) is a listing. Directive lines —
//! `//@save`, `#@save`, `//@tab a, b`, `#@tab all`, d2lbook's first line `%%tab a, b`,
//! `// Hide code`, `// Hide outputs` — set flags; tab and hide lines are removed from the
//! code, save markers stay visible so readers see what goes into the library.
//!
//! d2lbook pages start with a setup cell that only loads its tab extension
//! (`%load_ext d2lbook.tab`, `tab.interact_select(...)`); [`is_tab_setup`] recognises it so
//! that the page leaves it out.

use std::path::Path;

use crate::diag::Diagnostics;
use crate::model::{Cell, Tabs};

/// Parses a fenced block's info string and body.
pub fn parse_cell(
    info: &str,
    body: &str,
    line: usize,
    path: &Path,
    diags: &mut Diagnostics,
) -> (Cell, Tabs) {
    let (lang, executable) = parse_info(info);
    let mut cell = Cell {
        lang,
        executable,
        ..Cell::default()
    };
    let mut tabs = if executable { Tabs::Default } else { Tabs::All };
    let mut kept = Vec::new();
    let first = body.lines().position(|l| !l.trim().is_empty());
    for (k, l) in body.lines().enumerate() {
        let t = l.trim();
        if Some(k) == first {
            if let Some(rest) = t
                .strip_prefix("%%tab")
                .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
            {
                // d2lbook's cell magic: `%%tab pytorch`, `%%tab all`, `%%tab mxnet, pytorch`.
                let names: Vec<String> = rest
                    .split([',', ' ', '\t'])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect();
                if names.is_empty() {
                    diags.warn(
                        path,
                        line + 1 + k,
                        "`%%tab` needs a tab name or `all`, e.g. %%tab pytorch",
                    );
                } else if names.iter().any(|n| n == "all") {
                    tabs = Tabs::All;
                } else {
                    tabs = Tabs::Only(names);
                }
                continue;
            }
        }
        let directive = t
            .strip_prefix("//")
            .or_else(|| t.strip_prefix('#'))
            .map(str::trim);
        match directive {
            Some(d) if d.starts_with("@tab") => {
                let names = super::tab_names(&d[4..]);
                if names.is_empty() {
                    diags.warn(
                        path,
                        line + 1 + k,
                        "`@tab` needs a tab name or `all`, e.g. //@tab rust",
                    );
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

/// Whether a cell only loads d2lbook's tab extension (`%load_ext d2lbook.tab`,
/// `tab.interact_select(...)`, `tab.selected(...)`, comments): it has nothing for a reader.
pub fn is_tab_setup(body: &str) -> bool {
    let mut loads = false;
    for l in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if l == "%load_ext d2lbook.tab" || l.starts_with("tab.interact_select(") {
            loads = true;
        } else if !(l.starts_with("tab.selected(") || l.starts_with('#')) {
            return false;
        }
    }
    loads
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
        (
            info.split_whitespace().next().unwrap_or("").to_string(),
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_set_flags_and_leave_the_code() {
        let mut d = Diagnostics::default();
        let (c, tabs) = parse_cell(
            "{.python .input  n=2}",
            "#@tab pytorch, mxnet\n# Hide outputs\nx = 1\n",
            3,
            Path::new("a.md"),
            &mut d,
        );
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

    #[test]
    fn a_first_line_tab_magic_names_the_tabs_and_leaves_the_code() {
        let mut d = Diagnostics::default();
        let (c, tabs) = parse_cell(
            "{.python .input}",
            "%%tab pytorch\nimport torch\n",
            1,
            Path::new("a.md"),
            &mut d,
        );
        assert_eq!(
            (c.code.as_str(), tabs),
            ("import torch", Tabs::Only(vec!["pytorch".into()]))
        );
        let (_, tabs) = parse_cell(
            "{.python .input}",
            "\n%%tab mxnet, pytorch\nx = 1\n",
            1,
            Path::new("a.md"),
            &mut d,
        );
        assert_eq!(tabs, Tabs::Only(vec!["mxnet".into(), "pytorch".into()]));
        let (c, tabs) = parse_cell(
            "{.python .input}",
            "%%tab all\n#@save\ndef f(): pass\n",
            1,
            Path::new("a.md"),
            &mut d,
        );
        assert_eq!(tabs, Tabs::All);
        assert!(c.save && !c.code.contains("%%tab"));
        // Only as the first line: later it is code.
        let (c, tabs) = parse_cell(
            "{.python .input}",
            "x = 1\n%%tab pytorch\n",
            1,
            Path::new("a.md"),
            &mut d,
        );
        assert_eq!(tabs, Tabs::Default);
        assert!(c.code.contains("%%tab"));
        assert!(d.items().is_empty());
    }

    #[test]
    fn tab_setup_cells_are_recognised() {
        assert!(is_tab_setup(
            "%load_ext d2lbook.tab\ntab.interact_select(['mxnet', 'pytorch'])\n"
        ));
        assert!(is_tab_setup("%load_ext d2lbook.tab\ntab.interact_select([\"pytorch\"])\n#required_libs(\"gpytorch\")\n"));
        assert!(!is_tab_setup("%load_ext d2lbook.tab\nimport torch\n"));
        assert!(!is_tab_setup("# just a comment\n"));
    }
}
