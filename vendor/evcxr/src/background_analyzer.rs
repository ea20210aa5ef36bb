// d2l-rs patch 9 (vendor/evcxr/PATCHES.md): rust-analyzer, lent to a thread of its own while
// it warms up.
//
// The first question evcxr asks the analyzer (the types of a cell's `let` variables) loads the
// workspace and builds the name tables of the standard library and of every crate a cell can
// name: seconds. A host that knows what its first cells will look like (the d2l kernel, right
// after loading `d2l`) asks such a question here, on another thread, so that the work overlaps
// the first cells instead of delaying the first `let` cell. Whoever needs the analyzer next
// waits for the thread and gets it back with everything it computed.

use crate::rust_analyzer::RustAnalyzer;
use anyhow::Result;
use std::path::Path;
use std::path::PathBuf;
use std::thread::JoinHandle;

pub(crate) struct BackgroundAnalyzer {
    root_directory: PathBuf,
    /// The analyzer when no warm-up has it.
    idle: Option<RustAnalyzer>,
    /// The warm-up that has it.
    warming: Option<JoinHandle<RustAnalyzer>>,
}

impl BackgroundAnalyzer {
    pub(crate) fn new(root_directory: &Path) -> Result<BackgroundAnalyzer> {
        Ok(BackgroundAnalyzer {
            root_directory: root_directory.to_owned(),
            idle: Some(RustAnalyzer::new(root_directory)?),
            warming: None,
        })
    }

    /// The analyzer, after waiting for any warm-up. A warm-up that panicked (an analyzer bug)
    /// costs only its own work: a new analyzer takes its place.
    pub(crate) fn get(&mut self) -> Result<&mut RustAnalyzer> {
        if let Some(thread) = self.warming.take() {
            self.idle = thread.join().ok();
        }
        if self.idle.is_none() {
            self.idle = Some(RustAnalyzer::new(&self.root_directory)?);
        }
        Ok(self.idle.as_mut().expect("an analyzer was just put there"))
    }

    /// Whether a warm-up is still running (so `get` would wait).
    pub(crate) fn is_warming_up(&self) -> bool {
        self.warming
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Gives the analyzer `source` and asks for the types of `function_name`'s variables on a
    /// thread of its own; the answer is thrown away, what it took to find it is kept.
    pub(crate) fn warm_up(&mut self, source: String, function_name: &str) -> Result<()> {
        self.get()?;
        let mut analyzer = self.idle.take().expect("get left an analyzer");
        let function_name = function_name.to_owned();
        let thread = std::thread::Builder::new()
            .name("evcxr-analysis-warm-up".into())
            .spawn(move || {
                if analyzer.set_source(source).is_ok() {
                    analyzer.top_level_variables(&function_name);
                }
                analyzer
            })?;
        self.warming = Some(thread);
        Ok(())
    }
}
