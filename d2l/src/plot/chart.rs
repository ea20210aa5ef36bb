//! [`plot`]: curves on one pair of axes, in the spirit of d2l's `plot`.

use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{BoldPoints, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::element::Rectangle;
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle, BLACK, WHITE};
use plotters_svg::SVGBackend;
use tch::{Device, Kind, Tensor};

use super::path::{LegendGlyph, MarkerPoint, PatternPath};
use super::style::{default_styles, LineStyle, Marker, Rgb, Style};
use super::{ensure_fonts, Figure, PlotError, DPI, FONT_FAMILY};
use crate::display::{Bundle, Show};

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    /// Evenly spaced values.
    #[default]
    Linear,
    /// Evenly spaced powers of ten (values ≤ 0 are left out).
    Log,
}

/// A number that can be plotted.
pub trait Scalar: Copy {
    /// The value as `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
scalar!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

/// Values along one axis: a 1-D tensor (any shape is flattened), a `Vec`, a slice or an array.
pub trait IntoValues {
    /// The values as `f64`.
    fn into_values(self) -> Vec<f64>;
}

fn tensor_values(t: &Tensor) -> Vec<f64> {
    if !t.defined() {
        return Vec::new();
    }
    let flat = t.detach().to_device(Device::Cpu).to_kind(Kind::Double).flatten(0, -1);
    Vec::<f64>::try_from(&flat).unwrap_or_default()
}

impl IntoValues for &Tensor {
    fn into_values(self) -> Vec<f64> {
        tensor_values(self)
    }
}
impl IntoValues for Tensor {
    fn into_values(self) -> Vec<f64> {
        tensor_values(&self)
    }
}
impl<T: Scalar> IntoValues for Vec<T> {
    fn into_values(self) -> Vec<f64> {
        self.into_iter().map(Scalar::to_f64).collect()
    }
}
impl<T: Scalar> IntoValues for &Vec<T> {
    fn into_values(self) -> Vec<f64> {
        self.iter().map(|v| v.to_f64()).collect()
    }
}
impl<T: Scalar> IntoValues for &[T] {
    fn into_values(self) -> Vec<f64> {
        self.iter().map(|v| v.to_f64()).collect()
    }
}
impl<T: Scalar, const N: usize> IntoValues for [T; N] {
    fn into_values(self) -> Vec<f64> {
        self.iter().map(|v| v.to_f64()).collect()
    }
}
impl<T: Scalar, const N: usize> IntoValues for &[T; N] {
    fn into_values(self) -> Vec<f64> {
        self.iter().map(|v| v.to_f64()).collect()
    }
}

/// One or several series of values: a 1-D tensor or a vector of numbers is one series; a 2-D
/// tensor is one series per row; a `Vec`, slice or array of any [`IntoValues`] is one series each.
pub trait IntoSeriesList {
    /// The series.
    fn into_series_list(self) -> Vec<Vec<f64>>;
}

fn tensor_series(t: &Tensor) -> Vec<Vec<f64>> {
    if t.defined() && t.dim() == 2 {
        let rows = t.size()[0];
        (0..rows).map(|i| tensor_values(&t.get(i))).collect()
    } else {
        vec![tensor_values(t)]
    }
}

impl IntoSeriesList for &Tensor {
    fn into_series_list(self) -> Vec<Vec<f64>> {
        tensor_series(self)
    }
}
impl IntoSeriesList for Tensor {
    fn into_series_list(self) -> Vec<Vec<f64>> {
        tensor_series(&self)
    }
}
macro_rules! one_series {
    ($($t:ty),*) => {$(
        impl IntoSeriesList for Vec<$t> {
            fn into_series_list(self) -> Vec<Vec<f64>> {
                vec![self.into_values()]
            }
        }
        impl IntoSeriesList for &Vec<$t> {
            fn into_series_list(self) -> Vec<Vec<f64>> {
                vec![self.into_values()]
            }
        }
        impl IntoSeriesList for &[$t] {
            fn into_series_list(self) -> Vec<Vec<f64>> {
                vec![self.into_values()]
            }
        }
        impl<const N: usize> IntoSeriesList for [$t; N] {
            fn into_series_list(self) -> Vec<Vec<f64>> {
                vec![self.into_values()]
            }
        }
        impl<const N: usize> IntoSeriesList for &[$t; N] {
            fn into_series_list(self) -> Vec<Vec<f64>> {
                vec![self.into_values()]
            }
        }
    )*};
}
one_series!(f64, f32, i32, i64, usize);

impl<V: IntoValues> IntoSeriesList for Vec<V> {
    fn into_series_list(self) -> Vec<Vec<f64>> {
        self.into_iter().map(IntoValues::into_values).collect()
    }
}
impl<V: IntoValues, const N: usize> IntoSeriesList for [V; N] {
    fn into_series_list(self) -> Vec<Vec<f64>> {
        self.into_iter().map(IntoValues::into_values).collect()
    }
}
impl<V, const N: usize> IntoSeriesList for &[V; N]
where
    for<'a> &'a V: IntoValues,
{
    fn into_series_list(self) -> Vec<Vec<f64>> {
        self.iter().map(IntoValues::into_values).collect()
    }
}
impl<V> IntoSeriesList for &[V]
where
    for<'a> &'a V: IntoValues,
{
    fn into_series_list(self) -> Vec<Vec<f64>> {
        self.iter().map(IntoValues::into_values).collect()
    }
}
impl<V> IntoSeriesList for &Vec<V>
where
    for<'a> &'a V: IntoValues,
{
    fn into_series_list(self) -> Vec<Vec<f64>> {
        self.iter().map(IntoValues::into_values).collect()
    }
}

/// One curve: its points, an optional legend label and an optional style (the plot's cycle of
/// styles is used when `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// x values (same length as `y`).
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// The legend label.
    pub label: Option<String>,
    /// The style; `None` takes the next of the plot's styles.
    pub style: Option<Style>,
}

impl Series {
    /// A series from x and y values.
    pub fn new(x: impl IntoValues, y: impl IntoValues) -> Self {
        Series { x: x.into_values(), y: y.into_values(), label: None, style: None }
    }

    /// A series whose x values are `0, 1, 2, ...`.
    pub fn from_y(y: impl IntoValues) -> Self {
        let y = y.into_values();
        Series { x: (0..y.len()).map(|i| i as f64).collect(), y, label: None, style: None }
    }

    /// This series with a legend label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// This series with a style (a [`Style`] or a format string such as `"r--"`; an invalid format
    /// string shows as an error when the plot is drawn).
    pub fn style(mut self, style: impl Into<StyleSpec>) -> Self {
        self.style = Some(style.into().0.unwrap_or_default());
        self
    }
}

/// A style given as a [`Style`] or a matplotlib format string (see [`Style::parse`]).
#[derive(Clone, Debug)]
pub struct StyleSpec(Result<Style, String>);

impl From<Style> for StyleSpec {
    fn from(s: Style) -> Self {
        StyleSpec(Ok(s))
    }
}
impl From<&str> for StyleSpec {
    fn from(s: &str) -> Self {
        StyleSpec(Style::parse(s).map_err(|_| s.to_string()))
    }
}
impl From<String> for StyleSpec {
    fn from(s: String) -> Self {
        StyleSpec::from(s.as_str())
    }
}

/// A plot being described: series and axes options. It draws itself when shown (the end of a
/// notebook cell) or when asked for its [`Figure`].
///
/// ```
/// use d2l::plot::{plot, Scale};
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
    series: Vec<Series>,
    xlabel: Option<String>,
    ylabel: Option<String>,
    title: Option<String>,
    legend: Vec<String>,
    xlim: Option<(f64, f64)>,
    ylim: Option<(f64, f64)>,
    xscale: Scale,
    yscale: Scale,
    figsize: (f64, f64),
    styles: Vec<Style>,
    grid: bool,
    errors: Vec<String>,
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
/// let fig = d2l::plot::plot(&x, [x.sin(), x.cos()]).legend(["sin", "cos"]).figure();
/// assert!(fig.text().contains("2 series"));
/// ```
pub fn plot(x: impl IntoSeriesList, ys: impl IntoSeriesList) -> Plot {
    let xs = x.into_series_list();
    let ys = ys.into_series_list();
    let mut p = Plot::new();
    for (i, y) in ys.into_iter().enumerate() {
        let x = if xs.len() == 1 { xs[0].clone() } else { xs.get(i).cloned().unwrap_or_default() };
        if x.len() != y.len() {
            p.errors.push(format!("series {i}: {} x values but {} y values", x.len(), y.len()));
        }
        p.series.push(Series { x, y, label: None, style: None });
    }
    if xs.len() > 1 && xs.len() != p.series.len() {
        p.errors.push(format!("{} x series for {} y series", xs.len(), p.series.len()));
    }
    p
}

/// All options of a plot in one struct, d2l's keyword arguments: every field has a default, so
/// a call names only what it changes. Empty strings mean "no label".
///
/// ```
/// use d2l::plot::{plot_with, PlotOptions, Scale};
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
            fmts: ["-", "m--", "g-.", "r:"].iter().map(|s| s.to_string()).collect(),
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
    p.series = ys.into_series_list().into_iter().map(Series::from_y).collect();
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
            self.errors.push(format!("series {}: {} x values but {} y values", self.series.len(), series.x.len(), series.y.len()));
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
        let color = self.styles.get(i % self.styles.len().max(1)).and_then(|s| s.color).unwrap_or_else(|| Rgb::cycle(i));
        self.add_series(Series::new(x, y).style(Style::color(color).with_line(LineStyle::None).with_marker(Marker::Point)))
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
        self.try_figure().unwrap_or_else(|e| error_figure(self.pixel_size(), &e.to_string()))
    }

    /// The legend label of series `i`.
    fn label_of(&self, i: usize) -> Option<&str> {
        self.series[i].label.as_deref().or_else(|| self.legend.get(i).map(String::as_str)).filter(|l| !l.is_empty())
    }

    /// The resolved style of every series: its own style or the next of the plot's styles; a
    /// style without a colour takes the next colour of the cycle, as in matplotlib.
    fn resolved_styles(&self) -> Vec<Style> {
        let mut next_color = 0;
        (0..self.series.len())
            .map(|i| {
                let mut s = match &self.series[i].style {
                    Some(s) => s.clone(),
                    None => self.styles.get(i % self.styles.len().max(1)).cloned().unwrap_or_default(),
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

    fn description(&self) -> String {
        let (w, h) = self.pixel_size();
        let labels: Vec<&str> = (0..self.series.len()).filter_map(|i| self.label_of(i)).collect();
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

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Supersampling: plotters works in integer pixels, so figures are drawn at `S` times their
/// size and the SVG is declared at the display size (smooth lines, same look).
const S: f64 = 2.0;
const TICK_FONT: f64 = 12.4; // plotters writes font-size = size / 1.24: 10 px
const LABEL_FONT: f64 = 13.6; // 11 px
const TITLE_FONT: f64 = 14.9; // 12 px
const GRID: RGBColor = RGBColor(0xb0, 0xb0, 0xb0);

/// A font of `size` display units, in internal (supersampled) pixels.
fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size * S, FontStyle::Normal)
}

fn text_width(size: f64, text: &str) -> u32 {
    font(size).box_size(text).map(|(w, _)| w).unwrap_or((text.chars().count() as f64 * size * S * 0.6) as u32)
}

/// Position along an axis in "axis space": log10 for log axes.
fn fwd(scale: Scale, v: f64) -> f64 {
    match scale {
        Scale::Linear => v,
        Scale::Log => v.log10(),
    }
}

fn inv(scale: Scale, v: f64) -> f64 {
    match scale {
        Scale::Linear => v,
        Scale::Log => 10f64.powf(v),
    }
}

fn usable(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// The data range of an axis with matplotlib's 5% margins, or the user's limits.
fn axis_range(values: impl Iterator<Item = f64>, scale: Scale, lim: Option<(f64, f64)>) -> (f64, f64) {
    if let Some((a, b)) = lim {
        if usable(scale, a) && usable(scale, b) && a != b {
            return (a, b);
        }
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| usable(scale, *v)) {
        let t = fwd(scale, v);
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() {
        return match scale {
            Scale::Linear => (0.0, 1.0),
            Scale::Log => (1.0, 10.0),
        };
    }
    if hi - lo < 1e-12 {
        let pad = if scale == Scale::Log { 0.5 } else if lo.abs() > 1e-12 { lo.abs() * 0.05 } else { 0.5 };
        lo -= pad;
        hi += pad;
    } else {
        let pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
    }
    if scale == Scale::Log && lo.floor() == hi.floor() {
        // Make sure a power of ten falls inside, so that the axis has a labelled tick.
        lo = lo.floor();
    }
    (inv(scale, lo), inv(scale, hi))
}

/// Tick values that plotters will draw for this axis.
fn ticks(scale: Scale, range: (f64, f64), n: usize) -> Vec<f64> {
    match scale {
        Scale::Linear => RangedCoordf64::from(range.0..range.1).key_points(BoldPoints(n)),
        Scale::Log => LogCoord::from((range.0..range.1).log_scale()).key_points(BoldPoints(n)),
    }
}

/// Formats ticks consistently: the same number of decimals on every tick of an axis.
struct TickFormat {
    scale: Scale,
    decimals: usize,
    scientific: bool,
}

impl TickFormat {
    fn for_ticks(scale: Scale, ticks: &[f64]) -> Self {
        let max = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let scientific = scale == Scale::Linear && (max >= 1e6 || (max > 0.0 && max < 1e-3));
        let decimals = (0..=6)
            .find(|&d| ticks.iter().all(|t| (t * 10f64.powi(d as i32)).round() / 10f64.powi(d as i32) == *t || ((t * 10f64.powi(d as i32)) - (t * 10f64.powi(d as i32)).round()).abs() < 1e-6))
            .unwrap_or(6);
        TickFormat { scale, decimals, scientific }
    }

    fn format(&self, v: f64) -> String {
        match self.scale {
            Scale::Log => {
                let e = v.log10();
                if (e - e.round()).abs() < 1e-9 {
                    format!("10{}", superscript(e.round() as i64))
                } else {
                    String::new()
                }
            }
            Scale::Linear if self.scientific => format!("{v:.1e}"),
            Scale::Linear => {
                let s = format!("{:.*}", self.decimals, v);
                // Avoid "-0.0".
                if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
                    s.trim_start_matches('-').to_string()
                } else {
                    s
                }
            }
        }
    }
}

fn superscript(n: i64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            c => c,
        })
        .collect()
}

/// Splits a series into visible pieces: non-finite (and, on log axes, non-positive) points
/// break the line, and segments are clipped to the visible box (in axis space).
fn visible_pieces(s: &Series, xs: Scale, ys: Scale, xr: (f64, f64), yr: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let (x0, x1) = (fwd(xs, xr.0.min(xr.1)), fwd(xs, xr.0.max(xr.1)));
    let (y0, y1) = (fwd(ys, yr.0.min(yr.1)), fwd(ys, yr.0.max(yr.1)));
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    let back = |(x, y): (f64, f64)| (inv(xs, x), inv(ys, y));
    for (&x, &y) in s.x.iter().zip(&s.y) {
        if !(usable(xs, x) && usable(ys, y)) {
            prev = None;
            if current.len() > 1 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        let p = (fwd(xs, x), fwd(ys, y));
        match prev {
            None => {
                if p.0 >= x0 && p.0 <= x1 && p.1 >= y0 && p.1 <= y1 {
                    current.push(back(p));
                }
            }
            Some(a) => {
                if let Some((ca, cb)) = clip(a, p, (x0, x1, y0, y1)) {
                    if current.is_empty() || ca != a {
                        if current.len() > 1 {
                            pieces.push(std::mem::take(&mut current));
                        }
                        current = vec![back(ca)];
                    }
                    current.push(back(cb));
                    if cb != p {
                        pieces.push(std::mem::take(&mut current));
                    }
                } else if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                } else {
                    current.clear();
                }
            }
        }
        prev = Some(p);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Liang–Barsky clipping of the segment a→b to the box.
fn clip(a: (f64, f64), b: (f64, f64), (x0, x1, y0, y1): (f64, f64, f64, f64)) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - x0), (dx, x1 - a.0), (-dy, a.1 - y0), (dy, y1 - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| if t == 0.0 { a } else if t == 1.0 { b } else { (a.0 + dx * t, a.1 + dy * t) };
    Some((at(t0), at(t1)))
}

/// Everything computed before drawing: ranges, ticks and label areas.
struct Layout {
    width: u32,
    height: u32,
    xr: (f64, f64),
    yr: (f64, f64),
    xticks: usize,
    yticks: usize,
    xfmt: TickFormat,
    yfmt: TickFormat,
    x_area: u32,
    y_area: u32,
    top: u32,
    right: u32,
    legend_pos_index: usize,
}

fn layout(p: &Plot) -> Layout {
    let (dw, dh) = p.pixel_size();
    let (width, height) = ((dw as f64 * S) as u32, (dh as f64 * S) as u32);
    let xr = axis_range(p.series.iter().flat_map(|s| s.x.iter().copied()), p.xscale, p.xlim);
    let yr = axis_range(p.series.iter().flat_map(|s| s.y.iter().copied()), p.yscale, p.ylim);
    let xticks = ((dw as f64 / 70.0).round() as usize).clamp(3, 12);
    let yticks = ((dh as f64 / 45.0).round() as usize).clamp(3, 12);
    let xt = ticks(p.xscale, xr, xticks);
    let yt = ticks(p.yscale, yr, yticks);
    let xfmt = TickFormat::for_ticks(p.xscale, &xt);
    let yfmt = TickFormat::for_ticks(p.yscale, &yt);
    let px = |v: f64| (v * S).round() as u32;
    let tick_h = px(TICK_FONT);
    let label_h = px(LABEL_FONT * 1.1);
    let x_area = tick_h + px(10.0) + if p.xlabel.is_some() { label_h + px(2.0) } else { 0 };
    let ytick_w = yt.iter().map(|t| text_width(TICK_FONT, &yfmt.format(*t))).max().unwrap_or(10);
    let y_area = ytick_w + px(10.0) + if p.ylabel.is_some() { label_h + px(2.0) } else { 0 };
    let top = px(8.0) + if p.title.is_some() { px(TITLE_FONT * 1.3) } else { 0 };
    // Room for half of the last x tick label.
    let last_w = xt.last().map(|t| text_width(TICK_FONT, &xfmt.format(*t))).unwrap_or(0);
    let right = (last_w / 2 + px(4.0)).max(px(10.0));
    let mut l = Layout {
        width,
        height,
        xr,
        yr,
        xticks,
        yticks,
        xfmt,
        yfmt,
        x_area,
        y_area,
        top,
        right,
        legend_pos_index: 0,
    };
    l.legend_pos_index = best_legend_position(p, &l);
    l
}

/// matplotlib's `loc='best'` in spirit: the candidate place whose box covers the fewest points
/// of the curves (sampled along each segment).
fn best_legend_position(p: &Plot, l: &Layout) -> usize {
    let labels: Vec<&str> = (0..p.series.len()).filter_map(|i| p.label_of(i)).collect();
    if labels.is_empty() {
        return 0;
    }
    let area_w = l.width.saturating_sub(l.y_area + l.right).max(1) as f64;
    let area_h = l.height.saturating_sub(l.x_area + l.top).max(1) as f64;
    let text_w = labels.iter().map(|s| text_width(TICK_FONT, s)).max().unwrap_or(0) as f64;
    let box_w = ((text_w + (28.0 + 10.0 + 5.0) * S) / area_w).min(1.0);
    let box_h = ((labels.len() as f64 * TICK_FONT * 1.05 + 10.0 + 5.0) * S / area_h).min(1.0);
    let (x0, x1) = (fwd(p.xscale, l.xr.0), fwd(p.xscale, l.xr.1));
    let (y0, y1) = (fwd(p.yscale, l.yr.0), fwd(p.yscale, l.yr.1));
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        for piece in visible_pieces(s, p.xscale, p.yscale, l.xr, l.yr) {
            let frac: Vec<(f64, f64)> = piece
                .iter()
                .map(|&(x, y)| ((fwd(p.xscale, x) - x0) / (x1 - x0), (fwd(p.yscale, y) - y0) / (y1 - y0)))
                .collect();
            if frac.len() == 1 {
                pts.push(frac[0]);
            }
            for w in frac.windows(2) {
                for k in 0..8 {
                    let t = k as f64 / 8.0;
                    pts.push((w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t));
                }
            }
            if let Some(last) = frac.last() {
                pts.push(*last);
            }
        }
    }
    // Candidate boxes (x range, y range) in axis fractions, y up; see `legend_pos`.
    let cands = [
        ((1.0 - box_w, 1.0), (1.0 - box_h, 1.0)),
        ((0.0, box_w), (1.0 - box_h, 1.0)),
        ((0.0, box_w), (0.0, box_h)),
        ((1.0 - box_w, 1.0), (0.0, box_h)),
        ((1.0 - box_w, 1.0), (0.5 - box_h / 2.0, 0.5 + box_h / 2.0)),
        ((0.0, box_w), (0.5 - box_h / 2.0, 0.5 + box_h / 2.0)),
        ((0.5 - box_w / 2.0, 0.5 + box_w / 2.0), (0.0, box_h)),
        ((0.5 - box_w / 2.0, 0.5 + box_w / 2.0), (1.0 - box_h, 1.0)),
    ];
    let mut best = (usize::MAX, 0);
    for (i, ((bx0, bx1), (by0, by1))) in cands.into_iter().enumerate() {
        let n = pts.iter().filter(|(x, y)| *x >= bx0 && *x <= bx1 && *y >= by0 && *y <= by1).count();
        if n < best.0 {
            best = (n, i);
        }
    }
    best.1
}

/// The legend places tried by `best_legend_position`, in matplotlib's order of preference.
fn legend_pos(i: usize) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    match i {
        1 => UpperLeft,
        2 => LowerLeft,
        3 => LowerRight,
        4 => MiddleRight,
        5 => MiddleLeft,
        6 => LowerMiddle,
        7 => UpperMiddle,
        _ => UpperRight,
    }
}

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

fn render(p: &Plot) -> Result<Figure, PlotError> {
    ensure_fonts();
    let l = layout(p);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (l.width, l.height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let lin = |r: (f64, f64)| RangedCoordf64::from(r.0..r.1);
        let log = |r: (f64, f64)| LogCoord::from((r.0..r.1).log_scale());
        match (p.xscale, p.yscale) {
            (Scale::Linear, Scale::Linear) => draw_chart(p, &l, &root, lin(l.xr), lin(l.yr))?,
            (Scale::Log, Scale::Linear) => draw_chart(p, &l, &root, log(l.xr), lin(l.yr))?,
            (Scale::Linear, Scale::Log) => draw_chart(p, &l, &root, lin(l.xr), log(l.yr))?,
            (Scale::Log, Scale::Log) => draw_chart(p, &l, &root, log(l.xr), log(l.yr))?,
        }
        root.present().map_err(draw_err)?;
    }
    // Declare the display size; the viewBox keeps the supersampled coordinates.
    let (dw, dh) = p.pixel_size();
    let svg = svg.replacen(&format!("width=\"{}\" height=\"{}\"", l.width, l.height), &format!("width=\"{dw}\" height=\"{dh}\""), 1);
    Ok(Figure::from_svg(svg, dw, dh, p.description()))
}

fn shape_style(color: Rgb, width: f64) -> ShapeStyle {
    color.to_plotters().stroke_width((width * S).round().max(1.0) as u32)
}

fn draw_chart<X, Y>(p: &Plot, l: &Layout, root: &Root<'_>, xc: X, yc: Y) -> Result<(), PlotError>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut builder = ChartBuilder::on(root);
    builder
        .margin_top(l.top)
        .margin_right(l.right)
        .margin_left((4.0 * S) as u32)
        .margin_bottom((4.0 * S) as u32)
        .x_label_area_size(l.x_area)
        .y_label_area_size(l.y_area);
    if let Some(t) = &p.title {
        builder.caption(t, font(TITLE_FONT));
    }
    let mut chart = builder.build_cartesian_2d(xc, yc).map_err(draw_err)?;

    let xfmt = |v: &f64| l.xfmt.format(*v);
    let yfmt = |v: &f64| l.yfmt.format(*v);
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(l.xticks)
            .y_labels(l.yticks)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .label_style(font(TICK_FONT).color(&BLACK))
            .axis_desc_style(font(LABEL_FONT).color(&BLACK))
            .axis_style(BLACK.stroke_width(S as u32))
            .light_line_style(WHITE.mix(0.0))
            .set_all_tick_mark_size((4.0 * S) as u32);
        if p.grid {
            mesh.bold_line_style(GRID.stroke_width(S as u32));
        } else {
            mesh.bold_line_style(WHITE.mix(0.0));
        }
        if let Some(x) = &p.xlabel {
            mesh.x_desc(x);
        }
        if let Some(y) = &p.ylabel {
            mesh.y_desc(y);
        }
        mesh.draw().map_err(draw_err)?;
    }

    let mut any_label = false;
    let styles = p.resolved_styles();
    for (i, s) in p.series.iter().enumerate() {
        let style = styles[i].clone();
        let color = style.color.unwrap_or_else(|| Rgb::cycle(i));
        let stroke = shape_style(color, style.width);
        let pattern: Vec<f64> = style.line.pattern().iter().map(|u| u * style.width.max(1.0) * S).collect();
        let pieces = visible_pieces(s, p.xscale, p.yscale, l.xr, l.yr);
        let label = p.label_of(i).map(str::to_string);
        // One annotation per series for the legend, even when the series draws several pieces.
        let mut anno_done = false;
        if style.line != LineStyle::None {
            for piece in pieces.iter().filter(|pc| pc.len() > 1) {
                let ann = chart
                    .draw_series(std::iter::once(PatternPath::new(piece.clone(), pattern.clone(), stroke)))
                    .map_err(draw_err)?;
                if !anno_done {
                    if let Some(label) = &label {
                        let (pat, marker) = (pattern.clone(), style.marker.map(|m| (m, marker_size(m, 1.5))));
                        ann.label(label.clone()).legend(move |p| LegendGlyph::new(p, (22.0 * S) as i32, pat.clone(), Some(stroke), marker, color.to_plotters()));
                        any_label = true;
                    }
                    anno_done = true;
                }
            }
        }
        if let Some(marker) = style.marker {
            let pts: Vec<(f64, f64)> = pieces.iter().flatten().copied().collect();
            let size = marker_size(marker, style.width);
            let ann = chart
                .draw_series(pts.into_iter().map(|pt| MarkerPoint::new(pt, marker, size, color.to_plotters())))
                .map_err(draw_err)?;
            if !anno_done {
                if let Some(label) = &label {
                    let line = (style.line != LineStyle::None).then_some(stroke);
                    let pat = pattern.clone();
                    let m = Some((marker, marker_size(marker, 1.5)));
                    ann.label(label.clone()).legend(move |p| LegendGlyph::new(p, (22.0 * S) as i32, pat.clone(), line, m, color.to_plotters()));
                    any_label = true;
                }
            }
        } else if !anno_done && label.is_some() {
            // A labelled series with nothing visible still gets its legend entry.
            let ann = chart.draw_series(std::iter::empty::<MarkerPoint<(f64, f64)>>()).map_err(draw_err)?;
            if let Some(label) = &label {
                let pat = pattern.clone();
                ann.label(label.clone()).legend(move |p| LegendGlyph::new(p, (22.0 * S) as i32, pat.clone(), Some(stroke), None, color.to_plotters()));
                any_label = true;
            }
        }
    }

    // The frame: all four spines, as matplotlib draws them.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    // plotters draws the left axis at x = start - 1 and the bottom one at y = end.
    root.draw(&Rectangle::new([(xs.start - 1, ys.start - 1), (xs.end, ys.end)], BLACK.stroke_width(S as u32)))
        .map_err(draw_err)?;

    if any_label {
        chart
            .configure_series_labels()
            .position(legend_pos(l.legend_pos_index))
            .margin((5.0 * S) as u32)
            .legend_area_size((28.0 * S) as u32)
            .label_font(font(TICK_FONT).color(&BLACK))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xcc, 0xcc, 0xcc))
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

fn marker_size(marker: Marker, width: f64) -> u32 {
    match marker {
        Marker::Point => (2.0 * S) as u32,
        _ => ((width * 2.0).round().max(3.0) * S) as u32,
    }
}

/// A figure that shows an error message instead of a plot.
pub(crate) fn error_figure((w, h): (u32, u32), message: &str) -> Figure {
    let mut lines = String::new();
    for (i, line) in wrap(message, (w as usize / 7).max(20)).iter().enumerate() {
        lines.push_str(&format!(
            "<text x=\"10\" y=\"{}\" font-family=\"{}\" font-size=\"11\" fill=\"#b00\">{}</text>",
            24 + 15 * i,
            FONT_FAMILY,
            super::xml_escape(line)
        ));
    }
    let svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\" stroke=\"#b00\"/>{lines}</svg>"
    );
    Figure::from_svg(svg, w, h, format!("<Figure error: {message}>"))
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let last = out.last_mut().expect("non-empty");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            out.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_inside_parts() {
        let s = Series::new(vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 10.0, 0.0, 0.0]);
        let pieces = visible_pieces(&s, Scale::Linear, Scale::Linear, (0.0, 3.0), (-1.0, 5.0));
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].first(), Some(&(0.0, 0.0)));
        assert!((pieces[0].last().unwrap().1 - 5.0).abs() < 1e-9);
        assert_eq!(pieces[1].last(), Some(&(3.0, 0.0)));
    }

    #[test]
    fn nan_breaks_lines() {
        let s = Series::new(vec![0.0, 1.0, 2.0, 3.0, 4.0], vec![0.0, 1.0, f64::NAN, 1.0, 0.0]);
        assert_eq!(visible_pieces(&s, Scale::Linear, Scale::Linear, (0.0, 4.0), (0.0, 1.0)).len(), 2);
    }

    #[test]
    fn ticks_share_decimals() {
        let f = TickFormat::for_ticks(Scale::Linear, &[0.0, 0.5, 1.0]);
        assert_eq!([f.format(0.0), f.format(0.5), f.format(1.0)], ["0.0", "0.5", "1.0"]);
        let f = TickFormat::for_ticks(Scale::Linear, &[0.0, 20.0, 40.0]);
        assert_eq!(f.format(20.0), "20");
        let f = TickFormat::for_ticks(Scale::Log, &[0.01, 0.1, 1.0]);
        assert_eq!(f.format(0.01), "10⁻²");
    }
}
