//! Progress bars of `build eval`: one for the book, one per running notebook.
//!
//! Without bars (`CI` set, or stderr not a terminal) each finished notebook gets one log line,
//! so a CI log shows where a long evaluation is and what each notebook cost.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one evaluation.
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    visible: bool,
}

/// Whether bars should be drawn: stderr is a terminal and `CI` is not set.
pub fn wanted() -> bool {
    std::env::var_os("CI").is_none() && std::io::stderr().is_terminal()
}

impl Progress {
    /// Bars for `total` notebooks to run; hidden unless `visible`.
    pub fn new(total: usize, visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(style(
            "{prefix:>8} [{bar:30}] {pos}/{len} notebooks {elapsed}",
        ));
        overall.set_prefix("eval");
        overall.enable_steady_tick(Duration::from_millis(200));
        Progress {
            multi,
            overall,
            visible,
        }
    }

    /// A bar for one notebook with `cells` cells.
    pub fn notebook(&self, name: &str, cells: usize) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(cells as u64));
        bar.set_style(style("{prefix:>8} [{bar:30}] {pos}/{len} cells {wide_msg}"));
        bar.set_prefix("cells");
        bar.set_message(name.to_string());
        bar
    }

    /// Marks one notebook as done and removes its bar.
    pub fn done(&self, bar: &ProgressBar) {
        if !self.visible {
            let (n, total) = (
                self.overall.position() + 1,
                self.overall.length().unwrap_or(0),
            );
            eprintln!(
                "eval: [{n}/{total}] {} ({} cells, {:.1} s)",
                bar.message(),
                bar.position(),
                bar.elapsed().as_secs_f64()
            );
        }
        bar.finish_and_clear();
        self.multi.remove(bar);
        self.overall.inc(1);
    }

    /// Removes every bar.
    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
