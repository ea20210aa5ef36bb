//! Prose (pulldown-cmark events and d2lbook roles) → typst markup.

use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};

use super::escape::{markup, push_markup, string};
use super::source::Writer;
use crate::model::Inline;
use crate::render::{role_pieces, Dest, Piece};

impl Writer<'_> {
    /// The markup of `inlines` on page `page`.
    pub(super) fn inlines(&mut self, page: usize, inlines: &[Inline]) -> String {
        let mut out = String::new();
        // Text collected for a code block or an image's alt text.
        let mut capture: Option<(Capture, String)> = None;
        let mut skip_depth = 0usize;
        for inline in inlines {
            let ev = match inline {
                Inline::Role(role) => {
                    if capture.is_none() && skip_depth == 0 {
                        let pieces = role_pieces(self.book, role);
                        self.push_pieces(&mut out, &pieces);
                    }
                    continue;
                }
                Inline::Md(ev) => ev,
            };
            if skip_depth > 0 {
                match ev {
                    Event::Start(_) => skip_depth += 1,
                    Event::End(_) => skip_depth -= 1,
                    _ => {}
                }
                continue;
            }
            if let Some((_, text)) = &mut capture {
                match ev {
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::Image) => {
                        let (kind, text) = capture.take().expect("capturing");
                        match kind {
                            Capture::Code(lang) => out.push_str(&format!(
                                "\n#d2l-code(raw(block: true, lang: {}, {}))\n",
                                string(&lang),
                                string(text.trim_end_matches('\n'))
                            )),
                            Capture::Image(src) => self.inline_image(&mut out, page, &src, &text),
                        }
                        self.after_expr = true;
                    }
                    _ => {}
                }
                continue;
            }
            self.event(&mut out, page, ev, &mut capture, &mut skip_depth);
        }
        out
    }

    fn event(
        &mut self,
        out: &mut String,
        page: usize,
        ev: &Event<'static>,
        capture: &mut Option<(Capture, String)>,
        skip_depth: &mut usize,
    ) {
        let mut expr = false;
        match ev {
            Event::Start(tag) => match tag {
                Tag::Paragraph => {}
                Tag::Heading { .. } => out.push_str("\n#strong["),
                Tag::BlockQuote(_) => out.push_str("\n#quote(block: true)["),
                Tag::CodeBlock(kind) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => info
                            .split(|c: char| c.is_whitespace() || c == ',')
                            .next()
                            .unwrap_or("")
                            .trim_matches(['{', '}', '.'])
                            .to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    *capture = Some((Capture::Code(lang), String::new()));
                }
                Tag::List(Some(start)) => out.push_str(&format!("\n#enum(start: {start}, ")),
                Tag::List(None) => out.push_str("\n#list("),
                Tag::Item => out.push('['),
                Tag::Emphasis => out.push_str("#emph["),
                Tag::Strong => out.push_str("#strong["),
                Tag::Strikethrough => out.push_str("#strike["),
                Tag::Superscript => out.push_str("#super["),
                Tag::Subscript => out.push_str("#sub["),
                Tag::Link { dest_url, .. } => match self.link_target(page, dest_url) {
                    Some(target) => out.push_str(&format!("#link({target})[")),
                    None => out.push_str("#["),
                },
                Tag::Image { dest_url, .. } => {
                    *capture = Some((Capture::Image(dest_url.to_string()), String::new()))
                }
                Tag::Table(aligns) => {
                    let aligns: Vec<&str> = aligns
                        .iter()
                        .map(|a| match a {
                            pulldown_cmark::Alignment::Left | pulldown_cmark::Alignment::None => {
                                "left"
                            }
                            pulldown_cmark::Alignment::Center => "center",
                            pulldown_cmark::Alignment::Right => "right",
                        })
                        .collect();
                    out.push_str(&format!(
                        "\n#table(columns: {}, align: ({},), ",
                        aligns.len().max(1),
                        aligns.join(", ")
                    ));
                }
                Tag::TableHead => out.push_str("table.header("),
                Tag::TableRow => {}
                Tag::TableCell => out.push('['),
                Tag::FootnoteDefinition(_) | Tag::MetadataBlock(_) | Tag::HtmlBlock => {
                    *skip_depth = 1
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("\n\n"),
                TagEnd::Heading(_) => out.push_str("]\n\n"),
                TagEnd::BlockQuote(_) => out.push_str("]\n\n"),
                TagEnd::List(_) => {
                    out.push_str(")\n\n");
                }
                TagEnd::Item => out.push_str("], "),
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link => {
                    out.push(']');
                    expr = true;
                }
                TagEnd::Table => out.push_str(")\n\n"),
                TagEnd::TableHead => out.push_str("), "),
                TagEnd::TableCell => out.push_str("], "),
                _ => {}
            },
            Event::Text(t) => {
                let mut text = t.as_ref();
                if self.after_expr {
                    // `#f[x].y` or `#f[x](y)` would continue the expression.
                    if let Some(rest) = text.strip_prefix('.').or_else(|| text.strip_prefix('(')) {
                        out.push('\\');
                        out.push_str(&text[..1]);
                        text = rest;
                    }
                }
                push_markup(out, text);
            }
            Event::Code(t) => {
                out.push_str(&format!("#raw({})", string(t)));
                expr = true;
            }
            Event::InlineMath(t) => out.push_str(&self.math(t, false, page)),
            Event::DisplayMath(t) => {
                let m = self.math(t, true, page);
                out.push_str(&format!("\n{m}\n"));
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push_str("\\\n"),
            Event::Rule => out.push_str("\n#line(length: 100%)\n\n"),
            Event::TaskListMarker(done) => out.push_str(if *done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(name) => {
                out.push_str(&format!("#super[{}]", markup(name)));
                expr = true;
            }
            Event::Html(_) | Event::InlineHtml(_) => {}
        }
        self.after_expr = expr;
    }

    /// What a markdown link points at in the PDF: a label of the book or an external URL.
    fn link_target(&self, page: usize, url: &str) -> Option<String> {
        if url.contains("://") || url.starts_with("mailto:") {
            return Some(string(url));
        }
        let (path, frag) = url
            .split_once('#')
            .map_or((url, None), |(p, f)| (p, Some(f)));
        let target_page = if path.is_empty() {
            page
        } else {
            let stem = path.strip_suffix(".md")?;
            let joined = super::source::join_rel(&self.book.pages[page].stem, stem);
            self.book.page_index(&joined)?
        };
        let id = match frag {
            Some(f) => f.to_string(),
            None => self.book.pages[target_page]
                .title_heading()?
                .anchor
                .id
                .clone(),
        };
        self.ref_label(target_page, &id).map(|l| format!("<{l}>"))
    }

    /// Role text, linked where the target is in the PDF.
    pub(super) fn push_pieces(&self, out: &mut String, pieces: &[Piece]) {
        for piece in pieces {
            match piece {
                Piece::Text(t) => push_markup(out, t),
                Piece::Link(t, Dest::Page { page, id }) => match self.ref_label(*page, id) {
                    Some(l) => out.push_str(&format!("#link(<{l}>)[{}]", markup(t))),
                    None => push_markup(out, t),
                },
                Piece::Link(t, Dest::Bib(key)) => out.push_str(&format!(
                    "#link(<{}>)[{}]",
                    super::source::bib_label(key),
                    markup(t)
                )),
                Piece::Broken(t) => out.push_str(&format!("#text(fill: red)[??{}]", markup(t))),
            }
        }
    }

    fn inline_image(&mut self, out: &mut String, page: usize, src: &str, alt: &str) {
        match self.image_file(page, src) {
            Some(path) => out.push_str(&format!("#box(image({}, height: 1.4em))", string(&path))),
            None => out.push_str(&format!("#emph[{}]", markup(alt))),
        }
    }
}

/// What an open tag collects text for.
pub(super) enum Capture {
    /// A fenced code block in prose, with its language.
    Code(String),
    /// An inline image, with its source.
    Image(String),
}
