//! Colours, line styles and markers, with matplotlib's format strings (`"m--"`, `"g-."`, `"ro"`).

use std::fmt;
use std::str::FromStr;

use super::PlotError;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// matplotlib's default colour cycle (`tab10`: `C0` … `C9`).
    pub const TAB10: [Rgb; 10] = [
        Rgb(0x1f, 0x77, 0xb4),
        Rgb(0xff, 0x7f, 0x0e),
        Rgb(0x2c, 0xa0, 0x2c),
        Rgb(0xd6, 0x27, 0x28),
        Rgb(0x94, 0x67, 0xbd),
        Rgb(0x8c, 0x56, 0x4b),
        Rgb(0xe3, 0x77, 0xc2),
        Rgb(0x7f, 0x7f, 0x7f),
        Rgb(0xbc, 0xbd, 0x22),
        Rgb(0x17, 0xbe, 0xcf),
    ];

    /// The `i`-th colour of the default cycle (`C{i % 10}`).
    pub fn cycle(i: usize) -> Rgb {
        Self::TAB10[i % Self::TAB10.len()]
    }

    /// A colour from `#rrggbb`, a matplotlib letter (`b g r c m y k w`) or `C0` … `C9`.
    pub fn parse(s: &str) -> Option<Rgb> {
        let s = s.trim();
        if let Some(hex) = s.strip_prefix('#') {
            if hex.len() == 6 {
                let v = u32::from_str_radix(hex, 16).ok()?;
                return Some(Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
            }
            return None;
        }
        if let Some(n) = s.strip_prefix('C') {
            return n.parse::<usize>().ok().filter(|n| *n < 10).map(Rgb::cycle);
        }
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Self::from_letter(c),
            _ => None,
        }
    }

    /// matplotlib's one-letter colours.
    pub fn from_letter(c: char) -> Option<Rgb> {
        Some(match c {
            'b' => Rgb(0, 0, 255),
            'g' => Rgb(0, 128, 0),
            'r' => Rgb(255, 0, 0),
            'c' => Rgb(0, 191, 191),
            'm' => Rgb(191, 0, 191),
            'y' => Rgb(191, 191, 0),
            'k' => Rgb(0, 0, 0),
            'w' => Rgb(255, 255, 255),
            _ => return None,
        })
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    pub(crate) fn to_plotters(self) -> plotters::style::RGBColor {
        plotters::style::RGBColor(self.0, self.1, self.2)
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// How a series' points are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LineStyle {
    /// `-`
    #[default]
    Solid,
    /// `--`
    Dashed,
    /// `-.`
    DashDot,
    /// `:`
    Dotted,
    /// No line (markers only).
    None,
}

impl LineStyle {
    /// The on/off dash pattern in units of the line width (empty: solid).
    pub(crate) fn pattern(self) -> &'static [f64] {
        match self {
            LineStyle::Solid | LineStyle::None => &[],
            LineStyle::Dashed => &[3.7, 1.6],
            LineStyle::DashDot => &[6.4, 1.6, 1.0, 1.6],
            LineStyle::Dotted => &[1.0, 1.65],
        }
    }
}

/// A marker drawn at each point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    /// `o`
    Circle,
    /// `.` (a small filled dot)
    Point,
    /// `s`
    Square,
    /// `^`
    Triangle,
    /// `x`
    Cross,
    /// `+`
    Plus,
}

impl Marker {
    fn from_char(c: char) -> Option<Marker> {
        Some(match c {
            'o' => Marker::Circle,
            '.' => Marker::Point,
            's' => Marker::Square,
            '^' => Marker::Triangle,
            'x' => Marker::Cross,
            '+' => Marker::Plus,
            _ => return None,
        })
    }
}

/// The look of one series: colour (from the cycle when `None`), line style, marker, line width.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// The colour; `None` takes the next colour of the default cycle.
    pub color: Option<Rgb>,
    /// How points are joined.
    pub line: LineStyle,
    /// A marker at each point, if any.
    pub marker: Option<Marker>,
    /// Line width in pixels.
    pub width: f64,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: None,
            line: LineStyle::Solid,
            marker: None,
            width: 1.5,
        }
    }
}

impl Style {
    /// A solid line in the given colour.
    pub fn color(color: Rgb) -> Self {
        Style {
            color: Some(color),
            ..Style::default()
        }
    }

    /// This style with another line style.
    pub fn with_line(mut self, line: LineStyle) -> Self {
        self.line = line;
        self
    }

    /// This style with a marker.
    pub fn with_marker(mut self, marker: Marker) -> Self {
        self.marker = Some(marker);
        self
    }

    /// This style with another line width.
    pub fn with_width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// Parses a matplotlib format string: an optional colour letter (or `C0`…`C9`), an optional
    /// marker (`o . s ^ x +`) and an optional line style (`- -- -. :`), in any order. A marker
    /// without a line style draws markers only, as in matplotlib.
    ///
    /// ```
    /// use d2l::plotting::{LineStyle, Marker, Rgb, Style};
    /// let s: Style = "m--".parse().unwrap();
    /// assert_eq!((s.color, s.line), (Some(Rgb(191, 0, 191)), LineStyle::Dashed));
    /// let s: Style = "ro".parse().unwrap();
    /// assert_eq!((s.line, s.marker), (LineStyle::None, Some(Marker::Circle)));
    /// assert!("q".parse::<Style>().is_err());
    /// ```
    pub fn parse(fmt: &str) -> Result<Style, PlotError> {
        let bad = || PlotError::InvalidStyle(fmt.to_string());
        let mut style = Style::default();
        let mut line = None;
        let chars: Vec<char> = fmt.trim().chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match c {
                '-' => {
                    let (l, n) = match next {
                        Some('-') => (LineStyle::Dashed, 2),
                        Some('.') => (LineStyle::DashDot, 2),
                        _ => (LineStyle::Solid, 1),
                    };
                    if line.replace(l).is_some() {
                        return Err(bad());
                    }
                    i += n;
                    continue;
                }
                ':' => {
                    if line.replace(LineStyle::Dotted).is_some() {
                        return Err(bad());
                    }
                }
                'C' => {
                    let d = next.and_then(|d| d.to_digit(10)).ok_or_else(bad)?;
                    if style.color.replace(Rgb::cycle(d as usize)).is_some() {
                        return Err(bad());
                    }
                    i += 2;
                    continue;
                }
                c if Rgb::from_letter(c).is_some() => {
                    if style
                        .color
                        .replace(Rgb::from_letter(c).unwrap_or(Rgb(0, 0, 0)))
                        .is_some()
                    {
                        return Err(bad());
                    }
                }
                c if Marker::from_char(c).is_some() => {
                    if style
                        .marker
                        .replace(Marker::from_char(c).unwrap_or(Marker::Point))
                        .is_some()
                    {
                        return Err(bad());
                    }
                }
                _ => return Err(bad()),
            }
            i += 1;
        }
        style.line = match (line, style.marker) {
            (Some(l), _) => l,
            (None, Some(_)) => LineStyle::None,
            (None, None) => LineStyle::Solid,
        };
        Ok(style)
    }
}

impl FromStr for Style {
    type Err = PlotError;
    fn from_str(s: &str) -> Result<Style, PlotError> {
        Style::parse(s)
    }
}

/// d2l's default format strings: `('-', 'm--', 'g-.', 'r:')`.
pub fn default_styles() -> Vec<Style> {
    ["-", "m--", "g-.", "r:"]
        .iter()
        .map(|f| Style::parse(f).unwrap_or_default())
        .collect()
}

/// A colour map for images and heat maps: values in `[0, 1]` to colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Colormap {
    /// Black to white.
    #[default]
    Gray,
    /// White to dark red (matplotlib's `Reds`, used for attention weights).
    Reds,
    /// matplotlib's default `viridis`.
    Viridis,
}

impl Colormap {
    /// The colour of `t` (clamped to `[0, 1]`; NaN maps to white).
    pub fn map(self, t: f64) -> Rgb {
        if t.is_nan() {
            return Rgb(255, 255, 255);
        }
        let t = t.clamp(0.0, 1.0);
        let stops: &[(u8, u8, u8)] = match self {
            Colormap::Gray => {
                return Rgb(
                    (t * 255.0).round() as u8,
                    (t * 255.0).round() as u8,
                    (t * 255.0).round() as u8,
                )
            }
            Colormap::Reds => &[
                (0xff, 0xf5, 0xf0),
                (0xfe, 0xe0, 0xd2),
                (0xfc, 0xbb, 0xa1),
                (0xfc, 0x92, 0x72),
                (0xfb, 0x6a, 0x4a),
                (0xef, 0x3b, 0x2c),
                (0xcb, 0x18, 0x1d),
                (0xa5, 0x0f, 0x15),
                (0x67, 0x00, 0x0d),
            ],
            Colormap::Viridis => &[
                (0x44, 0x01, 0x54),
                (0x48, 0x28, 0x78),
                (0x3e, 0x4a, 0x89),
                (0x31, 0x68, 0x8e),
                (0x26, 0x82, 0x8e),
                (0x1f, 0x9e, 0x89),
                (0x35, 0xb7, 0x79),
                (0x6e, 0xce, 0x58),
                (0xb5, 0xde, 0x2b),
                (0xfd, 0xe7, 0x25),
            ],
        };
        let pos = t * (stops.len() - 1) as f64;
        let i = (pos.floor() as usize).min(stops.len() - 2);
        let f = pos - i as f64;
        let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
        let (a, b) = (stops[i], stops[i + 1]);
        Rgb(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
    }
}
