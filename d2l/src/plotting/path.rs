//! A polyline with a dash pattern measured in pixels (plotters has dashes but no dash-dot).

use plotters::element::{Drawable, PointCollection};
use plotters::style::{Color, RGBColor, ShapeStyle};

use super::style::Marker;
use plotters_backend::{BackendCoord, DrawingBackend, DrawingErrorKind};

/// A polyline drawn with an on/off pattern (in pixels; empty draws it solid).
pub(crate) struct PatternPath<C> {
    points: Vec<C>,
    pattern: Vec<f64>,
    style: ShapeStyle,
}

impl<C> PatternPath<C> {
    pub(crate) fn new(points: Vec<C>, pattern: Vec<f64>, style: ShapeStyle) -> Self {
        PatternPath {
            points,
            pattern,
            style,
        }
    }
}

impl<'a, C: 'a> PointCollection<'a, C> for &'a PatternPath<C> {
    type Point = &'a C;
    type IntoIter = &'a [C];
    fn point_iter(self) -> &'a [C] {
        &self.points
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for PatternPath<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        points: I,
        backend: &mut DB,
        _parent: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let pts: Vec<(f64, f64)> = points.map(|(x, y)| (x as f64, y as f64)).collect();
        if pts.len() < 2 {
            return Ok(());
        }
        let pattern: Vec<f64> = self.pattern.iter().map(|p| p.max(0.5)).collect();
        if pattern.is_empty() {
            return backend.draw_path(pts.iter().map(|&(x, y)| (x as i32, y as i32)), &self.style);
        }
        let round = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
        let mut phase = 0; // index into the pattern; even = drawn
        let mut left = pattern[0];
        let mut current: Vec<BackendCoord> = vec![round(pts[0])];
        for w in pts.windows(2) {
            let (mut a, b) = (w[0], w[1]);
            let mut seg = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
            while seg > 0.0 {
                let step = left.min(seg);
                let t = step / seg;
                let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                if phase % 2 == 0 {
                    current.push(round(p));
                }
                seg -= step;
                left -= step;
                a = p;
                if left <= 1e-9 {
                    if phase % 2 == 0 {
                        if current.len() > 1 {
                            backend.draw_path(current.drain(..), &self.style)?;
                        }
                        current.clear();
                    } else {
                        current = vec![round(a)];
                    }
                    phase = (phase + 1) % pattern.len();
                    left = pattern[phase];
                }
            }
        }
        if phase % 2 == 0 && current.len() > 1 {
            backend.draw_path(current, &self.style)?;
        }
        Ok(())
    }
}

/// A marker (see [`Marker`]) drawn at one point.
pub(crate) struct MarkerPoint<C> {
    point: [C; 1],
    marker: Marker,
    size: i32,
    color: RGBColor,
}

impl<C> MarkerPoint<C> {
    pub(crate) fn new(point: C, marker: Marker, size: u32, color: RGBColor) -> Self {
        MarkerPoint {
            point: [point],
            marker,
            size: size as i32,
            color,
        }
    }
}

impl<'a, C: 'a> PointCollection<'a, C> for &'a MarkerPoint<C> {
    type Point = &'a C;
    type IntoIter = &'a [C];
    fn point_iter(self) -> &'a [C] {
        &self.point
    }
}

fn draw_marker<DB: DrawingBackend>(
    backend: &mut DB,
    (x, y): BackendCoord,
    marker: Marker,
    s: i32,
    color: RGBColor,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let fill: ShapeStyle = color.filled();
    let line: ShapeStyle = color.stroke_width(1);
    match marker {
        Marker::Circle | Marker::Point => backend.draw_circle((x, y), s as u32, &fill, true),
        Marker::Square => backend.draw_rect((x - s, y - s), (x + s, y + s), &fill, true),
        Marker::Triangle => {
            let h = s + 1;
            backend.fill_polygon(
                vec![(x, y - h), (x - h, y + h * 2 / 3), (x + h, y + h * 2 / 3)],
                &fill,
            )
        }
        Marker::Cross => {
            backend.draw_line((x - s, y - s), (x + s, y + s), &line)?;
            backend.draw_line((x - s, y + s), (x + s, y - s), &line)
        }
        Marker::Plus => {
            backend.draw_line((x - s, y), (x + s, y), &line)?;
            backend.draw_line((x, y - s), (x, y + s), &line)
        }
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for MarkerPoint<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _parent: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        match points.next() {
            Some(p) => draw_marker(backend, p, self.marker, self.size, self.color),
            None => Ok(()),
        }
    }
}

/// The sample drawn before a legend label: a short line in the series' pattern and its marker.
pub(crate) struct LegendGlyph {
    anchor: [BackendCoord; 1],
    length: i32,
    pattern: Vec<f64>,
    stroke: Option<ShapeStyle>,
    marker: Option<(Marker, i32)>,
    color: RGBColor,
}

impl LegendGlyph {
    pub(crate) fn new(
        anchor: BackendCoord,
        length: i32,
        pattern: Vec<f64>,
        stroke: Option<ShapeStyle>,
        marker: Option<(Marker, u32)>,
        color: RGBColor,
    ) -> Self {
        LegendGlyph {
            anchor: [anchor],
            length,
            pattern,
            stroke,
            marker: marker.map(|(m, s)| (m, s as i32)),
            color,
        }
    }
}

impl<'a> PointCollection<'a, BackendCoord> for &'a LegendGlyph {
    type Point = &'a BackendCoord;
    type IntoIter = &'a [BackendCoord];
    fn point_iter(self) -> &'a [BackendCoord] {
        &self.anchor
    }
}

impl<DB: DrawingBackend> Drawable<DB> for LegendGlyph {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        parent: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        if let Some(stroke) = self.stroke {
            let end = (x + self.length, y);
            let line = PatternPath::new(vec![(x, y), end], self.pattern.clone(), stroke);
            line.draw([(x, y), end].into_iter(), backend, parent)?;
        }
        if let Some((m, s)) = self.marker {
            draw_marker(backend, (x + self.length / 2, y), m, s, self.color)?;
        }
        Ok(())
    }
}
