//! A page's blocks → the HTML of its article.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Tag, TagEnd};

use super::{highlight::highlight, math::push_display_equation, math::push_math, push_escaped};
use crate::model::{Anchor, Block, BlockKind, Book, Cell, Inline, MimeBundle, Output, Tabs, Toc};
use crate::render::{role_pieces, strip_ansi, Dest, Piece};

/// What rendering a page needs to know.
pub struct Ctx<'a> {
    /// The book.
    pub book: &'a Book,
    /// Index of the page being rendered.
    pub page: usize,
    /// Relative path from this page to the site root (`../` per folder).
    pub root: String,
}

impl Ctx<'_> {
    /// URL of an element of another (or this) page.
    pub fn dest_url(&self, dest: &Dest) -> String {
        match dest {
            Dest::Page { page, id } if *page == self.page => format!("#{id}"),
            Dest::Page { page, id } => {
                format!("{}{}.html#{id}", self.root, self.book.pages[*page].stem)
            }
            Dest::Bib(key) => match self.book.bibliography_page() {
                Some(page) if page == self.page => format!("#bib-{key}"),
                Some(page) => format!("{}{}.html#bib-{key}", self.root, self.book.pages[page].stem),
                None => format!("{}bibliography.html#bib-{key}", self.root),
            },
        }
    }

    /// URL of a page.
    pub fn page_url(&self, page: usize) -> String {
        format!("{}{}.html", self.root, self.book.pages[page].stem)
    }
}

/// Renders all blocks, grouping runs of tab-specific blocks into tab groups.
pub fn render_blocks(ctx: &Ctx, blocks: &[Block]) -> String {
    let tabs = &ctx.book.config.book.tabs;
    let mut out = String::new();
    let mut i = 0;
    while i < blocks.len() {
        if tabs.len() < 2 || blocks[i].tabs == Tabs::All {
            render_block(ctx, &blocks[i], &mut out);
            i += 1;
            continue;
        }
        let start = i;
        while i < blocks.len() && blocks[i].tabs != Tabs::All {
            i += 1;
        }
        let group = &blocks[start..i];
        let present: Vec<&String> = tabs
            .iter()
            .filter(|t| {
                group
                    .iter()
                    .any(|b| b.tabs.names(tabs).contains(&t.as_str()))
            })
            .collect();
        out.push_str("<div class=\"tab-group\">\n<div class=\"tab-bar\" role=\"tablist\">");
        for (k, t) in present.iter().enumerate() {
            let (class, selected) = if k == 0 {
                (" active", "true")
            } else {
                ("", "false")
            };
            out.push_str(&format!("<button class=\"tab-button{class}\" type=\"button\" data-tab=\"{}\" role=\"tab\" aria-selected=\"{selected}\">{}</button>", esc(t), esc(t)));
        }
        out.push_str("</div>\n");
        let shown = present.first().map(|s| s.as_str()).unwrap_or("");
        for b in group {
            let names = b.tabs.names(tabs);
            let hidden = if names.contains(&shown) {
                ""
            } else {
                " hidden"
            };
            out.push_str(&format!(
                "<div class=\"tab-pane\" data-tab=\"{}\"{hidden}>\n",
                esc(&names.join(" "))
            ));
            render_block(ctx, b, &mut out);
            out.push_str("</div>\n");
        }
        out.push_str("</div>\n");
    }
    out
}

fn number_span(out: &mut String, prefix: &str, anchor: &Anchor) {
    if let Some(n) = &anchor.number {
        out.push_str(&format!(
            "<span class=\"caption-number\">{prefix}{n}</span> "
        ));
    }
}

fn render_block(ctx: &Ctx, block: &Block, out: &mut String) {
    match &block.kind {
        BlockKind::Heading(h) => {
            let id = esc(&h.anchor.id);
            out.push_str(&format!("<h{} id=\"{id}\">", h.level));
            if let Some(n) = &h.anchor.number {
                out.push_str(&format!("<span class=\"section-number\">{n}.</span> "));
            }
            out.push_str(&inline_html(ctx, &h.content));
            out.push_str(&format!("<a class=\"headerlink\" href=\"#{id}\" title=\"Link to this heading\">¶</a></h{}>\n", h.level));
        }
        BlockKind::Prose(p) => out.push_str(&inline_html(ctx, p)),
        BlockKind::Figure(f) => {
            let mut style = String::new();
            if let Some(w) = &f.width {
                style.push_str(&format!("width:{};", esc(w)));
            }
            if let Some(h) = &f.height {
                style.push_str(&format!("height:{};", esc(h)));
            }
            let alt = crate::model::plain_text(&f.caption);
            out.push_str(&format!(
                "<figure class=\"figure\" id=\"{}\">\n<img src=\"{}\" alt=\"{}\" style=\"{style}\" loading=\"lazy\">\n<figcaption>",
                esc(&f.anchor.id),
                esc(&f.src),
                esc(&alt)
            ));
            number_span(out, "Fig. ", &f.anchor);
            out.push_str(&strip_p(&inline_html(ctx, &f.caption)));
            out.push_str("</figcaption>\n</figure>\n");
        }
        BlockKind::Equation(e) => {
            let id = e.anchor.label.as_ref().map(|_| e.anchor.id.as_str());
            push_display_equation(out, &e.latex, id, e.anchor.number.as_deref());
            out.push('\n');
        }
        BlockKind::Table(t) => {
            out.push_str(&format!(
                "<figure class=\"table\" id=\"{}\">\n<figcaption>",
                esc(&t.anchor.id)
            ));
            number_span(out, "Table ", &t.anchor);
            out.push_str(&strip_p(&inline_html(ctx, &t.caption)));
            out.push_str("</figcaption>\n<div class=\"table-scroll\">");
            out.push_str(&inline_html(ctx, &t.body));
            out.push_str("</div></figure>\n");
        }
        BlockKind::Code(cell) => render_cell(cell, out),
        BlockKind::Toc(toc) => render_toc(ctx, toc, out),
        BlockKind::Bibliography(_) => super::bibliography_list(ctx.book, out),
    }
}

fn strip_p(html: &str) -> String {
    html.trim()
        .trim_start_matches("<p>")
        .trim_end_matches("</p>")
        .to_string()
}

/// A code cell: highlighted code with a copy button, then its outputs.
pub fn render_cell(cell: &Cell, out: &mut String) {
    let kind = if cell.executable {
        "cell input"
    } else {
        "cell listing"
    };
    out.push_str(&format!("<div class=\"{kind}\">\n"));
    if !cell.hide_code {
        out.push_str(&format!(
            "<div class=\"code\"><button class=\"copy\" type=\"button\" title=\"Copy code\">Copy</button><pre><code class=\"language-{}\">{}</code></pre></div>\n",
            esc(&cell.lang),
            highlight(&format!("{}\n", cell.code), &cell.lang)
        ));
    }
    if !cell.hide_outputs && !cell.outputs.is_empty() {
        out.push_str("<div class=\"outputs\">\n");
        for o in &cell.outputs {
            render_output(o, out);
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
}

fn render_output(o: &Output, out: &mut String) {
    match o {
        Output::Stream { name, text } => {
            out.push_str(&format!("<pre class=\"output stream {}\">", esc(name)));
            push_escaped(out, &strip_ansi(text));
            out.push_str("</pre>\n");
        }
        Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => {
            render_bundle(data, out)
        }
        Output::Error {
            ename,
            evalue,
            traceback,
        } => {
            out.push_str("<pre class=\"output error\">");
            push_escaped(out, &format!("{ename}: {evalue}"));
            for line in traceback {
                out.push('\n');
                push_escaped(out, &strip_ansi(line));
            }
            out.push_str("</pre>\n");
        }
    }
}

fn render_bundle(bundle: &MimeBundle, out: &mut String) {
    let data = &bundle.0;
    if let Some(svg) = data.get("image/svg+xml") {
        out.push_str("<div class=\"output display svg\">");
        out.push_str(svg);
        out.push_str("</div>\n");
    } else if let Some(png) = data.get("image/png") {
        let clean: String = png.chars().filter(|c| !c.is_whitespace()).collect();
        out.push_str(&format!("<div class=\"output display png\"><img alt=\"cell output\" src=\"data:image/png;base64,{}\"></div>\n", esc(&clean)));
    } else if let Some(html) = data.get("text/html") {
        out.push_str("<div class=\"output display html\">");
        out.push_str(html);
        out.push_str("</div>\n");
    } else if let Some(text) = data.get("text/plain") {
        out.push_str("<pre class=\"output result\">");
        push_escaped(out, &strip_ansi(text));
        out.push_str("</pre>\n");
    }
}

fn render_toc(ctx: &Ctx, toc: &Toc, out: &mut String) {
    out.push_str("<nav class=\"toc-block\"><ul>\n");
    for &p in &toc.pages {
        toc_entry(ctx, p, toc.maxdepth, out);
    }
    out.push_str("</ul></nav>\n");
}

fn toc_entry(ctx: &Ctx, page: usize, depth: usize, out: &mut String) {
    if depth == 0 {
        return;
    }
    let p = &ctx.book.pages[page];
    let number = p
        .number
        .as_ref()
        .map(|n| format!("<span class=\"section-number\">{n}.</span> "))
        .unwrap_or_default();
    out.push_str(&format!(
        "<li><a href=\"{}\">{number}{}</a>",
        ctx.page_url(page),
        esc(&p.title())
    ));
    if !p.children.is_empty() && depth > 1 {
        out.push_str("<ul>");
        for &c in &p.children {
            toc_entry(ctx, c, depth - 1, out);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>\n");
}

/// Inline events (and block structure of prose) → HTML, with roles, math,
/// nested code blocks and `.md` links handled.
pub fn inline_html(ctx: &Ctx, inlines: &[Inline]) -> String {
    let mut events: Vec<Event> = Vec::with_capacity(inlines.len());
    let mut code: Option<(String, String)> = None;
    for inline in inlines {
        match inline {
            Inline::Role(role) => events.push(Event::InlineHtml(CowStr::from(pieces_html(
                ctx,
                &role_pieces(ctx.book, role),
            )))),
            Inline::Md(ev) => {
                if let Some((lang, text)) = &mut code {
                    match ev {
                        Event::Text(t) => text.push_str(t),
                        Event::End(TagEnd::CodeBlock) => {
                            let html = format!("<div class=\"code\"><button class=\"copy\" type=\"button\" title=\"Copy code\">Copy</button><pre><code>{}</code></pre></div>\n", highlight(text, lang));
                            events.push(Event::Html(html.into()));
                            code = None;
                        }
                        _ => {}
                    }
                    continue;
                }
                match ev {
                    Event::Start(Tag::CodeBlock(kind)) => {
                        let lang = match kind {
                            CodeBlockKind::Fenced(info) => info
                                .split(|c: char| c.is_whitespace() || c == ',')
                                .next()
                                .unwrap_or("")
                                .trim_matches(['{', '}', '.'])
                                .to_string(),
                            CodeBlockKind::Indented => String::new(),
                        };
                        code = Some((lang, String::new()));
                    }
                    Event::InlineMath(t) => {
                        let mut s = String::new();
                        push_math(&mut s, t, false);
                        events.push(Event::InlineHtml(s.into()));
                    }
                    Event::DisplayMath(t) => {
                        let mut s = String::new();
                        push_display_equation(&mut s, t, None, None);
                        events.push(Event::InlineHtml(s.into()));
                    }
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }) => {
                        events.push(Event::Start(Tag::Link {
                            link_type: *link_type,
                            dest_url: md_link(dest_url).into(),
                            title: title.clone(),
                            id: id.clone(),
                        }));
                    }
                    other => events.push(other.clone()),
                }
            }
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// `foo.md#x` → `foo.html#x` for links between notebooks.
fn md_link(url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    let (path, frag) = url
        .split_once('#')
        .map_or((url, None), |(p, f)| (p, Some(f)));
    match path.strip_suffix(".md") {
        Some(stem) => match frag {
            Some(f) => format!("{stem}.html#{f}"),
            None => format!("{stem}.html"),
        },
        None => url.to_string(),
    }
}

fn pieces_html(ctx: &Ctx, pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => push_escaped(&mut s, t),
            Piece::Link(t, dest) => {
                let class = if matches!(dest, Dest::Bib(_)) {
                    "citation"
                } else {
                    "reference"
                };
                s.push_str(&format!(
                    "<a class=\"{class}\" href=\"{}\">{}</a>",
                    esc(&ctx.dest_url(dest)),
                    esc(t)
                ));
            }
            Piece::Broken(t) => s.push_str(&format!(
                "<span class=\"broken-ref\" title=\"undefined\">??{}</span>",
                esc(t)
            )),
        }
    }
    s
}

/// HTML-escaped copy of `s`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}
