//! Attaching stored outputs without evaluating: for builds that only render.

use anyhow::Result;

use crate::diag::{Diagnostics, Report};
use crate::eval::{key, store};
use crate::model::Book;
use crate::outputs::attach;

use super::Pass;

/// Gives each page the outputs stored by the last evaluation of its current code (see
/// [`crate::eval::store`]); a page whose code changed since keeps none.
pub struct StoredOutputs;

impl Pass for StoredOutputs {
    fn name(&self) -> &'static str {
        "stored outputs"
    }

    fn run(&self, book: &mut Book) -> Result<Report> {
        let out_dir = book.config.output_dir();
        let tab = book.config.default_tab().to_string();
        let tabs = book.config.book.tabs.clone();
        let mut diags = Diagnostics::default();
        for page in &mut book.pages {
            let stored = match store::read(&out_dir, &page.stem) {
                Ok(Some(stored)) => stored,
                Ok(None) => continue,
                Err(message) => {
                    diags.warn(&page.path, 1, message);
                    continue;
                }
            };
            let hash = key::code_hash(page.input_cells(&tab, &tabs).map(|c| c.code.as_str()));
            if hash == stored.code_hash {
                attach(page, &tab, &tabs, stored.cells);
            }
        }
        Ok(Report::from(diags))
    }
}
