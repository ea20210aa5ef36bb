//! Markdown notebook → [`Page`]: the only place that reads the dialect.
//!
//! A first pass splits the file by lines into fenced code blocks, ```` ```toc ````
//! blocks, `:begin_tab:`/`:end_tab:` markers and runs of markdown. Code blocks go
//! to [`cell`]; markdown runs go to [`markdown`], which lifts d2lbook's roles out
//! of pulldown-cmark's events.

pub mod cell;
pub mod markdown;

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
            blocks.push(fenced_block(info.trim(), &body, start + 1, &tab, path, diags));
            i += 1;
            md_start = i;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(":begin_tab:") {
            flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
            if let Some((_, open_line)) = &tab {
                diags.error(path, i + 1, format!("`:begin_tab:` inside the tab opened at line {open_line}: close it with `:end_tab:` first"));
            }
            let names = tab_names(rest);
            if names.is_empty() {
                diags.error(path, i + 1, "`:begin_tab:` needs a tab name, e.g. :begin_tab:`rust`");
            }
            tab = Some((names, i + 1));
            i += 1;
            md_start = i;
            continue;
        }
        if trimmed.starts_with(":end_tab:") {
            flush_markdown(&mut md, md_start, &tab, path, &mut blocks, diags);
            if tab.take().is_none() {
                diags.warn(path, i + 1, "`:end_tab:` without a `:begin_tab:` before it: remove it or open the tab");
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
        diags.error(path, open_line, "`:begin_tab:` is never closed: add `:end_tab:` after the tab's content");
    }
    Page { path: path.to_path_buf(), stem, blocks, number: None, children: Vec::new(), parent: None, depth: 0, in_toc: false, notices: Vec::new() }
}

/// Tab names from the rest of a `:begin_tab:` or `@tab` line: `` `a` ``, `a, b`.
pub(crate) fn tab_names(rest: &str) -> Vec<String> {
    rest.split(',')
        .map(|s| s.trim().trim_matches('`').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn flush_markdown(md: &mut String, start: usize, tab: &Option<(Vec<String>, usize)>, path: &Path, blocks: &mut Vec<Block>, diags: &mut Diagnostics) {
    if md.trim().is_empty() {
        md.clear();
        return;
    }
    let tabs = match tab {
        Some((names, _)) => Tabs::Only(names.clone()),
        None => Tabs::All,
    };
    markdown::parse_markdown(md, start + 1, tabs, path, blocks, diags);
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

fn fenced_block(info: &str, body: &str, line: usize, tab: &Option<(Vec<String>, usize)>, path: &Path, diags: &mut Diagnostics) -> Block {
    if info == "toc" {
        return Block { kind: BlockKind::Toc(parse_toc(body, line, path, diags)), line, tabs: Tabs::All };
    }
    let (cell, tabs) = cell::parse_cell(info, body, line, path, diags);
    let tabs = match (tab, tabs) {
        // A cell inside :begin_tab: without its own @tab belongs to that tab.
        (Some((names, _)), Tabs::Default | Tabs::All) => Tabs::Only(names.clone()),
        (_, t) => t,
    };
    Block { kind: BlockKind::Code(cell), line, tabs }
}

fn parse_toc(body: &str, line: usize, path: &Path, diags: &mut Diagnostics) -> Toc {
    let mut toc = Toc { maxdepth: usize::MAX, numbered: false, entries: Vec::new(), pages: Vec::new() };
    for (k, l) in body.lines().enumerate() {
        let l = l.trim();
        let at = line + 1 + k;
        if l.is_empty() {
            continue;
        }
        if let Some(v) = l.strip_prefix(":maxdepth:") {
            match v.trim().parse() {
                Ok(n) => toc.maxdepth = n,
                Err(_) => diags.warn(path, at, format!("`:maxdepth:` wants a whole number, found {:?}", v.trim())),
            }
        } else if l.starts_with(":numbered:") {
            toc.numbered = true;
        } else if l.starts_with(':') {
            diags.warn(path, at, format!("unknown toc option {l:?}: use :maxdepth: N or :numbered:"));
        } else {
            toc.entries.push((l.trim_end_matches(".md").to_string(), at));
        }
    }
    toc
}
