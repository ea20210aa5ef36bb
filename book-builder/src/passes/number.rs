//! Numbering: pages from the toc tree, then headings, figures, tables and
//! labelled equations within each page, and an HTML id for each.
//!
//! `:numbered:` on a toc numbers its pages (1, 2, ...) and everything below
//! them (3.1, 3.1.2). Figures, tables and equations count per page, so the
//! second figure of section 3.1 is `3.1.2`.

use std::collections::HashSet;

use anyhow::Result;

use crate::diag::Report;
use crate::model::{plain_text, Anchor, BlockKind, Book};

use super::Pass;

/// The numbering pass.
pub struct Number;

impl Pass for Number {
    fn name(&self) -> &'static str {
        "number"
    }

    fn run(&self, book: &mut Book) -> Result<Report> {
        number_pages(book);
        for page in &mut book.pages {
            let prefix = page.number.clone();
            let mut ids: HashSet<String> = HashSet::new();
            let mut heading_counters = [0usize; 7];
            let mut counters = [0usize; 3]; // figures, tables, equations
            let mut seen_title = false;
            let numbered_item = |n: usize| match &prefix {
                Some(p) => format!("{p}.{n}"),
                None => n.to_string(),
            };
            for block in &mut page.blocks {
                match &mut block.kind {
                    BlockKind::Heading(h) => {
                        let base = h
                            .anchor
                            .label
                            .clone()
                            .unwrap_or_else(|| slug(&plain_text(&h.content)));
                        h.anchor.id = unique(&mut ids, base);
                        if h.level == 1 && !seen_title {
                            seen_title = true;
                            h.anchor.number = prefix.clone();
                        } else if let (Some(p), true) = (&prefix, h.level >= 2) {
                            let lvl = h.level as usize;
                            heading_counters[lvl] += 1;
                            for c in heading_counters.iter_mut().skip(lvl + 1) {
                                *c = 0;
                            }
                            let parts: Vec<String> = (2..=lvl)
                                .map(|l| heading_counters[l].max(1).to_string())
                                .collect();
                            h.anchor.number = Some(format!("{p}.{}", parts.join(".")));
                        }
                    }
                    BlockKind::Figure(f) => {
                        counters[0] += 1;
                        set(&mut f.anchor, &mut ids, "fig", numbered_item(counters[0]));
                    }
                    BlockKind::Table(t) => {
                        counters[1] += 1;
                        set(&mut t.anchor, &mut ids, "tab", numbered_item(counters[1]));
                    }
                    BlockKind::Equation(e) if e.anchor.label.is_some() => {
                        counters[2] += 1;
                        set(&mut e.anchor, &mut ids, "eq", numbered_item(counters[2]));
                    }
                    _ => {}
                }
            }
        }
        Ok(Report::default())
    }
}

fn set(anchor: &mut Anchor, ids: &mut HashSet<String>, kind: &str, number: String) {
    let base = anchor
        .label
        .clone()
        .unwrap_or_else(|| format!("{kind}-{}", number.replace('.', "-")));
    anchor.id = unique(ids, base);
    anchor.number = Some(number);
}

fn unique(ids: &mut HashSet<String>, base: String) -> String {
    let mut id = if base.is_empty() {
        "section".to_string()
    } else {
        base
    };
    let stem = id.clone();
    let mut k = 1;
    while !ids.insert(id.clone()) {
        id = format!("{stem}-{k}");
        k += 1;
    }
    id
}

/// "Linear Regression: Basics" → `linear-regression-basics`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Numbers pages along toc blocks: a numbered toc counts its entries, and a
/// numbered page numbers everything its own tocs list.
fn number_pages(book: &mut Book) {
    let Some(root) = book
        .pages
        .iter()
        .position(|p| p.in_toc && p.parent.is_none())
    else {
        return;
    };
    let mut stack = vec![root];
    while let Some(idx) = stack.pop() {
        let parent_number = book.pages[idx].number.clone();
        let mut counter = 0;
        let mut assign = Vec::new();
        for block in &book.pages[idx].blocks {
            let BlockKind::Toc(toc) = &block.kind else {
                continue;
            };
            for &child in &toc.pages {
                let number = if toc.numbered || parent_number.is_some() {
                    counter += 1;
                    Some(match &parent_number {
                        Some(p) => format!("{p}.{counter}"),
                        None => counter.to_string(),
                    })
                } else {
                    None
                };
                assign.push((child, number));
            }
        }
        for (child, number) in assign.into_iter().rev() {
            book.pages[child].number = number;
            stack.push(child);
        }
    }
}
