//! Resolution: the book-wide label table, and a check of every reference and
//! citation against it and against the bibliography.

use std::collections::HashMap;

use anyhow::Result;

use crate::diag::{Diagnostics, Report};
use crate::model::{
    plain_text, Anchor, BlockKind, Book, Inline, Role, RoleKind, Target, TargetKind,
};

use super::Pass;

/// The resolution pass.
pub struct Resolve;

impl Pass for Resolve {
    fn name(&self) -> &'static str {
        "resolve"
    }

    fn run(&self, book: &mut Book) -> Result<Report> {
        let mut found = Diagnostics::default();
        let diags = &mut found;
        let mut labels: HashMap<String, Target> = HashMap::new();
        for (pi, page) in book.pages.iter().enumerate() {
            for block in &page.blocks {
                let (anchor, kind, title): (&Anchor, TargetKind, String) = match &block.kind {
                    BlockKind::Heading(h) => {
                        (&h.anchor, TargetKind::Section, plain_text(&h.content))
                    }
                    BlockKind::Figure(f) => (&f.anchor, TargetKind::Figure, plain_text(&f.caption)),
                    BlockKind::Table(t) => (&t.anchor, TargetKind::Table, plain_text(&t.caption)),
                    BlockKind::Equation(e) => (&e.anchor, TargetKind::Equation, String::new()),
                    _ => continue,
                };
                let Some(label) = &anchor.label else { continue };
                let line = if anchor.label_line > 0 {
                    anchor.label_line
                } else {
                    block.line
                };
                let target = Target {
                    page: pi,
                    id: anchor.id.clone(),
                    kind,
                    number: anchor.number.clone(),
                    title,
                    line,
                };
                if let Some(first) = labels.get(label) {
                    let first_path = book.pages[first.page].path.display().to_string();
                    diags.warn(&page.path, line, format!("duplicate label `{label}`, first defined at {first_path}:{}: rename one", first.line));
                } else {
                    labels.insert(label.clone(), target);
                }
            }
        }
        for page in &book.pages {
            for role in roles(page) {
                check(role, &labels, book, &page.path, diags);
            }
        }
        book.labels = labels;
        Ok(Report::from(found))
    }
}

/// Every role of a page, in order.
pub fn roles(page: &crate::model::Page) -> impl Iterator<Item = &Role> {
    page.blocks.iter().flat_map(|b| {
        let inlines: &[Inline] = match &b.kind {
            BlockKind::Heading(h) => &h.content,
            BlockKind::Prose(p) => p,
            BlockKind::Figure(f) => &f.caption,
            BlockKind::Table(t) => &t.caption,
            _ => &[],
        };
        let body: &[Inline] = match &b.kind {
            BlockKind::Table(t) => &t.body,
            _ => &[],
        };
        inlines.iter().chain(body).filter_map(|i| match i {
            Inline::Role(r) => Some(r),
            Inline::Md(_) => None,
        })
    })
}

fn check(
    role: &Role,
    labels: &HashMap<String, Target>,
    book: &Book,
    path: &std::path::Path,
    diags: &mut Diagnostics,
) {
    match role.kind {
        RoleKind::Numref | RoleKind::Ref | RoleKind::Eqref => match labels.get(&role.target) {
            None => diags.warn(path, role.line, format!("undefined label `{}`: add :label:`{}` to the thing you mean, or fix the name", role.target, role.target)),
            Some(t) if role.kind == RoleKind::Eqref && t.kind != TargetKind::Equation => {
                diags.warn(path, role.line, format!(":eqref:`{}` points at a {:?}, not an equation: use :numref: instead", role.target, t.kind))
            }
            Some(t) if role.kind == RoleKind::Numref && t.number.is_none() => {
                diags.warn(path, role.line, format!(":numref:`{}` points at something without a number; its title is shown instead (use :ref:)", role.target))
            }
            Some(_) => {}
        },
        RoleKind::Cite | RoleKind::Citet | RoleKind::Citep => {
            for key in cite_keys(&role.target) {
                if book.bibliography.get(key).is_none() {
                    diags.warn(path, role.line, format!("undefined citation `{key}`: add it to the bibliography file or fix the key"));
                }
            }
        }
    }
}

/// Keys of a citation role: `a,b` → [`a`, `b`].
pub fn cite_keys(target: &str) -> impl Iterator<Item = &str> {
    target.split(',').map(str::trim).filter(|k| !k.is_empty())
}
