//! Finding, parsing and ordering the pages of a book.
//!
//! [`load_book`] reads `book.toml`, parses every notebook matched by its globs,
//! puts the pages in toc order (depth first from `index.md`) and reads `refs.bib`.
//! Everything after that (numbers, references, outputs) is a [pass](crate::passes) that the
//! [driver](crate::driver) runs.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::bib::Bibliography;
use crate::config::Config;
use crate::diag::Diagnostics;
use crate::model::{BlockKind, Book, Page};
use crate::parse::parse_page;

/// Loads and parses the book rooted at `root` (no passes).
pub fn load_book(root: &Path) -> Result<(Book, Diagnostics)> {
    let config = Config::load(root)?;
    load_with_config(config)
}

/// Like [`load_book`] with an already read configuration.
pub fn load_with_config(config: Config) -> Result<(Book, Diagnostics)> {
    let mut diags = Diagnostics::default();
    let files = discover(&config)?;
    let mut pages = Vec::with_capacity(files.len());
    for rel in &files {
        let path = match config.source_path(rel) {
            Ok(path) => path,
            Err(message) => {
                diags.error(rel, 1, message);
                continue;
            }
        };
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", rel.display()))?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                // Report where, and go on with the other notebooks.
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                diags.error(
                    rel,
                    line,
                    "this line is not UTF-8 text: save the notebook as UTF-8",
                );
                continue;
            }
        };
        if text.trim().is_empty() {
            diags.warn(
                rel,
                1,
                "the notebook is empty: give it a `# Title` heading, or remove it",
            );
        }
        pages.push(parse_page(rel, &text, &mut diags));
    }
    let pages = order_pages(pages, &mut diags);
    let bibliography = match bibliography_file(&config, &pages) {
        Some(file) => {
            let file = file.as_str();
            match config
                .source_path(Path::new(file))
                .map_err(std::io::Error::other)
                .and_then(std::fs::read_to_string)
            {
                Ok(text) => Bibliography::parse(&text).unwrap_or_else(|(line, e)| {
                    diags.error(file, line, format!("cannot parse the bibliography: {e}"));
                    Bibliography::default()
                }),
                Err(e) => {
                    diags.error(file, 1, format!("cannot read the bibliography ({e}): fix [build] bibliography in book.toml"));
                    Bibliography::default()
                }
            }
        }
        None => Bibliography::default(),
    };
    Ok((
        Book {
            config,
            pages,
            bibliography,
            labels: HashMap::new(),
        },
        diags,
    ))
}

/// The bibliography's file relative to the root: `[build] bibliography`, else the file a
/// `:bibliography:` role names (relative to its page, as in d2lbook).
fn bibliography_file(config: &Config, pages: &[Page]) -> Option<String> {
    if let Some(file) = &config.build.bibliography {
        return Some(file.clone());
    }
    pages.iter().find_map(|p| {
        p.blocks.iter().find_map(|b| match &b.kind {
            BlockKind::Bibliography(file) if !file.trim().is_empty() => {
                let joined = p.path.parent().unwrap_or(Path::new("")).join(file.trim());
                Some(
                    crate::render::relative_inside(&joined)
                        .unwrap_or(joined)
                        .to_string_lossy()
                        .into_owned(),
                )
            }
            _ => None,
        })
    })
}

/// Notebook files matched by the globs, minus exclusions and the output dir, sorted.
pub fn discover(config: &Config) -> Result<Vec<PathBuf>> {
    let excl: Vec<glob::Pattern> = config
        .build
        .exclusions
        .iter()
        .map(|e| {
            glob::Pattern::new(e).with_context(|| format!("bad exclusion glob {e:?} in book.toml"))
        })
        .collect::<Result<_>>()?;
    let out = without_dots(Path::new(&config.build.output_dir));
    // `.` and `./x` as the root: glob yields `a.md` for `./a.md`, so both sides lose their `.`s.
    let root = without_dots(&config.root);
    let mut files = Vec::new();
    for pattern in &config.build.notebooks {
        if Path::new(pattern).is_absolute()
            || Path::new(pattern)
                .components()
                .any(|c| matches!(c, Component::ParentDir))
        {
            anyhow::bail!("notebooks glob {pattern:?} in book.toml leaves the book folder: name notebooks inside it, relative to book.toml");
        }
        let pattern_clean = without_dots(Path::new(pattern))
            .to_string_lossy()
            .into_owned();
        // The root is a folder name, not a pattern: `[` or `*` in it match themselves.
        let full = if root.as_os_str().is_empty() {
            pattern_clean
        } else {
            format!(
                "{}/{pattern_clean}",
                glob::Pattern::escape(&root.to_string_lossy())
            )
        };
        let entries = glob::glob(&full)
            .with_context(|| format!("bad notebooks glob {pattern:?} in book.toml"))?;
        for entry in entries.flatten() {
            let entry_clean = without_dots(&entry);
            let Ok(rel) = entry_clean.strip_prefix(&root) else {
                continue;
            };
            let rel = rel.to_path_buf();
            if rel.starts_with(&out)
                || excl.iter().any(|p| p.matches_path(&rel))
                || !entry.is_file()
            {
                continue;
            }
            if !files.contains(&rel) {
                files.push(rel);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no notebook found: [build] notebooks = {:?} in {} matches no file in {}; run d2l-book in the folder that holds book.toml (or pass --root), or fix the globs",
            config.build.notebooks,
            config.root.join("book.toml").display(),
            display_root(&config.root)
        );
    }
    Ok(files)
}

/// `p` without `.` components (`./a/./b` → `a/b`, `.` → empty), so that a relative root and
/// the paths glob returns under it compare equal.
fn without_dots(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The root as a reader recognises it: its absolute path when it can be found.
fn display_root(root: &Path) -> String {
    std::fs::canonicalize(root)
        .unwrap_or_else(|_| root.to_path_buf())
        .display()
        .to_string()
}

/// `dir/../x` → `x`; entries are relative to the listing page's folder.
fn join_stem(page_stem: &str, entry: &str) -> String {
    let base = Path::new(page_stem).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for c in base.join(entry).components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

/// Orders pages depth first along the toc blocks, starting at `index`.
fn order_pages(mut pages: Vec<Page>, diags: &mut Diagnostics) -> Vec<Page> {
    let by_stem: HashMap<String, usize> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.stem.clone(), i))
        .collect();
    let mut order: Vec<usize> = Vec::new();
    let mut placed = vec![false; pages.len()];
    // (page, parent, depth)
    let mut stack: Vec<(usize, Option<usize>, usize)> = by_stem
        .get("index")
        .map(|&i| (i, None, 0))
        .into_iter()
        .collect();
    let mut parent_of: Vec<Option<usize>> = vec![None; pages.len()];
    let mut depth_of = vec![0usize; pages.len()];
    while let Some((idx, parent, depth)) = stack.pop() {
        if placed[idx] {
            continue;
        }
        placed[idx] = true;
        order.push(idx);
        parent_of[idx] = parent;
        depth_of[idx] = depth;
        let stem = pages[idx].stem.clone();
        let path = pages[idx].path.clone();
        let mut kids = Vec::new();
        for block in &mut pages[idx].blocks {
            let BlockKind::Toc(toc) = &mut block.kind else {
                continue;
            };
            for (entry, line) in &toc.entries {
                let target = join_stem(&stem, entry);
                match by_stem.get(&target) {
                    Some(&k) if placed[k] || kids.contains(&k) => diags.warn(&path, *line, format!("toc entry `{entry}` is already listed elsewhere: list each page once")),
                    Some(&k) => {
                        toc.pages.push(k);
                        kids.push(k);
                    }
                    None => diags.error(&path, *line, format!("toc entry `{entry}` names no notebook ({target}.md is missing or not matched by [build] notebooks)")),
                }
            }
        }
        for &k in kids.iter().rev() {
            stack.push((k, Some(idx), depth + 1));
        }
    }
    let in_toc = order.len();
    for (i, p) in pages.iter().enumerate() {
        if !placed[i] {
            if p.stem != "index" && !order.is_empty() {
                diags.warn(&p.path, 1, "this notebook is in no toc: list it in a ```toc block or add it to [build] exclusions");
            }
            order.push(i);
        }
    }
    // Renumber indices into the new order.
    let mut new_index = vec![0usize; pages.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<Page>> = pages.into_iter().map(Some).collect();
    let mut out: Vec<Page> = Vec::with_capacity(slots.len());
    for (new, &old) in order.iter().enumerate() {
        let mut p = slots[old].take().expect("each page is placed once");
        p.parent = parent_of[old].map(|q| new_index[q]);
        p.depth = depth_of[old];
        p.in_toc = new < in_toc;
        for block in &mut p.blocks {
            if let BlockKind::Toc(toc) = &mut block.kind {
                for k in &mut toc.pages {
                    *k = new_index[*k];
                }
                p.children.extend(toc.pages.iter().copied());
            }
        }
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::join_stem;

    #[test]
    fn toc_entries_are_relative_to_the_listing_page() {
        assert_eq!(join_stem("index", "chapter_a/index"), "chapter_a/index");
        assert_eq!(join_stem("chapter_a/index", "intro"), "chapter_a/intro");
        assert_eq!(
            join_stem("chapter_a/index", "../chapter_b/x"),
            "chapter_b/x"
        );
    }
}
