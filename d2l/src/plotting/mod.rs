//! Plots for the book: [`plot`] for curves, [`ProgressBoard`] for training curves that update
//! while a model trains, [`show_images`] and [`show_heatmaps`] for pictures and attention weights.
//!
//! Everything renders to a [`Figure`], an SVG drawn with [plotters] that shows inline in a
//! notebook (see [`crate::display`]), prints a one-line description in a terminal, and saves as
//! `.svg` or `.png`. Text is measured with DejaVu Sans, embedded in the crate, and PNGs are
//! rasterised with the same font, so figures look the same on every machine and need no system
//! fonts.
//!
//! ```
//! use d2l::plotting::{plot, Scale};
//! let x: Vec<f64> = (1..=50).map(|i| i as f64 / 10.0).collect();
//! let y: Vec<f64> = x.iter().map(|x| x * x).collect();
//! let fig = plot(&x, [&x, &y])
//!     .xlabel("x")
//!     .ylabel("f(x)")
//!     .legend(["x", "x²"])
//!     .yscale(Scale::Log)
//!     .figure();
//! assert!(fig.svg().contains("f(x)"));
//! assert_eq!(fig.size(), (350, 250));
//! ```
//!
//! [plotters]: https://docs.rs/plotters

mod axes;
mod board;
mod chart;
mod figure;
mod images;
mod live;
mod path;
mod render;
mod series;
mod style;

pub use board::{BoardOptions, BoardValue, ProgressBoard, RawPoint};
pub use chart::{plot, plot_with, plot_y, Plot, PlotOptions};
pub use figure::Figure;
pub use images::{show_heatmaps, show_images, Heatmaps, ImageGrid, IntoImages, NO_TITLES};
pub use live::{end_of_cell, evcxr_end_of_cell};
pub use series::{IntoSeriesList, IntoValues, Scalar, Scale, Series, StyleSpec};
pub use style::{default_styles, Colormap, LineStyle, Marker, Rgb, Style};

use std::path::PathBuf;
use std::sync::Once;

/// Pixels per inch: a figure size of `(3.5, 2.5)` inches is 350×250 pixels.
pub const DPI: f64 = 100.0;

/// The font family written into SVGs. Text is measured with DejaVu Sans (embedded); a browser
/// without DejaVu falls back to a similar or narrower sans-serif font, so labels still fit.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

/// Errors of plotting and saving figures.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A matplotlib-style format string could not be parsed.
    #[error("invalid line format {0:?}: expected a colour letter (bgrcmykw or C0..C9), a marker (o . s ^ x +) and a line style (- -- -. :)")]
    InvalidStyle(String),
    /// The data cannot be plotted (e.g. the x and y of a series differ in length).
    #[error("invalid plot data: {0}")]
    InvalidData(String),
    /// Drawing failed inside plotters.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// Rasterising the SVG failed.
    #[error("rendering PNG failed: {0}")]
    Render(String),
    /// The file name does not end in `.svg` or `.png`.
    #[error("cannot save {}: the file name must end in .svg or .png", .0.display())]
    UnsupportedFormat(PathBuf),
    /// Writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Registers the embedded DejaVu Sans with plotters (once per copy of this crate in the process).
pub(crate) fn ensure_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use plotters::style::{register_font, FontStyle};
        let regular = dejavu::sans::regular();
        let bold = dejavu::sans::bold();
        let oblique = dejavu::sans::oblique();
        for name in [FONT_FAMILY, "sans-serif"] {
            // The bytes are valid TrueType shipped by the `dejavu` crate; a failure would only
            // leave text unmeasured (plotters then reports a font error when drawing).
            let _ = register_font(name, FontStyle::Normal, regular);
            let _ = register_font(name, FontStyle::Bold, bold);
            let _ = register_font(name, FontStyle::Italic, oblique);
            let _ = register_font(name, FontStyle::Oblique, oblique);
        }
    });
}

/// Escapes text for SVG/XML content and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    crate::display::html_escape(text)
}
