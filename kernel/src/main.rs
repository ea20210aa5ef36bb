//! `d2l-kernel`: run as a Jupyter kernel, or install/uninstall its kernelspec.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use d2l_kernel::engine::EngineOptions;
use d2l_kernel::protocol::{connection::ConnectionInfo, install, server};
use std::path::PathBuf;

/// A Jupyter kernel for Rust with the d2l crate preloaded.
///
/// Environment: D2L_CRATE_PATH (the d2l crate to preload), D2L_KERNEL_PRELOAD=0 (no preload),
/// D2L_KERNEL_CACHE (build cache root), LIBTORCH (libtorch for cells).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The connection file written by the front end (runs the kernel).
    #[arg(long, short = 'f')]
    connection_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Install the kernelspec `d2l-rust` (default: --user).
    Install(Where),
    /// Remove the kernelspec `d2l-rust` (default: --user).
    Uninstall(Where),
}

#[derive(Args)]
#[group(multiple = false)]
struct Where {
    /// The user's Jupyter data directory.
    #[arg(long)]
    user: bool,
    /// The active Python environment (VIRTUAL_ENV or CONDA_PREFIX).
    #[arg(long)]
    sys_prefix: bool,
    /// DIR/share/jupyter.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

impl Where {
    fn location(&self) -> install::Location {
        match (&self.prefix, self.sys_prefix) {
            (Some(dir), _) => install::Location::Prefix(dir.clone()),
            (None, true) => install::Location::SysPrefix,
            (None, false) => install::Location::User,
        }
    }
}

fn main() -> Result<()> {
    // When evcxr re-executes this binary as its evaluation process, this never returns.
    d2l_kernel::runtime_hook();
    let cli = Cli::parse();
    match (cli.command, cli.connection_file) {
        (Some(Command::Install(place)), _) => {
            let program = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context("finding this program's path")?;
            let dir = install::install(&place.location(), &program)?;
            println!(
                "Installed kernelspec {} in {}",
                install::KERNEL_NAME,
                dir.display()
            );
        }
        (Some(Command::Uninstall(place)), _) => {
            let dir = install::uninstall(&place.location())?;
            println!(
                "Removed kernelspec {} from {}",
                install::KERNEL_NAME,
                dir.display()
            );
        }
        (None, Some(path)) => {
            let info = ConnectionInfo::read(&path)?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(server::serve(info, EngineOptions::default()))?;
            // The evaluation thread may be mid-cell; the process ends here regardless.
            std::process::exit(0);
        }
        (None, None) => {
            anyhow::bail!("nothing to do: pass --connection-file FILE (as Jupyter does) or a subcommand; see --help")
        }
    }
    Ok(())
}
