//! Axis arithmetic: fonts and sizes, scale transforms, ranges, ticks and their labels, and
//! clipping curves to the visible window.

use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{BoldPoints, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::style::{FontDesc, FontFamily, FontStyle, RGBColor};

use super::series::{Scale, Series};
use super::FONT_FAMILY;

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Supersampling: plotters works in integer pixels, so figures are drawn at `S` times their
/// size and the SVG is declared at the display size (smooth lines, same look).
pub(super) const S: f64 = 2.0;
pub(super) const TICK_FONT: f64 = 12.4; // plotters writes font-size = size / 1.24: 10 px
pub(super) const LABEL_FONT: f64 = 13.6; // 11 px
pub(super) const TITLE_FONT: f64 = 14.9; // 12 px
pub(super) const GRID: RGBColor = RGBColor(0xb0, 0xb0, 0xb0);

/// A font of `size` display units, in internal (supersampled) pixels.
pub(super) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size * S, FontStyle::Normal)
}

pub(super) fn text_width(size: f64, text: &str) -> u32 {
    font(size)
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or((text.chars().count() as f64 * size * S * 0.6) as u32)
}

/// Position along an axis in "axis space": log10 for log axes.
pub(super) fn fwd(scale: Scale, v: f64) -> f64 {
    match scale {
        Scale::Linear => v,
        Scale::Log => v.log10(),
    }
}

pub(super) fn inv(scale: Scale, v: f64) -> f64 {
    match scale {
        Scale::Linear => v,
        Scale::Log => 10f64.powf(v),
    }
}

pub(super) fn usable(scale: Scale, v: f64) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// The data range of an axis with matplotlib's 5% margins, or the user's limits.
pub(super) fn axis_range(
    values: impl Iterator<Item = f64>,
    scale: Scale,
    lim: Option<(f64, f64)>,
) -> (f64, f64) {
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
        let pad = if scale == Scale::Log {
            0.5
        } else if lo.abs() > 1e-12 {
            lo.abs() * 0.05
        } else {
            0.5
        };
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
pub(super) fn ticks(scale: Scale, range: (f64, f64), n: usize) -> Vec<f64> {
    match scale {
        Scale::Linear => RangedCoordf64::from(range.0..range.1).key_points(BoldPoints(n)),
        Scale::Log => LogCoord::from((range.0..range.1).log_scale()).key_points(BoldPoints(n)),
    }
}

/// Formats ticks consistently: the same number of decimals on every tick of an axis.
pub(super) struct TickFormat {
    scale: Scale,
    decimals: usize,
    scientific: bool,
}

impl TickFormat {
    pub(super) fn for_ticks(scale: Scale, ticks: &[f64]) -> Self {
        let max = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let scientific = scale == Scale::Linear && (max >= 1e6 || (max > 0.0 && max < 1e-3));
        let decimals = (0..=6)
            .find(|&d| {
                ticks.iter().all(|t| {
                    (t * 10f64.powi(d as i32)).round() / 10f64.powi(d as i32) == *t
                        || ((t * 10f64.powi(d as i32)) - (t * 10f64.powi(d as i32)).round()).abs()
                            < 1e-6
                })
            })
            .unwrap_or(6);
        TickFormat {
            scale,
            decimals,
            scientific,
        }
    }

    pub(super) fn format(&self, v: f64) -> String {
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
                if s.trim_start_matches('-')
                    .chars()
                    .all(|c| c == '0' || c == '.')
                {
                    s.trim_start_matches('-').to_string()
                } else {
                    s
                }
            }
        }
    }
}

pub(super) fn superscript(n: i64) -> String {
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
pub(super) fn visible_pieces(
    s: &Series,
    xs: Scale,
    ys: Scale,
    xr: (f64, f64),
    yr: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
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
pub(super) fn clip(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
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
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + dx * t, a.1 + dy * t)
        }
    };
    Some((at(t0), at(t1)))
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
        let s = Series::new(
            vec![0.0, 1.0, 2.0, 3.0, 4.0],
            vec![0.0, 1.0, f64::NAN, 1.0, 0.0],
        );
        assert_eq!(
            visible_pieces(&s, Scale::Linear, Scale::Linear, (0.0, 4.0), (0.0, 1.0)).len(),
            2
        );
    }

    #[test]
    fn ticks_share_decimals() {
        let f = TickFormat::for_ticks(Scale::Linear, &[0.0, 0.5, 1.0]);
        assert_eq!(
            [f.format(0.0), f.format(0.5), f.format(1.0)],
            ["0.0", "0.5", "1.0"]
        );
        let f = TickFormat::for_ticks(Scale::Linear, &[0.0, 20.0, 40.0]);
        assert_eq!(f.format(20.0), "20");
        let f = TickFormat::for_ticks(Scale::Log, &[0.01, 0.1, 1.0]);
        assert_eq!(f.format(0.01), "10⁻²");
    }
}
