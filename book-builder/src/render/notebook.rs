//! `build notebooks`: one nbformat 4.5 `.ipynb` per page and code tab.
//!
//! A tab's notebook holds only what that tab shows: consecutive non-code blocks become one
//! markdown cell, the tab's executable cells become code cells. Outputs come from evaluating
//! the default tab, so only its notebooks carry them. In a book with several tabs each tab
//! writes its own folder ([`Layout::notebooks_of`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::diag::Report;
use crate::model::{BlockKind, Book};
use crate::render::markdown_out::block_markdown;
use crate::render::{render_each_page, Layout, RenderContext, Renderer};

/// The notebook renderer.
pub struct Notebooks;

impl Renderer for Notebooks {
    fn name(&self) -> &'static str {
        "notebooks"
    }

    fn destination(&self, layout: &Layout) -> PathBuf {
        layout.notebooks.clone()
    }

    fn render(&self, ctx: &RenderContext) -> Result<Report> {
        let book = ctx.book;
        let mut written = Vec::new();
        for tab in &book.config.book.tabs {
            let dir = if tab == book.config.default_tab() {
                ctx.destination.clone()
            } else {
                ctx.layout.notebooks_of(tab)
            };
            let texts = render_each_page(book, |i| {
                serde_json::to_string_pretty(&notebook(book, i, tab)).map(|t| t + "\n")
            })?;
            for (page, text) in book.pages.iter().zip(texts) {
                let path = dir.join(format!("{}.ipynb", page.stem));
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, text?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            written.push(if book.config.book.tabs.len() > 1 {
                format!("{} ({tab})", dir.display())
            } else {
                dir.display().to_string()
            });
        }
        let summary = format!(
            "notebooks: {} .ipynb files in {}",
            book.pages.len() * written.len(),
            written.join(", ")
        );
        Ok(Report::done(Default::default(), summary))
    }
}

/// `x.md#a` → `x.ipynb#a`, for links between notebooks.
pub fn md_link_to_ipynb(url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    let (path, frag) = url
        .split_once('#')
        .map_or((url, None), |(p, f)| (p, Some(f)));
    match (path.strip_suffix(".md"), frag) {
        (Some(stem), Some(f)) => format!("{stem}.ipynb#{f}"),
        (Some(stem), None) => format!("{stem}.ipynb"),
        _ => url.to_string(),
    }
}

/// The notebook JSON of page `page` for code tab `tab`.
pub fn notebook(book: &Book, page: usize, tab: &str) -> Value {
    // Outputs are those of the default tab's run; another tab's code was not run.
    let evaluated = tab == book.config.default_tab();
    let p = &book.pages[page];
    let mut cells: Vec<Value> = Vec::new();
    let mut markdown: Vec<String> = Vec::new();
    let flush = |markdown: &mut Vec<String>, cells: &mut Vec<Value>| {
        if !markdown.is_empty() {
            let id = format!("md-{}", cells.len());
            cells.push(json!({"cell_type": "markdown", "id": id, "metadata": {}, "source": markdown.join("\n\n")}));
            markdown.clear();
        }
    };
    let mut rust = tab == "rust";
    for block in &p.blocks {
        if !block.tabs.names(&book.config.book.tabs).contains(&tab) {
            continue;
        }
        if let Some(md) = block_markdown(book, page, block) {
            if !md.trim().is_empty() {
                markdown.push(md);
            }
            continue;
        }
        let BlockKind::Code(cell) = &block.kind else {
            continue;
        };
        rust |= cell.lang == "rust";
        flush(&mut markdown, &mut cells);
        let mut metadata = serde_json::Map::new();
        let mut jupyter = serde_json::Map::new();
        if cell.hide_code {
            jupyter.insert("source_hidden".into(), json!(true));
        }
        if cell.hide_outputs {
            jupyter.insert("outputs_hidden".into(), json!(true));
        }
        if !jupyter.is_empty() {
            metadata.insert("jupyter".into(), Value::Object(jupyter));
        }
        let id = format!("code-{}", cells.len());
        let (count, outputs) = if evaluated {
            (cell.execution_count, cell.outputs.as_slice())
        } else {
            (None, &[][..])
        };
        cells.push(json!({
            "cell_type": "code",
            "id": id,
            "metadata": metadata,
            "execution_count": count,
            "source": cell.code,
            "outputs": outputs,
        }));
    }
    flush(&mut markdown, &mut cells);
    if let Some((title, text)) = crate::render::notice_box(p).filter(|_| evaluated) {
        let note = format!("> **{title}.** {text}");
        let at = usize::from(cells.first().is_some_and(|c| c["cell_type"] == "markdown"));
        cells.insert(at, json!({"cell_type": "markdown", "id": "synthetic-data-note", "metadata": {}, "source": note}));
    }
    let (kernelspec, language) = if rust {
        (
            json!({"name": "d2l-rust", "display_name": "Rust (d2l)", "language": "rust"}),
            json!({"name": "rust", "file_extension": ".rs", "mimetype": "text/rust"}),
        )
    } else {
        (
            json!({"name": "python3", "display_name": "Python 3", "language": "python"}),
            json!({"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}),
        )
    };
    json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": kernelspec, "language_info": language, "d2l": {"source": p.path.to_string_lossy(), "title": crate::render::numbered_title(book, page)}},
        "cells": cells,
    })
}
