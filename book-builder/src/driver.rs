//! What each command does, so the CLI stays a thin layer of argument parsing.
//!
//! A build is: load the book ([`crate::load`]), run the passes of the target over it
//! ([`crate::passes`]), then run each renderer of the target into its folder of the
//! [`Layout`]. Every pass and renderer returns a [`Report`]; the driver prints each
//! diagnostic once and fails when they are fatal.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::diag::{Diagnostics, Report};
use crate::eval::{EvalOptions, Evaluate};
use crate::load::load_book;
use crate::model::Book;
use crate::passes::{self, notices::Notices, stored::StoredOutputs, Pass};
use crate::render::{
    html::Html, library::Library, notebook::Notebooks, pdf::Pdf, Layout, RenderContext, Renderer,
};

/// What `build` should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The website, with the notebooks its pages link to.
    Html,
    /// The `.ipynb` files.
    Notebooks,
    /// The `d2l::book` modules.
    Lib,
    /// Evaluated outputs, stored under `<output_dir>/eval`.
    Eval,
    /// The whole book as one PDF.
    Pdf,
    /// Everything: the library check, evaluation, the site with its notebooks, the PDF.
    All,
}

/// Options of `build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The book folder (holding book.toml).
    pub root: PathBuf,
    /// Fail on warnings.
    pub warning_is_error: bool,
    /// For `lib` and `all`: compare instead of writing (`all` always compares).
    pub check: bool,
    /// For `lib`: write here instead of `[build] lib_dir`.
    pub lib_dir: Option<PathBuf>,
    /// For `eval` and `all`: parallelism, keep-going and progress bars.
    pub eval: EvalOptions,
    /// For `all`: use stored outputs instead of evaluating.
    pub skip_eval: bool,
}

/// The passes a target needs, in order.
fn passes_for(target: Target, opts: &BuildOptions) -> Vec<Box<dyn Pass>> {
    let mut passes = passes::structure();
    let evaluate = target == Target::Eval || (target == Target::All && !opts.skip_eval);
    match target {
        Target::Lib => {}
        _ if evaluate => passes.push(Box::new(Evaluate {
            options: opts.eval.clone(),
        })),
        _ => passes.push(Box::new(StoredOutputs)),
    }
    if target != Target::Lib {
        passes.push(Box::new(Notices));
    }
    passes
}

/// The renderers a target runs, in order. `all` checks the library first: a book whose crate
/// is out of date should fail before the long evaluation, so [`build`] runs it before the passes.
fn renderers_for(target: Target, opts: &BuildOptions) -> Vec<Box<dyn Renderer>> {
    match target {
        Target::Html => vec![Box::new(Html), Box::new(Notebooks)],
        Target::Notebooks => vec![Box::new(Notebooks)],
        Target::Pdf => vec![Box::new(Pdf)],
        Target::Lib => vec![Box::new(Library { check: opts.check })],
        Target::Eval => Vec::new(),
        Target::All => vec![Box::new(Html), Box::new(Notebooks), Box::new(Pdf)],
    }
}

/// Diagnostics collected over a build, each printed once, as soon as it is known.
#[derive(Default)]
struct Collected {
    all: Diagnostics,
    lines: Vec<String>,
}

impl Collected {
    fn take(&mut self, report: Report) {
        for d in report.diagnostics.items() {
            eprintln!("{d}");
        }
        self.all.extend(report.diagnostics);
        if let Some(line) = report.summary {
            println!("{line}");
            self.lines.push(line);
        }
    }

    fn check(&self, warning_is_error: bool) -> Result<()> {
        let diags = &self.all;
        if diags.is_fatal(warning_is_error) {
            bail!(
                "{} error(s), {} warning(s){}",
                diags.errors(),
                diags.warnings(),
                if warning_is_error && diags.errors() == 0 {
                    " (--warning-is-error makes warnings fatal)"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }
}

/// Runs `build TARGET`, printing each diagnostic once and a line per finished step; returns
/// those lines.
pub fn build(target: Target, opts: &BuildOptions) -> Result<Vec<String>> {
    let (mut book, diags) = load_book(&opts.root)?;
    mark_output(&book.config.output_dir())?;
    let layout = Layout::of(&book.config, opts.lib_dir.clone());
    let mut collected = Collected::default();
    collected.take(Report::from(diags));
    let passes = passes_for(target, opts);
    let (structure, outputs) = passes.split_at(passes::structure().len());
    for pass in structure {
        collected.take(pass.run(&mut book)?);
    }
    collected.check(opts.warning_is_error)?;
    if target == Target::All {
        render(&Library { check: true }, &book, &layout, &mut collected)?;
    }
    if target == Target::All && opts.skip_eval {
        collected.take(Report::done(
            Diagnostics::default(),
            "eval: skipped (--skip-eval); stored outputs are used",
        ));
    }
    for pass in outputs {
        collected.take(pass.run(&mut book)?);
    }
    for renderer in renderers_for(target, opts) {
        render(renderer.as_ref(), &book, &layout, &mut collected)?;
    }
    collected.check(opts.warning_is_error)?;
    Ok(collected.lines)
}

fn render(
    renderer: &dyn Renderer,
    book: &Book,
    layout: &Layout,
    collected: &mut Collected,
) -> Result<()> {
    let ctx = RenderContext {
        book,
        config: &book.config,
        destination: renderer.destination(layout),
        layout,
    };
    let report = renderer
        .render(&ctx)
        .map_err(|e| e.context(format!("{} failed", renderer.name())))?;
    collected.take(report);
    Ok(())
}

/// The book of `root` with every pass that needs no evaluation run (stored outputs attached):
/// what `serve` and the benchmarks render.
pub fn prepared_book(root: &Path) -> Result<(Book, Diagnostics)> {
    let (mut book, mut diags) = load_book(root)?;
    let opts = BuildOptions {
        root: root.to_path_buf(),
        warning_is_error: false,
        check: false,
        lib_dir: None,
        eval: EvalOptions::default(),
        skip_eval: true,
    };
    for pass in passes_for(Target::Html, &opts) {
        diags.extend(pass.run(&mut book)?.diagnostics);
    }
    Ok((book, diags))
}

/// The file that marks a folder as the builder's output: `clean` deletes only such a folder.
pub const OUTPUT_MARKER: &str = ".d2l-book-output";

/// Creates the output folder with its marker.
fn mark_output(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let marker = out.join(OUTPUT_MARKER);
    if !marker.exists() {
        std::fs::write(
            &marker,
            "d2l-book writes this folder; `d2l-book clean` deletes it.\n",
        )
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", marker.display()))?;
    }
    Ok(())
}

/// `clean`: removes the output folder, and only a folder that the builder marked as its own
/// (`book.toml` may not name a source folder as the output folder, see [`crate::config`]).
pub fn clean(root: &Path) -> Result<PathBuf> {
    let config = crate::config::Config::load(root)?;
    let out = config.output_dir();
    if !out.exists() {
        return Ok(out);
    }
    if !out.join(OUTPUT_MARKER).is_file() {
        bail!("refusing to delete {}: it has no {OUTPUT_MARKER} file, so d2l-book did not create it; delete it yourself if it is really output", out.display());
    }
    std::fs::remove_dir_all(&out)
        .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", out.display()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(target: Target, skip_eval: bool) -> (Vec<&'static str>, Vec<&'static str>) {
        let opts = BuildOptions {
            root: ".".into(),
            warning_is_error: false,
            check: false,
            lib_dir: None,
            eval: EvalOptions::default(),
            skip_eval,
        };
        (
            passes_for(target, &opts).iter().map(|p| p.name()).collect(),
            renderers_for(target, &opts)
                .iter()
                .map(|r| r.name())
                .collect(),
        )
    }

    #[test]
    fn each_target_runs_each_output_once() {
        assert_eq!(
            names(Target::All, false),
            (
                vec!["number", "resolve", "eval", "notices"],
                vec!["html", "notebooks", "pdf"]
            )
        );
        assert_eq!(
            names(Target::All, true),
            (
                vec!["number", "resolve", "stored outputs", "notices"],
                vec!["html", "notebooks", "pdf"]
            )
        );
        assert_eq!(
            names(Target::Html, false),
            (
                vec!["number", "resolve", "stored outputs", "notices"],
                vec!["html", "notebooks"]
            )
        );
        assert_eq!(names(Target::Eval, false).1, Vec::<&str>::new());
        assert_eq!(
            names(Target::Lib, false),
            (vec!["number", "resolve"], vec!["lib"])
        );
    }
}
