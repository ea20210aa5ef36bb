//! Data for the book: the data hub ([`download`], SHA-1 checked and cached), archives
//! ([`extract`]), the IDX format of the MNIST family ([`idx`]), Fashion-MNIST (real or a labelled
//! synthetic stand-in, [`fashion_mnist`]), English–French pairs (real or generated, [`fra_eng`]), batches of in-memory tensors ([`TensorLoader`]) and CSV
//! tables ([`Table`]) with the preprocessing the house-price chapter needs, and the rule for every
//! other hub data set: the real files or a generated stand-in ([`StandIn`]).
//!
//! Downloads go to a cache directory: `$D2L_DATA_DIR`, or `d2l-rs/data` under the user's cache
//! directory (`~/.cache/d2l-rs/data` on Linux). The hub's base URL is d2l's
//! (`http://d2l-data.s3-accelerate.amazonaws.com/`) unless `$D2L_DATA_URL` or
//! [`DataHub::with_base_url`] names another, such as a local mirror.

mod archive;
pub mod fashion_mnist;
pub mod fra_eng;
mod hub;
pub mod idx;
mod loader;
mod stand_in;
mod table;
mod torch_file;

pub use archive::extract;
pub use fashion_mnist::FashionMnistTensors;
pub use hub::{
    download, download_extract, sha1_file, DataHub, HubEntry, Source, DATA_DIR_ENV, DATA_URL_ENV,
    DEFAULT_DATA_URL,
};
pub use loader::{Batches, Gather, TensorGroup, TensorLoader};
pub use stand_in::{is_stand_in, write_stand_in, DataFolder, StandIn, STAND_IN_MARKER};
pub use table::{Column, ColumnData, CsvOptions, Table};
pub use torch_file::read_torch_file;

use std::path::PathBuf;

/// Errors of downloading, unpacking and reading data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The name is not in the data hub.
    #[error("no data set named {name:?} in the data hub (known: {known})")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The names the hub has, comma-separated.
        known: String,
    },
    /// The download failed (network, HTTP status, or an interrupted transfer).
    #[error(
        "cannot download {url}: {reason}\n  If this machine is offline, fetch the file elsewhere and put it at {} \
         (its SHA-1 must be {sha1}), or point ${} (or DataHub::with_base_url) at a mirror.",
        .path.display(),
        hub::DATA_URL_ENV
    )]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
        /// Where the file is expected in the cache.
        path: PathBuf,
        /// The SHA-1 the file must have.
        sha1: String,
    },
    /// The downloaded bytes do not have the expected SHA-1 (nothing was cached).
    #[error("{url}: SHA-1 is {actual}, expected {expected}; the download was discarded")]
    HashMismatch {
        /// The URL.
        url: String,
        /// The SHA-1 in the hub.
        expected: String,
        /// The SHA-1 of what arrived.
        actual: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An archive could not be read.
    #[error("{}: {message}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An archive entry would be written outside the target directory (or is a link).
    #[error("{}: refusing entry {entry:?}: {reason}", archive.display())]
    UnsafeEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// The file name does not end in a supported archive extension.
    #[error("{}: not a .zip, .tar, .tar.gz or .tgz archive", .0.display())]
    UnsupportedArchive(PathBuf),
    /// An IDX file is malformed.
    #[error("{}: {message}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV file could not be parsed.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The parser's error (it names the line).
        #[source]
        source: csv::Error,
    },
    /// Data of the wrong shape or type for the operation.
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    /// The [`DataError::Io`] of `source` on `path`: `.map_err(|e| DataError::io(&path, e))`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A failed download whose reason also names the offline stand-in (`{env}=synthetic`);
    /// other errors pass through unchanged.
    pub(crate) fn suggesting_stand_in(self, env: &str) -> Self {
        match self {
            DataError::Download {
                url,
                reason,
                path,
                sha1,
            } => DataError::Download {
                url,
                reason: format!("{reason} (or set {env}=synthetic to use a generated stand-in)"),
                path,
                sha1,
            },
            other => other,
        }
    }
}
