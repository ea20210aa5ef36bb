//! Turns a cell's stdout lines into text lines and rich displays.
//!
//! The convention is `d2l-protocol`'s (and `docs/display-protocol.md`): content blocks
//! (`EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT`) written back to back form one bundle; a
//! bundle closed by a [`DISPLAY_MIME`] block carries a display id and says whether it creates or
//! updates that display. The vendored evcxr forwards every block to us as lines, in order.

use d2l_protocol::{is_json_mime, DisplayTarget, BEGIN_CONTENT, DISPLAY_MIME, END_CONTENT};
use serde_json::Value;
use std::collections::BTreeMap;

/// One rich output: every MIME type of a bundle, plus its display id if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Display {
    /// Payload per MIME type. JSON types (`…json`) hold parsed JSON, the rest strings.
    pub data: BTreeMap<String, Value>,
    /// The Jupyter display id (`transient.display_id`), if the bundle named one.
    pub display_id: Option<String>,
    /// True when this replaces what an existing display shows (`update_display_data`).
    pub update: bool,
}

impl Display {
    /// The payload of one MIME type as text, if present and textual.
    pub fn text(&self, mime: &str) -> Option<&str> {
        self.data.get(mime).and_then(Value::as_str)
    }
}

/// What one stdout line turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// An ordinary line of text (without its newline).
    Line(String),
    /// A finished bundle.
    Display(Display),
}

/// Incremental parser: feed it lines as they arrive, then call [`StreamParser::finish`].
#[derive(Debug, Default)]
pub struct StreamParser {
    /// The block being read: its MIME type and payload lines so far.
    block: Option<(String, Vec<String>)>,
    /// Finished blocks of the bundle being collected.
    bundle: Vec<(String, String)>,
}

impl StreamParser {
    /// A parser with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one stdout line (without its newline) and returns what it completed.
    pub fn feed(&mut self, line: &str) -> Vec<StreamEvent> {
        if let Some((mime, payload)) = &mut self.block {
            if line == END_CONTENT {
                let mime = std::mem::take(mime);
                let payload = std::mem::take(payload).join("\n");
                self.block = None;
                return self.close_block(mime, payload);
            }
            payload.push(line.to_owned());
            return Vec::new();
        }
        if let Some(mime) = line
            .strip_prefix(BEGIN_CONTENT)
            .and_then(|rest| rest.strip_prefix(' '))
        {
            self.block = Some((mime.trim().to_owned(), Vec::new()));
            return Vec::new();
        }
        let mut events: Vec<StreamEvent> = self
            .take_bundle()
            .map(StreamEvent::Display)
            .into_iter()
            .collect();
        events.push(StreamEvent::Line(line.to_owned()));
        events
    }

    /// Ends the stream: returns the bundle still open (not closed by a d2l block), if any.
    /// An unterminated block is kept as what was read of it.
    pub fn finish(&mut self) -> Option<Display> {
        if let Some((mime, payload)) = self.block.take() {
            self.bundle.push((mime, payload.join("\n")));
        }
        self.take_bundle()
    }

    fn close_block(&mut self, mime: String, payload: String) -> Vec<StreamEvent> {
        if mime != DISPLAY_MIME {
            self.bundle.push((mime, payload));
            return Vec::new();
        }
        let DisplayTarget { display_id, update } = DisplayTarget::from_json(&payload);
        let blocks = std::mem::take(&mut self.bundle);
        vec![StreamEvent::Display(Display {
            data: bundle_data(blocks),
            display_id,
            update,
        })]
    }

    fn take_bundle(&mut self) -> Option<Display> {
        if self.bundle.is_empty() {
            return None;
        }
        let blocks = std::mem::take(&mut self.bundle);
        Some(Display {
            data: bundle_data(blocks),
            display_id: None,
            update: false,
        })
    }
}

/// Builds Jupyter's MIME bundle: JSON types as JSON values, the rest as strings.
pub fn bundle_data(blocks: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, Value> {
    blocks
        .into_iter()
        .map(|(mime, payload)| {
            let value = if is_json_mime(&mime) {
                serde_json::from_str(&payload).unwrap_or(Value::String(payload))
            } else {
                Value::String(payload)
            };
            (mime, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(parser: &mut StreamParser, text: &str) -> Vec<StreamEvent> {
        text.lines().flat_map(|l| parser.feed(l)).collect()
    }

    #[test]
    fn plain_lines_pass_through() {
        let mut p = StreamParser::new();
        assert_eq!(
            feed_all(&mut p, "a\nb"),
            vec![StreamEvent::Line("a".into()), StreamEvent::Line("b".into())]
        );
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn doc_example_svg_bundle_is_flushed_by_next_line() {
        let mut p = StreamParser::new();
        let events = feed_all(
            &mut p,
            "EVCXR_BEGIN_CONTENT image/svg+xml\n<svg width=\"1\">\n</svg>\nEVCXR_END_CONTENT\nafter",
        );
        assert_eq!(events.len(), 2);
        let StreamEvent::Display(d) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(d.text("image/svg+xml"), Some("<svg width=\"1\">\n</svg>"));
        assert_eq!(d.display_id, None);
        assert_eq!(events[1], StreamEvent::Line("after".into()));
    }

    #[test]
    fn bundle_without_d2l_block_is_returned_by_finish() {
        let mut p = StreamParser::new();
        let events = feed_all(
            &mut p,
            "EVCXR_BEGIN_CONTENT text/plain\n42\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT text/html\n<b>42</b>\nEVCXR_END_CONTENT",
        );
        assert!(events.is_empty());
        let d = p.finish().expect("pending bundle");
        assert_eq!(d.text("text/plain"), Some("42"));
        assert_eq!(d.text("text/html"), Some("<b>42</b>"));
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn d2l_block_closes_bundle_with_id_and_is_stripped() {
        let mut p = StreamParser::new();
        let text = "EVCXR_BEGIN_CONTENT image/svg+xml\n<svg/>\nEVCXR_END_CONTENT\n\
                    EVCXR_BEGIN_CONTENT text/plain\nFigure\nEVCXR_END_CONTENT\n\
                    EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n\
                    {\"display_id\": \"d2l-board-3f2a\", \"update\": false}\nEVCXR_END_CONTENT";
        let events = feed_all(&mut p, text);
        let [StreamEvent::Display(d)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(d.display_id.as_deref(), Some("d2l-board-3f2a"));
        assert!(!d.update);
        assert_eq!(
            d.data.keys().collect::<Vec<_>>(),
            vec!["image/svg+xml", "text/plain"]
        );
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn updates_name_their_display() {
        let mut p = StreamParser::new();
        let text = "EVCXR_BEGIN_CONTENT image/svg+xml\n<svg>2</svg>\nEVCXR_END_CONTENT\n\
                    EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n\
                    {\"display_id\": \"b\", \"update\": true}\nEVCXR_END_CONTENT";
        let events = feed_all(&mut p, text);
        let [StreamEvent::Display(d)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert!(d.update);
        assert_eq!(d.display_id.as_deref(), Some("b"));
        assert_eq!(d.text("image/svg+xml"), Some("<svg>2</svg>"));
    }

    #[test]
    fn null_id_never_updates_and_json_types_are_parsed() {
        let mut p = StreamParser::new();
        let text = "EVCXR_BEGIN_CONTENT application/json\n{\"a\": [1, 2]}\nEVCXR_END_CONTENT\n\
                    EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n\
                    {\"display_id\": null, \"update\": true}\nEVCXR_END_CONTENT";
        let events = feed_all(&mut p, text);
        let [StreamEvent::Display(d)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(d.display_id, None);
        assert!(!d.update);
        assert_eq!(d.data["application/json"], serde_json::json!({"a": [1, 2]}));
    }
}
