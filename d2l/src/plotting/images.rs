//! [`show_images`] (a grid of grayscale or RGB images with titles) and [`show_heatmaps`]
//! (attention weights and other matrices, with a colour bar).
//!
//! Each picture is embedded in the SVG as a PNG (`data:` URL) drawn without smoothing, so a
//! 28×28 image stays sharp and the document stays small.

use std::fmt::Write as _;

use base64::Engine as _;
use tch::{Device, Kind, Tensor};

use super::figure::encode_rgba_png;
use super::style::Colormap;
use super::{xml_escape, Figure, PlotError, DPI, FONT_FAMILY};
use crate::display::{Bundle, Show};

/// No titles, for [`show_images`].
pub const NO_TITLES: &[&str] = &[];

/// One decoded picture: `width*height` RGB pixels.
struct Picture {
    width: usize,
    height: usize,
    rgb: Vec<[u8; 3]>,
}

impl Picture {
    fn png_data_url(&self) -> Result<String, PlotError> {
        let mut rgba = Vec::with_capacity(self.rgb.len() * 4);
        for p in &self.rgb {
            rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        let png = encode_rgba_png(self.width as u32, self.height as u32, rgba)?;
        Ok(format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ))
    }
}

fn host_values(t: &Tensor) -> Vec<f64> {
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Double)
        .contiguous()
        .flatten(0, -1);
    Vec::<f64>::try_from(&flat).unwrap_or_default()
}

/// Decodes one image tensor: `[H, W]`, `[1, H, W]`, `[3, H, W]`, `[H, W, 1]` or `[H, W, 3]`.
fn picture(t: &Tensor, cmap: Colormap) -> Result<Picture, PlotError> {
    let shape = t.size();
    let bad = || {
        PlotError::InvalidData(format!(
            "an image must be [H, W], [C, H, W] or [H, W, C] with C = 1 or 3, got {shape:?}"
        ))
    };
    let is_u8 = t.kind() == Kind::Uint8;
    // Normalise to [C, H, W].
    let chw = match shape.as_slice() {
        [h, w] => t.reshape([1, *h, *w]),
        [c, _, _] if *c == 1 || *c == 3 => t.shallow_clone(),
        [_, _, c] if *c == 1 || *c == 3 => t.permute([2, 0, 1]),
        _ => return Err(bad()),
    };
    let s = chw.size();
    let (c, h, w) = (s[0] as usize, s[1] as usize, s[2] as usize);
    if h == 0 || w == 0 {
        return Err(bad());
    }
    let v = host_values(&chw);
    let mut rgb = vec![[0u8; 3]; h * w];
    if c == 1 {
        // Grayscale: matplotlib stretches each image between its own min and max.
        let (lo, hi) = if is_u8 {
            (0.0, 255.0)
        } else {
            let finite = v.iter().copied().filter(|x| x.is_finite());
            let lo = finite.clone().fold(f64::INFINITY, f64::min);
            let hi = finite.fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() && hi > lo {
                (lo, hi)
            } else {
                (lo.min(0.0), lo.max(0.0) + 1.0)
            }
        };
        for (px, val) in rgb.iter_mut().zip(&v) {
            let col = cmap.map((val - lo) / (hi - lo));
            *px = [col.0, col.1, col.2];
        }
    } else {
        // RGB: bytes, or floats in [0, 1] (or [0, 255] when larger values show up).
        let max = v
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(0.0f64, f64::max);
        let div = if is_u8 || max > 1.0 + 1e-6 {
            255.0
        } else {
            1.0
        };
        for (i, px) in rgb.iter_mut().enumerate() {
            for ch in 0..3 {
                let val = v[ch * h * w + i] / div;
                px[ch] = (val.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
    Ok(Picture {
        width: w,
        height: h,
        rgb,
    })
}

/// Splits a batch into images: a tensor's first dimension (a 2-D tensor is one image) or a list.
pub trait IntoImages {
    /// The images.
    fn into_images(self) -> Vec<Tensor>;
}

impl IntoImages for &Tensor {
    fn into_images(self) -> Vec<Tensor> {
        if self.dim() <= 2 {
            vec![self.shallow_clone()]
        } else {
            (0..self.size()[0]).map(|i| self.get(i)).collect()
        }
    }
}
impl IntoImages for Tensor {
    fn into_images(self) -> Vec<Tensor> {
        (&self).into_images()
    }
}
impl IntoImages for &[Tensor] {
    fn into_images(self) -> Vec<Tensor> {
        self.iter().map(Tensor::shallow_clone).collect()
    }
}
impl IntoImages for Vec<Tensor> {
    fn into_images(self) -> Vec<Tensor> {
        self
    }
}
impl IntoImages for &Vec<Tensor> {
    fn into_images(self) -> Vec<Tensor> {
        self.iter().map(Tensor::shallow_clone).collect()
    }
}

/// A grid of images with optional titles (d2l's `show_images`). Shows itself at the end of a
/// cell; [`ImageGrid::figure`] gives the [`Figure`].
pub struct ImageGrid {
    images: Vec<Tensor>,
    rows: usize,
    cols: usize,
    titles: Vec<String>,
    scale: f64,
    cmap: Colormap,
}

/// Shows `images` in a `rows`×`cols` grid, each `scale` inches wide, with a title above each
/// (pass [`NO_TITLES`] for none). Grayscale images are `[H, W]` or `[1, H, W]`; RGB images are
/// `[3, H, W]` or `[H, W, 3]`, as bytes or floats in `[0, 1]`.
///
/// ```
/// use d2l::prelude::*;
/// let images = Tensor::rand([4, 28, 28], (Kind::Float, Device::Cpu));
/// let fig = d2l::plotting::show_images(&images, 1, 4, &["a", "b", "c", "d"], 1.5).figure();
/// assert_eq!(fig.svg().matches("<image").count(), 4);
/// ```
pub fn show_images<S: AsRef<str>>(
    images: impl IntoImages,
    rows: usize,
    cols: usize,
    titles: &[S],
    scale: f64,
) -> ImageGrid {
    ImageGrid {
        images: images.into_images(),
        rows,
        cols,
        titles: titles.iter().map(|s| s.as_ref().to_string()).collect(),
        scale,
        cmap: Colormap::Gray,
    }
}

impl ImageGrid {
    /// This grid with grayscale images drawn in another colour map.
    pub fn cmap(mut self, cmap: Colormap) -> Self {
        self.cmap = cmap;
        self
    }

    /// Draws the grid.
    pub fn try_figure(&self) -> Result<Figure, PlotError> {
        let (rows, cols) = (self.rows.max(1), self.cols.max(1));
        let cell = (self.scale.max(0.1) * DPI).round();
        let title_h = if self.titles.is_empty() { 0.0 } else { 14.0 };
        let pad = 6.0;
        let n = self.images.len().min(rows * cols);
        let pictures = self.images[..n]
            .iter()
            .map(|t| picture(t, self.cmap))
            .collect::<Result<Vec<_>, _>>()?;
        // Cells keep the aspect of the widest image.
        let aspect = pictures
            .first()
            .map(|p| p.height as f64 / p.width as f64)
            .unwrap_or(1.0);
        let (cw, ch) = (cell, (cell * aspect).round());
        let width = (cols as f64 * (cw + pad) + pad).round() as u32;
        let height = (rows as f64 * (ch + title_h + pad) + pad).round() as u32;
        let mut svg = svg_open(width, height);
        for (i, pic) in pictures.iter().enumerate() {
            let (r, c) = (i / cols, i % cols);
            let x = pad + c as f64 * (cw + pad);
            let y = pad + r as f64 * (ch + title_h + pad) + title_h;
            if let Some(title) = self.titles.get(i) {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-family=\"{FONT_FAMILY}\" font-size=\"10\" fill=\"#000\">{}</text>",
                    x + cw / 2.0,
                    y - 4.0,
                    xml_escape(&truncate(title, (cw / 6.0) as usize))
                );
            }
            push_image(&mut svg, x, y, cw, ch, &pic.png_data_url()?);
        }
        svg.push_str("</svg>\n");
        let text = format!("<Figure size {width}x{height} with {n} images>");
        Ok(Figure::from_svg(svg, width, height, text))
    }

    /// Draws the grid; problems are drawn as a message instead.
    pub fn figure(&self) -> Figure {
        let w = (self.cols.max(1) as f64 * self.scale * DPI) as u32;
        self.try_figure()
            .unwrap_or_else(|e| super::render::error_figure((w.max(200), 80), &e.to_string()))
    }
}

impl Show for ImageGrid {
    fn bundle(&self) -> Bundle {
        self.figure().bundle()
    }
}

fn svg_open(width: u32, height: u32) -> String {
    format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\" \
         xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
    )
}

fn push_image(svg: &mut String, x: f64, y: f64, w: f64, h: f64, href: &str) {
    let _ = writeln!(
        svg,
        "<image x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" preserveAspectRatio=\"none\" \
         image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" xlink:href=\"{href}\"/>"
    );
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max.max(4) {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.max(4) - 1).collect();
        t.push('…');
        t
    }
}

/// Matrices as heat maps (d2l's `show_heatmaps`): a `[rows, cols, n, m]` tensor (or `[n, m]`,
/// `[k, n, m]`) drawn in a grid with a shared colour bar. Shows itself at the end of a cell.
pub struct Heatmaps {
    matrices: Tensor,
    xlabel: String,
    ylabel: String,
    titles: Vec<String>,
    figsize: (f64, f64),
    cmap: Colormap,
}

/// Shows attention weights or any matrices as heat maps, d2l's
/// `show_heatmaps(matrices, xlabel, ylabel)`; `matrices` is `[rows, cols, queries, keys]`.
///
/// ```
/// use d2l::prelude::*;
/// let weights = Tensor::eye(10, (Kind::Float, Device::Cpu)).reshape([1, 1, 10, 10]);
/// let fig = d2l::plotting::show_heatmaps(&weights, "Keys", "Queries").figure();
/// assert!(fig.svg().contains("Queries"));
/// ```
pub fn show_heatmaps(matrices: &Tensor, xlabel: &str, ylabel: &str) -> Heatmaps {
    Heatmaps {
        matrices: matrices.shallow_clone(),
        xlabel: xlabel.to_string(),
        ylabel: ylabel.to_string(),
        titles: Vec::new(),
        figsize: (2.5, 2.5),
        cmap: Colormap::Reds,
    }
}

impl Heatmaps {
    /// A title for each column of the grid.
    pub fn titles<I, S>(mut self, titles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.titles = titles.into_iter().map(Into::into).collect();
        self
    }

    /// The size of one heat map in inches (d2l's default is 2.5×2.5).
    pub fn figsize(mut self, width: f64, height: f64) -> Self {
        self.figsize = (width, height);
        self
    }

    /// The colour map (`Reds` by default).
    pub fn cmap(mut self, cmap: Colormap) -> Self {
        self.cmap = cmap;
        self
    }

    /// Draws the heat maps.
    pub fn try_figure(&self) -> Result<Figure, PlotError> {
        let m = &self.matrices;
        let shape = m.size();
        let m4 = match shape.len() {
            2 => m.reshape([1, 1, shape[0], shape[1]]),
            3 => m.reshape([1, shape[0], shape[1], shape[2]]),
            4 => m.shallow_clone(),
            _ => {
                return Err(PlotError::InvalidData(format!(
                    "heat maps need a [rows, cols, n, m] tensor, got {shape:?}"
                )))
            }
        };
        let s = m4.size();
        let (rows, cols, nq, nk) = (s[0] as usize, s[1] as usize, s[2] as usize, s[3] as usize);
        if rows * cols * nq * nk == 0 {
            return Err(PlotError::InvalidData(format!(
                "heat maps need non-empty matrices, got {shape:?}"
            )));
        }
        let values = host_values(&m4);
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let lo = finite.clone().fold(f64::INFINITY, f64::min);
        let hi = finite.fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (lo.min(0.0), lo.max(0.0) + 1.0)
        };

        let cw = (self.figsize.0 * DPI * 0.72).round();
        let ch = (cw * nq as f64 / nk as f64)
            .clamp(20.0, self.figsize.1 * DPI * 0.72 * 2.0)
            .round();
        let (left, top, gap_x, gap_y) = (
            46.0,
            if self.titles.is_empty() { 10.0 } else { 24.0 },
            30.0,
            30.0,
        );
        let bar_w = 12.0;
        let grid_w = cols as f64 * cw + (cols - 1) as f64 * gap_x;
        let grid_h = rows as f64 * ch
            + (rows - 1) as f64 * (gap_y + if self.titles.is_empty() { 0.0 } else { 14.0 });
        let width = (left + grid_w + 24.0 + bar_w + 40.0).round() as u32;
        let height = (top + grid_h + 40.0).round() as u32;
        let mut svg = svg_open(width, height);
        let font =
            |size: u32| format!("font-family=\"{FONT_FAMILY}\" font-size=\"{size}\" fill=\"#000\"");
        for r in 0..rows {
            for c in 0..cols {
                let x0 = left + c as f64 * (cw + gap_x);
                let y0 =
                    top + r as f64 * (ch + gap_y + if self.titles.is_empty() { 0.0 } else { 14.0 });
                let offset = (r * cols + c) * nq * nk;
                let rgb: Vec<[u8; 3]> = values[offset..offset + nq * nk]
                    .iter()
                    .map(|v| {
                        let col = self.cmap.map((v - lo) / (hi - lo));
                        [col.0, col.1, col.2]
                    })
                    .collect();
                let pic = Picture {
                    width: nk,
                    height: nq,
                    rgb,
                };
                if let Some(t) = self.titles.get(c) {
                    let _ = write!(
                        svg,
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" {}>{}</text>",
                        x0 + cw / 2.0,
                        y0 - 6.0,
                        font(11),
                        xml_escape(t)
                    );
                }
                push_image(&mut svg, x0, y0, cw, ch, &pic.png_data_url()?);
                let _ = write!(svg, "<rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{cw:.1}\" height=\"{ch:.1}\" fill=\"none\" stroke=\"#000\" stroke-width=\"0.8\"/>");
                // Integer ticks at the centres of cells, on the outer axes only.
                if r + 1 == rows {
                    for k in tick_positions(nk) {
                        let x = x0 + (k as f64 + 0.5) * cw / nk as f64;
                        let _ = write!(svg, "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-width=\"0.8\"/>", y0 + ch, y0 + ch + 3.5);
                        let _ = write!(
                            svg,
                            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" {}>{k}</text>",
                            y0 + ch + 13.0,
                            font(9)
                        );
                    }
                    let _ = write!(
                        svg,
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" {}>{}</text>",
                        x0 + cw / 2.0,
                        y0 + ch + 27.0,
                        font(11),
                        xml_escape(&self.xlabel)
                    );
                }
                if c == 0 {
                    for k in tick_positions(nq) {
                        let y = y0 + (k as f64 + 0.5) * ch / nq as f64;
                        let _ = write!(svg, "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{x0:.1}\" y2=\"{y:.1}\" stroke=\"#000\" stroke-width=\"0.8\"/>", x0 - 3.5);
                        let _ = write!(
                            svg,
                            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" {}>{k}</text>",
                            x0 - 5.0,
                            y + 3.0,
                            font(9)
                        );
                    }
                    let (lx, ly) = (12.0, y0 + ch / 2.0);
                    let _ = write!(svg, "<text x=\"{lx}\" y=\"{ly:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 {lx} {ly:.1})\" {}>{}</text>", font(11), xml_escape(&self.ylabel));
                }
            }
        }
        // The colour bar: a vertical gradient image with ticks at its ends and middle.
        let bx = left + grid_w + 24.0;
        let bh = grid_h.min(ch * rows as f64).max(40.0);
        let steps = 64;
        let bar = Picture {
            width: 1,
            height: steps,
            rgb: (0..steps)
                .map(|i| {
                    let col = self.cmap.map(1.0 - i as f64 / (steps - 1) as f64);
                    [col.0, col.1, col.2]
                })
                .collect(),
        };
        push_image(&mut svg, bx, top, bar_w, bh, &bar.png_data_url()?);
        let _ = write!(svg, "<rect x=\"{bx:.1}\" y=\"{top:.1}\" width=\"{bar_w}\" height=\"{bh:.1}\" fill=\"none\" stroke=\"#000\" stroke-width=\"0.8\"/>");
        for (frac, v) in [(0.0, hi), (0.5, (lo + hi) / 2.0), (1.0, lo)] {
            let y = top + frac * bh;
            let _ = write!(svg, "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#000\" stroke-width=\"0.8\"/>", bx + bar_w, bx + bar_w + 3.0);
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" {}>{}</text>",
                bx + bar_w + 5.0,
                y + 3.0,
                font(9),
                short_number(v)
            );
        }
        svg.push_str("</svg>\n");
        let text = format!(
            "<Figure size {width}x{height} with {} heat maps ({nq}x{nk}), {} vs {}>",
            rows * cols,
            self.ylabel,
            self.xlabel
        );
        Ok(Figure::from_svg(svg, width, height, text))
    }

    /// Draws the heat maps; problems are drawn as a message instead.
    pub fn figure(&self) -> Figure {
        self.try_figure()
            .unwrap_or_else(|e| super::render::error_figure((300, 80), &e.to_string()))
    }
}

impl Show for Heatmaps {
    fn bundle(&self) -> Bundle {
        self.figure().bundle()
    }
}

/// At most about six integer tick positions with a step of 1, 2, 5, 10, 20, ...
fn tick_positions(n: usize) -> Vec<usize> {
    let mut magnitude = 1usize;
    loop {
        for m in [1, 2, 5] {
            let step = m * magnitude;
            if n.div_ceil(step) <= 6 {
                return (0..n).step_by(step).collect();
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

fn short_number(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_sparse() {
        assert_eq!(tick_positions(5), vec![0, 1, 2, 3, 4]);
        assert_eq!(tick_positions(10), vec![0, 2, 4, 6, 8]);
        assert_eq!(tick_positions(50), vec![0, 10, 20, 30, 40]);
    }
}
