//! Every formula of the real book (notebooks/) converts with mitex and typesets against the
//! project's math prelude.

use std::path::Path;

use d2l_book::model::{BlockKind, Inline};
use pulldown_cmark::Event;

#[test]
fn every_equation_of_the_book_typesets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../notebooks");
    let (book, _) = d2l_book::load::load_book(&root).expect("load notebooks/");
    let mut formulas: Vec<(String, bool, String)> = Vec::new();
    for page in &book.pages {
        for block in &page.blocks {
            let at = format!("{}:{}", page.path.display(), block.line);
            let inlines: &[Inline] = match &block.kind {
                BlockKind::Equation(e) => {
                    formulas.push((e.latex.clone(), true, at));
                    continue;
                }
                BlockKind::Prose(p) => p,
                BlockKind::Heading(h) => &h.content,
                BlockKind::Figure(f) => &f.caption,
                BlockKind::Table(t) => &t.body,
                _ => continue,
            };
            for inline in inlines {
                match inline {
                    Inline::Md(Event::InlineMath(m)) => {
                        formulas.push((m.to_string(), false, at.clone()))
                    }
                    Inline::Md(Event::DisplayMath(m)) => {
                        formulas.push((m.to_string(), true, at.clone()))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        formulas.len() > 100,
        "only {} formulas found in {}",
        formulas.len(),
        root.display()
    );
    let failures: Vec<String> = formulas
        .iter()
        .filter_map(|(latex, display, at)| {
            d2l_book::render::pdf::check_math(latex, *display)
                .err()
                .map(|e| format!("{at}: {latex}\n    {e}"))
        })
        .collect();
    println!(
        "{} formulas checked, {} fail",
        formulas.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} formulas do not typeset:\n{}",
        failures.len(),
        formulas.len(),
        failures.join("\n")
    );
}
