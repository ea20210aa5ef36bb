//! The model back to plain markdown, with directives turned into what a reader
//! of a notebook can follow: numbers in headings and captions, links for
//! references, author–year text for citations.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, Tag, TagEnd};

use crate::model::{plain_text, Block, BlockKind, Book, Inline};
use crate::render::{role_pieces, Dest, Piece};

/// Markdown for one non-code block of page `page`; `None` for code cells.
pub fn block_markdown(book: &Book, page: usize, block: &Block) -> Option<String> {
    let md = |inl: &[Inline]| inlines_markdown(book, page, inl);
    Some(match &block.kind {
        BlockKind::Heading(h) => {
            let number = h
                .anchor
                .number
                .as_ref()
                .map(|n| format!("{n}. "))
                .unwrap_or_default();
            format!(
                "{} {number}{}\n<a id=\"{}\"></a>",
                "#".repeat(h.level as usize),
                md(&h.content).trim(),
                h.anchor.id
            )
        }
        BlockKind::Prose(p) => md(p).trim_end().to_string(),
        BlockKind::Figure(f) => {
            let caption = md(&f.caption);
            let number = f
                .anchor
                .number
                .as_ref()
                .map(|n| format!("**Fig. {n}** "))
                .unwrap_or_default();
            let image = match (&f.width, &f.height) {
                (None, None) => format!("![{}]({})", caption.trim(), f.src),
                (w, h) => format!(
                    "<img src=\"{}\" alt=\"{}\"{}{}>",
                    f.src,
                    plain_text(&f.caption).replace('"', "'"),
                    w.as_ref()
                        .map(|w| format!(" width=\"{w}\""))
                        .unwrap_or_default(),
                    h.as_ref()
                        .map(|h| format!(" height=\"{h}\""))
                        .unwrap_or_default()
                ),
            };
            format!(
                "<a id=\"{}\"></a>\n{image}\n\n{number}{}",
                f.anchor.id,
                caption.trim()
            )
        }
        BlockKind::Equation(e) => {
            let tag = e
                .anchor
                .number
                .as_ref()
                .map(|n| format!(" \\tag{{{n}}}"))
                .unwrap_or_default();
            format!("$${}{tag}$$", e.latex.trim())
        }
        BlockKind::Table(t) => {
            let number = t
                .anchor
                .number
                .as_ref()
                .map(|n| format!("**Table {n}** "))
                .unwrap_or_default();
            format!(
                "<a id=\"{}\"></a>\n{number}{}\n\n{}",
                t.anchor.id,
                md(&t.caption).trim(),
                md(&t.body).trim_end()
            )
        }
        BlockKind::Code(c) if c.executable => return None,
        BlockKind::Code(c) => format!("```{}\n{}\n```", c.lang, c.code),
        BlockKind::Bibliography(_) => book
            .bibliography
            .sorted()
            .iter()
            .map(|e| {
                let venue = if e.venue.is_empty() {
                    String::new()
                } else {
                    format!(" *{}*.", e.venue)
                };
                format!(
                    "1. <a id=\"bib-{}\"></a>{} ({}). {}.{venue}",
                    e.key,
                    e.full_names.join(", "),
                    e.year,
                    e.title
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        BlockKind::Toc(toc) => {
            let here = &book.pages[page].stem;
            toc.pages
                .iter()
                .map(|&p| {
                    format!(
                        "- [{}]({})",
                        crate::render::numbered_title(book, p),
                        relative(here, &book.pages[p].stem, "ipynb")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}

/// Relative link from page `from` to page `to` with extension `ext`.
pub fn relative(from: &str, to: &str, ext: &str) -> String {
    format!("{}{to}.{ext}", crate::render::root_prefix(from))
}

struct Writer<'a> {
    book: &'a Book,
    page: usize,
    out: String,
    prefixes: Vec<String>,
    line_start: bool,
    lists: Vec<Option<u64>>,
    links: Vec<(String, String)>,
    aligns: Vec<Alignment>,
    cells_in_row: usize,
}

impl Writer<'_> {
    fn raw(&mut self, s: &str) {
        for (k, part) in s.split('\n').enumerate() {
            if k > 0 {
                self.out.push('\n');
                self.line_start = true;
            }
            if part.is_empty() {
                continue;
            }
            if self.line_start {
                let prefix: String = self.prefixes.concat();
                self.out.push_str(&prefix);
                self.line_start = false;
            }
            self.out.push_str(part);
        }
    }

    fn newline(&mut self) {
        if !self.line_start {
            self.raw("\n");
        }
    }

    fn blank(&mut self) {
        self.newline();
        let prefix: String = self.prefixes.concat();
        self.out.push_str(prefix.trim_end());
        self.out.push('\n');
    }

    fn text(&mut self, t: &str) {
        let mut s = String::with_capacity(t.len());
        for c in t.chars() {
            if matches!(c, '*' | '[' | ']' | '`' | '\\' | '<' | '$')
                || (c == '|' && !self.aligns.is_empty())
            {
                s.push('\\');
            }
            s.push(c);
        }
        self.raw(&s);
    }

    fn event(&mut self, ev: &Event) {
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(t),
            Event::Code(c) => {
                let ticks = if c.contains('`') { "``" } else { "`" };
                let pad = if c.starts_with('`') || c.ends_with('`') {
                    " "
                } else {
                    ""
                };
                self.raw(&format!("{ticks}{pad}{c}{pad}{ticks}"));
            }
            Event::InlineMath(m) => self.raw(&format!("${m}$")),
            Event::DisplayMath(m) => self.raw(&format!("$${m}$$")),
            Event::Html(h) | Event::InlineHtml(h) => self.raw(h),
            Event::SoftBreak => self.raw("\n"),
            Event::HardBreak => self.raw("  \n"),
            Event::Rule => {
                self.raw("---");
                self.blank();
            }
            Event::FootnoteReference(f) => self.raw(&format!("[^{f}]")),
            Event::TaskListMarker(done) => self.raw(if *done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: &Tag) {
        match tag {
            Tag::Paragraph | Tag::HtmlBlock | Tag::MetadataBlock(_) => {}
            Tag::Heading { level, .. } => self.raw(&format!("{} ", "#".repeat(*level as usize))),
            Tag::BlockQuote(_) => self.prefixes.push("> ".into()),
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.newline();
                self.raw(&format!("```{lang}\n"));
            }
            Tag::List(start) => {
                self.newline();
                self.lists.push(*start);
            }
            Tag::Item => {
                self.newline();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "- ".to_string(),
                };
                self.raw(&marker);
                self.prefixes.push(" ".repeat(marker.len()));
            }
            Tag::FootnoteDefinition(f) => self.raw(&format!("[^{f}]: ")),
            Tag::DefinitionList | Tag::DefinitionListTitle | Tag::DefinitionListDefinition => {}
            Tag::Table(aligns) => {
                self.newline();
                self.aligns = aligns.clone();
            }
            Tag::TableHead | Tag::TableRow => {
                self.cells_in_row = 0;
                self.raw("|");
            }
            Tag::TableCell => {
                self.cells_in_row += 1;
                self.raw(" ");
            }
            Tag::Emphasis => self.raw("*"),
            Tag::Strong => self.raw("**"),
            Tag::Strikethrough => self.raw("~~"),
            Tag::Superscript | Tag::Subscript => {}
            Tag::Link {
                dest_url, title, ..
            } => {
                self.raw("[");
                self.links.push((
                    crate::render::notebook::md_link_to_ipynb(dest_url),
                    title.to_string(),
                ));
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                self.raw("![");
                self.links.push((dest_url.to_string(), title.to_string()));
            }
        }
    }

    fn end(&mut self, tag: &TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::HtmlBlock => self.blank(),
            TagEnd::BlockQuote(_) => {
                self.prefixes.pop();
                self.blank();
            }
            TagEnd::CodeBlock => {
                self.newline();
                self.raw("```");
                self.blank();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                self.blank();
            }
            TagEnd::Item => {
                self.prefixes.pop();
                self.newline();
            }
            TagEnd::Table => {
                self.aligns.clear();
                self.blank();
            }
            TagEnd::TableHead => {
                self.raw("\n|");
                for a in self.aligns.clone() {
                    self.raw(match a {
                        Alignment::Left => ":---|",
                        Alignment::Center => ":---:|",
                        Alignment::Right => "---:|",
                        Alignment::None => "---|",
                    });
                }
                self.raw("\n");
            }
            TagEnd::TableRow => self.raw("\n"),
            TagEnd::TableCell => self.raw(" |"),
            TagEnd::Emphasis => self.raw("*"),
            TagEnd::Strong => self.raw("**"),
            TagEnd::Strikethrough => self.raw("~~"),
            TagEnd::Link | TagEnd::Image => {
                let (dest, title) = self.links.pop().unwrap_or_default();
                if title.is_empty() {
                    self.raw(&format!("]({dest})"));
                } else {
                    self.raw(&format!("]({dest} \"{}\")", title.replace('"', "'")));
                }
            }
            _ => {}
        }
    }
}

/// Inline content to markdown.
pub fn inlines_markdown(book: &Book, page: usize, inlines: &[Inline]) -> String {
    let mut w = Writer {
        book,
        page,
        out: String::new(),
        prefixes: Vec::new(),
        line_start: true,
        lists: Vec::new(),
        links: Vec::new(),
        aligns: Vec::new(),
        cells_in_row: 0,
    };
    for i in inlines {
        match i {
            Inline::Md(ev) => w.event(ev),
            Inline::Role(role) => {
                for piece in role_pieces(w.book, role) {
                    match piece {
                        Piece::Text(t) => w.text(&t),
                        Piece::Broken(t) => w.text(&format!("??{t}")),
                        Piece::Link(t, Dest::Page { page, id }) => {
                            let url = if page == w.page {
                                format!("#{id}")
                            } else {
                                format!(
                                    "{}#{id}",
                                    relative(
                                        &w.book.pages[w.page].stem,
                                        &w.book.pages[page].stem,
                                        "ipynb"
                                    )
                                )
                            };
                            w.raw("[");
                            w.text(&t);
                            w.raw(&format!("]({url})"));
                        }
                        Piece::Link(t, Dest::Bib(_)) => w.text(&t),
                    }
                }
            }
        }
    }
    w.out
}
