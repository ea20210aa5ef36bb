//! The page frame: header, sidebar toc, local toc, prev/next, download links.

use super::content::{esc, Ctx};
use crate::model::{plain_text, BlockKind, Book};

/// The sidebar entries in reading order: (page, depth), root page excluded.
pub fn sidebar_entries(book: &Book) -> Vec<(usize, usize)> {
    book.pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.in_toc && p.depth > 0)
        .map(|(i, p)| (i, p.depth))
        .collect()
}

/// Previous and next pages in reading order (only pages in the toc).
pub fn neighbours(book: &Book, page: usize) -> (Option<usize>, Option<usize>) {
    let order: Vec<usize> = book
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.in_toc)
        .map(|(i, _)| i)
        .collect();
    match order.iter().position(|&i| i == page) {
        Some(k) => (
            k.checked_sub(1).map(|j| order[j]),
            order.get(k + 1).copied(),
        ),
        None => (None, None),
    }
}

/// Wraps an article body in the full page.
pub fn page(
    ctx: &Ctx,
    title: &str,
    body: &str,
    sidebar: &[(usize, usize)],
    page_meta: Option<&PageMeta>,
) -> String {
    let book = ctx.book;
    let root = &ctx.root;
    let mut nav = String::new();
    let mut depth = 0;
    for &(p, d) in sidebar {
        while depth < d {
            nav.push_str("<ul>");
            depth += 1;
        }
        while depth > d {
            nav.push_str("</ul>");
            depth -= 1;
        }
        let pg = &book.pages[p];
        let current = if p == ctx.page {
            " class=\"current\" aria-current=\"page\""
        } else {
            ""
        };
        let number = pg
            .number
            .as_ref()
            .map(|n| format!("<span class=\"section-number\">{n}.</span> "))
            .unwrap_or_default();
        nav.push_str(&format!(
            "<li><a href=\"{}\"{current}>{number}{}</a></li>",
            ctx.page_url(p),
            esc(&pg.title())
        ));
    }
    while depth > 0 {
        nav.push_str("</ul>");
        depth -= 1;
    }
    // The bibliography's own page, unless a page of the book places it.
    let has_bib = !book.bibliography.entries.is_empty() && book.bibliography_page().is_none();
    if has_bib {
        let cur = if page_meta.is_none() {
            " class=\"current\""
        } else {
            ""
        };
        nav.push_str(&format!(
            "<ul><li><a href=\"{root}bibliography.html\"{cur}>References</a></li></ul>"
        ));
    }
    let mut local = String::new();
    let mut footer = String::new();
    let mut actions = String::new();
    if let Some(meta) = page_meta {
        local = meta.local_toc.clone();
        let (prev, next) = neighbours(book, ctx.page);
        footer.push_str("<nav class=\"prev-next\">");
        if let Some(p) = prev {
            footer.push_str(&format!(
                "<a class=\"prev\" rel=\"prev\" href=\"{}\"><span>Previous</span>{}</a>",
                ctx.page_url(p),
                esc(&crate::render::numbered_title(book, p))
            ));
        }
        if let Some(n) = next {
            footer.push_str(&format!(
                "<a class=\"next\" rel=\"next\" href=\"{}\"><span>Next</span>{}</a>",
                ctx.page_url(n),
                esc(&crate::render::numbered_title(book, n))
            ));
        }
        footer.push_str("</nav>");
        // One link per tab; the tab switch shows the chosen tab's (the default's without script).
        let several = meta.notebooks.len() > 1;
        for (k, (tab, dir)) in meta.notebooks.iter().enumerate() {
            let (attrs, label) = if several {
                (
                    format!(
                        " data-tab=\"{}\"{}",
                        esc(tab),
                        if k == 0 { "" } else { " hidden" }
                    ),
                    format!("Notebook ({}, .ipynb)", esc(tab)),
                )
            } else {
                (String::new(), "Notebook (.ipynb)".to_string())
            };
            actions.push_str(&format!(
                "<a class=\"download\"{attrs} href=\"{root}{dir}{}.ipynb\" download>{label}</a>",
                book.pages[ctx.page].stem
            ));
        }
        if let Some(url) = &meta.discussion {
            actions.push_str(&format!(
                "<a class=\"discussion\" href=\"{}\">Discussion</a>",
                esc(url)
            ));
        }
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {book_title}</title>
<link rel="stylesheet" href="{root}_static/d2l.css">
<script>document.documentElement.dataset.root = "{root}";</script>
<script defer src="{root}_static/d2l.js"></script>
</head>
<body>
<header class="topbar">
<button class="menu-toggle" type="button" aria-label="Show contents" aria-controls="sidebar">☰</button>
<a class="book-title" href="{root}index.html">{book_title}</a>
<span class="release">{release}</span>
<div class="search"><input id="search-input" type="search" placeholder="Search the book" aria-label="Search the book" autocomplete="off"><ol id="search-results" hidden></ol></div>
</header>
<div class="layout">
<nav id="sidebar" class="sidebar" aria-label="Contents">{nav}</nav>
<main class="content">
<div class="page-actions">{actions}</div>
<article>
{body}
</article>
{footer}
</main>
<aside class="local-toc" aria-label="On this page">{local}</aside>
</div>
</body>
</html>
"#,
        book_title = esc(&book.config.book.title),
        release = esc(&book.config.book.release),
    )
}

/// Per-page extras for [`page`].
pub struct PageMeta {
    /// The page's headings as a nested list.
    pub local_toc: String,
    /// Discussion URL, when configured.
    pub discussion: Option<String>,
    /// Each tab whose `.ipynb` files are in the site, with their site-relative folder
    /// (`notebooks/`), the default tab first.
    pub notebooks: Vec<(String, String)>,
}

/// "On this page": the page's level 2 and 3 headings.
pub fn local_toc(book: &Book, page: usize) -> String {
    let mut s = String::new();
    let headings: Vec<_> = book.pages[page]
        .blocks
        .iter()
        .filter_map(|b| match &b.kind {
            BlockKind::Heading(h) if (2..=3).contains(&h.level) => Some(h),
            _ => None,
        })
        .collect();
    if headings.is_empty() {
        return s;
    }
    s.push_str("<p class=\"local-toc-title\">On this page</p><ul>");
    for h in headings {
        let number = h
            .anchor
            .number
            .as_ref()
            .map(|n| format!("{n}. "))
            .unwrap_or_default();
        s.push_str(&format!(
            "<li class=\"level-{}\"><a href=\"#{}\">{}{}</a></li>",
            h.level,
            esc(&h.anchor.id),
            number,
            esc(&plain_text(&h.content))
        ));
    }
    s.push_str("</ul>");
    s
}

/// The discussion URL for a page, from the `discussion_url` template.
pub fn discussion_url(book: &Book, page: usize) -> Option<String> {
    let template = book.config.build.discussion_url.as_ref()?;
    let p = &book.pages[page];
    let label = p
        .title_heading()
        .and_then(|h| h.anchor.label.clone())
        .unwrap_or_else(|| p.stem.clone());
    Some(
        template
            .replace("{label}", &label)
            .replace("{path}", &p.stem),
    )
}
