//! Drawing a [`Plot`] with plotters into an SVG [`Figure`]: layout, legend placement, curves,
//! markers and labels.

use plotters::chart::{ChartBuilder, SeriesLabelPosition};
use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::element::Rectangle;
use plotters::style::{Color, RGBColor, ShapeStyle, BLACK, WHITE};
use plotters_svg::SVGBackend;

use super::axes::*;
use super::chart::Plot;
use super::path::{LegendGlyph, MarkerPoint, PatternPath};
use super::series::Scale;
use super::style::{LineStyle, Marker, Rgb};
use super::{ensure_fonts, Figure, PlotError, FONT_FAMILY};

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
    let xr = axis_range(
        p.series.iter().flat_map(|s| s.x.iter().copied()),
        p.xscale,
        p.xlim,
    );
    let yr = axis_range(
        p.series.iter().flat_map(|s| s.y.iter().copied()),
        p.yscale,
        p.ylim,
    );
    let xticks = ((dw as f64 / 70.0).round() as usize).clamp(3, 12);
    let yticks = ((dh as f64 / 45.0).round() as usize).clamp(3, 12);
    let xt = ticks(p.xscale, xr, xticks);
    let yt = ticks(p.yscale, yr, yticks);
    let xfmt = TickFormat::for_ticks(p.xscale, &xt);
    let yfmt = TickFormat::for_ticks(p.yscale, &yt);
    let px = |v: f64| (v * S).round() as u32;
    let tick_h = px(TICK_FONT);
    let label_h = px(LABEL_FONT * 1.1);
    let x_area = tick_h
        + px(10.0)
        + if p.xlabel.is_some() {
            label_h + px(2.0)
        } else {
            0
        };
    let ytick_w = yt
        .iter()
        .map(|t| text_width(TICK_FONT, &yfmt.format(*t)))
        .max()
        .unwrap_or(10);
    let y_area = ytick_w
        + px(10.0)
        + if p.ylabel.is_some() {
            label_h + px(2.0)
        } else {
            0
        };
    let top = px(8.0)
        + if p.title.is_some() {
            px(TITLE_FONT * 1.3)
        } else {
            0
        };
    // Room for half of the last x tick label.
    let last_w = xt
        .last()
        .map(|t| text_width(TICK_FONT, &xfmt.format(*t)))
        .unwrap_or(0);
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
    let text_w = labels
        .iter()
        .map(|s| text_width(TICK_FONT, s))
        .max()
        .unwrap_or(0) as f64;
    let box_w = ((text_w + (28.0 + 10.0 + 5.0) * S) / area_w).min(1.0);
    let box_h = ((labels.len() as f64 * TICK_FONT * 1.05 + 10.0 + 5.0) * S / area_h).min(1.0);
    let (x0, x1) = (fwd(p.xscale, l.xr.0), fwd(p.xscale, l.xr.1));
    let (y0, y1) = (fwd(p.yscale, l.yr.0), fwd(p.yscale, l.yr.1));
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        for piece in visible_pieces(s, p.xscale, p.yscale, l.xr, l.yr) {
            let frac: Vec<(f64, f64)> = piece
                .iter()
                .map(|&(x, y)| {
                    (
                        (fwd(p.xscale, x) - x0) / (x1 - x0),
                        (fwd(p.yscale, y) - y0) / (y1 - y0),
                    )
                })
                .collect();
            if frac.len() == 1 {
                pts.push(frac[0]);
            }
            for w in frac.windows(2) {
                for k in 0..8 {
                    let t = k as f64 / 8.0;
                    pts.push((
                        w[0].0 + (w[1].0 - w[0].0) * t,
                        w[0].1 + (w[1].1 - w[0].1) * t,
                    ));
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
        let n = pts
            .iter()
            .filter(|(x, y)| *x >= bx0 && *x <= bx1 && *y >= by0 && *y <= by1)
            .count();
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

pub(super) fn render(p: &Plot) -> Result<Figure, PlotError> {
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
    let svg = svg.replacen(
        &format!("width=\"{}\" height=\"{}\"", l.width, l.height),
        &format!("width=\"{dw}\" height=\"{dh}\""),
        1,
    );
    Ok(Figure::from_svg(svg, dw, dh, p.description()))
}

fn shape_style(color: Rgb, width: f64) -> ShapeStyle {
    color
        .to_plotters()
        .stroke_width((width * S).round().max(1.0) as u32)
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
        let pattern: Vec<f64> = style
            .line
            .pattern()
            .iter()
            .map(|u| u * style.width.max(1.0) * S)
            .collect();
        let pieces = visible_pieces(s, p.xscale, p.yscale, l.xr, l.yr);
        let label = p.label_of(i).map(str::to_string);
        // One annotation per series for the legend, even when the series draws several pieces.
        let mut anno_done = false;
        if style.line != LineStyle::None {
            for piece in pieces.iter().filter(|pc| pc.len() > 1) {
                let ann = chart
                    .draw_series(std::iter::once(PatternPath::new(
                        piece.clone(),
                        pattern.clone(),
                        stroke,
                    )))
                    .map_err(draw_err)?;
                if !anno_done {
                    if let Some(label) = &label {
                        let (pat, marker) = (
                            pattern.clone(),
                            style.marker.map(|m| (m, marker_size(m, 1.5))),
                        );
                        ann.label(label.clone()).legend(move |p| {
                            LegendGlyph::new(
                                p,
                                (22.0 * S) as i32,
                                pat.clone(),
                                Some(stroke),
                                marker,
                                color.to_plotters(),
                            )
                        });
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
                .draw_series(
                    pts.into_iter()
                        .map(|pt| MarkerPoint::new(pt, marker, size, color.to_plotters())),
                )
                .map_err(draw_err)?;
            if !anno_done {
                if let Some(label) = &label {
                    let line = (style.line != LineStyle::None).then_some(stroke);
                    let pat = pattern.clone();
                    let m = Some((marker, marker_size(marker, 1.5)));
                    ann.label(label.clone()).legend(move |p| {
                        LegendGlyph::new(
                            p,
                            (22.0 * S) as i32,
                            pat.clone(),
                            line,
                            m,
                            color.to_plotters(),
                        )
                    });
                    any_label = true;
                }
            }
        } else if !anno_done && label.is_some() {
            // A labelled series with nothing visible still gets its legend entry.
            let ann = chart
                .draw_series(std::iter::empty::<MarkerPoint<(f64, f64)>>())
                .map_err(draw_err)?;
            if let Some(label) = &label {
                let pat = pattern.clone();
                ann.label(label.clone()).legend(move |p| {
                    LegendGlyph::new(
                        p,
                        (22.0 * S) as i32,
                        pat.clone(),
                        Some(stroke),
                        None,
                        color.to_plotters(),
                    )
                });
                any_label = true;
            }
        }
    }

    // The frame: all four spines, as matplotlib draws them.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    // plotters draws the left axis at x = start - 1 and the bottom one at y = end.
    root.draw(&Rectangle::new(
        [(xs.start - 1, ys.start - 1), (xs.end, ys.end)],
        BLACK.stroke_width(S as u32),
    ))
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
