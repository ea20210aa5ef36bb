//! Renderers: each takes the finished book model and writes one kind of output into the
//! folder the driver gives it ([`Layout`]).
//!
//! | renderer | output |
//! |---|---|
//! | [`html::Html`] | the website, `<output_dir>/html` |
//! | [`notebook::Notebooks`] | one `.ipynb` per page and tab, `<output_dir>/html/notebooks` for the default tab and `notebooks_<tab>` beside it for each other tab (inside the site, for its download links) |
//! | [`pdf::Pdf`] | the whole book, `<output_dir>/pdf/<title>.pdf` |
//! | [`library::Library`] | the `//@save` cells as `d2l::book`, `[build] lib_dir`; `--check` compares instead |

pub mod html;
pub mod library;
pub mod markdown_out;
pub mod notebook;
pub mod pdf;

use std::path::{Component, Path, PathBuf};

use anyhow::Result;
use d2l_protocol::Notice;

use crate::config::Config;
use crate::diag::Report;
use crate::model::{Book, Page, Role, RoleKind, TargetKind};
use crate::passes::resolve::cite_keys;

/// Where each renderer writes. The driver makes one per build and hands each renderer its folder;
/// renderers that link to another's output (the site to the notebooks) read it here.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The website.
    pub html: PathBuf,
    /// The `.ipynb` files of the default tab (of the only tab, in a one-tab book).
    pub notebooks: PathBuf,
    /// The PDF's folder.
    pub pdf: PathBuf,
    /// The generated `d2l::book` modules.
    pub lib: PathBuf,
    /// The book's code tabs, the default first. Each other tab's notebooks go beside the
    /// default tab's folder, into `notebooks_<tab>`, as d2lbook does (`ipynb`, `ipynb_pytorch`).
    pub tabs: Vec<String>,
}

impl Layout {
    /// The book's layout: everything under `[build] output_dir` but the library, which goes to
    /// `lib_dir` (or the folder given on the command line).
    pub fn of(config: &Config, lib_dir: Option<PathBuf>) -> Layout {
        let out = config.output_dir();
        Layout {
            html: out.join("html"),
            notebooks: out.join("html").join("notebooks"),
            pdf: out.join("pdf"),
            lib: lib_dir.unwrap_or_else(|| config.lib_dir()),
            tabs: config.book.tabs.clone(),
        }
    }

    /// The folder of the notebooks of `tab`: [`Layout::notebooks`] for the default tab,
    /// `notebooks_<tab>` beside it for the others.
    pub fn notebooks_of(&self, tab: &str) -> PathBuf {
        if self.tabs.first().is_none_or(|default| default == tab) {
            return self.notebooks.clone();
        }
        let name = self
            .notebooks
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "notebooks".into());
        self.notebooks.with_file_name(format!("{name}_{tab}"))
    }

    /// The folder of `tab`'s notebooks as a URL relative to the site's root (`notebooks/`,
    /// `notebooks_pytorch/`), when the notebooks are inside the site.
    pub fn notebooks_in_site(&self, tab: &str) -> Option<String> {
        let dir = self.notebooks_of(tab);
        let rel = dir.strip_prefix(&self.html).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(if parts.is_empty() {
            String::new()
        } else {
            format!("{}/", parts.join("/"))
        })
    }
}

/// What a renderer gets: the finished book, its configuration, and its own output folder.
pub struct RenderContext<'a> {
    /// The book model, after every pass.
    pub book: &'a Book,
    /// `book.toml`.
    pub config: &'a Config,
    /// The folder (or, for a single-file output, the folder of the file) to write into.
    pub destination: PathBuf,
    /// Every renderer's folder, for links between outputs.
    pub layout: &'a Layout,
}

/// "Take the book and write output."
pub trait Renderer: Sync {
    /// A short name for messages (`html`, `notebooks`, `lib`).
    fn name(&self) -> &'static str;
    /// The folder this renderer writes into, chosen from the layout.
    fn destination(&self, layout: &Layout) -> PathBuf;
    /// Writes the output; reports problems with the sources and a summary line.
    fn render(&self, ctx: &RenderContext) -> Result<Report>;
}

/// Renders every page with `render` on all cores, in page order. A panic while rendering a
/// page fails with the page's path instead of leaving the page out.
pub fn render_each_page<T: Send>(
    book: &Book,
    render: impl Fn(usize) -> T + Sync,
) -> Result<Vec<T>> {
    use rayon::prelude::*;
    (0..book.pages.len())
        .into_par_iter()
        .map(|i| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(i))).map_err(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                anyhow::anyhow!("{}: the builder failed while rendering this page ({what}); please report it with the page", book.pages[i].path.display())
            })
        })
        .collect()
}

/// The box at the top of a page whose outputs were not made with the real data at full size:
/// its title, and its text before the link to the note on how the book was built.
pub fn notice_box(page: &Page) -> Option<(&'static str, String)> {
    if page.notices.is_empty() {
        return None;
    }
    let mut made_with = Vec::new();
    let mut synthetic = false;
    for notice in &page.notices {
        match notice {
            Notice::SyntheticData { dataset, switch } => {
                synthetic = true;
                made_with.push(format!("a generated stand-in for {dataset} ({switch})"));
            }
            Notice::ScaledRun { scale } => {
                made_with.push(format!("training shortened to {scale} of its full length ({}={scale}: fewer epochs and examples, the same models)", d2l_protocol::env::SCALE))
            }
        }
    }
    let title = if synthetic {
        "Synthetic data"
    } else {
        "Shortened run"
    };
    let text = format!("The outputs on this page were computed with {}, so numbers and plots differ from a full run on the real data.", made_with.join(" and with "));
    Some((title, text))
}

/// The label of the note that explains how the book was built, which the notice box links to.
pub const HOW_BUILT_LABEL: &str = "sec_how_built";

/// Where the notice box's "How this book was built" link points, if the book has that note.
pub fn how_built(book: &Book) -> Option<Dest> {
    book.labels.get(HOW_BUILT_LABEL).map(|t| Dest::Page {
        page: t.page,
        id: t.id.clone(),
    })
}

/// Where a piece of reference text points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// An element `id` on page `page`.
    Page {
        /// Index into [`Book::pages`].
        page: usize,
        /// Element id.
        id: String,
    },
    /// A bibliography entry.
    Bib(String),
}

/// What a role shows: text, some of it linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain text.
    Text(String),
    /// Linked text.
    Link(String, Dest),
    /// A reference that did not resolve (already warned about).
    Broken(String),
}

/// Turns a role into what the reader sees, the same for every renderer.
pub fn role_pieces(book: &Book, role: &Role) -> Vec<Piece> {
    match role.kind {
        RoleKind::Numref | RoleKind::Ref | RoleKind::Eqref => {
            let Some(t) = book.labels.get(&role.target) else {
                return vec![Piece::Broken(role.target.clone())];
            };
            let dest = Dest::Page {
                page: t.page,
                id: t.id.clone(),
            };
            let text = match (role.kind, &t.number, &role.text) {
                (RoleKind::Numref, Some(n), Some(custom)) => custom.replace("%s", n),
                (_, _, Some(custom)) => custom.clone(),
                (RoleKind::Eqref, Some(n), None) => format!("({n})"),
                (RoleKind::Numref, Some(n), None) => format!("{} {n}", t.kind.prefix()),
                (_, _, None) if t.kind == TargetKind::Equation => "(equation)".to_string(),
                (_, _, None) => t.title.clone(),
            };
            vec![Piece::Link(text, dest)]
        }
        RoleKind::Cite | RoleKind::Citep | RoleKind::Citet => {
            let mut out = Vec::new();
            let textual = role.kind == RoleKind::Citet;
            if !textual {
                out.push(Piece::Text("(".into()));
            }
            for (k, key) in cite_keys(&role.target).enumerate() {
                if k > 0 {
                    out.push(Piece::Text(if textual { ", ".into() } else { "; ".into() }));
                }
                match book.bibliography.get(key) {
                    Some(e) if textual => {
                        out.push(Piece::Link(
                            format!("{} ({})", e.short_authors(), e.year),
                            Dest::Bib(key.to_string()),
                        ));
                    }
                    Some(e) => out.push(Piece::Link(
                        format!("{}, {}", e.short_authors(), e.year),
                        Dest::Bib(key.to_string()),
                    )),
                    None => out.push(Piece::Broken(key.to_string())),
                }
            }
            if !textual {
                out.push(Piece::Text(")".into()));
            }
            out
        }
    }
}

/// Relative prefix from a page stem to the site root: `a/b` → `../`.
pub fn root_prefix(stem: &str) -> String {
    "../".repeat(stem.matches('/').count())
}

/// Stems of pages listed as numbered sections, and their plain titles with numbers.
pub fn numbered_title(book: &Book, page: usize) -> String {
    let p = &book.pages[page];
    match &p.number {
        Some(n) => format!("{n}. {}", p.title()),
        None => p.title(),
    }
}

/// A relative path without `.` and `..` (`a/../b` → `b`), or None when it would leave the root
/// (`../x`, an absolute path). Renderers use it for every path a page names.
pub(crate) fn relative_inside(rel: &Path) -> Option<PathBuf> {
    let mut parts = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                if !parts.pop() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(parts)
}

/// Text without ANSI escape sequences (compiler messages arrive coloured).
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_rendering_names_the_page() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/book");
        let (book, _) = crate::load::load_book(&root).unwrap();
        let stems = render_each_page(&book, |i| book.pages[i].stem.clone()).unwrap();
        assert_eq!(
            stems,
            book.pages
                .iter()
                .map(|p| p.stem.clone())
                .collect::<Vec<_>>(),
            "in page order"
        );
        let victim = book.page_index("chapter_basics/tables").unwrap();
        let err = render_each_page(&book, |i| if i == victim { panic!("boom") } else { i })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("chapter_basics/tables.md") && err.contains("boom"),
            "{err}"
        );
    }

    #[test]
    fn notebooks_are_linked_inside_the_site() {
        let tabs = vec!["rust".to_string(), "pytorch".to_string()];
        let layout = Layout {
            html: "/b/_build/html".into(),
            notebooks: "/b/_build/html/notebooks".into(),
            pdf: "/b/_build/pdf".into(),
            lib: "/b/lib".into(),
            tabs,
        };
        assert_eq!(
            layout.notebooks_in_site("rust").as_deref(),
            Some("notebooks/")
        );
        assert_eq!(
            layout.notebooks_in_site("pytorch").as_deref(),
            Some("notebooks_pytorch/")
        );
        assert_eq!(
            layout.notebooks_of("pytorch"),
            Path::new("/b/_build/html/notebooks_pytorch")
        );
        let outside = Layout {
            notebooks: "/b/_build/notebooks".into(),
            ..layout
        };
        assert_eq!(outside.notebooks_in_site("rust"), None);
    }
}
