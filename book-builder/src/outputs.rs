//! Attaching cell outputs that were produced elsewhere.
//!
//! Until the evaluator runs notebooks itself, outputs come from a sidecar next
//! to the notebook: `name.outputs.json`, either an nbformat notebook (its code
//! cells in order) or a JSON list with one `{"execution_count", "outputs"}`
//! object per executable cell of the default tab. The evaluator will call [`attach`] the same way.

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostics;
use crate::model::{Book, Output, Page};

/// Outputs of one executable cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CellOutputs {
    /// The execution count, if any.
    #[serde(default)]
    pub execution_count: Option<u32>,
    /// Outputs in order.
    #[serde(default)]
    pub outputs: Vec<Output>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Sidecar {
    Notebook { cells: Vec<NbCell> },
    List(Vec<CellOutputs>),
}

#[derive(Deserialize)]
struct NbCell {
    cell_type: String,
    #[serde(default)]
    execution_count: Option<u32>,
    #[serde(default)]
    outputs: Vec<Output>,
}

/// Gives the executable cells of `tab` their outputs, in order. Returns false
/// (and leaves the page alone) when the counts differ.
pub fn attach(page: &mut Page, tab: &str, book_tabs: &[String], cells: Vec<CellOutputs>) -> bool {
    if page.input_cells(tab, book_tabs).count() != cells.len() {
        return false;
    }
    for (cell, out) in page.input_cells_mut(tab, book_tabs).zip(cells) {
        cell.outputs = out.outputs;
        cell.execution_count = out.execution_count;
    }
    true
}

/// Reads every page's `*.outputs.json` sidecar (outputs of the default tab), when present.
pub fn attach_stored_outputs(book: &mut Book, diags: &mut Diagnostics) {
    let root = book.config.root.clone();
    let tabs = book.config.book.tabs.clone();
    let tab = tabs[0].clone();
    for page in &mut book.pages {
        let rel = page.path.with_extension("outputs.json");
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else { continue };
        let cells = match serde_json::from_str::<Sidecar>(&text) {
            Ok(Sidecar::Notebook { cells }) => cells
                .into_iter()
                .filter(|c| c.cell_type == "code")
                .map(|c| CellOutputs { execution_count: c.execution_count, outputs: c.outputs })
                .collect(),
            Ok(Sidecar::List(list)) => list,
            Err(e) => {
                diags.warn(&rel, e.line(), format!("cannot read stored outputs ({e}); delete the file or evaluate the page again"));
                continue;
            }
        };
        let n = cells.len();
        if !attach(page, &tab, &tabs, cells) {
            let have = page.input_cells(&tab, &tabs).count();
            diags.warn(&rel, 1, format!("stored outputs are for {n} cells but the page has {have}: evaluate the page again"));
        }
    }
}

/// The line the `d2l` crate prints when a data set was replaced by synthetic stand-in data.
pub const SYNTHETIC_MARKER: &str = "[d2l: synthetic data]";

/// Whether any output of `page` carries [`SYNTHETIC_MARKER`]: its outputs were computed with
/// synthetic data, and every renderer says so at the top of the page.
pub fn uses_synthetic_data(page: &Page) -> bool {
    page.blocks.iter().any(|b| match &b.kind {
        crate::model::BlockKind::Code(c) => c.outputs.iter().any(|o| match o {
            Output::Stream { text, .. } => text.contains(SYNTHETIC_MARKER),
            Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => data.0.get("text/plain").is_some_and(|t| t.contains(SYNTHETIC_MARKER)),
            Output::Error { .. } => false,
        }),
        _ => false,
    })
}

/// The notice renderers put at the top of a page computed with synthetic data.
pub const SYNTHETIC_NOTICE: &str = "The outputs on this page were computed with synthetic stand-in data (the real data set was not available when the book was built), so numbers and plots differ from those of the real data set.";
