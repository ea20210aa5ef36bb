//! A run of markdown → blocks, with d2lbook's roles lifted out of the events.
//!
//! pulldown-cmark sees :numref:`x` as the text `:numref:` followed by the code
//! span `x`; [`lift_roles`] turns such pairs into [`Inline::Role`]s. Block roles
//! (`:label:`, `:width:`, `:height:`, `:eqlabel:`) attach to the heading, figure,
//! table or equation just before them; `:bibliography:` is a block of its own, the place of
//! the bibliography.

use std::path::Path;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::diag::Diagnostics;
use crate::model::{
    Anchor, Block, BlockKind, Equation, Figure, Heading, Inline, Role, RoleKind, Table, Tabs,
};

/// The pulldown-cmark options every part of the builder uses.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_MATH
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
}

/// A role that belongs to the block before it.
#[derive(Debug, Clone, PartialEq)]
enum BlockRole {
    Label(String),
    Width(String),
    Height(String),
    /// `:bibliography:` with the file it names.
    Bibliography(String),
}

/// An item of a paragraph after lifting: content or a block role.
enum Item {
    Inline(Inline),
    Block(BlockRole, usize),
}

/// Parses `text` (starting at 1-based `first_line` of `path`) and appends blocks.
pub fn parse_markdown(
    text: &str,
    first_line: usize,
    tabs: Tabs,
    path: &Path,
    blocks: &mut Vec<Block>,
    diags: &mut Diagnostics,
) {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |off: usize| first_line + line_starts.partition_point(|&s| s <= off) - 1;
    let mut events: Vec<(Event<'static>, usize)> = Vec::new();
    for (ev, range) in Parser::new_ext(text, options()).into_offset_iter() {
        let line = line_of(range.start);
        // Merge adjacent text so roles are seen whole.
        if let (Event::Text(t), Some((Event::Text(prev), _))) = (&ev, events.last_mut()) {
            let mut s = prev.to_string();
            s.push_str(t);
            *prev = CowStr::from(s);
            continue;
        }
        events.push((ev.into_static(), line));
    }
    let mut pending_caption: Option<(Vec<Inline>, usize)> = None;
    let mut pending_label: Option<String> = None;
    let mut i = 0;
    while i < events.len() {
        let start = i;
        let before_len = blocks.len();
        let line = events[i].1;
        // Find the end of this top-level block.
        let mut depth = 0i32;
        loop {
            match &events[i].0 {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth -= 1,
                _ => {}
            }
            i += 1;
            if depth <= 0 || i >= events.len() {
                break;
            }
        }
        let block = &events[start..i];
        let push = |blocks: &mut Vec<Block>, kind| {
            blocks.push(Block {
                kind,
                line,
                tabs: tabs.clone(),
            })
        };
        match &block[0].0 {
            Event::Start(Tag::Heading { level, .. }) => {
                let content = lift_roles(&block[1..block.len() - 1], path, diags);
                let content = content
                    .into_iter()
                    .filter_map(|it| keep_inline(it, path, diags))
                    .collect();
                push(
                    blocks,
                    BlockKind::Heading(Heading {
                        level: *level as u8,
                        content,
                        anchor: Anchor::default(),
                    }),
                );
            }
            Event::Start(Tag::Paragraph) => {
                let items = lift_roles(&block[1..block.len() - 1], path, diags);
                if let Some((caption, label)) = table_caption(&items) {
                    pending_caption = Some((caption, line));
                    pending_label = label;
                    continue;
                }
                paragraph(items, line, &tabs, path, blocks, diags);
            }
            Event::Start(Tag::Table(_)) => {
                let (body, row_label) = table_body(lift_roles(block, path, diags), path, diags);
                let caption = pending_caption.take().map(|(c, _)| c).unwrap_or_default();
                let label = pending_label.take().or(row_label);
                push(
                    blocks,
                    BlockKind::Table(Table {
                        caption,
                        body,
                        anchor: Anchor {
                            label,
                            ..Anchor::default()
                        },
                    }),
                );
            }
            _ => {
                let body: Vec<Inline> = lift_roles(block, path, diags)
                    .into_iter()
                    .filter_map(|it| keep_inline(it, path, diags))
                    .collect();
                push(blocks, BlockKind::Prose(body));
            }
        }
        if let Some((caption, cline)) = pending_caption.take_if(|(_, l)| *l != line) {
            // A `: caption` paragraph not followed by a table is just a paragraph.
            let mut items = vec![Item::Inline(Inline::Md(Event::Text(": ".into())))];
            items.extend(caption.into_iter().map(Item::Inline));
            let at = before_len.min(blocks.len());
            let mut tmp = Vec::new();
            paragraph(items, cline, &tabs, path, &mut tmp, diags);
            blocks.splice(at..at, tmp);
        }
    }
    if let Some((caption, cline)) = pending_caption {
        let mut items = vec![Item::Inline(Inline::Md(Event::Text(": ".into())))];
        items.extend(caption.into_iter().map(Item::Inline));
        paragraph(items, cline, &tabs, path, blocks, diags);
    }
}

fn keep_inline(item: Item, path: &Path, diags: &mut Diagnostics) -> Option<Inline> {
    match item {
        Item::Inline(i) => Some(i),
        Item::Block(role, line) => {
            diags.warn(path, line, format!("{role:?} cannot stand inside a heading, list or table: put it on its own line after the labelled thing"));
            None
        }
    }
}

/// A paragraph starting with `: ` is a table caption candidate; it may carry
/// the table's `:label:`.
fn table_caption(items: &[Item]) -> Option<(Vec<Inline>, Option<String>)> {
    let Some(Item::Inline(Inline::Md(Event::Text(t)))) = items.first() else {
        return None;
    };
    let rest = t.trim_start_matches(':').trim_start();
    // `: caption`, or `:Caption`; never `::` or an unknown `:role:`.
    let second = t.chars().nth(1);
    if !t.starts_with(':') || !second.is_some_and(|c| c == ' ' || c.is_uppercase()) {
        return None;
    }
    let mut caption = Vec::new();
    let mut label = None;
    if !rest.is_empty() {
        caption.push(Inline::Md(Event::Text(rest.to_string().into())));
    }
    for it in &items[1..] {
        match it {
            Item::Inline(i) => caption.push(i.clone()),
            Item::Block(BlockRole::Label(l), _) => label = Some(l.clone()),
            Item::Block(..) => return None,
        }
    }
    while caption.last().is_some_and(is_blank) {
        caption.pop();
    }
    Some((caption, label))
}

/// A table's events; a last row holding only `:label:` (GFM keeps such a line
/// in the table) is taken out and returned as the label.
fn table_body(
    items: Vec<Item>,
    path: &Path,
    diags: &mut Diagnostics,
) -> (Vec<Inline>, Option<String>) {
    let mut label = None;
    let mut out: Vec<Inline> = Vec::new();
    let mut row_start = None;
    let mut row_label: Option<String> = None;
    let mut row_other = false;
    for it in items {
        match it {
            Item::Inline(Inline::Md(Event::Start(Tag::TableRow))) => {
                row_start = Some(out.len());
                row_label = None;
                row_other = false;
                out.push(Inline::Md(Event::Start(Tag::TableRow)));
            }
            Item::Inline(Inline::Md(Event::End(TagEnd::TableRow))) => {
                if let (Some(start), Some(l), false) = (row_start, row_label.take(), row_other) {
                    out.truncate(start);
                    label = Some(l);
                } else {
                    out.push(Inline::Md(Event::End(TagEnd::TableRow)));
                }
                row_start = None;
            }
            Item::Block(BlockRole::Label(l), _) if row_start.is_some() => row_label = Some(l),
            Item::Inline(i) => {
                if row_start.is_some()
                    && !matches!(
                        i,
                        Inline::Md(Event::Start(Tag::TableCell) | Event::End(TagEnd::TableCell))
                    )
                    && !is_blank(&i)
                {
                    row_other = true;
                }
                out.push(i);
            }
            other => {
                if let Some(i) = keep_inline(other, path, diags) {
                    out.push(i);
                }
            }
        }
    }
    (out, label)
}

/// Splits a paragraph at display math and block roles into prose, figures and equations.
fn paragraph(
    items: Vec<Item>,
    line: usize,
    tabs: &Tabs,
    path: &Path,
    blocks: &mut Vec<Block>,
    diags: &mut Diagnostics,
) {
    let mut current: Vec<Inline> = Vec::new();
    for item in items {
        match item {
            Item::Inline(Inline::Md(Event::DisplayMath(latex))) => {
                flush(&mut current, line, tabs, blocks);
                let kind = BlockKind::Equation(Equation {
                    latex: latex.to_string(),
                    anchor: Anchor::default(),
                });
                blocks.push(Block {
                    kind,
                    line,
                    tabs: tabs.clone(),
                });
            }
            Item::Inline(i) => current.push(i),
            Item::Block(BlockRole::Bibliography(file), rline) => {
                flush(&mut current, line, tabs, blocks);
                blocks.push(Block {
                    kind: BlockKind::Bibliography(file),
                    line: rline,
                    tabs: tabs.clone(),
                });
            }
            Item::Block(role, rline) => {
                flush(&mut current, line, tabs, blocks);
                attach(role, rline, blocks, path, diags);
            }
        }
    }
    flush(&mut current, line, tabs, blocks);
}

fn is_blank(i: &Inline) -> bool {
    match i {
        Inline::Md(Event::SoftBreak | Event::HardBreak) => true,
        Inline::Md(Event::Text(t)) => t.trim().is_empty(),
        _ => false,
    }
}

fn flush(current: &mut Vec<Inline>, line: usize, tabs: &Tabs, blocks: &mut Vec<Block>) {
    let start = current
        .iter()
        .position(|i| !is_blank(i))
        .unwrap_or(current.len());
    let end = current
        .iter()
        .rposition(|i| !is_blank(i))
        .map_or(start, |e| e + 1);
    let content: Vec<Inline> = current
        .drain(..)
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    if content.is_empty() {
        return;
    }
    let kind = match (content.first(), content.last()) {
        (
            Some(Inline::Md(Event::Start(Tag::Image { dest_url, .. }))),
            Some(Inline::Md(Event::End(TagEnd::Image))),
        ) if content
            .iter()
            .filter(|i| matches!(i, Inline::Md(Event::Start(Tag::Image { .. }))))
            .count()
            == 1 =>
        {
            BlockKind::Figure(Figure {
                src: dest_url.to_string(),
                caption: content[1..content.len() - 1].to_vec(),
                width: None,
                height: None,
                anchor: Anchor::default(),
            })
        }
        _ => {
            let mut p = vec![Inline::Md(Event::Start(Tag::Paragraph))];
            p.extend(content);
            p.push(Inline::Md(Event::End(TagEnd::Paragraph)));
            BlockKind::Prose(p)
        }
    };
    blocks.push(Block {
        kind,
        line,
        tabs: tabs.clone(),
    });
}

fn attach(
    role: BlockRole,
    line: usize,
    blocks: &mut [Block],
    path: &Path,
    diags: &mut Diagnostics,
) {
    let target = blocks.last_mut().map(|b| &mut b.kind);
    match (role, target) {
        (BlockRole::Label(l), Some(BlockKind::Heading(Heading { anchor, .. }) | BlockKind::Figure(Figure { anchor, .. }) | BlockKind::Equation(Equation { anchor, .. }) | BlockKind::Table(Table { anchor, .. }))) => {
            if let Some(old) = &anchor.label {
                diags.warn(path, line, format!("a second label `{l}` for the thing already labelled `{old}`: keep one"));
            } else {
                anchor.label = Some(l);
                anchor.label_line = line;
            }
        }
        (BlockRole::Width(w), Some(BlockKind::Figure(f))) => f.width = Some(w),
        (BlockRole::Height(h), Some(BlockKind::Figure(f))) => f.height = Some(h),
        (role, _) => diags.warn(path, line, format!("{} has nothing to attach to: put it on the line right after a heading, figure, table or $$ equation", describe(&role))),
    }
}

fn describe(role: &BlockRole) -> String {
    match role {
        BlockRole::Label(l) => format!(":label:`{l}`"),
        BlockRole::Width(w) => format!(":width:`{w}`"),
        BlockRole::Height(h) => format!(":height:`{h}`"),
        BlockRole::Bibliography(f) => format!(":bibliography:`{f}`"),
    }
}

/// Finds `:name:` at the end of a text followed by a code span and makes roles.
fn lift_roles(
    events: &[(Event<'static>, usize)],
    path: &Path,
    diags: &mut Diagnostics,
) -> Vec<Item> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < events.len() {
        let (ev, line) = &events[k];
        if let (Event::Text(t), Some((Event::Code(arg), _))) = (ev, events.get(k + 1)) {
            if let Some((before, name)) = trailing_role(t) {
                let arg = arg.to_string();
                let made = match name {
                    "label" | "eqlabel" => Some(Item::Block(BlockRole::Label(arg), *line)),
                    "width" => Some(Item::Block(BlockRole::Width(arg), *line)),
                    "height" => Some(Item::Block(BlockRole::Height(arg), *line)),
                    "bibliography" => Some(Item::Block(BlockRole::Bibliography(arg), *line)),
                    _ => role_kind(name)
                        .map(|kind| Item::Inline(Inline::Role(make_role(kind, &arg, *line)))),
                };
                match made {
                    Some(item) => {
                        if !before.is_empty() {
                            out.push(Item::Inline(Inline::Md(Event::Text(before.to_string().into()))));
                        }
                        out.push(item);
                        k += 2;
                        continue;
                    }
                    None => diags.warn(path, *line, format!("unknown directive `:{name}:`: use :label:, :numref:, :ref:, :eqref:, :eqlabel:, :cite:, :citet:, :citep:, :width:, :height: or :bibliography:")),
                }
            }
        }
        out.push(Item::Inline(Inline::Md(ev.clone())));
        k += 1;
    }
    out
}

fn role_kind(name: &str) -> Option<RoleKind> {
    Some(match name {
        "numref" => RoleKind::Numref,
        "ref" => RoleKind::Ref,
        "eqref" => RoleKind::Eqref,
        "cite" => RoleKind::Cite,
        "citet" => RoleKind::Citet,
        "citep" => RoleKind::Citep,
        _ => return None,
    })
}

/// `text <label>` gives custom text; otherwise the argument is the target.
fn make_role(kind: RoleKind, arg: &str, line: usize) -> Role {
    let arg = arg.trim();
    if let Some(open) = arg.rfind('<').filter(|_| arg.ends_with('>')) {
        let text = arg[..open].trim();
        let target = arg[open + 1..arg.len() - 1].trim();
        return Role {
            kind,
            target: target.to_string(),
            text: (!text.is_empty()).then(|| text.to_string()),
            line,
        };
    }
    Role {
        kind,
        target: arg.to_string(),
        text: None,
        line,
    }
}

/// Splits `"see :numref:"` into (`"see "`, `"numref"`).
fn trailing_role(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_suffix(':')?;
    let colon = body.rfind(':')?;
    let name = &body[colon + 1..];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    let before = &body[..colon];
    // `a:b:` inside a word is not a role.
    if before.chars().last().is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    Some((before, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Block>, Diagnostics) {
        let mut blocks = Vec::new();
        let mut d = Diagnostics::default();
        parse_markdown(text, 1, Tabs::All, Path::new("p.md"), &mut blocks, &mut d);
        (blocks, d)
    }

    #[test]
    fn labels_attach_to_headings_figures_equations_and_tables() {
        let (b, d) = parse("# Title\n:label:`sec_t`\n\n![A cat](img/cat.svg)\n:width:`300px`\n:label:`fig_cat`\n\n$$x^2$$\n:eqlabel:`eq_sq`\n\n: Sizes\n\n| a | b |\n|---|---|\n| 1 | 2 |\n:label:`tab_s`\n");
        assert!(d.items().is_empty(), "{:?}", d.items());
        let labels: Vec<_> = b
            .iter()
            .filter_map(|b| match &b.kind {
                BlockKind::Heading(h) => h.anchor.label.clone(),
                BlockKind::Figure(f) => {
                    assert_eq!(f.width.as_deref(), Some("300px"));
                    f.anchor.label.clone()
                }
                BlockKind::Equation(e) => e.anchor.label.clone(),
                BlockKind::Table(t) => {
                    assert_eq!(crate::model::plain_text(&t.caption), "Sizes");
                    t.anchor.label.clone()
                }
                _ => None,
            })
            .collect();
        assert_eq!(labels, ["sec_t", "fig_cat", "eq_sq", "tab_s"]);
    }

    #[test]
    fn inline_roles_keep_their_line_and_text() {
        let (b, d) = parse("Intro\n\nSee :numref:`fig_cat` and :cite:`a,b`, or\n:numref:`the cat <fig_cat>` and :bogus:`x`.\n");
        assert_eq!(d.warnings(), 1);
        assert_eq!(d.items()[0].line, 4);
        let BlockKind::Prose(p) = &b[1].kind else {
            panic!("{:?}", b[1].kind)
        };
        let roles: Vec<_> = p
            .iter()
            .filter_map(|i| match i {
                Inline::Role(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(roles.len(), 3);
        assert_eq!(
            (roles[0].kind, roles[0].target.as_str(), roles[0].line),
            (RoleKind::Numref, "fig_cat", 3)
        );
        assert_eq!(
            (roles[1].kind, roles[1].target.as_str()),
            (RoleKind::Cite, "a,b")
        );
        assert_eq!(
            (roles[2].text.as_deref(), roles[2].line),
            (Some("the cat"), 4)
        );
    }

    #[test]
    fn a_bibliography_role_is_a_block_of_its_own() {
        let (b, d) = parse("# References\n\n:bibliography:`../refs.bib`\n");
        assert!(d.items().is_empty(), "{:?}", d.items());
        assert!(
            matches!(&b[1].kind, BlockKind::Bibliography(f) if f == "../refs.bib"),
            "{:?}",
            b[1].kind
        );
        assert_eq!(b[1].line, 3);
    }

    #[test]
    fn a_stray_label_is_a_warning_with_its_line() {
        let (_, d) = parse("Some text.\n\n:label:`nowhere`\n");
        assert_eq!(d.warnings(), 1);
        assert_eq!(d.items()[0].line, 3);
    }
}
