//! `d2l-book`: the command line. Argument parsing only; the work is in [`d2l_book::driver`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use d2l_book::driver::{self, BuildOptions, Target};

#[derive(Parser)]
#[command(
    name = "d2l-book",
    version,
    about = "Builds the d2l-rs book: HTML, PDF, notebooks, evaluated outputs and the d2l crate"
)]
struct Cli {
    /// The book folder, holding book.toml [default: `.`, or `notebooks` when only it has one].
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds one output, or all of them.
    Build {
        #[arg(value_enum, default_value = "all")]
        target: TargetArg,
        /// Treat warnings (undefined labels, citations, ...) as errors.
        #[arg(long)]
        warning_is_error: bool,
        /// For `lib`: fail with a diff summary when the crate is out of date, write nothing.
        #[arg(long)]
        check: bool,
        /// For `lib`: the folder to write or check instead of [build] lib_dir.
        #[arg(long)]
        lib_dir: Option<PathBuf>,
        /// For `eval`: how many notebooks run at once (each in its own engine).
        #[arg(short = 'j', long, default_value_t = 1)]
        jobs: usize,
        /// For `eval`: go on after a failing cell and report every failure at the end.
        #[arg(long)]
        keep_going: bool,
        /// For `all`: do not evaluate; use the stored outputs.
        #[arg(long)]
        skip_eval: bool,
        /// For `eval` and `all`: stop a cell that runs longer than this many seconds and fail.
        #[arg(long, value_name = "SECONDS", default_value_t = d2l_book::eval::DEFAULT_CELL_TIMEOUT.as_secs())]
        cell_timeout: u64,
    },
    /// Serves the site on 127.0.0.1 and rebuilds it when a source changes.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
    /// Removes the output folder.
    Clean,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Html,
    Notebooks,
    Lib,
    Eval,
    Pdf,
    All,
}

/// `--root`, else the current folder, else `notebooks/` (so the repository root works).
fn book_root(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let here = PathBuf::from(".");
        let notebooks = PathBuf::from("notebooks");
        if !here.join("book.toml").exists() && notebooks.join("book.toml").exists() {
            notebooks
        } else {
            here
        }
    })
}

fn main() -> ExitCode {
    // The evaluation engine re-runs this program as its evaluation process: this must come first.
    d2l_engine::runtime_hook();
    let cli = Cli::parse();
    let root = book_root(cli.root);
    let result = match cli.command {
        Command::Build {
            target,
            warning_is_error,
            check,
            lib_dir,
            jobs,
            keep_going,
            skip_eval,
            cell_timeout,
        } => {
            let target = match target {
                TargetArg::Html => Target::Html,
                TargetArg::Notebooks => Target::Notebooks,
                TargetArg::Lib => Target::Lib,
                TargetArg::Eval => Target::Eval,
                TargetArg::Pdf => Target::Pdf,
                TargetArg::All => Target::All,
            };
            let eval = d2l_book::eval::EvalOptions {
                jobs: jobs.max(1),
                keep_going,
                cell_timeout: std::time::Duration::from_secs(cell_timeout.max(1)),
                ..Default::default()
            };
            let opts = BuildOptions {
                root,
                warning_is_error,
                check,
                lib_dir,
                eval,
                skip_eval,
            };
            driver::build(target, &opts).map(|_| ())
        }
        Command::Serve { port } => d2l_book::serve::serve(&root, port),
        Command::Clean => driver::clean(&root).map(|p| println!("removed {}", p.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
