//! The book model → one typst source (`main.typ`) plus the files it needs.
//!
//! Every number shown comes from the model's passes; typst only lays out. Each block's byte
//! range in the source is recorded, so a typst error can be traced to the notebook line.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::escape::{label, markup, string};
use super::math;
use crate::model::{plain_text, Anchor, Block, BlockKind, Book, Cell, Output};
use crate::render::{relative_inside, strip_ansi};

/// Lines a text output keeps before and after the omission marker when it is long.
const HEAD_LINES: usize = 20;
const TAIL_LINES: usize = 10;
/// Longest line of a text output before it is cut.
const MAX_LINE: usize = 240;

/// Where a piece of the source came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Byte range in `main.typ`.
    pub range: Range<usize>,
    /// Page index.
    pub page: usize,
    /// Block index within the page.
    pub block: usize,
}

/// The generated source and what goes with it.
pub struct Generated {
    /// `main.typ`.
    pub source: String,
    /// Files referenced by the source: (path in the project, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// The origin of every block.
    pub origins: Vec<Origin>,
    /// Problems to report: (page, line, message).
    pub warnings: Vec<(usize, usize, String)>,
}

/// Builds the source; `plain` lists (page, block) whose math is shown as LaTeX text
/// (blocks that typst could not typeset in an earlier attempt).
pub struct Writer<'a> {
    pub(super) book: &'a Book,
    plain: &'a HashSet<(usize, usize)>,
    current: (usize, usize),
    labels: HashSet<String>,
    files: Vec<(String, Vec<u8>)>,
    file_paths: HashMap<PathBuf, String>,
    warnings: Vec<(usize, usize, String)>,
    pub(super) after_expr: bool,
    outputs_made: usize,
    /// Whether a `:bibliography:` block has placed the entries (their labels exist once).
    bibliography_placed: bool,
}

/// The label of a bibliography entry.
pub fn bib_label(key: &str) -> String {
    format!("bib-{}", label(key))
}

/// `a/b` + `../c/d` → `c/d`: a stem relative to a page's folder.
pub fn join_rel(page_stem: &str, rel: &str) -> String {
    let base = Path::new(page_stem).parent().unwrap_or(Path::new(""));
    relative_inside(&base.join(rel))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// Whether a page goes into the PDF: pages of the toc tree only.
fn in_pdf(book: &Book, page: usize) -> bool {
    book.pages[page].in_toc
}

impl<'a> Writer<'a> {
    /// A writer for `book`.
    pub fn new(book: &'a Book, plain: &'a HashSet<(usize, usize)>) -> Writer<'a> {
        let mut w = Writer {
            book,
            plain,
            current: (0, 0),
            labels: HashSet::new(),
            files: Vec::new(),
            file_paths: HashMap::new(),
            warnings: Vec::new(),
            after_expr: false,
            outputs_made: 0,
            bibliography_placed: false,
        };
        w.labels = w.emitted_labels();
        w
    }

    fn shown(&self, block: &Block) -> bool {
        block
            .tabs
            .names(&self.book.config.book.tabs)
            .contains(&self.book.config.default_tab())
    }

    /// Every label the PDF will carry, so that references to anything else stay plain text.
    fn emitted_labels(&self) -> HashSet<String> {
        let mut set = HashSet::new();
        for (pi, page) in self.book.pages.iter().enumerate() {
            if !in_pdf(self.book, pi) {
                continue;
            }
            for block in page.blocks.iter().filter(|b| self.shown(b)) {
                if let Some(anchor) = anchor_of(block) {
                    // The book's own title page carries no label of its own.
                    let book_title =
                        page.depth == 0 && page.parent.is_none() && is_title(page, block);
                    if !anchor.id.is_empty() && !book_title {
                        set.insert(page_label(pi, &anchor.id));
                    }
                }
            }
        }
        set
    }

    /// The label of element `id` on `page`, when the PDF has it.
    pub(super) fn ref_label(&self, page: usize, id: &str) -> Option<String> {
        let l = page_label(page, id);
        self.labels.contains(&l).then_some(l)
    }

    /// The whole source.
    pub fn generate(mut self) -> Generated {
        let book = self.book;
        let meta = &book.config.book;
        let authors: Vec<String> = meta.authors.iter().map(|a| string(a)).collect();
        let mut out = String::new();
        out.push_str("#import \"template.typ\": *\n#import \"mitex.typ\": *\n");
        out.push_str(&format!(
            "#show: d2l-book.with(title: {}, authors: ({}), release: {})\n\n",
            string(&meta.title),
            authors.iter().map(|a| format!("{a},")).collect::<String>(),
            string(&meta.release)
        ));
        let mut origins = Vec::new();
        for pi in 0..book.pages.len() {
            if !in_pdf(book, pi) {
                continue;
            }
            let page = &book.pages[pi];
            let root = page.depth == 0 && page.parent.is_none();
            for (bi, block) in page.blocks.iter().enumerate() {
                if !self.shown(block)
                    || (root && (is_title(page, block) || matches!(block.kind, BlockKind::Toc(_))))
                {
                    continue;
                }
                self.current = (pi, bi);
                let start = out.len();
                self.after_expr = false;
                self.block(&mut out, pi, block);
                out.push('\n');
                origins.push(Origin {
                    range: start..out.len(),
                    page: pi,
                    block: bi,
                });
                if let Some((title, text)) =
                    crate::render::notice_box(page).filter(|_| is_title(page, block))
                {
                    let see = self
                        .book
                        .labels
                        .get(crate::render::HOW_BUILT_LABEL)
                        .and_then(|t| t.number.as_ref())
                        .map_or(String::new(), |n| {
                            format!(" See Section {n}, How this book was built.")
                        });
                    out.push_str(&format!(
                        "#d2l-notice[#strong[{title}.] {}]\n\n",
                        markup(&format!("{text}{see}"))
                    ));
                }
            }
        }
        // At the end, unless a page of the PDF placed it with `:bibliography:`.
        if !self.bibliography_placed && !book.bibliography.entries.is_empty() {
            out.push_str("#heading(level: 1)[References]\n\n");
            self.bibliography(&mut out);
        }
        Generated {
            source: out,
            files: self.files,
            origins,
            warnings: self.warnings,
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push((self.current.0, line, message));
    }

    fn block(&mut self, out: &mut String, pi: usize, block: &Block) {
        let page = &self.book.pages[pi];
        match &block.kind {
            BlockKind::Heading(h) => {
                let level = (h.level as usize + page.depth.max(1) - 1).min(6);
                let number = h
                    .anchor
                    .number
                    .as_ref()
                    .map(|n| format!("#d2l-num[{}]", markup(n)))
                    .unwrap_or_default();
                let body = self.inlines(pi, &h.content);
                out.push_str(&format!(
                    "#heading(level: {level}, outlined: {})[{number}{}]",
                    level <= 3,
                    body.trim()
                ));
                self.push_label(out, pi, &h.anchor);
                out.push('\n');
            }
            BlockKind::Prose(p) => {
                let text = self.inlines(pi, p);
                out.push_str(&text);
            }
            BlockKind::Figure(f) => {
                let width = f.width.as_deref().and_then(width_ratio);
                let file = if self.simplified() {
                    None
                } else {
                    self.image_file(pi, &f.src)
                };
                let image = match file {
                    Some(path) => match width {
                        Some(w) => format!("image({}, width: {w})", string(&path)),
                        None => format!("d2l-output-image({})", string(&path)),
                    },
                    None if self.simplified() => format!("[#raw({})]", string(&f.src)),
                    None => {
                        self.warn(block.line, format!("image {} is not in the book folder; the PDF shows its path instead", f.src));
                        format!("[#raw({})]", string(&f.src))
                    }
                };
                let caption = self.caption(pi, "Fig.", &f.anchor, &f.caption);
                out.push_str(&format!(
                    "#figure({image}, caption: [{caption}], numbering: none)"
                ));
                self.push_label(out, pi, &f.anchor);
                out.push('\n');
            }
            BlockKind::Equation(e) => {
                if e.anchor.label.is_some() && self.labels.contains(&page_label(pi, &e.anchor.id)) {
                    out.push_str("#metadata(none)");
                    self.push_label(out, pi, &e.anchor);
                    out.push('\n');
                }
                let number = e
                    .anchor
                    .number
                    .as_ref()
                    .map(|n| string(n))
                    .unwrap_or_else(|| "none".into());
                let body = self.math(&e.latex, true, pi);
                out.push_str(&format!("#d2l-equation({number}, [{body}])\n"));
            }
            BlockKind::Table(t) => {
                let caption = self.caption(pi, "Table", &t.anchor, &t.caption);
                let body = self.inlines(pi, &t.body);
                out.push_str(&format!("#figure(kind: table, numbering: none, caption: figure.caption(position: top)[{caption}], [{}])", body.trim()));
                self.push_label(out, pi, &t.anchor);
                out.push('\n');
            }
            BlockKind::Code(cell) => self.cell(out, cell),
            BlockKind::Toc(_) => {}
            BlockKind::Bibliography(_) if !self.bibliography_placed => {
                self.bibliography_placed = true;
                self.bibliography(out);
            }
            BlockKind::Bibliography(_) => {}
        }
    }

    fn push_label(&self, out: &mut String, pi: usize, anchor: &Anchor) {
        let l = page_label(pi, &anchor.id);
        if !anchor.id.is_empty() && self.labels.contains(&l) {
            out.push_str(&format!(" <{l}>"));
        }
    }

    fn caption(
        &mut self,
        pi: usize,
        prefix: &str,
        anchor: &Anchor,
        caption: &[crate::model::Inline],
    ) -> String {
        let body = self.inlines(pi, caption);
        let body = body.trim();
        match &anchor.number {
            Some(n) => format!("#strong[{} {}] {body}", markup(prefix), markup(n)),
            None => body.to_string(),
        }
    }

    /// LaTeX → typst math (`$…$`), or the LaTeX as text when it cannot be converted.
    pub(super) fn math(&mut self, latex: &str, display: bool, _page: usize) -> String {
        let fallback = || format!("#d2l-latex({}, block: {display})", string(latex.trim()));
        if self.simplified() {
            return fallback();
        }
        match math::convert(latex) {
            Ok(m) if m.trim().is_empty() => String::new(),
            Ok(m) if display => format!("$ {} $", m.trim()),
            Ok(m) => format!("${}$", m.trim()),
            Err(e) => {
                let line = self.book.pages[self.current.0]
                    .blocks
                    .get(self.current.1)
                    .map_or(1, |b| b.line);
                self.warn(
                    line,
                    format!(
                        "cannot convert the LaTeX `{}` for the PDF ({e}); it is shown as written",
                        latex.trim()
                    ),
                );
                fallback()
            }
        }
    }

    /// Whether the current block is typeset simplified (typst rejected it before).
    fn simplified(&self) -> bool {
        self.plain.contains(&self.current)
    }

    fn cell(&mut self, out: &mut String, cell: &Cell) {
        if !cell.hide_code && !cell.code.trim().is_empty() {
            let lang = if cell.lang.is_empty() {
                "none"
            } else {
                cell.lang.as_str()
            };
            out.push_str(&format!(
                "#d2l-code(raw(block: true, lang: {}, {}))\n",
                string(lang),
                string(cell.code.trim_end_matches('\n'))
            ));
        }
        if cell.hide_outputs {
            return;
        }
        for o in &cell.outputs {
            self.output(out, o);
        }
    }

    fn output(&mut self, out: &mut String, o: &Output) {
        match o {
            Output::Stream { text, .. } => {
                out.push_str(&format!("#d2l-output[{}]\n", text_output(text)))
            }
            Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => {
                let data = &data.0;
                let image = data.contains_key("image/svg+xml") || data.contains_key("image/png");
                if image && self.simplified() {
                    out.push_str(
                        "#d2l-output[#emph[(an image output that could not be embedded)]]\n",
                    );
                } else if image {
                    let decoded = match (data.get("image/svg+xml"), data.get("image/png")) {
                        (Some(svg), _) => Ok(("svg", svg.as_bytes().to_vec())),
                        (None, Some(png)) => {
                            let clean: String =
                                png.chars().filter(|c| !c.is_whitespace()).collect();
                            base64::engine::general_purpose::STANDARD
                                .decode(clean)
                                .map(|b| ("png", b))
                                .map_err(|e| format!("not valid base64: {e}"))
                        }
                        (None, None) => Err("no image".to_string()),
                    };
                    match decoded
                        .and_then(|(ext, bytes)| check_image(ext, &bytes).map(|()| (ext, bytes)))
                    {
                        Ok((ext, bytes)) => {
                            let path = self.output_file(ext, bytes);
                            out.push_str(&format!(
                                "#d2l-output(d2l-output-image({}))\n",
                                string(&path)
                            ));
                        }
                        Err(e) => {
                            let line = self.book.pages[self.current.0]
                                .blocks
                                .get(self.current.1)
                                .map_or(1, |b| b.line);
                            self.warn(line, format!("an image output of this cell cannot be embedded in the PDF ({e}); it is left out"));
                            out.push_str("#d2l-output[#emph[(an image output that could not be embedded)]]\n");
                        }
                    }
                } else if let Some(text) = data.get("text/plain") {
                    out.push_str(&format!("#d2l-output[{}]\n", text_output(text)));
                }
            }
            Output::Error {
                ename,
                evalue,
                traceback,
            } => {
                let mut text = format!("{ename}: {evalue}");
                for line in traceback {
                    text.push('\n');
                    text.push_str(line);
                }
                out.push_str(&format!("#d2l-error[{}]\n", text_output(&text)));
            }
        }
    }

    fn output_file(&mut self, ext: &str, bytes: Vec<u8>) -> String {
        self.outputs_made += 1;
        let path = format!("outputs/{}.{ext}", self.outputs_made);
        self.files.push((path.clone(), bytes));
        path
    }

    /// The project path of a local image `src` on page `pi` (read into the world once).
    pub(super) fn image_file(&mut self, pi: usize, src: &str) -> Option<String> {
        if src.contains("://") || src.starts_with("data:") {
            return None;
        }
        let page_dir = self.book.pages[pi]
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let rel = relative_inside(&page_dir.join(src))?;
        if let Some(p) = self.file_paths.get(&rel) {
            return Some(p.clone());
        }
        let line = self.book.pages[self.current.0]
            .blocks
            .get(self.current.1)
            .map_or(1, |b| b.line);
        let bytes = match self.book.config.source_path(&rel) {
            Ok(path) => std::fs::read(path).ok()?,
            Err(message) => {
                self.warn(line, message);
                return None;
            }
        };
        let ext = rel
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if let Err(e) = check_image(&ext, &bytes) {
            self.warn(
                line,
                format!(
                    "image {} cannot be embedded in the PDF ({e})",
                    rel.display()
                ),
            );
            return None;
        }
        let path = format!("book/{}", rel.to_string_lossy().replace('\\', "/"));
        self.files.push((path.clone(), bytes));
        self.file_paths.insert(rel, path.clone());
        Some(path)
    }

    /// The bibliography's entries, each with the label citations link to.
    fn bibliography(&mut self, out: &mut String) {
        for e in self.book.bibliography.sorted() {
            let title = if e.url.is_empty() {
                markup(&e.title)
            } else {
                format!("#link({})[{}]", string(&e.url), markup(&e.title))
            };
            let venue = if e.venue.is_empty() {
                String::new()
            } else {
                format!(" #emph[{}].", markup(&e.venue))
            };
            out.push_str(&format!(
                "#d2l-bib-entry[#metadata(none) <{}>{} ({}). {title}.{venue}]\n",
                bib_label(&e.key),
                markup(&e.full_names.join(", ")),
                markup(&e.year)
            ));
        }
    }
}

/// Whether typst can decode an image (checked up front, so one broken image is reported
/// with its notebook line instead of failing the layout).
fn check_image(ext: &str, bytes: &[u8]) -> Result<(), String> {
    use typst::foundations::Bytes;
    use typst::visualize::{ExchangeFormat, RasterImage, SvgImage};
    let format = match ext {
        "svg" => {
            return SvgImage::new(Bytes::new(bytes.to_vec()))
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        }
        "png" => ExchangeFormat::Png,
        "jpg" | "jpeg" => ExchangeFormat::Jpg,
        "gif" => ExchangeFormat::Gif,
        _ => return Ok(()),
    };
    RasterImage::plain(Bytes::new(bytes.to_vec()), format)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn page_label(page: usize, id: &str) -> String {
    format!("p{page}-{}", label(id))
}

fn anchor_of(block: &Block) -> Option<&Anchor> {
    match &block.kind {
        BlockKind::Heading(h) => Some(&h.anchor),
        BlockKind::Figure(f) => Some(&f.anchor),
        BlockKind::Table(t) => Some(&t.anchor),
        BlockKind::Equation(e) if e.anchor.label.is_some() => Some(&e.anchor),
        _ => None,
    }
}

/// Whether `block` is the page's title (its first level-1 heading).
fn is_title(page: &crate::model::Page, block: &Block) -> bool {
    match (&block.kind, page.title_heading()) {
        (BlockKind::Heading(h), Some(t)) => std::ptr::eq(h, t),
        _ => false,
    }
}

/// `300px` → a share of the text width (about 620 px wide), `50%` → `50%`.
fn width_ratio(width: &str) -> Option<String> {
    let w = width.trim();
    if let Some(p) = w.strip_suffix('%') {
        let v: f64 = p.trim().parse().ok()?;
        return Some(format!("{:.1}%", v.clamp(1.0, 100.0)));
    }
    let px: f64 = w.strip_suffix("px").unwrap_or(w).trim().parse().ok()?;
    Some(format!("{:.1}%", (px / 620.0 * 100.0).clamp(5.0, 100.0)))
}

/// A text output as raw blocks: long outputs keep their first and last lines around an
/// omission marker, and very long lines are cut.
pub fn text_output(text: &str) -> String {
    let text = strip_ansi(text);
    let lines: Vec<String> = text.trim_end_matches('\n').lines().map(cut_line).collect();
    if lines.len() <= HEAD_LINES + TAIL_LINES + 5 {
        return format!("#raw(block: true, {})", string(&lines.join("\n")));
    }
    let omitted = lines.len() - HEAD_LINES - TAIL_LINES;
    format!(
        "#raw(block: true, {})#d2l-omitted({omitted})#raw(block: true, {})",
        string(&lines[..HEAD_LINES].join("\n")),
        string(&lines[lines.len() - TAIL_LINES..].join("\n"))
    )
}

fn cut_line(line: &str) -> String {
    if line.chars().count() <= MAX_LINE {
        return line.to_string();
    }
    let kept: String = line.chars().take(MAX_LINE).collect();
    format!("{kept} …")
}

/// Plain text of a page title, for messages.
pub fn title_of(book: &Book, page: usize) -> String {
    book.pages[page]
        .title_heading()
        .map(|h| plain_text(&h.content))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_outputs_are_trimmed_with_a_marker() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let t = text_output(&text);
        assert!(
            t.contains("line 1\\n")
                && t.contains("line 20\"")
                && !t.contains("line 21\\n")
                && t.contains("line 100"),
            "{t}"
        );
        assert!(t.contains("#d2l-omitted(70)"), "{t}");
        let short = text_output("a\nb\n");
        assert_eq!(short, "#raw(block: true, \"a\\nb\")");
        assert!(text_output(&"x".repeat(500)).contains(" …"));
    }

    #[test]
    fn widths_become_shares_of_the_text_width() {
        assert_eq!(width_ratio("310px").as_deref(), Some("50.0%"));
        assert_eq!(width_ratio("40%").as_deref(), Some("40.0%"));
        assert_eq!(width_ratio("2000px").as_deref(), Some("100.0%"));
        assert_eq!(width_ratio("wide"), None);
    }

    #[test]
    fn relative_stems() {
        assert_eq!(join_rel("chapter_a/x", "../chapter_b/y"), "chapter_b/y");
        assert_eq!(join_rel("chapter_a/x", "y"), "chapter_a/y");
    }
}
