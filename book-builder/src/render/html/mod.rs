//! `build html`: a static site in `<output_dir>/html`.
//!
//! Pages are rendered in parallel (they only read the model), then written
//! with the stylesheet, script, search index, bibliography page and copied
//! resources. Each page links to its `.ipynb`, which the notebook renderer writes into the
//! folder the [`Layout`](crate::render::Layout) names.

pub mod content;
pub mod highlight;
pub mod layout;
pub mod math;
pub mod search;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::diag::{Diagnostics, Report};
use crate::model::{BlockKind, Book};
use crate::render::{relative_inside, render_each_page, Layout, RenderContext, Renderer};
use content::{esc, Ctx};

const CSS: &str = include_str!("../../../assets/d2l.css");
const JS: &str = include_str!("../../../assets/d2l.js");

/// The HTML renderer.
pub struct Html;

impl Renderer for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn destination(&self, layout: &Layout) -> PathBuf {
        layout.html.clone()
    }

    fn render(&self, ctx: &RenderContext) -> Result<Report> {
        let (book, out) = (ctx.book, &ctx.destination);
        let mut found = Diagnostics::default();
        let diags = &mut found;
        std::fs::create_dir_all(out.join("_static"))
            .with_context(|| format!("cannot create {}", out.display()))?;
        let sidebar = layout::sidebar_entries(book);
        let notebooks: Vec<(String, String)> = book
            .config
            .book
            .tabs
            .iter()
            .filter_map(|t| Some((t.clone(), ctx.layout.notebooks_in_site(t)?)))
            .collect();
        let pages = render_each_page(book, |i| render_page(book, i, &sidebar, &notebooks))?;
        for (page, html) in book.pages.iter().zip(pages) {
            write(&out.join(format!("{}.html", page.stem)), html.as_bytes())?;
        }
        // A page with `:bibliography:` holds the bibliography; otherwise it gets a page of its own.
        if book.bibliography_page().is_none() {
            write(
                &out.join("bibliography.html"),
                bibliography_page(book, &sidebar).as_bytes(),
            )?;
        }
        let css = format!(
            "{CSS}\n/* syntax highlighting (syntect) */\n{}",
            highlight::stylesheet()
        );
        write(&out.join("_static/d2l.css"), css.as_bytes())?;
        write(&out.join("_static/d2l.js"), JS.as_bytes())?;
        write(
            &out.join("_static/searchindex.js"),
            search::index_script(book).as_bytes(),
        )?;
        copy_resources(book, out, diags)?;
        Ok(Report::done(
            found,
            format!("html: {} pages in {}", book.pages.len(), out.display()),
        ))
    }
}

/// The full HTML of page `i`; `notebooks` holds each tab with the site-relative folder of its
/// `.ipynb` files (`notebooks/`), for the tabs whose notebooks are in the site.
pub fn render_page(
    book: &Book,
    i: usize,
    sidebar: &[(usize, usize)],
    notebooks: &[(String, String)],
) -> String {
    let page = &book.pages[i];
    let ctx = Ctx {
        book,
        page: i,
        root: crate::render::root_prefix(&page.stem),
    };
    let mut body = content::render_blocks(&ctx, &page.blocks);
    if let Some((title, text)) = crate::render::notice_box(page) {
        // After the title heading, so the notice is the first thing read.
        let link = crate::render::how_built(book).map_or(String::new(), |dest| {
            format!(
                " See <a href=\"{}\">How this book was built</a>.",
                ctx.dest_url(&dest)
            )
        });
        let notice = format!("<div class=\"admonition build-notice\"><p class=\"admonition-title\">{title}</p><p>{}{link}</p></div>\n", esc(&text));
        let at = body.find("</h1>\n").map_or(0, |i| i + "</h1>\n".len());
        body.insert_str(at, &notice);
    }
    let meta = layout::PageMeta {
        local_toc: layout::local_toc(book, i),
        discussion: layout::discussion_url(book, i),
        notebooks: notebooks.to_vec(),
    };
    layout::page(
        &ctx,
        &esc(&crate::render::numbered_title(book, i)),
        &body,
        sidebar,
        Some(&meta),
    )
}

fn bibliography_page(book: &Book, sidebar: &[(usize, usize)]) -> String {
    let ctx = Ctx {
        book,
        page: usize::MAX,
        root: String::new(),
    };
    let mut body = String::from("<h1 id=\"references\">References</h1>\n");
    bibliography_list(book, &mut body);
    layout::page(&ctx, "References", &body, sidebar, None)
}

/// The book's bibliography as a list whose items carry the ids citations link to.
pub fn bibliography_list(book: &Book, out: &mut String) {
    out.push_str("<ol class=\"bibliography\">\n");
    for e in book.bibliography.sorted() {
        let title = if e.url.is_empty() {
            esc(&e.title)
        } else {
            format!("<a href=\"{}\">{}</a>", esc(&e.url), esc(&e.title))
        };
        let venue = if e.venue.is_empty() {
            String::new()
        } else {
            format!(" <i>{}</i>.", esc(&e.venue))
        };
        out.push_str(&format!(
            "<li id=\"bib-{}\">{} ({}). {title}.{venue}</li>\n",
            esc(&e.key),
            esc(&e.full_names.join(", ")),
            esc(&e.year)
        ));
    }
    out.push_str("</ol>\n");
}

/// Writes a file of the site whole or not at all (a temporary file, then a rename), so that
/// `serve` never hands out a half-written page.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // Temporary files are private (0600); a site is for reading.
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

/// Copies `[build] resources` and every local figure image into the site.
fn copy_resources(book: &Book, out: &Path, diags: &mut Diagnostics) -> Result<()> {
    let root = &book.config.root;
    let mut files: Vec<PathBuf> = Vec::new();
    for res in &book.config.build.resources {
        let Some(rel) = relative_inside(Path::new(res)) else {
            diags.warn(
                "book.toml",
                1,
                format!("resource {res:?} is outside the book folder; it is not copied"),
            );
            continue;
        };
        let src = root.join(&rel);
        if src.is_file() {
            files.push(rel);
        } else if src.is_dir() {
            for entry in walkdir::WalkDir::new(&src)
                .into_iter()
                .flatten()
                .filter(|e| e.file_type().is_file())
            {
                if let Ok(r) = entry.path().strip_prefix(root) {
                    files.push(r.to_path_buf());
                }
            }
        } else {
            diags.warn(
                "book.toml",
                1,
                format!("resource {res:?} does not exist in {}", root.display()),
            );
        }
    }
    for page in &book.pages {
        for block in &page.blocks {
            let BlockKind::Figure(f) = &block.kind else {
                continue;
            };
            if f.src.contains("://") || f.src.starts_with("data:") {
                continue;
            }
            let dir = page.path.parent().unwrap_or(Path::new(""));
            match relative_inside(&dir.join(&f.src)) {
                Some(rel) if root.join(&rel).is_file() => files.push(rel),
                Some(rel) => diags.warn(
                    &page.path,
                    block.line,
                    format!(
                        "image {} does not exist: fix the path (it is relative to the page)",
                        rel.display()
                    ),
                ),
                None => diags.warn(
                    &page.path,
                    block.line,
                    format!(
                        "image {} is outside the book folder; it is not copied",
                        f.src
                    ),
                ),
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
        match book.config.source_path(&rel) {
            Ok(src) => std::fs::copy(src, &dest)
                .map(|_| ())
                .with_context(|| format!("cannot copy {} into the site", rel.display()))?,
            Err(message) => diags.warn(&rel, 1, message),
        }
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
