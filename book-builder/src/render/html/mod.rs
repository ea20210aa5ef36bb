//! `build html`: a static site in `<output_dir>/html`.
//!
//! Pages are rendered in parallel (they only read the model), then written
//! with the stylesheet, script, search index, bibliography page, copied
//! resources and each page's `.ipynb` (for the download link).

pub mod content;
pub mod highlight;
pub mod layout;
pub mod math;
pub mod search;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::diag::Diagnostics;
use crate::model::{BlockKind, Book};
use crate::render::{notebook, relative_inside, Renderer};
use content::{esc, Ctx};

const CSS: &str = include_str!("../../../assets/d2l.css");
const JS: &str = include_str!("../../../assets/d2l.js");

/// The HTML renderer.
pub struct Html {
    /// Site folder, normally `<output_dir>/html`.
    pub out_dir: PathBuf,
}

impl Html {
    /// The renderer for a book's default site folder.
    pub fn for_book(book: &Book) -> Html {
        Html { out_dir: book.config.output_dir().join("html") }
    }
}

impl Renderer for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn render(&self, book: &Book, diags: &mut Diagnostics) -> Result<()> {
        let out = &self.out_dir;
        std::fs::create_dir_all(out.join("_static")).with_context(|| format!("cannot create {}", out.display()))?;
        let sidebar = layout::sidebar_entries(book);
        let pages = render_pages(book, &sidebar);
        for (stem, html) in pages {
            write(&out.join(format!("{stem}.html")), html.as_bytes())?;
        }
        write(&out.join("bibliography.html"), bibliography_page(book, &sidebar).as_bytes())?;
        let css = format!("{CSS}\n/* syntax highlighting (syntect) */\n{}", highlight::stylesheet());
        write(&out.join("_static/d2l.css"), css.as_bytes())?;
        write(&out.join("_static/d2l.js"), JS.as_bytes())?;
        write(&out.join("_static/searchindex.js"), search::index_script(book).as_bytes())?;
        copy_resources(book, out, diags)?;
        notebook::Notebooks { out_dir: out.join("notebooks") }.render(book, diags)?;
        Ok(())
    }
}

/// Renders every page to (stem, html), using all cores.
fn render_pages(book: &Book, sidebar: &[(usize, usize)]) -> Vec<(String, String)> {
    let n = book.pages.len();
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).min(n.max(1));
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let indices: Vec<usize> = (0..n).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = indices.chunks(chunk).map(|part| s.spawn(move || part.iter().map(|&i| (book.pages[i].stem.clone(), render_page(book, i, sidebar))).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// The full HTML of page `i`.
pub fn render_page(book: &Book, i: usize, sidebar: &[(usize, usize)]) -> String {
    let page = &book.pages[i];
    let ctx = Ctx { book, page: i, root: crate::render::root_prefix(&page.stem) };
    let mut body = content::render_blocks(&ctx, &page.blocks);
    if crate::outputs::uses_synthetic_data(page) {
        // After the title heading, so the notice is the first thing read.
        let notice = format!("<div class=\"admonition synthetic-data\"><p class=\"admonition-title\">Synthetic data</p><p>{}</p></div>\n", esc(crate::outputs::SYNTHETIC_NOTICE));
        let at = body.find("</h1>\n").map_or(0, |i| i + "</h1>\n".len());
        body.insert_str(at, &notice);
    }
    let meta = layout::PageMeta { local_toc: layout::local_toc(book, i), discussion: layout::discussion_url(book, i) };
    layout::page(&ctx, &esc(&crate::render::numbered_title(book, i)), &body, sidebar, Some(&meta))
}

fn bibliography_page(book: &Book, sidebar: &[(usize, usize)]) -> String {
    let ctx = Ctx { book, page: usize::MAX, root: String::new() };
    let mut body = String::from("<h1 id=\"references\">References</h1>\n<ol class=\"bibliography\">\n");
    let mut entries: Vec<_> = book.bibliography.entries.values().collect();
    entries.sort_by(|a, b| (a.family_names.first(), &a.year).cmp(&(b.family_names.first(), &b.year)));
    for e in entries {
        let title = if e.url.is_empty() { esc(&e.title) } else { format!("<a href=\"{}\">{}</a>", esc(&e.url), esc(&e.title)) };
        let venue = if e.venue.is_empty() { String::new() } else { format!(" <i>{}</i>.", esc(&e.venue)) };
        body.push_str(&format!("<li id=\"bib-{}\">{} ({}). {title}.{venue}</li>\n", esc(&e.key), esc(&e.full_names.join(", ")), esc(&e.year)));
    }
    body.push_str("</ol>\n");
    layout::page(&ctx, "References", &body, sidebar, None)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}


/// Copies `[build] resources` and every local figure image into the site.
fn copy_resources(book: &Book, out: &Path, diags: &mut Diagnostics) -> Result<()> {
    let root = &book.config.root;
    let mut files: Vec<PathBuf> = Vec::new();
    for res in &book.config.build.resources {
        let Some(rel) = relative_inside(Path::new(res)) else {
            diags.warn("book.toml", 1, format!("resource {res:?} is outside the book folder; it is not copied"));
            continue;
        };
        let src = root.join(&rel);
        if src.is_file() {
            files.push(rel);
        } else if src.is_dir() {
            for entry in walkdir::WalkDir::new(&src).into_iter().flatten().filter(|e| e.file_type().is_file()) {
                if let Ok(r) = entry.path().strip_prefix(root) {
                    files.push(r.to_path_buf());
                }
            }
        } else {
            diags.warn("book.toml", 1, format!("resource {res:?} does not exist in {}", root.display()));
        }
    }
    for page in &book.pages {
        for block in &page.blocks {
            let BlockKind::Figure(f) = &block.kind else { continue };
            if f.src.contains("://") || f.src.starts_with("data:") {
                continue;
            }
            let dir = page.path.parent().unwrap_or(Path::new(""));
            match relative_inside(&dir.join(&f.src)) {
                Some(rel) if root.join(&rel).is_file() => files.push(rel),
                Some(rel) => diags.warn(&page.path, block.line, format!("image {} does not exist: fix the path (it is relative to the page)", rel.display())),
                None => diags.warn(&page.path, block.line, format!("image {} is outside the book folder; it is not copied", f.src)),
            }
        }
    }
    files.sort();
    files.dedup();
    let output_rel = PathBuf::from(&book.config.build.output_dir);
    for rel in files {
        if rel.starts_with(&output_rel) {
            continue;
        }
        let dest = out.join(&rel);
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        std::fs::copy(root.join(&rel), &dest).with_context(|| format!("cannot copy {} into the site", rel.display()))?;
    }
    Ok(())
}

/// Appends `s` to `out` with `& < > " '` escaped.
pub fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
