//! `d2l-book` builds *Dive into Deep Learning* (Rust edition) from markdown notebooks.
//!
//! The design follows mdBook: the notebooks are parsed once ([`parse`]) into a
//! [`model::Book`]; numbering and cross-reference resolution are [`passes`] over
//! it; HTML, `.ipynb` notebooks and the `d2l` library are [`render`]ers of it.
//! Evaluation ([`eval`], filling [`model::Cell::outputs`] through the kernel's engine) and
//! the PDF ([`render::pdf`], typst in-process) are one more pass and one more renderer.
//!
//! ```no_run
//! use d2l_book::{load::load_book, render::{html::Html, Renderer}};
//! let (book, mut diags) = load_book(std::path::Path::new("notebooks"))?;
//! Html::for_book(&book).render(&book, &mut diags)?;
//! for d in diags.items() { eprintln!("{d}"); }
//! # anyhow::Ok(())
//! ```

pub mod bib;
pub mod config;
pub mod diag;
pub mod driver;
pub mod eval;
pub mod load;
pub mod model;
pub mod outputs;
pub mod parse;
pub mod passes;
pub mod render;
pub mod serve;
