//! [`Figure`]: a rendered SVG with a text fallback, shown inline in notebooks and saved as SVG or
//! PNG.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::PlotError;
use crate::display::{Bundle, Show};

/// A finished figure: an SVG document, its size in pixels and a one-line text description that
/// stands in for it where pictures cannot be shown (`text/plain`).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    svg: String,
    width: u32,
    height: u32,
    text: String,
}

impl Figure {
    /// Wraps an SVG document of `width`×`height` pixels with its text description.
    pub fn from_svg(
        svg: impl Into<String>,
        width: u32,
        height: u32,
        text: impl Into<String>,
    ) -> Self {
        Figure {
            svg: svg.into(),
            width,
            height,
            text: text.into(),
        }
    }

    /// The SVG document.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// The SVG document, consuming the figure.
    pub fn into_svg(self) -> String {
        self.svg
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The text fallback, e.g. `<Figure 350x250: 2 series (train_loss, val_loss)>`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Saves the figure; the format follows the extension (`.svg` or `.png`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => self.save_svg(path),
            Some("png") => self.save_png(path),
            _ => Err(PlotError::UnsupportedFormat(path.to_path_buf())),
        }
    }

    /// Saves the SVG document.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        std::fs::write(path, &self.svg).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Saves a PNG rendered at twice the figure's size (crisp on high-density screens).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let png = self.to_png(2.0)?;
        std::fs::write(path, png).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Rasterises the figure to PNG bytes, `scale` pixels per SVG pixel.
    pub fn to_png(&self, scale: f32) -> Result<Vec<u8>, PlotError> {
        svg_to_png(&self.svg, scale)
    }
}

impl Show for Figure {
    fn bundle(&self) -> Bundle {
        Bundle::new()
            .with("image/svg+xml", self.svg.clone())
            .with("text/plain", self.text.clone())
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// usvg options with the embedded DejaVu fonts as the only fonts, built once.
fn usvg_options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for bytes in [
            dejavu::sans::regular(),
            dejavu::sans::bold(),
            dejavu::sans::oblique(),
            dejavu::sans::bold_oblique(),
            dejavu::sans_mono::regular(),
        ] {
            db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(bytes)));
        }
        db.set_sans_serif_family("DejaVu Sans");
        db.set_serif_family("DejaVu Sans");
        db.set_monospace_family("DejaVu Sans Mono");
        usvg::Options {
            font_family: "DejaVu Sans".to_string(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

/// Rasterises an SVG document to PNG with the embedded fonts.
pub(crate) fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, PlotError> {
    let tree =
        usvg::Tree::from_str(svg, usvg_options()).map_err(|e| PlotError::Render(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| PlotError::Render("empty figure".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        PlotError::Render(format!(
            "cannot allocate {}x{} pixels",
            size.width(),
            size.height()
        ))
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Render(e.to_string()))
}

/// Encodes RGBA pixels (row-major, `width*height*4` bytes) as PNG.
pub(crate) fn encode_rgba_png(
    width: u32,
    height: u32,
    rgba: Vec<u8>,
) -> Result<Vec<u8>, PlotError> {
    let size = tiny_skia::IntSize::from_wh(width, height)
        .ok_or_else(|| PlotError::Render("empty image".into()))?;
    let pixmap = tiny_skia::Pixmap::from_vec(rgba, size)
        .ok_or_else(|| PlotError::Render("bad pixel buffer".into()))?;
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Render(e.to_string()))
}
