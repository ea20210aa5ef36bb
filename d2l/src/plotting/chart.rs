//! [`plot`]: curves on one pair of axes, in the spirit of d2l's `plot`.
//!
//! This module describes a plot ([`Plot`], [`PlotOptions`]); `series` holds what it draws,
//! `axes` the scale and tick arithmetic, and `render` draws it with plotters.

use super::render::{error_figure, render};
use super::series::{IntoSeriesList, IntoValues, Scale, Series};
use super::style::{default_styles, LineStyle, Marker, Rgb, Style};
use super::{Figure, PlotError, DPI};
use crate::display::{Bundle, Show};

/// A plot being described: series and axes options. It draws itself when shown (the end of a
/// notebook cell) or when asked for its [`Figure`].
///
/// ```
/// use d2l::plotting::{plot, Scale};
/// let x: Vec<f64> = (0..30).map(|i| i as f64 / 10.0).collect();
/// let p = plot(&x, [x.iter().map(|v| v * v).collect::<Vec<_>>(), x.iter().map(|v| 2.0 * v - 1.0).collect()])
///     .xlabel("x")
///     .ylabel("f(x)")
///     .legend(["f(x)", "Tangent line (x=1)"]);
/// assert_eq!(p.series().len(), 2);
/// let fig = p.figure();
/// assert!(fig.svg().contains("Tangent line (x=1)"));
/// ```
#[derive(Clone, Debug)]
pub struct Plot {
    pub(super) series: Vec<Series>,
    pub(super) xlabel: Option<String>,
    pub(super) ylabel: Option<String>,
    pub(super) title: Option<String>,
    pub(super) legend: Vec<String>,
    pub(super) xlim: Option<(f64, f64)>,
    pub(super) ylim: Option<(f64, f64)>,
    pub(super) xscale: Scale,
    pub(super) yscale: Scale,
    pub(super) figsize: (f64, f64),
    pub(super) styles: Vec<Style>,
    pub(super) grid: bool,
    pub(super) errors: Vec<String>,
}

impl Default for Plot {
    fn default() -> Self {
        Plot {
            series: Vec::new(),
            xlabel: None,
            ylabel: None,
            title: None,
            legend: Vec::new(),
            xlim: None,
            ylim: None,
            xscale: Scale::Linear,
            yscale: Scale::Linear,
            figsize: (3.5, 2.5),
            styles: default_styles(),
            grid: true,
            errors: Vec::new(),
        }
    }
}

/// Plots one or several series against x, as d2l's `plot(X, Y)`: `x` is one series of x values
/// shared by every y series, or one per y series.
///
/// ```
/// use d2l::prelude::*;
/// let x = Tensor::arange_start_step(0.0, 3.0, 0.1, (Kind::Float, Device::Cpu));
/// let fig = d2l::plotting::plot(&x, [x.sin(), x.cos()]).legend(["sin", "cos"]).figure();
/// assert!(fig.text().contains("2 series"));
/// ```
pub fn plot(x: impl IntoSeriesList, ys: impl IntoSeriesList) -> Plot {
    let xs = x.into_series_list();
    let ys = ys.into_series_list();
    let mut p = Plot::new();
    for (i, y) in ys.into_iter().enumerate() {
        let x = if xs.len() == 1 {
            xs[0].clone()
        } else {
            xs.get(i).cloned().unwrap_or_default()
        };
        if x.len() != y.len() {
            p.errors.push(format!(
                "series {i}: {} x values but {} y values",
                x.len(),
                y.len()
            ));
        }
        p.series.push(Series {
            x,
            y,
            label: None,
            style: None,
        });
    }
    if xs.len() > 1 && xs.len() != p.series.len() {
        p.errors.push(format!(
            "{} x series for {} y series",
            xs.len(),
            p.series.len()
        ));
    }
    p
}

/// All options of a plot in one struct, d2l's keyword arguments: every field has a default, so
/// a call names only what it changes. Empty strings mean "no label".
///
/// ```
/// use d2l::plotting::{plot_with, PlotOptions, Scale};
/// let x: Vec<f64> = (1..=20).map(f64::from).collect();
/// let y: Vec<f64> = x.iter().map(|v| v * v).collect();
/// let p = plot_with(&x, &[y], PlotOptions {
///     xlabel: "degree".into(),
///     legend: vec!["train".into()],
///     yscale: Scale::Log,
///     ..Default::default()
/// });
/// assert!(p.figure().svg().contains("degree"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// The x-axis label.
    pub xlabel: String,
    /// The y-axis label.
    pub ylabel: String,
    /// A title above the axes.
    pub title: String,
    /// Legend labels, one per series in order.
    pub legend: Vec<String>,
    /// The visible x range.
    pub xlim: Option<(f64, f64)>,
    /// The visible y range.
    pub ylim: Option<(f64, f64)>,
    /// The x scale.
    pub xscale: Scale,
    /// The y scale.
    pub yscale: Scale,
    /// matplotlib format strings that the series take in turn (d2l's `fmts`).
    pub fmts: Vec<String>,
    /// The figure size in inches.
    pub figsize: (f64, f64),
    /// Whether to draw grid lines.
    pub grid: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            xlabel: String::new(),
            ylabel: String::new(),
            title: String::new(),
            legend: Vec::new(),
            xlim: None,
            ylim: None,
            xscale: Scale::Linear,
            yscale: Scale::Linear,
            fmts: ["-", "m--", "g-.", "r:"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            figsize: (3.5, 2.5),
            grid: true,
        }
    }
}

/// [`plot`] with every option given at once in a [`PlotOptions`].
pub fn plot_with(x: impl IntoSeriesList, ys: impl IntoSeriesList, options: PlotOptions) -> Plot {
    plot(x, ys).options(options)
}

/// Plots one or several series against their indices `0, 1, 2, ...` (d2l's `plot(Y)`).
pub fn plot_y(ys: impl IntoSeriesList) -> Plot {
    let mut p = Plot::new();
    p.series = ys
        .into_series_list()
        .into_iter()
        .map(Series::from_y)
        .collect();
    p
}

impl Plot {
    /// An empty plot with the default options: 3.5×2.5 inches, grid, d2l's line styles.
    pub fn new() -> Self {
        Self::default()
    }

    /// The series, in drawing order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Adds a series.
    pub fn add_series(mut self, series: Series) -> Self {
        if series.x.len() != series.y.len() {
            self.errors.push(format!(
                "series {}: {} x values but {} y values",
                self.series.len(),
                series.x.len(),
                series.y.len()
            ));
        }
        self.series.push(series);
        self
    }

    /// Adds a line through `(x, y)`.
    pub fn line(self, x: impl IntoValues, y: impl IntoValues) -> Self {
        self.add_series(Series::new(x, y))
    }

    /// Adds points `(x, y)` without a line (small dots in the next colour of the cycle).
    pub fn scatter(self, x: impl IntoValues, y: impl IntoValues) -> Self {
        let i = self.series.len();
        let color = self
            .styles
            .get(i % self.styles.len().max(1))
            .and_then(|s| s.color)
            .unwrap_or_else(|| Rgb::cycle(i));
        self.add_series(
            Series::new(x, y).style(
                Style::color(color)
                    .with_line(LineStyle::None)
                    .with_marker(Marker::Point),
            ),
        )
    }

    /// Labels the x axis.
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.xlabel = Some(label.into());
        self
    }

    /// Labels the y axis.
    pub fn ylabel(mut self, label: impl Into<String>) -> Self {
        self.ylabel = Some(label.into());
        self
    }

    /// A title above the axes.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Legend labels for the series, in order (a series' own label takes precedence).
    pub fn legend<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.legend = labels.into_iter().map(Into::into).collect();
        self
    }

    /// The visible range of x.
    pub fn xlim(mut self, min: f64, max: f64) -> Self {
        self.xlim = Some((min, max));
        self
    }

    /// The visible range of y.
    pub fn ylim(mut self, min: f64, max: f64) -> Self {
        self.ylim = Some((min, max));
        self
    }

    /// The scale of the x axis.
    pub fn xscale(mut self, scale: Scale) -> Self {
        self.xscale = scale;
        self
    }

    /// The scale of the y axis.
    pub fn yscale(mut self, scale: Scale) -> Self {
        self.yscale = scale;
        self
    }

    /// The figure size in inches (100 pixels per inch).
    pub fn figsize(mut self, width: f64, height: f64) -> Self {
        self.figsize = (width, height);
        self
    }

    /// The styles that series without their own take in turn (matplotlib format strings, e.g.
    /// d2l's `["-", "m--", "g-.", "r:"]`).
    pub fn fmts<I, S>(mut self, fmts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut styles = Vec::new();
        for f in fmts {
            match Style::parse(f.as_ref()) {
                Ok(s) => styles.push(s),
                Err(e) => self.errors.push(e.to_string()),
            }
        }
        if !styles.is_empty() {
            self.styles = styles;
        }
        self
    }

    /// The styles that series without their own take in turn.
    pub fn styles(mut self, styles: Vec<Style>) -> Self {
        if !styles.is_empty() {
            self.styles = styles;
        }
        self
    }

    /// Applies every option of `options` (replacing what was set before).
    pub fn options(mut self, o: PlotOptions) -> Self {
        let text = |s: String| (!s.is_empty()).then_some(s);
        self.xlabel = text(o.xlabel);
        self.ylabel = text(o.ylabel);
        self.title = text(o.title);
        self.legend = o.legend;
        self.xlim = o.xlim;
        self.ylim = o.ylim;
        self.xscale = o.xscale;
        self.yscale = o.yscale;
        self.figsize = o.figsize;
        self.grid = o.grid;
        self.fmts(o.fmts)
    }

    /// Whether to draw grid lines (on by default, as d2l does).
    pub fn grid(mut self, on: bool) -> Self {
        self.grid = on;
        self
    }

    /// Draws the plot; an error describes data or options that cannot be drawn.
    pub fn try_figure(&self) -> Result<Figure, PlotError> {
        if let Some(e) = self.errors.first() {
            return Err(if e.starts_with("invalid line format") {
                PlotError::InvalidStyle(e.clone())
            } else {
                PlotError::InvalidData(e.clone())
            });
        }
        render(self)
    }

    /// Draws the plot. Problems ([`Plot::try_figure`]'s errors) are drawn as a message in the
    /// figure rather than panicking, so a notebook cell always shows something.
    pub fn figure(&self) -> Figure {
        self.try_figure()
            .unwrap_or_else(|e| error_figure(self.pixel_size(), &e.to_string()))
    }

    /// The legend label of series `i`.
    pub(super) fn label_of(&self, i: usize) -> Option<&str> {
        self.series[i]
            .label
            .as_deref()
            .or_else(|| self.legend.get(i).map(String::as_str))
            .filter(|l| !l.is_empty())
    }

    /// The resolved style of every series: its own style or the next of the plot's styles; a
    /// style without a colour takes the next colour of the cycle, as in matplotlib.
    pub(super) fn resolved_styles(&self) -> Vec<Style> {
        let mut next_color = 0;
        (0..self.series.len())
            .map(|i| {
                let mut s = match &self.series[i].style {
                    Some(s) => s.clone(),
                    None => self
                        .styles
                        .get(i % self.styles.len().max(1))
                        .cloned()
                        .unwrap_or_default(),
                };
                if s.color.is_none() {
                    s.color = Some(Rgb::cycle(next_color));
                    next_color += 1;
                }
                s
            })
            .collect()
    }

    pub(crate) fn pixel_size(&self) -> (u32, u32) {
        let w = (self.figsize.0 * DPI).round().clamp(50.0, 10000.0) as u32;
        let h = (self.figsize.1 * DPI).round().clamp(50.0, 10000.0) as u32;
        (w, h)
    }

    pub(super) fn description(&self) -> String {
        let (w, h) = self.pixel_size();
        let labels: Vec<&str> = (0..self.series.len())
            .filter_map(|i| self.label_of(i))
            .collect();
        let mut s = format!("<Figure size {w}x{h} with {} series", self.series.len());
        if !labels.is_empty() {
            s.push_str(": ");
            s.push_str(&labels.join(", "));
        }
        s.push('>');
        s
    }
}

impl Show for Plot {
    fn bundle(&self) -> Bundle {
        self.figure().bundle()
    }
}
