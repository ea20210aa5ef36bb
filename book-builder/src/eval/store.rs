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
    /// Seconds the notebook took to run (engine start included), to run the longest first
    /// next time.
    #[serde(default)]
    pub seconds: Option<f64>,
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

/// Reads the stored outputs of page `stem`: `Ok(None)` when there are none, `Err` (saying what
/// to do) when the file exists but cannot be read, e.g. truncated by a crash.
pub fn read(output_dir: &Path, stem: &str) -> std::result::Result<Option<Stored>, String> {
    let path = path(output_dir, stem);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the stored outputs {} ({e}); evaluate the page again (`d2l-book build eval`)", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("the stored outputs {} are damaged ({e}); evaluate the page again (`d2l-book build eval`)", path.display()))
}

/// Writes the stored outputs of page `stem` atomically: a temporary file of a unique name
/// (two builds may share the store), then a rename.
pub fn write(output_dir: &Path, stem: &str, stored: &Stored) -> Result<()> {
    let path = path(output_dir, stem);
    let dir = path.parent().unwrap_or(output_dir);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, &serde_json::to_vec(stored)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

/// Stores outputs made elsewhere (another machine, a test) for page `page` of `book`, under its
/// current code. A build that does not evaluate shows them; `build eval` runs the page again,
/// since the key names no evaluation environment.
pub fn import(book: &crate::model::Book, page: usize, cells: Vec<CellOutputs>) -> Result<()> {
    let p = &book.pages[page];
    let (tab, tabs) = (book.config.default_tab(), &book.config.book.tabs);
    let code_hash = super::key::code_hash(p.input_cells(tab, tabs).map(|c| c.code.as_str()));
    let stored = Stored {
        key: "imported".into(),
        code_hash,
        source: p.path.display().to_string(),
        seconds: None,
        cells,
    };
    write(&book.config.output_dir(), &p.stem, &stored)
}
