//! Renderers: each takes the finished book model and writes one kind of output.

pub mod html;
pub mod library;
pub mod markdown_out;
pub mod notebook;
pub mod pdf;

use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use crate::diag::Diagnostics;
use crate::model::{Book, Role, RoleKind, TargetKind};
use crate::passes::resolve::cite_keys;

/// "Take the book and write output."
pub trait Renderer {
    /// A short name for messages (`html`, `notebooks`, `lib`).
    fn name(&self) -> &'static str;
    /// Writes the output, recording problems in `diags`.
    fn render(&self, book: &Book, diags: &mut Diagnostics) -> Result<()>;
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
            let Some(t) = book.labels.get(&role.target) else { return vec![Piece::Broken(role.target.clone())] };
            let dest = Dest::Page { page: t.page, id: t.id.clone() };
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
                        out.push(Piece::Link(format!("{} ({})", e.short_authors(), e.year), Dest::Bib(key.to_string())));
                    }
                    Some(e) => out.push(Piece::Link(format!("{}, {}", e.short_authors(), e.year), Dest::Bib(key.to_string()))),
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
