//! The client-side search index: one script that defines `window.D2L_SEARCH`.
//!
//! A script (not JSON fetched at run time) so search also works from `file://`.

use serde::Serialize;

use crate::model::{plain_text, BlockKind, Book, Inline};

#[derive(Serialize)]
struct Entry<'a> {
    /// Title with number.
    t: String,
    /// URL relative to the site root.
    u: String,
    /// Plain text of the page (prose, headings, captions, code).
    b: String,
    #[serde(skip)]
    _p: std::marker::PhantomData<&'a ()>,
}

/// The contents of `searchindex.js`.
pub fn index_script(book: &Book) -> String {
    let entries: Vec<Entry> = book
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut body = String::new();
            for b in &p.blocks {
                let text = match &b.kind {
                    BlockKind::Heading(h) => plain_text(&h.content),
                    BlockKind::Prose(x) => prose_text(x),
                    BlockKind::Figure(f) => plain_text(&f.caption),
                    BlockKind::Table(t) => plain_text(&t.caption) + " " + &prose_text(&t.body),
                    BlockKind::Code(c) if !c.hide_code => c.code.clone(),
                    _ => continue,
                };
                body.push_str(&text);
                body.push(' ');
            }
            let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            Entry {
                t: crate::render::numbered_title(book, i),
                u: format!("{}.html", p.stem),
                b: body,
                _p: Default::default(),
            }
        })
        .collect();
    let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into());
    format!("window.D2L_SEARCH = {json};\n")
}

fn prose_text(inlines: &[Inline]) -> String {
    let mut s = plain_text(inlines);
    s.push(' ');
    s
}
