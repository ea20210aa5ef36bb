//! What a plot draws: axis scales, the values a curve accepts, curves ([`Series`]) and styles
//! given as format strings.

use tch::{Device, Kind, Tensor};

use super::style::Style;

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
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Double)
        .flatten(0, -1);
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
        Series {
            x: x.into_values(),
            y: y.into_values(),
            label: None,
            style: None,
        }
    }

    /// A series whose x values are `0, 1, 2, ...`.
    pub fn from_y(y: impl IntoValues) -> Self {
        let y = y.into_values();
        Series {
            x: (0..y.len()).map(|i| i as f64).collect(),
            y,
            label: None,
            style: None,
        }
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
