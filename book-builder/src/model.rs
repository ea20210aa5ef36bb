//! The book model: what every renderer reads.
//!
//! A [`Book`] is its pages in reading order; a [`Page`] is a list of [`Block`]s
//! parsed once from markdown. Prose keeps pulldown-cmark events ([`Inline::Md`])
//! with d2lbook's roles lifted out as [`Inline::Role`]. Numbers, anchor ids and
//! the label table are filled by the passes in [`crate::passes`]; cell outputs
//! are filled by whoever evaluated the page (a sidecar file today, the
//! evaluator later). Renderers never parse markdown again.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use pulldown_cmark::{Event, TagEnd};
use serde::{Deserialize, Serialize};

use crate::bib::Bibliography;
use crate::config::Config;

/// The whole book.
#[derive(Debug)]
pub struct Book {
    /// `book.toml`.
    pub config: Config,
    /// Pages in reading order; the root `index.md` first when there is one.
    pub pages: Vec<Page>,
    /// Entries of `refs.bib` (empty when none is configured).
    pub bibliography: Bibliography,
    /// Every label of the book, filled by [`crate::passes::resolve`].
    pub labels: HashMap<String, Target>,
}

impl Book {
    /// The page that places the bibliography with `:bibliography:`, if any (the first).
    pub fn bibliography_page(&self) -> Option<usize> {
        self.pages.iter().position(|p| {
            p.blocks
                .iter()
                .any(|b| matches!(b.kind, BlockKind::Bibliography(_)))
        })
    }

    /// The page whose stem (path without `.md`) is `stem`.
    pub fn page_index(&self, stem: &str) -> Option<usize> {
        self.pages.iter().position(|p| p.stem == stem)
    }
}

/// One markdown notebook.
#[derive(Debug, Clone)]
pub struct Page {
    /// Source path relative to the book root, e.g. `chapter_intro/basics.md`.
    pub path: PathBuf,
    /// The path without `.md`, with `/` separators: the page's name in tocs and URLs.
    pub stem: String,
    /// Parsed content.
    pub blocks: Vec<Block>,
    /// Section number such as `3.1`, when the page sits in a numbered toc.
    pub number: Option<String>,
    /// Pages listed by this page's toc blocks, as indices into [`Book::pages`].
    pub children: Vec<usize>,
    /// The page whose toc lists this one.
    pub parent: Option<usize>,
    /// Depth in the toc tree (root 0, chapters 1, sections 2).
    pub depth: usize,
    /// False for pages matched by the globs but listed in no toc.
    pub in_toc: bool,
    /// How the page's outputs were made, when a reader must know (a synthetic stand-in, a
    /// shortened run): taken out of the cell outputs by [`crate::passes::notices`].
    pub notices: Vec<d2l_protocol::Notice>,
}

impl Page {
    /// The first level-1 heading, if any.
    pub fn title_heading(&self) -> Option<&Heading> {
        self.blocks.iter().find_map(|b| match &b.kind {
            BlockKind::Heading(h) if h.level == 1 => Some(h),
            _ => None,
        })
    }

    /// Plain-text title (the first heading, else the stem).
    pub fn title(&self) -> String {
        self.title_heading()
            .map(|h| plain_text(&h.content))
            .unwrap_or_else(|| self.stem.clone())
    }

    /// Executable cells shown under `tab`, in page order (what evaluating
    /// that tab runs). `book_tabs` is the book's tab list.
    pub fn input_cells<'a>(
        &'a self,
        tab: &'a str,
        book_tabs: &'a [String],
    ) -> impl Iterator<Item = &'a Cell> + 'a {
        self.blocks.iter().filter_map(move |b| match &b.kind {
            BlockKind::Code(c) if c.executable && b.tabs.names(book_tabs).contains(&tab) => Some(c),
            _ => None,
        })
    }

    /// Like [`Page::input_cells`], mutable (for attaching outputs).
    pub fn input_cells_mut<'a>(
        &'a mut self,
        tab: &'a str,
        book_tabs: &'a [String],
    ) -> impl Iterator<Item = &'a mut Cell> + 'a {
        self.blocks
            .iter_mut()
            .filter_map(move |b| match &mut b.kind {
                BlockKind::Code(c) if c.executable && b.tabs.names(book_tabs).contains(&tab) => {
                    Some(c)
                }
                _ => None,
            })
    }
}

/// One block of a page with where it came from and which tabs show it.
#[derive(Debug, Clone)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// 1-based source line where it starts.
    pub line: usize,
    /// Which code tabs show this block.
    pub tabs: Tabs,
}

/// Which code tabs show a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tabs {
    /// Shown whatever tab is selected (plain markdown, listings, `@tab all`).
    All,
    /// Belongs to the book's default tab (an untagged executable cell).
    Default,
    /// Only under these tabs (`//@tab a, b` or `:begin_tab:`).
    Only(Vec<String>),
}

impl Tabs {
    /// The tabs this block is shown under, given the book's tab list.
    pub fn names<'a>(&'a self, book_tabs: &'a [String]) -> Vec<&'a str> {
        match self {
            Tabs::All => book_tabs.iter().map(String::as_str).collect(),
            Tabs::Default => book_tabs.first().map(String::as_str).into_iter().collect(),
            Tabs::Only(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The kinds of block.
#[derive(Debug, Clone)]
pub enum BlockKind {
    /// `#`..`######`.
    Heading(Heading),
    /// Paragraphs, lists, quotes, rules, raw HTML: a balanced run of events.
    Prose(Vec<Inline>),
    /// A paragraph that is only an image, with its caption and size.
    Figure(Figure),
    /// A `$$` display equation.
    Equation(Equation),
    /// A table with an optional `: caption` paragraph before it.
    Table(Table),
    /// A fenced code block: an executable cell or a listing.
    Code(Cell),
    /// A ```` ```toc ```` block.
    Toc(Toc),
    /// `:bibliography:` — the book's bibliography goes here (the file as written).
    Bibliography(String),
}

/// Number, anchor and label shared by numbered things.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anchor {
    /// `:label:` given in the source.
    pub label: Option<String>,
    /// 1-based line of the `:label:` (0 when unknown).
    pub label_line: usize,
    /// HTML id (the label, or a generated one); set by numbering.
    pub id: String,
    /// Number such as `3.1.2`; set by numbering where it applies.
    pub number: Option<String>,
}

/// A heading.
#[derive(Debug, Clone)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Inline content.
    pub content: Vec<Inline>,
    /// Label, id and number.
    pub anchor: Anchor,
}

/// An image with a caption.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Image path as written (relative to the page).
    pub src: String,
    /// Caption (the image's alt text).
    pub caption: Vec<Inline>,
    /// `:width:` value, e.g. `400px`.
    pub width: Option<String>,
    /// `:height:` value.
    pub height: Option<String>,
    /// Label, id and number.
    pub anchor: Anchor,
}

/// A display equation.
#[derive(Debug, Clone)]
pub struct Equation {
    /// LaTeX source between the `$$`.
    pub latex: String,
    /// Label, id and number (only labelled equations are numbered).
    pub anchor: Anchor,
}

/// A table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Caption from the `: caption` paragraph before the table.
    pub caption: Vec<Inline>,
    /// The table's events, from `Start(Table)` to `End(Table)`.
    pub body: Vec<Inline>,
    /// Label, id and number.
    pub anchor: Anchor,
}

/// A ```` ```toc ```` block.
#[derive(Debug, Clone)]
pub struct Toc {
    /// `:maxdepth:`, how deep the rendered list goes.
    pub maxdepth: usize,
    /// `:numbered:`, whether the listed pages get numbers.
    pub numbered: bool,
    /// Entries as written (page stems relative to this page), with their lines.
    pub entries: Vec<(String, usize)>,
    /// Entries resolved to page indices (by the loader).
    pub pages: Vec<usize>,
}

/// Inline (and block-structure) content of prose.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// A markdown event (paragraph starts, text, emphasis, inline math, ...).
    Md(Event<'static>),
    /// A d2lbook role such as :numref:`x`.
    Role(Role),
}

/// A cross-reference or citation role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Which role.
    pub kind: RoleKind,
    /// The label or comma-separated citation keys.
    pub target: String,
    /// Text given as `text <label>`, if any.
    pub text: Option<String>,
    /// 1-based line in the page.
    pub line: usize,
}

/// Roles that refer to something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// `:numref:` — "Section 3.1", "Fig. 3.1.2", "Table 3.1.1".
    Numref,
    /// `:ref:` — the title of a section.
    Ref,
    /// `:eqref:` — "(3.1.2)".
    Eqref,
    /// `:cite:` — "(Author, 2016)".
    Cite,
    /// `:citet:` — "Author (2016)".
    Citet,
    /// `:citep:` — "(Author, 2016)".
    Citep,
}

/// A fenced code block.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Language: `rust`, `python`, `bash`, or empty.
    pub lang: String,
    /// True for `{.rust .input}` / `{.python .input}` cells; false for listings.
    pub executable: bool,
    /// The code with builder directives (`//@tab`, `// Hide code`) removed.
    pub code: String,
    /// `//@save` / `#@save`: part of the library.
    pub save: bool,
    /// `// Hide code`: show only the outputs.
    pub hide_code: bool,
    /// `// Hide outputs`: show only the code.
    pub hide_outputs: bool,
    /// Outputs from evaluation, in order; empty when not evaluated.
    pub outputs: Vec<Output>,
    /// The execution count from evaluation.
    pub execution_count: Option<u32>,
}

/// One output of an evaluated cell, in nbformat's JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output_type", rename_all = "snake_case")]
pub enum Output {
    /// Text written to stdout or stderr.
    Stream {
        /// `stdout` or `stderr`.
        name: String,
        /// The text.
        #[serde(with = "multiline")]
        text: String,
    },
    /// Rich display (plots, tables).
    DisplayData {
        /// MIME type → content (base64 for `image/png`).
        data: MimeBundle,
        /// Per-MIME metadata.
        #[serde(default)]
        metadata: serde_json::Map<String, serde_json::Value>,
    },
    /// The value of the cell's last expression.
    ExecuteResult {
        /// MIME type → content.
        data: MimeBundle,
        /// Per-MIME metadata.
        #[serde(default)]
        metadata: serde_json::Map<String, serde_json::Value>,
        /// The cell's execution count.
        execution_count: Option<u32>,
    },
    /// A compile error or panic.
    Error {
        /// Error name.
        ename: String,
        /// Error message.
        evalue: String,
        /// Lines of the trace or compiler message.
        #[serde(default)]
        traceback: Vec<String>,
    },
}

/// MIME type → content, as in nbformat (multi-line strings may be lists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MimeBundle(#[serde(with = "multiline_map")] pub BTreeMap<String, String>);

/// Serde for nbformat's "string or list of strings".
mod multiline {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum Text {
        One(String),
        Many(Vec<String>),
    }

    impl Text {
        pub(super) fn join(self) -> String {
            match self {
                Text::One(s) => s,
                Text::Many(v) => v.concat(),
            }
        }
    }

    pub fn serialize<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Text::deserialize(d)?.join())
    }
}

mod multiline_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::multiline::Text;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        // JSON payloads (application/json) stay strings here; fine for nbformat.
        map.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        raw.into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Array(_) => Text::deserialize(v)
                        .map_err(serde::de::Error::custom)?
                        .join(),
                    other => other.to_string(),
                };
                Ok((k, text))
            })
            .collect()
    }
}

/// What a label points at, as resolved over the whole book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The page holding it.
    pub page: usize,
    /// The HTML id on that page.
    pub id: String,
    /// What kind of thing it is.
    pub kind: TargetKind,
    /// Its number, when numbered.
    pub number: Option<String>,
    /// Plain-text title or caption.
    pub title: String,
    /// Source line of the label.
    pub line: usize,
}

/// Kinds of labelled things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A heading.
    Section,
    /// A figure.
    Figure,
    /// A table.
    Table,
    /// A display equation.
    Equation,
}

impl TargetKind {
    /// The word put before a number by `:numref:`.
    pub fn prefix(self) -> &'static str {
        match self {
            TargetKind::Section => "Section",
            TargetKind::Figure => "Fig.",
            TargetKind::Table => "Table",
            TargetKind::Equation => "Equation",
        }
    }
}

/// Concatenated text of inlines (code spans included, markup dropped).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Md(Event::Text(t) | Event::Code(t) | Event::InlineMath(t)) => out.push_str(t),
            Inline::Md(
                Event::SoftBreak
                | Event::HardBreak
                | Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell),
            ) => out.push(' '),
            Inline::Role(r) => out.push_str(r.text.as_deref().unwrap_or(&r.target)),
            _ => {}
        }
    }
    out
}
