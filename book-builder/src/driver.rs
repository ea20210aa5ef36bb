//! What each command does, so the CLI stays a thin layer of argument parsing.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::diag::Diagnostics;
use crate::load::load_book;
use crate::model::Book;
use crate::eval::{self, EvalOptions};
use crate::render::{html::Html, library, notebook::Notebooks, pdf::Pdf, Renderer};

/// What `build` should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The website.
    Html,
    /// The `.ipynb` files.
    Notebooks,
    /// The `d2l::book` modules.
    Lib,
    /// Evaluated outputs, stored under `<output_dir>/eval`.
    Eval,
    /// The whole book as one PDF.
    Pdf,
    /// Everything available.
    All,
}

/// Options of `build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The book folder (holding book.toml).
    pub root: PathBuf,
    /// Fail on warnings.
    pub warning_is_error: bool,
    /// For `lib`: compare instead of writing.
    pub check: bool,
    /// For `lib`: write here instead of `[build] lib_dir`.
    pub lib_dir: Option<PathBuf>,
    /// For `eval` and `all`: parallelism, keep-going and progress bars.
    pub eval: EvalOptions,
    /// For `all`: use stored outputs instead of evaluating.
    pub skip_eval: bool,
}

/// Prints diagnostics and fails when they are fatal.
pub fn report(diags: &Diagnostics, warning_is_error: bool) -> Result<()> {
    for d in diags.items() {
        eprintln!("{d}");
    }
    if diags.is_fatal(warning_is_error) {
        bail!(
            "{} error(s), {} warning(s){}",
            diags.errors(),
            diags.warnings(),
            if warning_is_error && diags.errors() == 0 { " (--warning-is-error makes warnings fatal)" } else { "" }
        );
    }
    Ok(())
}

/// Loads the book and fails early on fatal diagnostics.
pub fn load(opts: &BuildOptions) -> Result<(Book, Diagnostics)> {
    let (book, diags) = load_book(&opts.root)?;
    Ok((book, diags))
}

/// Progress lines: printed as each step finishes, so a later failure does not hide them.
#[derive(Default)]
struct Done(Vec<String>);

impl Done {
    fn push(&mut self, line: String) {
        println!("{line}");
        self.0.push(line);
    }
}

/// Runs `build TARGET`, printing a line per finished step; returns those lines.
pub fn build(target: Target, opts: &BuildOptions) -> Result<Vec<String>> {
    let (mut book, mut diags) = load(opts)?;
    let mut done = Done::default();
    let run_html = |book: &Book, diags: &mut Diagnostics, done: &mut Done| -> Result<()> {
        let html = Html::for_book(book);
        html.render(book, diags)?;
        done.push(format!("html: {} pages in {}", book.pages.len(), html.out_dir.display()));
        Ok(())
    };
    let run_nb = |book: &Book, diags: &mut Diagnostics, done: &mut Done| -> Result<()> {
        let nb = Notebooks::for_book(book);
        nb.render(book, diags)?;
        done.push(format!("notebooks: {} .ipynb files in {}", book.pages.len(), nb.out_dir.display()));
        Ok(())
    };
    let run_pdf = |book: &Book, diags: &mut Diagnostics, done: &mut Done| -> Result<()> {
        let start = std::time::Instant::now();
        let pdf = Pdf::for_book(book);
        pdf.render(book, diags)?;
        done.push(format!("pdf: {} in {:.1} s", pdf.out_file.display(), start.elapsed().as_secs_f64()));
        Ok(())
    };
    let lib_dir = opts.lib_dir.clone().unwrap_or_else(|| book.config.lib_dir());
    let evaluating = matches!(target, Target::Eval) || (target == Target::All && !opts.skip_eval);
    if !evaluating && !matches!(target, Target::Lib) {
        eval::attach_stored(&mut book);
    }
    match target {
        Target::Html => run_html(&book, &mut diags, &mut done)?,
        Target::Notebooks => run_nb(&book, &mut diags, &mut done)?,
        Target::Pdf => run_pdf(&book, &mut diags, &mut done)?,
        Target::Lib if opts.check => {
            report(&diags, opts.warning_is_error)?;
            lib_check(&book, &lib_dir)?;
            done.push(format!("lib: {} is up to date", lib_dir.display()));
        }
        Target::Lib => {
            report(&diags, opts.warning_is_error)?;
            let names = library::write(&book, &lib_dir)?;
            done.push(format!("lib: wrote {} files to {}", names.len(), lib_dir.display()));
        }
        Target::Eval => run_eval(&mut book, &mut diags, &mut done, opts)?,
        Target::All => {
            report(&diags, opts.warning_is_error)?;
            lib_check(&book, &lib_dir)?;
            done.push(format!("lib: {} is up to date", lib_dir.display()));
            if evaluating {
                run_eval(&mut book, &mut diags, &mut done, opts)?;
            } else {
                done.push("eval: skipped (--skip-eval); stored outputs are used".to_string());
            }
            run_html(&book, &mut diags, &mut done)?;
            run_nb(&book, &mut diags, &mut done)?;
            run_pdf(&book, &mut diags, &mut done)?;
        }
    }
    report(&diags, opts.warning_is_error)?;
    Ok(done.0)
}

/// Evaluates the book; fails naming every failed cell.
fn run_eval(book: &mut Book, diags: &mut Diagnostics, done: &mut Done, opts: &BuildOptions) -> Result<()> {
    let report = eval::evaluate(book, &opts.eval, diags)?;
    done.push(format!("eval: {}", report.stats));
    if !report.failures.is_empty() {
        let list: String = report.failures.iter().map(|f| f.to_string()).collect();
        let hint = if opts.eval.keep_going { "" } else { "\n(stopped at the first failure; --keep-going evaluates the rest and reports every failure)" };
        bail!("evaluation failed in {} cell(s):\n{list}{hint}", report.failures.len());
    }
    Ok(())
}

fn lib_check(book: &Book, lib_dir: &Path) -> Result<()> {
    let changes = library::check(book, lib_dir)?;
    if !changes.is_empty() {
        let list: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
        bail!("{} is out of date with the notebooks:\n{}\nrun `d2l-book build lib` and commit the result", lib_dir.display(), list.join("\n"));
    }
    Ok(())
}

/// `clean`: removes the output folder (and only that).
pub fn clean(root: &Path) -> Result<PathBuf> {
    let config = crate::config::Config::load(root)?;
    let out = config.output_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", out.display()))?;
    }
    Ok(out)
}
