//! The engine's outputs in nbformat's shape: an [`OutputSink`] that builds [`Output`]s.

use std::collections::{BTreeMap, HashMap};

use d2l_engine::{CellError, Display, OutputSink};
use serde_json::Value;

use crate::model::{MimeBundle, Output};

/// Collects one cell's outputs in order: stream text merged per stream, displays as
/// `display_data` (an update replaces the display it names), the result as `execute_result`.
#[derive(Debug, Default)]
pub struct NbSink {
    outputs: Vec<Output>,
    by_display_id: HashMap<String, usize>,
}

impl NbSink {
    fn stream(&mut self, name: &str, text: &str) {
        if let Some(Output::Stream {
            name: last,
            text: buf,
        }) = self.outputs.last_mut()
        {
            if last == name {
                buf.push_str(text);
                return;
            }
        }
        self.outputs.push(Output::Stream {
            name: name.to_string(),
            text: text.to_string(),
        });
    }

    /// Finishes the cell: adds its result or error and returns every output.
    pub fn finish(
        mut self,
        result: &Result<Option<Display>, CellError>,
        execution_count: u32,
    ) -> Vec<Output> {
        match result {
            Ok(Some(display)) => self.outputs.push(Output::ExecuteResult {
                data: bundle(&display.data),
                metadata: Default::default(),
                execution_count: Some(execution_count),
            }),
            Ok(None) => {}
            Err(error) => self.outputs.push(error_output(error)),
        }
        self.outputs
    }
}

impl OutputSink for NbSink {
    fn stdout(&mut self, text: &str) {
        self.stream("stdout", text);
    }
    fn stderr(&mut self, text: &str) {
        self.stream("stderr", text);
    }
    fn display(&mut self, display: &Display) {
        let data = bundle(&display.data);
        if let Some(id) = &display.display_id {
            if display.update {
                if let Some(&at) = self.by_display_id.get(id) {
                    if let Some(Output::DisplayData { data: old, .. }) = self.outputs.get_mut(at) {
                        *old = data;
                    }
                }
                return;
            }
            self.by_display_id.insert(id.clone(), self.outputs.len());
        }
        self.outputs.push(Output::DisplayData {
            data,
            metadata: Default::default(),
        });
    }
}

/// An engine error as an nbformat `error` output.
pub fn error_output(error: &CellError) -> Output {
    Output::Error {
        ename: error.name.clone(),
        evalue: error.value.clone(),
        traceback: error.traceback.clone(),
    }
}

/// MIME payloads as strings (JSON payloads serialised), without the d2l display marker type.
fn bundle(data: &BTreeMap<String, Value>) -> MimeBundle {
    MimeBundle(
        data.iter()
            .filter(|(mime, _)| mime.as_str() != d2l_protocol::DISPLAY_MIME)
            .map(|(mime, value)| {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (mime.clone(), text)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(id: Option<&str>, update: bool, text: &str) -> Display {
        let mut data = BTreeMap::new();
        data.insert("text/plain".to_string(), Value::String(text.into()));
        Display {
            data,
            display_id: id.map(str::to_string),
            update,
        }
    }

    #[test]
    fn streams_merge_and_updates_replace_their_display() {
        let mut sink = NbSink::default();
        sink.stdout("a\n");
        sink.stdout("b\n");
        sink.display(&display(Some("d1"), false, "epoch 1"));
        sink.stderr("warn\n");
        sink.display(&display(Some("d1"), true, "epoch 2"));
        let outputs = sink.finish(&Ok(Some(display(None, false, "42"))), 3);
        assert_eq!(outputs.len(), 4, "{outputs:?}");
        assert_eq!(
            outputs[0],
            Output::Stream {
                name: "stdout".into(),
                text: "a\nb\n".into()
            }
        );
        let Output::DisplayData { data, .. } = &outputs[1] else {
            panic!("{outputs:?}")
        };
        assert_eq!(data.0["text/plain"], "epoch 2");
        assert!(
            matches!(&outputs[3], Output::ExecuteResult { execution_count: Some(3), data, .. } if data.0["text/plain"] == "42")
        );
    }

    #[test]
    fn errors_become_error_outputs() {
        let err = CellError::new("CompilationError", "mismatched types");
        let outputs = NbSink::default().finish(&Err(err), 1);
        assert!(
            matches!(&outputs[0], Output::Error { ename, evalue, .. } if ename == "CompilationError" && evalue == "mismatched types")
        );
    }
}
