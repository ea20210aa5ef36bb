//! Markdown notebook → [`Page`]: the only place that reads the dialect.
//!
//! A first pass splits the file by lines into fenced code blocks, ```` ```toc ````
//! blocks, `:begin_tab:`/`:end_tab:` markers and runs of markdown. Code blocks go
//! to [`cell`]; markdown runs lose their slide markers ([`slides`]) and go to
//! [`markdown`], which lifts d2lbook's roles out of pulldown-cmark's events.

pub mod cell;
pub mod markdown;
pub mod slides;

use std::path::Path;

use crate::diag::Diagnostics;
use crate::model::{Block, BlockKind, Page, Tabs, Toc};

/// Parses one notebook. `path` is relative to the book root and only used for
/// the page's name and diagnostics; `default_tab` is the book's first tab.
pub fn parse_page(path: &Path, text: &str, diags: &mut Diagnostics) -> Page {
    let stem = path.with_extension("").to_string_lossy().replace('\\', "/");
    let mut blocks = Vec::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut md_start = 0usize; // first line index of the pending markdown run
    let mut md = String::new();
    let mut tab: Option<(Vec<String>, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if let Some((fence, info)) = fence_open(line) {
            flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
            let start = i;
            let mut body = String::new();
            i += 1;
            let mut closed = false;
            while i < lines.len() {
                if fence_close(lines[i], &fence) {
                    closed = true;
                    break;
                }
                body.push_str(lines[i]);
                i += 1;
            }
            if !closed {
                diags.error(path, start + 1, format!("code block opened with {fence} is never closed: add a closing {fence} line"));
            }
            if let Some(block) = fenced_block(info.trim(), &body, start + 1, &tab, path, diags) {
                blocks.push(block);
            }
            i += 1;
            md_start = i;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(":begin_tab:") {
            flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
            if let Some((_, open_line)) = &tab {
                // d2lbook closes the open tab here; so does the builder, with a word.
                diags.warn(path, i + 1, format!("`:begin_tab:` while the tab opened at line {open_line} is still open: that tab ends here; add `:end_tab:` before this line"));
            }
            let names = tab_names(rest);
            if names.is_empty() {
                diags.error(
                    path,
                    i + 1,
                    "`:begin_tab:` needs a tab name, e.g. :begin_tab:`rust`",
                );
            }
            tab = Some((names, i + 1));
            i += 1;
            md_start = i;
            continue;
        }
        if trimmed.starts_with(":end_tab:") {
            flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
            if tab.take().is_none() {
                diags.warn(
                    path,
                    i + 1,
                    "`:end_tab:` without a `:begin_tab:` before it: remove it or open the tab",
                );
            }
            i += 1;
            md_start = i;
            continue;
        }
        if md.is_empty() {
            md_start = i;
        }
        md.push_str(line);
        i += 1;
    }
    flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
    if let Some((_, open_line)) = tab {
        diags.error(
            path,
            open_line,
            "`:begin_tab:` is never closed: add `:end_tab:` after the tab's content",
        );
    }
    Page {
        path: path.to_path_buf(),
        stem,
        blocks,
        number: None,
        children: Vec::new(),
        parent: None,
        depth: 0,
        in_toc: false,
        notices: Vec::new(),
    }
}

/// Tab names from the rest of a `:begin_tab:` or `@tab` line: `` `a` ``, `a, b`.
pub(crate) fn tab_names(rest: &str) -> Vec<String> {
    rest.split(',')
        .map(|s| s.trim().trim_matches('`').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn flush_markdown(
    md: &mut String,
    start: usize,
    tab: &Option<(Vec<String>, usize)>,
    path: &Path,
    blocks: &mut Vec<Block>,
    diags: &mut Diagnostics,
) {
    if md.trim().is_empty() {
        md.clear();
        return;
    }
    let tabs = match tab {
        Some((names, _)) => Tabs::Only(names.clone()),
        None => Tabs::All,
    };
    markdown::parse_markdown(
        &slides::strip_slide_marks(md),
        start + 1,
        tabs,
        path,
        blocks,
        diags,
    );
    md.clear();
}

/// A line opening a fence (``` or ~~~, at most 3 spaces in): the fence and the info string.
fn fence_open(line: &str) -> Option<(String, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let n = rest.chars().take_while(|&c| c == ch).count();
    if n < 3 {
        return None;
    }
    let info = rest[n..].trim_end_matches(['\n', '\r']);
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((rest[..n].to_string(), info.to_string()))
}

fn fence_close(line: &str, fence: &str) -> bool {
    let t = line.trim();
    let ch = fence.chars().next().unwrap_or('`');
    t.len() >= fence.len() && t.chars().all(|c| c == ch)
}

/// The block of a fenced code block; `None` for a d2lbook setup cell, which the page leaves out.
fn fenced_block(
    info: &str,
    body: &str,
    line: usize,
    tab: &Option<(Vec<String>, usize)>,
    path: &Path,
    diags: &mut Diagnostics,
) -> Option<Block> {
    if info == "toc" {
        return Some(Block {
            kind: BlockKind::Toc(parse_toc(body, line, path, diags)),
            line,
            tabs: Tabs::All,
        });
    }
    let (cell, tabs) = cell::parse_cell(info, body, line, path, diags);
    if cell.executable && cell::is_tab_setup(body) {
        return None;
    }
    let tabs = match (tab, tabs) {
        // A cell inside :begin_tab: without its own @tab belongs to that tab.
        (Some((names, _)), Tabs::Default | Tabs::All) => Tabs::Only(names.clone()),
        (_, t) => t,
    };
    Some(Block {
        kind: BlockKind::Code(cell),
        line,
        tabs,
    })
}

fn parse_toc(body: &str, line: usize, path: &Path, diags: &mut Diagnostics) -> Toc {
    let mut toc = Toc {
        maxdepth: usize::MAX,
        numbered: false,
        entries: Vec::new(),
        pages: Vec::new(),
    };
    for (k, l) in body.lines().enumerate() {
        let l = l.trim();
        let at = line + 1 + k;
        if l.is_empty() {
            continue;
        }
        if let Some(v) = l.strip_prefix(":maxdepth:") {
            match v.trim().parse() {
                Ok(n) => toc.maxdepth = n,
                Err(_) => diags.warn(
                    path,
                    at,
                    format!("`:maxdepth:` wants a whole number, found {:?}", v.trim()),
                ),
            }
        } else if l.starts_with(":numbered:") {
            toc.numbered = true;
        } else if l.starts_with(':') {
            diags.warn(
                path,
                at,
                format!("unknown toc option {l:?}: use :maxdepth: N or :numbered:"),
            );
        } else {
            toc.entries
                .push((l.trim_end_matches(".md").to_string(), at));
        }
    }
    toc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begin_tab_inside_an_open_tab_closes_it_with_a_warning() {
        let mut d = Diagnostics::default();
        let text = "# T\n\n:begin_tab:`rust`\nRust text.\n:begin_tab:`pytorch`\nPyTorch text.\n:end_tab:\n\nShared.\n";
        let page = parse_page(Path::new("p.md"), text, &mut d);
        assert_eq!((d.errors(), d.warnings()), (0, 1), "{:?}", d.items());
        assert_eq!(d.items()[0].line, 5);
        assert!(
            d.items()[0].message.contains("still open"),
            "{:?}",
            d.items()
        );
        let tabs: Vec<(String, Tabs)> = page
            .blocks
            .iter()
            .map(|b| {
                (
                    crate::model::plain_text(match &b.kind {
                        BlockKind::Prose(p) => p,
                        BlockKind::Heading(h) => &h.content,
                        _ => unreachable!(),
                    })
                    .trim()
                    .to_string(),
                    b.tabs.clone(),
                )
            })
            .collect();
        assert_eq!(
            tabs[1],
            ("Rust text.".to_string(), Tabs::Only(vec!["rust".into()]))
        );
        assert_eq!(
            tabs[2],
            (
                "PyTorch text.".to_string(),
                Tabs::Only(vec!["pytorch".into()])
            )
        );
        assert_eq!(tabs[3], ("Shared.".to_string(), Tabs::All));
    }

    #[test]
    fn a_tab_setup_cell_is_left_out() {
        let mut d = Diagnostics::default();
        let text = "```{.python .input}\n%load_ext d2lbook.tab\ntab.interact_select(['rust', 'pytorch'])\n```\n\n# T\n\n```{.python .input}\n%%tab pytorch\nx = 1\n```\n";
        let page = parse_page(Path::new("p.md"), text, &mut d);
        assert!(d.items().is_empty(), "{:?}", d.items());
        assert_eq!(page.blocks.len(), 2, "{:?}", page.blocks);
        assert_eq!(page.blocks[1].tabs, Tabs::Only(vec!["pytorch".into()]));
    }
}
