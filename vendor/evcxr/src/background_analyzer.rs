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
                    prime(analyzer.database());
                    analyzer.top_level_variables(&function_name);
                }
                analyzer
            })?;
        self.warming = Some(thread);
        Ok(())
    }
}

/// Builds what a first `let` cell needs of every crate (its name table and its index of trait
/// implementations) on as many threads as there are cores, dependencies first. Most of it is
/// per crate, so the crates after `core`, `alloc` and `std` split between the threads; salsa
/// makes a thread that needs a table another is building wait for it. On 2 cores, the cell
/// after a new kernel's first `let` cell (which waits for the rest of the warm-up) went from
/// 5.7 to 4.3 s with it.
fn prime(db: &ra_ap_ide::RootDatabase) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let crates = dependencies_first(db);
    std::thread::scope(|scope| {
        for first in 0..threads {
            let db = db.clone();
            let share: Vec<ra_ap_hir::Crate> = crates
                .iter()
                .skip(first)
                .step_by(threads)
                .copied()
                .collect();
            let spawned = std::thread::Builder::new()
                .name("evcxr-analysis-prime".into())
                .spawn_scoped(scope, move || {
                    // A panic here is an analyzer bug; the question asked next redoes the work.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        ra_ap_hir::attach_db(&db, || {
                            for krate in share {
                                krate.root_module(&db);
                                ra_ap_hir::TraitImpls::for_crate(&db, krate.into());
                            }
                        })
                    }));
                });
            // Without the thread its share waits for the question asked next.
            drop(spawned);
        }
    });
}

/// Every crate of the graph, each after its dependencies.
fn dependencies_first(db: &ra_ap_ide::RootDatabase) -> Vec<ra_ap_hir::Crate> {
    fn visit(
        db: &ra_ap_ide::RootDatabase,
        krate: ra_ap_hir::Crate,
        seen: &mut std::collections::HashSet<ra_ap_hir::Crate>,
        order: &mut Vec<ra_ap_hir::Crate>,
    ) {
        if seen.insert(krate) {
            for dependency in krate.dependencies(db) {
                visit(db, dependency.krate, seen, order);
            }
            order.push(krate);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut order = Vec::new();
    for krate in ra_ap_hir::Crate::all(db) {
        visit(db, krate, &mut seen, &mut order);
    }
    order
}
