//! The persistent evcxr work directories that make a new kernel's first cell fast.
//!
//! evcxr compiles every cell in one crate directory (its `EVCXR_TMPDIR`), whose `target/`
//! keeps the compiled dependencies (`d2l`, `tch`, …). Reusing that directory across kernels
//! turns the first `:dep d2l` from minutes into seconds. Two kernels must never share one at
//! the same time (both rewrite `src/lib.rs`), so the cache root holds numbered slots, each
//! guarded by an exclusive file lock held for the engine's life: a kernel takes the first free
//! slot, so kernels that run one after another always reuse slot 0 and its warm build.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Environment variable that overrides the cache root.
pub const CACHE_DIR_VAR: &str = "D2L_KERNEL_CACHE";

/// How many slots to try before giving up.
const MAX_SLOTS: usize = 64;

/// The default cache root: `$D2L_KERNEL_CACHE`, else `~/.cache/d2l-rs/evcxr`.
pub fn default_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_VAR) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("d2l-rs")
        .join("evcxr")
}

/// One locked work directory; the lock is released when this is dropped.
#[derive(Debug)]
pub struct Slot {
    dir: PathBuf,
    _lock: File,
}

impl Slot {
    /// Locks the first free slot under `root`, creating it if needed.
    pub fn acquire(root: &Path) -> Result<Slot> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating the kernel cache directory {}", root.display()))?;
        for index in 0..MAX_SLOTS {
            let lock_path = root.join(format!("slot-{index}.lock"));
            let lock = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .with_context(|| format!("opening {}", lock_path.display()))?;
            if lock.try_lock().is_ok() {
                let dir = root.join(format!("slot-{index}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                return Ok(Slot { dir, _lock: lock });
            }
        }
        anyhow::bail!(
            "all {MAX_SLOTS} kernel cache slots under {} are in use; set {CACHE_DIR_VAR} to another directory",
            root.display()
        )
    }

    /// The evcxr work directory of this slot.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::Slot;

    #[test]
    fn concurrent_slots_differ_and_are_reused_after_release() {
        let root = tempfile::tempdir().unwrap();
        let a = Slot::acquire(root.path()).unwrap();
        let b = Slot::acquire(root.path()).unwrap();
        assert_ne!(a.dir(), b.dir());
        assert!(a.dir().ends_with("slot-0"));
        let a_dir = a.dir().to_owned();
        drop(a);
        let c = Slot::acquire(root.path()).unwrap();
        assert_eq!(c.dir(), a_dir);
    }
}
