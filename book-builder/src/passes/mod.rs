//! Passes over the book model: "take the book, change it, report what was found".
//!
//! The driver runs them in this order:
//!
//! 1. [`number::Number`]: pages, headings, figures, tables and equations get their numbers and ids;
//! 2. [`resolve::Resolve`]: the label table, and a check of every reference and citation;
//! 3. outputs, one of two: [`crate::eval::Evaluate`] runs the notebooks whose stored outputs are
//!    stale (and stores the new ones), or [`stored::StoredOutputs`] attaches the stored outputs
//!    of unchanged code without running anything;
//! 4. [`notices::Notices`]: notices among the outputs (a synthetic stand-in, a shortened run)
//!    move to [`crate::model::Page::notices`], which every renderer shows once, at the top.

pub mod notices;
pub mod number;
pub mod resolve;
pub mod stored;

use anyhow::Result;

use crate::diag::Report;
use crate::model::Book;

/// One pass over the model.
pub trait Pass {
    /// A short name for messages.
    fn name(&self) -> &'static str;
    /// Changes the book in place and reports the problems it found; fails when the build
    /// cannot go on (a cell that does not run, a store that cannot be written).
    fn run(&self, book: &mut Book) -> Result<Report>;
}

/// The passes every build runs before its outputs are attached: numbering and resolution.
pub fn structure() -> Vec<Box<dyn Pass>> {
    vec![Box::new(number::Number), Box::new(resolve::Resolve)]
}
