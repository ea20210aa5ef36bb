//! Stored outputs: `<output_dir>/eval/<page stem>.json`, one file per evaluated notebook.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::outputs::CellOutputs;

/// What an evaluation of one notebook left behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    /// The full cache key ([`super::key::Environment::key`]): equal means "do not run again".
    pub key: String,
    /// The hash of the code cells alone: equal means "these outputs belong to this code".
    pub code_hash: String,
    /// The notebook's source path, for people reading the folder.
    pub source: String,
    /// Outputs of each executable cell of the default tab, in order.
    pub cells: Vec<CellOutputs>,
}

/// Names a folder for stored outputs other than `<output_dir>/eval`. CI keeps them outside the
/// clone this way, so that a notebook unchanged since the last run is not run again in a fresh
/// clone; the key of each stored page makes sharing the folder safe.
pub const STORE_ENV: &str = "D2L_EVAL_STORE";

/// The folder of stored outputs: `$D2L_EVAL_STORE`, or `eval` under a book's output folder.
pub fn dir(output_dir: &Path) -> PathBuf {
    match std::env::var_os(STORE_ENV) {
        Some(store) if !store.is_empty() => PathBuf::from(store),
        _ => output_dir.join("eval"),
    }
}

/// The file of page `stem`.
pub fn path(output_dir: &Path, stem: &str) -> PathBuf {
    dir(output_dir).join(format!("{stem}.json"))
}

/// Reads the stored outputs of page `stem`, if any (unreadable files count as absent).
pub fn read(output_dir: &Path, stem: &str) -> Option<Stored> {
    let text = std::fs::read_to_string(path(output_dir, stem)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the stored outputs of page `stem` (atomically: a temporary file, then a rename).
pub fn write(output_dir: &Path, stem: &str, stored: &Stored) -> Result<()> {
    let path = path(output_dir, stem);
    let dir = path.parent().unwrap_or(output_dir);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(stored)?).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}
