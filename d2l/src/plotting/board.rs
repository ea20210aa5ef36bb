//! [`ProgressBoard`]: training curves that draw themselves while a model trains.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tch::Tensor;

use super::chart::Plot;
use super::live::{self, Live, SharedLive};
use super::series::Scale;
use super::style::Style;
use super::Figure;
use crate::display::{Bundle, Frontend, Show};

/// Options of a [`ProgressBoard`] (d2l's `ProgressBoard` hyper-parameters).
#[derive(Clone, Debug)]
pub struct BoardOptions {
    /// Label of the x axis (the trainer sets `"epoch"`).
    pub xlabel: Option<String>,
    /// Label of the y axis.
    pub ylabel: Option<String>,
    /// Visible x range; also the length of the terminal progress bar.
    pub xlim: Option<(f64, f64)>,
    /// Visible y range.
    pub ylim: Option<(f64, f64)>,
    /// Scale of the x axis.
    pub xscale: Scale,
    /// Scale of the y axis.
    pub yscale: Scale,
    /// Styles for the curves in the order their labels first appear (d2l: `-`, `--`, `-.`, `:` in
    /// C0…C3).
    pub styles: Vec<Style>,
    /// Figure size in inches.
    pub figsize: (f64, f64),
    /// Whether to show anything at all (d2l's `display`).
    pub display: bool,
    /// The least time between two redraws of the live figure; points that arrive sooner are
    /// drawn with the next redraw or by [`ProgressBoard::finish`]. Keeps drawing cheap next to
    /// training.
    pub min_redraw_interval: Duration,
    /// Where output goes; `None` detects it from the environment (see [`crate::display::frontend`]).
    pub frontend: Option<Frontend>,
}

impl Default for BoardOptions {
    fn default() -> Self {
        BoardOptions {
            xlabel: None,
            ylabel: None,
            xlim: None,
            ylim: None,
            xscale: Scale::Linear,
            yscale: Scale::Linear,
            styles: ["C0-", "C1--", "C2-.", "C3:"]
                .iter()
                .map(|f| Style::parse(f).unwrap_or_default())
                .collect(),
            figsize: (3.5, 2.5),
            display: true,
            min_redraw_interval: Duration::from_millis(100),
            frontend: None,
        }
    }
}

/// Records named series during training and plots them, averaging every `every_n` raw points
/// into one plotted point as d2l's `ProgressBoard.draw` does.
///
/// Where it shows:
/// - under the `d2l` kernel, one figure that is replaced in place as points arrive
///   (`update_display_data` through a display id, see [`crate::display`]), at most once per
///   [`BoardOptions::min_redraw_interval`] and first when the run has lasted that long;
/// - under stock evcxr (no in-place updates), the figure once, by [`ProgressBoard::finish`];
/// - in a terminal, an indicatif progress bar with the latest value of every series.
///
/// Call [`ProgressBoard::finish`] when training ends: it draws the points that arrived since the
/// last redraw and leaves the final figure. Under the `d2l` kernel the end of the cell does the
/// same for a board that still holds undrawn points (a run shorter than one interval included).
///
/// ```
/// use d2l::plotting::ProgressBoard;
/// let mut board = ProgressBoard::new().xlabel("epoch").xlim(0.0, 2.0);
/// for step in 0..20 {
///     let epoch = (step + 1) as f64 / 10.0;
///     board.draw(epoch, 1.0 / (1.0 + epoch), "train_loss", 5);
/// }
/// board.draw(1.0, 0.6, "val_loss", 1);
/// board.draw(2.0, 0.4, "val_loss", 1);
/// board.finish();
/// assert_eq!(board.points("train_loss").unwrap().len(), 4);
/// assert!(board.figure().svg().contains("val_loss"));
/// ```
pub struct ProgressBoard {
    options: BoardOptions,
    raw: Vec<(String, Vec<(f64, RawPoint)>)>,
    data: Vec<(String, Vec<(f64, f64)>)>,
    /// The display, a copy of the plotted points, and what the end of the cell needs.
    live: SharedLive,
    first_point: Option<Instant>,
    bar: Option<ProgressBar>,
}

/// A value the board can record: a number or a one-element tensor (e.g. a loss).
pub trait BoardValue: Sized {
    /// The value as `f64` (NaN when it cannot be read).
    fn board_value(self) -> f64;

    /// The value as a raw point of the board. A tensor is kept (as a copy, detached from the
    /// graph) and read when its points are averaged: reading a GPU tensor waits for the device,
    /// so that is one wait per plotted point instead of one per call.
    fn raw_point(self) -> RawPoint {
        RawPoint::Number(self.board_value())
    }
}

/// A recorded value of a [`ProgressBoard`] that is not averaged into a plotted point yet.
#[derive(Debug)]
pub enum RawPoint {
    /// A number, read already.
    Number(f64),
    /// A tensor, to be read when the points are averaged.
    Tensor(Tensor),
}

impl RawPoint {
    /// The sum of the points' values: the tensors are read together, with one device wait.
    fn sum(points: &[&RawPoint]) -> f64 {
        let mut sum = 0.0;
        let mut tensors = Vec::new();
        for p in points {
            match p {
                RawPoint::Number(v) => sum += v,
                RawPoint::Tensor(t) => tensors.push(t.reshape([-1])),
            }
        }
        if tensors.is_empty() {
            return sum;
        }
        // Tensors of one element each, on one device, are summed there; anything else (several
        // devices, a tensor of many elements) is read one by one, as NaN where unreadable.
        let together = match Tensor::f_cat(&tensors, 0) {
            Ok(all) if all.numel() == tensors.len() => all
                .to_kind(tch::Kind::Double)
                .sum(tch::Kind::Double)
                .f_double_value(&[])
                .ok(),
            _ => None,
        };
        sum + together.unwrap_or_else(|| tensors.iter().map(|t| t.board_value()).sum())
    }
}

macro_rules! board_value {
    ($($t:ty),*) => {$(
        impl BoardValue for $t {
            fn board_value(self) -> f64 {
                self as f64
            }
        }
    )*};
}
board_value!(f64, f32, i32, i64, u32, usize);

impl BoardValue for &Tensor {
    fn board_value(self) -> f64 {
        self.detach()
            .to_kind(tch::Kind::Double)
            .f_double_value(&[])
            .unwrap_or(f64::NAN)
    }
    fn raw_point(self) -> RawPoint {
        // A copy: a tensor updated in place later (an accumulator) keeps the value it had now.
        RawPoint::Tensor(self.detach().copy())
    }
}
impl BoardValue for Tensor {
    fn board_value(self) -> f64 {
        (&self).board_value()
    }
    fn raw_point(self) -> RawPoint {
        (&self).raw_point()
    }
}

impl Default for ProgressBoard {
    fn default() -> Self {
        Self::with_options(BoardOptions::default())
    }
}

impl ProgressBoard {
    /// A board with the default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// A board with the given options.
    pub fn with_options(options: BoardOptions) -> Self {
        ProgressBoard {
            live: Live::new(options.clone()),
            options,
            raw: Vec::new(),
            data: Vec::new(),
            first_point: None,
            bar: None,
        }
    }

    /// The options, to change them between uses (as d2l's trainer sets `xlim` before fitting).
    pub fn options_mut(&mut self) -> &mut BoardOptions {
        &mut self.options
    }

    /// The options.
    pub fn options(&self) -> &BoardOptions {
        &self.options
    }

    /// This board with an x-axis label.
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.options.xlabel = Some(label.into());
        self
    }

    /// This board with a y-axis label.
    pub fn ylabel(mut self, label: impl Into<String>) -> Self {
        self.options.ylabel = Some(label.into());
        self
    }

    /// This board with a visible x range (also the terminal bar's length).
    pub fn xlim(mut self, min: f64, max: f64) -> Self {
        self.options.xlim = Some((min, max));
        self
    }

    /// This board with a visible y range.
    pub fn ylim(mut self, min: f64, max: f64) -> Self {
        self.options.ylim = Some((min, max));
        self
    }

    /// This board with a y scale.
    pub fn yscale(mut self, scale: Scale) -> Self {
        self.options.yscale = scale;
        self
    }

    /// This board with a figure size in inches.
    pub fn figsize(mut self, width: f64, height: f64) -> Self {
        self.options.figsize = (width, height);
        self
    }

    /// This board writing its display bundles to `writer` instead of stdout, for the given front
    /// end (tests, or embedding the board in another program).
    pub fn with_writer(mut self, frontend: Frontend, writer: impl Write + Send + 'static) -> Self {
        self.options.frontend = Some(frontend);
        live::lock(&self.live).writer = Some(Box::new(writer));
        self
    }

    fn frontend(&self) -> Frontend {
        self.options
            .frontend
            .unwrap_or_else(crate::display::frontend)
    }

    /// Records the point `(x, y)` of the series `label`. Every `every_n` points of a series are
    /// averaged into one plotted point (`every_n = 0` counts as 1).
    pub fn draw(&mut self, x: f64, y: impl BoardValue, label: &str, every_n: usize) {
        let y = y.raw_point();
        let every_n = every_n.max(1);
        let raw = match self.raw.iter().position(|(l, _)| l == label) {
            Some(i) => &mut self.raw[i].1,
            None => {
                self.raw.push((label.to_string(), Vec::new()));
                self.data.push((label.to_string(), Vec::new()));
                &mut self.raw.last_mut().expect("just pushed").1
            }
        };
        raw.push((x, y));
        if raw.len() < every_n {
            return;
        }
        let n = raw.len() as f64;
        let sum_x: f64 = raw.iter().map(|(px, _)| px).sum();
        let sum_y = RawPoint::sum(&raw.iter().map(|(_, py)| py).collect::<Vec<_>>());
        raw.clear();
        let point = (sum_x / n, sum_y / n);
        if let Some((_, line)) = self.data.iter_mut().find(|(l, _)| l == label) {
            line.push(point);
        }
        {
            let mut live = live::lock(&self.live);
            match live.data.iter_mut().find(|(l, _)| l == label) {
                Some((_, line)) => line.push(point),
                None => live.data.push((label.to_string(), vec![point])),
            }
            live.dirty = true;
        }
        if self.options.display {
            self.refresh(x);
        }
    }

    /// Shows the new state where it is cheap enough.
    fn refresh(&mut self, x: f64) {
        match self.frontend() {
            Frontend::D2lKernel => {
                // The live display appears only once a run has lasted one interval: a board
                // filled in a blink is shown once, by `finish` or at the end of the cell.
                let now = Instant::now();
                let last_draw = live::lock(&self.live).last_draw;
                let since = match last_draw {
                    Some(t) => t,
                    None => *self.first_point.get_or_insert(now),
                };
                if now.duration_since(since) >= self.options.min_redraw_interval {
                    self.redraw();
                } else {
                    // Not now: the next redraw, `finish` or the end of the cell draws it.
                    let mut live = live::lock(&self.live);
                    live::register(&self.live, &mut live, &self.options);
                }
            }
            // No in-place updates: the figure is shown once, by `finish`.
            Frontend::Evcxr => {}
            Frontend::Terminal => self.update_bar(x),
        }
    }

    /// Renders the figure and shows it in the board's display.
    fn redraw(&mut self) {
        let mut live = live::lock(&self.live);
        live.options = self.options.clone();
        live.redraw();
    }

    fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (label, line) in &self.data {
            if let Some((_, y)) = line.last() {
                parts.push(format!("{label} {y:.4}"));
            }
        }
        parts.join(" · ")
    }

    fn update_bar(&mut self, x: f64) {
        const SCALE: f64 = 100.0;
        if self.bar.is_none() {
            let bar = match self.options.xlim {
                Some((lo, hi)) if hi > lo => {
                    let bar = ProgressBar::new(((hi - lo) * SCALE).round() as u64);
                    bar.set_style(
                        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {prefix} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar
                }
                _ => {
                    let bar = ProgressBar::new_spinner();
                    bar.set_style(
                        ProgressStyle::with_template("{elapsed_precise} {spinner} {prefix} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar
                }
            };
            self.bar = Some(bar);
        }
        let name = self.options.xlabel.clone().unwrap_or_else(|| "x".into());
        let prefix = match self.options.xlim {
            Some((_, hi)) => format!("{name} {x:.2}/{hi}"),
            None => format!("{name} {x:.2}"),
        };
        let lo = self.options.xlim.map(|l| l.0).unwrap_or(0.0);
        let msg = self.summary();
        if let Some(bar) = &self.bar {
            if self.options.xlim.is_some() {
                bar.set_position(((x - lo).max(0.0) * SCALE).round() as u64);
            } else {
                bar.tick();
            }
            bar.set_prefix(prefix);
            bar.set_message(msg);
        }
    }

    /// Ends a run: draws what arrived since the last redraw and leaves the final figure (in a
    /// notebook) or the final values (in a terminal). Drawing more points afterwards continues
    /// the same board.
    pub fn finish(&mut self) {
        if !self.options.display {
            return;
        }
        let (dirty, shown) = {
            let live = live::lock(&self.live);
            (live.dirty, live.handle.is_shown())
        };
        match self.frontend() {
            Frontend::D2lKernel => {
                if dirty || !shown {
                    self.redraw();
                }
            }
            Frontend::Evcxr => {
                if dirty {
                    self.redraw();
                }
            }
            Frontend::Terminal => {
                if let Some(bar) = self.bar.take() {
                    bar.finish();
                }
                live::lock(&self.live).dirty = false;
            }
        }
    }

    /// The plotted (averaged) points of a series.
    pub fn points(&self, label: &str) -> Option<&[(f64, f64)]> {
        self.data
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| p.as_slice())
    }

    /// The series labels, in the order they first appeared.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.data.iter().map(|(l, _)| l.as_str())
    }

    /// How many times the live figure has been rendered and shown.
    pub fn render_count(&self) -> usize {
        live::lock(&self.live).renders
    }

    /// The board as a [`Plot`].
    pub fn plot(&self) -> Plot {
        live::plot_of(&self.options, &self.data)
    }

    /// The current figure.
    pub fn figure(&self) -> Figure {
        self.plot().figure()
    }
}

impl Show for ProgressBoard {
    fn bundle(&self) -> Bundle {
        self.figure().bundle()
    }
}

impl Drop for ProgressBoard {
    fn drop(&mut self) {
        // Leave the terminal clean; a notebook display keeps what it last showed.
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

impl std::fmt::Debug for ProgressBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressBoard")
            .field("options", &self.options)
            .field(
                "series",
                &self
                    .data
                    .iter()
                    .map(|(l, p)| (l, p.len()))
                    .collect::<Vec<_>>(),
            )
            .field("display_id", &live::lock(&self.live).handle.id())
            .finish()
    }
}
