//! # d2l-protocol — how `d2l` talks to the programs that run it
//!
//! A notebook cell can only write to stdout. The `d2l` crate (the writer), the `d2l-engine`
//! evaluation engine (the reader inside the Jupyter kernel) and the book builder (which stores
//! and renders what the engine read) all follow the definitions in this crate, and only these:
//!
//! - **content blocks**: a payload framed by [`BEGIN_CONTENT`]` <mime>` and [`END_CONTENT`]
//!   lines, evcxr's convention. Blocks written back to back form one **bundle** (one rich
//!   output, a payload per MIME type);
//! - **the display block** ([`DISPLAY_MIME`], a [`DisplayTarget`] as JSON) closes every bundle
//!   `d2l` writes: it carries the Jupyter display id and whether the bundle updates that display;
//! - **notices** ([`NOTICE_MIME`], a [`Notice`] as JSON): facts about how outputs were made
//!   (a synthetic stand-in for a data set, a shortened run) that the builder shows once, at the
//!   top of the page, instead of as a cell output;
//! - **the environment switches that change results** ([`env::RESULT_SWITCHES`]): the book
//!   builder's evaluation cache keys on their values.
//!
//! ```
//! use d2l_protocol::{DisplayTarget, Notice, BEGIN_CONTENT, DISPLAY_MIME};
//! let target = DisplayTarget::update("d2l-board-1");
//! assert_eq!(DisplayTarget::from_json(&target.to_json()), target);
//! assert_eq!(format!("{BEGIN_CONTENT} {DISPLAY_MIME}"), "EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json");
//! let notice = Notice::ScaledRun { scale: 0.1 };
//! assert_eq!(Notice::from_json(&notice.to_json()), Some(notice));
//! ```
//!
//! The full convention, with examples, is `docs/display-protocol.md` in the repository.

use serde::{Deserialize, Serialize};

/// The line that opens a content block; the MIME type follows after one space.
pub const BEGIN_CONTENT: &str = "EVCXR_BEGIN_CONTENT";
/// The line that closes a content block.
pub const END_CONTENT: &str = "EVCXR_END_CONTENT";
/// The MIME type of the block that closes every bundle `d2l` writes.
pub const DISPLAY_MIME: &str = "application/vnd.d2l.display+json";
/// The MIME type of a [`Notice`].
pub const NOTICE_MIME: &str = "application/vnd.d2l.notice+json";
/// Set to `1` by the `d2l` engine in the process that runs cells.
pub const KERNEL_ENV: &str = "D2L_KERNEL";
/// Set by evcxr (stock or ours) in the process that runs cells.
pub const EVCXR_ENV: &str = "EVCXR_IS_RUNTIME";
/// MIME types whose payload is binary and therefore base64-encoded in a content block.
pub const BINARY_MIMES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Whether a payload of this MIME type is JSON (and travels parsed in Jupyter messages).
pub fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || mime.ends_with("+json")
}

/// Which display a bundle goes to: the content of the closing display block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayTarget {
    /// The Jupyter display id (`transient.display_id`), if the display may be updated later.
    pub display_id: Option<String>,
    /// `false`: create a display (`display_data`); `true`: replace what the display with this id
    /// shows (`update_display_data`).
    pub update: bool,
}

impl DisplayTarget {
    /// A new display without an id (the common case).
    pub fn new_display() -> Self {
        DisplayTarget {
            display_id: None,
            update: false,
        }
    }

    /// A new display with an id, so that it can be updated later.
    pub fn with_id(id: impl Into<String>) -> Self {
        DisplayTarget {
            display_id: Some(id.into()),
            update: false,
        }
    }

    /// An update of the display with this id.
    pub fn update(id: impl Into<String>) -> Self {
        DisplayTarget {
            display_id: Some(id.into()),
            update: true,
        }
    }

    /// The JSON payload of the closing block, e.g. `{"display_id":"d2l-3f2a","update":true}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "display_id": self.display_id, "update": self.update }).to_string()
    }

    /// Reads a closing block. Anything malformed means "a new display without an id", and an
    /// update without an id is a new display too: a reader never drops a bundle.
    pub fn from_json(payload: &str) -> DisplayTarget {
        let value: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
        let display_id = value
            .get("display_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let update = value
            .get("update")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
            && display_id.is_some();
        DisplayTarget { display_id, update }
    }
}

impl Default for DisplayTarget {
    fn default() -> Self {
        Self::new_display()
    }
}

/// A fact about how a page's outputs were made, which a reader of the page must know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Notice {
    /// A data set was replaced by a generated stand-in in the same format.
    SyntheticData {
        /// The real data set's name, e.g. `Fashion-MNIST`.
        dataset: String,
        /// The setting that selected the stand-in, e.g. `D2L_FASHION_MNIST=synthetic`.
        switch: String,
    },
    /// Training was shortened by [`env::SCALE`] (fewer epochs and examples, the same models).
    ScaledRun {
        /// The scale in force, in (0, 1).
        scale: f64,
    },
}

impl Notice {
    /// The notice as the JSON payload of a [`NOTICE_MIME`] block.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a [`NOTICE_MIME`] payload; `None` when it is not a notice this version knows.
    pub fn from_json(payload: &str) -> Option<Notice> {
        serde_json::from_str(payload).ok()
    }

    /// One sentence for people: the `text/plain` fallback and what a terminal prints.
    pub fn sentence(&self) -> String {
        match self {
            Notice::SyntheticData { dataset, switch } => {
                format!("d2l: using a generated stand-in for {dataset} ({switch}), not the real data set")
            }
            Notice::ScaledRun { scale } => {
                format!("d2l: training shortened to {scale} of its full length ({}={scale}): fewer epochs and examples, the same models", env::SCALE)
            }
        }
    }
}

/// The environment switches of `d2l` that change what a notebook computes.
pub mod env {
    /// A fraction in (0, 1] that shortens every training run; unset means full size.
    pub const SCALE: &str = "D2L_SCALE";
    /// Set (to `1`) when the process follows [`SCALE`]: `d2l::scale::use_env` sets it, which the
    /// book's kernel does at start-up. Without it a program trains at full size.
    pub const FOLLOW_SCALE: &str = "D2L_FOLLOW_SCALE";
    /// Where downloaded data sets are cached.
    pub const DATA_DIR: &str = "D2L_DATA_DIR";
    /// The base URL of the data hub.
    pub const DATA_URL: &str = "D2L_DATA_URL";
    /// `synthetic` selects the generated Fashion-MNIST stand-in.
    pub const FASHION_MNIST: &str = "D2L_FASHION_MNIST";
    /// `synthetic` selects the generated English–French stand-in.
    pub const FRA_ENG: &str = "D2L_FRA_ENG";
    /// Every switch above: the inputs of a notebook's outputs besides its code and the crate.
    pub const RESULT_SWITCHES: [&str; 5] = [SCALE, DATA_DIR, DATA_URL, FASHION_MNIST, FRA_ENG];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_targets_round_trip_and_malformed_ones_create() {
        for t in [
            DisplayTarget::new_display(),
            DisplayTarget::with_id("a"),
            DisplayTarget::update("b"),
        ] {
            assert_eq!(DisplayTarget::from_json(&t.to_json()), t);
        }
        assert_eq!(
            DisplayTarget::to_json(&DisplayTarget::new_display()),
            r#"{"display_id":null,"update":false}"#
        );
        assert_eq!(
            DisplayTarget::from_json("not json"),
            DisplayTarget::new_display()
        );
        assert_eq!(
            DisplayTarget::from_json(r#"{"display_id":null,"update":true}"#),
            DisplayTarget::new_display()
        );
    }

    #[test]
    fn notices_round_trip_with_a_kind_tag() {
        let n = Notice::SyntheticData {
            dataset: "Fashion-MNIST".into(),
            switch: "D2L_FASHION_MNIST=synthetic".into(),
        };
        let json = n.to_json();
        assert!(json.contains(r#""kind":"synthetic-data""#), "{json}");
        assert_eq!(Notice::from_json(&json), Some(n.clone()));
        assert!(n.sentence().contains("Fashion-MNIST"));
        assert_eq!(Notice::from_json(r#"{"kind":"unknown"}"#), None);
        assert!(Notice::ScaledRun { scale: 0.1 }
            .sentence()
            .contains("D2L_SCALE=0.1"));
    }

    #[test]
    fn json_mimes() {
        assert!(
            is_json_mime(DISPLAY_MIME)
                && is_json_mime(NOTICE_MIME)
                && is_json_mime("application/json")
        );
        assert!(!is_json_mime("text/plain"));
    }
}
