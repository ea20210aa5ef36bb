//! Writes and removes the kernelspec (`d2l-rust`, "Rust (d2l)") that front ends list.

use anyhow::{bail, Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernelspec's directory name.
pub const KERNEL_NAME: &str = "d2l-rust";
/// The name front ends show.
pub const DISPLAY_NAME: &str = "Rust (d2l)";

const LOGO_32: &[u8] = include_bytes!("../../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../../assets/logo-64x64.png");

/// Where to install, as `jupyter kernelspec install` understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The user's Jupyter data dir (`$JUPYTER_DATA_DIR`, else `~/.local/share/jupyter`).
    User,
    /// The active Python environment (`$VIRTUAL_ENV` or `$CONDA_PREFIX`).
    SysPrefix,
    /// `<DIR>/share/jupyter`.
    Prefix(PathBuf),
}

impl Location {
    /// The `kernels/d2l-rust` directory for this location.
    pub fn kernel_dir(&self) -> Result<PathBuf> {
        let data = match self {
            Location::User => match std::env::var_os("JUPYTER_DATA_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => dirs::data_dir()
                    .context("cannot find the user's data directory; use --prefix DIR")?
                    .join("jupyter"),
            },
            Location::SysPrefix => {
                let prefix = std::env::var_os("VIRTUAL_ENV")
                    .or_else(|| std::env::var_os("CONDA_PREFIX"))
                    .context("--sys-prefix needs an active Python environment (VIRTUAL_ENV or CONDA_PREFIX); use --prefix DIR")?;
                PathBuf::from(prefix).join("share").join("jupyter")
            }
            Location::Prefix(dir) => dir.join("share").join("jupyter"),
        };
        Ok(data.join("kernels").join(KERNEL_NAME))
    }
}

/// The kernel.json for a kernel started as `program`.
///
/// `interrupt_mode` is `message`: the front end sends `interrupt_request` on the control channel,
/// which stops only a running cell. (With `signal`, jupyter_client sends SIGINT to the kernel's
/// whole process group, which kills evcxr's evaluation process even between cells.)
pub fn kernel_json(program: &Path) -> serde_json::Value {
    json!({
        "argv": [program.to_string_lossy(), "--connection-file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"debugger": false},
    })
}

/// Installs the kernelspec for `program`; returns its directory.
pub fn install(location: &Location, program: &Path) -> Result<PathBuf> {
    let dir = location.kernel_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = serde_json::to_string_pretty(&kernel_json(program))?;
    write(&dir.join("kernel.json"), spec.as_bytes())?;
    write(&dir.join("logo-32x32.png"), LOGO_32)?;
    write(&dir.join("logo-64x64.png"), LOGO_64)?;
    Ok(dir)
}

/// Removes the kernelspec; returns the removed directory.
pub fn uninstall(location: &Location) -> Result<PathBuf> {
    let dir = location.kernel_dir()?;
    if !dir.join("kernel.json").exists() {
        bail!("no {KERNEL_NAME} kernelspec at {}", dir.display());
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(dir)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_and_uninstall_under_prefix() {
        let prefix = tempfile::tempdir().unwrap();
        let location = Location::Prefix(prefix.path().to_owned());
        let dir = install(&location, Path::new("/opt/d2l-kernel")).unwrap();
        assert_eq!(dir, prefix.path().join("share/jupyter/kernels/d2l-rust"));
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        assert_eq!(spec["display_name"], "Rust (d2l)");
        assert_eq!(spec["argv"][0], "/opt/d2l-kernel");
        assert_eq!(spec["argv"][2], "{connection_file}");
        assert_eq!(
            spec["interrupt_mode"], "message",
            "interrupts travel as messages, not SIGINT"
        );
        assert!(std::fs::read(dir.join("logo-64x64.png"))
            .unwrap()
            .starts_with(b"\x89PNG"));
        uninstall(&location).unwrap();
        assert!(!dir.exists());
        assert!(uninstall(&location).is_err());
    }
}
