//! Passes over the book model: "take the book, return the book".
//!
//! Numbering gives pages, headings, figures, tables and equations their numbers
//! and ids; resolution builds the label table and checks every reference and
//! citation. Evaluation will be one more pass.

pub mod number;
pub mod resolve;

use crate::diag::Diagnostics;
use crate::model::Book;

/// One pass over the model.
pub trait Pass {
    /// A short name for messages.
    fn name(&self) -> &'static str;
    /// Changes the book in place, recording problems in `diags`.
    fn run(&self, book: &mut Book, diags: &mut Diagnostics);
}

/// The passes every build runs, in order.
pub fn standard() -> Vec<Box<dyn Pass>> {
    vec![Box::new(number::Number), Box::new(resolve::Resolve)]
}
