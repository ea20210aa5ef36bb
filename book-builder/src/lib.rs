//! `d2l-book` builds *Dive into Deep Learning* (Rust edition) from markdown notebooks.
//!
//! The design follows mdBook. The notebooks are parsed once into a [`model::Book`]; everything
//! else is a pass over that model or a renderer of it, and the [`driver`] loops over both:
//!
//! ```text
//! notebooks/*.md ──load──▶ Book ──passes──▶ Book ──renderers──▶ _build/html, html/notebooks, pdf
//!                 (parse,        number, resolve,          html, notebooks, pdf, lib
//!                  toc order,    eval | stored outputs,    (each into its folder of the Layout)
//!                  refs.bib)     notices
//! ```
//!
//! | module | job |
//! |---|---|
//! | [`load`], [`parse`], [`bib`], [`config`] | sources → [`model::Book`] |
//! | [`passes`] | the [`passes::Pass`] trait: numbering, resolution, stored outputs, notices |
//! | [`eval`] | the evaluation pass: notebooks run through the `d2l-engine` crate (no Jupyter), with a store keyed by what each notebook can see |
//! | [`render`] | the [`render::Renderer`] trait, the [`render::Layout`] of outputs, and the renderers |
//! | [`driver`] | which passes and renderers each `build` target runs; diagnostics printed once |
//! | [`serve`] | a local preview server that rebuilds on change |
//! | [`diag`] | diagnostics with file and line, and the [`diag::Report`] every step returns |
//!
//! ```no_run
//! use d2l_book::driver::{build, BuildOptions, Target};
//! let opts = BuildOptions { root: "notebooks".into(), warning_is_error: true, check: false, lib_dir: None, eval: Default::default(), skip_eval: true };
//! for line in build(Target::Html, &opts)? {
//!     println!("{line}"); // "html: 88 pages in notebooks/_build/html", "notebooks: …"
//! }
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
