//! A hub data set or its generated stand-in: the one rule every offline-capable loader of the
//! book follows, written once.
//!
//! The real files come from the data hub (SHA-1 checked). With the data set's switch set to
//! `synthetic` (`D2L_PTB=synthetic`), or when the hub cannot be reached, a stand-in in the same
//! format is generated into the cache instead, once, and the page gets a notice saying so.

use super::{DataError, DataHub};
use crate::display::{notice, Notice};
use std::path::{Path, PathBuf};

/// The file that marks a folder as a generated stand-in; it says what the folder holds.
pub const STAND_IN_MARKER: &str = "SYNTHETIC.md";

/// A data set of the hub together with the stand-in that replaces it offline.
#[derive(Clone, Copy, Debug)]
pub struct StandIn<'a> {
    /// The hub's name for the data set (`"ptb"`).
    pub hub_name: &'a str,
    /// The folder inside the unpacked archive to return, as for [`DataHub::download_extract`].
    pub folder: Option<&'a str>,
    /// The environment variable whose value `synthetic` selects the stand-in (`"D2L_PTB"`).
    pub switch: &'a str,
    /// How the page's notice names the data set (`"the Penn Treebank"`).
    pub dataset: &'a str,
    /// The stand-in's folder under the hub's cache directory (`"ptb-synthetic"`).
    pub cache_folder: &'a str,
    /// What the stand-in is, in one or two sentences; written to its marker file.
    pub note: &'a str,
}

/// Where a data set's files are, and whether they are the stand-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFolder {
    /// The unpacked real data (the archive's folder) or the stand-in's folder.
    pub path: PathBuf,
    /// Whether `path` holds the generated stand-in.
    pub synthetic: bool,
}

impl StandIn<'_> {
    /// Whether the switch asks for the stand-in (`synthetic`, in any case).
    pub fn is_requested(&self) -> bool {
        std::env::var(self.switch).is_ok_and(|v| v.eq_ignore_ascii_case("synthetic"))
    }

    /// The real data set from `hub` (one quiet attempt), or the stand-in.
    ///
    /// The stand-in is used when the switch asks for it or when the download fails; `write` fills
    /// a fresh folder with its files the first time (see [`write_stand_in`]), and a notice tells
    /// the reader. Errors other than a failed download (a wrong SHA-1, a broken archive) are
    /// returned, not papered over.
    pub fn fetch(
        &self,
        hub: &DataHub,
        write: impl FnOnce(&Path) -> Result<(), DataError>,
    ) -> Result<DataFolder, DataError> {
        let reason = if self.is_requested() {
            format!("{}=synthetic", self.switch)
        } else {
            let quiet_hub = hub.clone().quiet(true).with_attempts(1);
            match quiet_hub.download_extract(self.hub_name, self.folder) {
                Ok(path) => {
                    return Ok(DataFolder {
                        path,
                        synthetic: false,
                    })
                }
                Err(DataError::Download { .. }) => format!(
                    "the data hub could not be reached; {}=synthetic selects it",
                    self.switch
                ),
                Err(e) => return Err(e),
            }
        };
        let path = hub.cache_dir().join(self.cache_folder);
        if !is_stand_in(&path) {
            write_stand_in(&path, self.note, write)?;
        }
        notice(&Notice::SyntheticData {
            dataset: self.dataset.into(),
            switch: reason,
        });
        Ok(DataFolder {
            path,
            synthetic: true,
        })
    }
}

/// Whether `dir` holds a generated stand-in (its marker file is there).
pub fn is_stand_in(dir: impl AsRef<Path>) -> bool {
    dir.as_ref().join(STAND_IN_MARKER).is_file()
}

/// Writes a stand-in folder at `dir` all at once: `write` fills a temporary sibling folder, the
/// marker file gets `note`, and the folder is renamed into place, so that an interrupted run
/// leaves nothing half-written and a reader never sees half a data set. When another process
/// finished the same stand-in first, its copy is kept.
pub fn write_stand_in(
    dir: &Path,
    note: &str,
    write: impl FnOnce(&Path) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let io = |path: &Path, source: std::io::Error| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = dir
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("stand-in");
    let tmp = dir.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    if let Err(e) = write(&tmp) {
        // Best effort: the generator's error is the one worth reporting.
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let marker = tmp.join(STAND_IN_MARKER);
    let text = format!("# Not the real data\n\n{}\n", note.trim_end());
    std::fs::write(&marker, text).map_err(|e| io(&marker, e))?;
    match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        Err(_) if is_stand_in(dir) => std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e)),
        Err(e) => Err(io(dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(switch: &'static str) -> StandIn<'static> {
        StandIn {
            hub_name: "time_machine",
            folder: None,
            switch,
            dataset: "a test set",
            cache_folder: "test-synthetic",
            note: "Three lines for a test.",
        }
    }

    #[test]
    fn an_unreachable_hub_gives_the_stand_in_written_once() {
        let cache = tempfile::tempdir().unwrap();
        // Port 9 (discard) is closed here: the download fails at once.
        let hub = DataHub::new()
            .with_base_url("http://127.0.0.1:9/")
            .with_cache_dir(cache.path());
        let mut writes = 0;
        for _ in 0..2 {
            let folder = spec("D2L_STAND_IN_TEST_UNSET")
                .fetch(&hub, |tmp| {
                    writes += 1;
                    std::fs::write(tmp.join("data.txt"), "a\nb\nc\n")
                        .map_err(|e| DataError::Invalid(e.to_string()))
                })
                .unwrap();
            assert!(folder.synthetic);
            assert_eq!(folder.path, cache.path().join("test-synthetic"));
            assert_eq!(
                std::fs::read_to_string(folder.path.join("data.txt")).unwrap(),
                "a\nb\nc\n"
            );
        }
        assert_eq!(
            writes, 1,
            "the second fetch reads the stand-in already written"
        );
        let marker =
            std::fs::read_to_string(cache.path().join("test-synthetic").join(STAND_IN_MARKER));
        assert!(marker.unwrap().contains("Three lines for a test."));
    }

    #[test]
    fn a_failed_write_leaves_no_folder_behind() {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join("broken-synthetic");
        let err = write_stand_in(&dir, "never finished", |tmp| {
            std::fs::write(tmp.join("half.txt"), "x").unwrap();
            Err(DataError::Invalid("generator failed".into()))
        })
        .unwrap_err();
        assert!(err.to_string().contains("generator failed"));
        assert!(!dir.exists());
        let left: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "the temporary folder is removed too: {left:?}"
        );
    }
}
