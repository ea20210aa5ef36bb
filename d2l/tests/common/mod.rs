//! Helpers shared by the `d2l` integration tests.

// Each test crate that includes this module uses only some of its helpers.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A writer the test can read back after a board or display has written into it.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A trainer for `max_epochs` epochs at full scale on the CPU that draws nothing, for tests
/// that train a model and read its statistics.
pub fn quiet_trainer(max_epochs: usize) -> d2l::Trainer {
    d2l::Trainer {
        max_epochs,
        scale: 1.0,
        device: tch::Device::Cpu,
        board: d2l::ProgressBoard::with_options(d2l::plotting::BoardOptions {
            display: false,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Writes the SNLI stand-in (`num_train` training pairs, `num_test` test pairs) into a fresh
/// folder, which lives as long as the returned guard.
pub fn snli_folder(num_train: usize, num_test: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("snli-synthetic");
    d2l::data::write_stand_in(&target, "test", |d| {
        d2l::write_snli_stand_in(d, num_train, num_test)
    })
    .unwrap();
    (dir, target)
}
