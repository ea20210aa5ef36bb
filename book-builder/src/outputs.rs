//! Cell outputs as the evaluation pass stores them, and attaching them to a page.
//!
//! Outputs reach the book by one route: the eval store ([`crate::eval::store`]), filled by the
//! evaluation pass and read back by it, or by [`crate::passes::stored::StoredOutputs`] in
//! builds that do not evaluate.

use serde::{Deserialize, Serialize};

use crate::model::{Output, Page};

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
