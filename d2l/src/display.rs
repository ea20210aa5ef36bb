//! Rich output in notebooks: the stdout protocol between `d2l` and a notebook front end.
//!
//! Code in a cell can only write to stdout. Following evcxr's convention, a value is shown as a
//! **bundle** of content blocks, one per MIME type, each framed by marker lines:
//!
//! ```text
//! EVCXR_BEGIN_CONTENT image/svg+xml
//! <svg ...>...</svg>
//! EVCXR_END_CONTENT
//! ```
//!
//! `d2l` closes every bundle it writes with one more block, `application/vnd.d2l.display+json`,
//! carrying a Jupyter display id and whether this bundle replaces what that display shows
//! (`update_display_data`). The `d2l` kernel strips that block; stock evcxr shows the bundle as
//! usual. The markers, MIME types and the closing block are defined once, in the
//! [`d2l_protocol`] crate (re-exported as [`crate::protocol`]), which the engine and the book
//! builder read with; `docs/display-protocol.md` describes the whole convention.
//!
//! [`notice`] publishes a [`Notice`]: a fact about how outputs were made (a generated stand-in
//! for a data set, a shortened run). The book builder shows it once, at the top of the page.
//!
//! Values that can be shown implement [`Show`]. Its method `evcxr_display` is what evcxr calls on
//! a cell's final expression, so with the trait in scope (the prelude brings it) a figure, a plot
//! or a tensor at the end of a cell shows itself. [`show`] does the same explicitly, and prints
//! plain text when the process is not running under a notebook kernel.
//!
//! ```
//! use d2l::display::{Bundle, DisplayTarget};
//! let bundle = Bundle::new().with("text/plain", "hello").with("text/html", "<b>hello</b>");
//! let mut out = Vec::new();
//! bundle.write_to(&mut out, &DisplayTarget::new_display()).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with("EVCXR_BEGIN_CONTENT text/plain\nhello\nEVCXR_END_CONTENT\n"));
//! assert!(text.ends_with("EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n\
//!                         {\"display_id\":null,\"update\":false}\nEVCXR_END_CONTENT\n"));
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use tch::{Device, Kind, Tensor};

pub use d2l_protocol::{DisplayTarget, Notice};
use d2l_protocol::{
    BEGIN_CONTENT, BINARY_MIMES, DISPLAY_MIME, END_CONTENT, EVCXR_ENV, KERNEL_ENV, NOTICE_MIME,
};

/// Where the output of this process ends up, as far as `d2l` can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frontend {
    /// The `d2l` kernel (`D2L_KERNEL=1`): bundles, display ids and in-place updates.
    D2lKernel,
    /// Stock evcxr (`EVCXR_IS_RUNTIME` set): bundles are shown, in-place updates are not.
    Evcxr,
    /// Anything else: a terminal, a log file, a test. Rich values print as plain text.
    Terminal,
}

impl Frontend {
    /// Whether bundles are turned into rich output (any notebook kernel).
    pub fn is_notebook(self) -> bool {
        !matches!(self, Frontend::Terminal)
    }

    /// Whether a display can be replaced in place through its id.
    pub fn supports_update(self) -> bool {
        matches!(self, Frontend::D2lKernel)
    }
}

/// The front end of this process, read from the environment (see [`Frontend`]).
pub fn frontend() -> Frontend {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set(KERNEL_ENV) {
        Frontend::D2lKernel
    } else if set(EVCXR_ENV) {
        Frontend::Evcxr
    } else {
        Frontend::Terminal
    }
}

/// One rich output: a payload per MIME type, `text/plain` being the fallback every front end
/// can show. Binary payloads (PNG) are kept base64-encoded, as they travel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    items: Vec<(String, String)>,
}

impl Bundle {
    /// An empty bundle.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bundle with a text payload for `mime` added (replacing an earlier one of that type).
    pub fn with(mut self, mime: &str, payload: impl Into<String>) -> Self {
        self.insert(mime, payload.into());
        self
    }

    /// The bundle with a binary payload for `mime` added, base64-encoded.
    pub fn with_binary(mut self, mime: &str, bytes: &[u8]) -> Self {
        self.insert(
            mime,
            base64::engine::general_purpose::STANDARD.encode(bytes),
        );
        self
    }

    /// Adds or replaces the payload for `mime`.
    pub fn insert(&mut self, mime: &str, payload: String) {
        match self.items.iter_mut().find(|(m, _)| m == mime) {
            Some(item) => item.1 = payload,
            None => self.items.push((mime.to_string(), payload)),
        }
    }

    /// The payload for `mime` (base64 for binary types).
    pub fn get(&self, mime: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(m, _)| m == mime)
            .map(|(_, p)| p.as_str())
    }

    /// The `(mime, payload)` pairs in the order they are written.
    pub fn items(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().map(|(m, p)| (m.as_str(), p.as_str()))
    }

    /// Whether the bundle has no payload.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `mime` is carried base64-encoded.
    pub fn is_binary(mime: &str) -> bool {
        BINARY_MIMES.contains(&mime)
    }

    /// Writes the bundle as content blocks, closed by the `d2l` display block for `target`.
    ///
    /// Payloads are written verbatim; a payload line equal to `EVCXR_END_CONTENT` would end its
    /// block early, which no SVG, HTML or base64 payload produces.
    pub fn write_to<W: Write>(&self, out: &mut W, target: &DisplayTarget) -> io::Result<()> {
        let mut text = String::new();
        for (mime, payload) in self.items() {
            push_block(&mut text, mime, payload);
        }
        push_block(&mut text, DISPLAY_MIME, &target.to_json());
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Writes the bundle to stdout for `target`, in one locked write.
    pub fn publish_to(&self, target: &DisplayTarget) {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        // Nothing useful can be done when stdout is gone (the cell's output is lost either way).
        let _ = self.write_to(&mut lock, target);
    }

    /// Writes the bundle to stdout as a new display without an id.
    pub fn publish(&self) {
        self.publish_to(&DisplayTarget::new_display())
    }
}

fn push_block(out: &mut String, mime: &str, payload: &str) {
    out.push_str(BEGIN_CONTENT);
    out.push(' ');
    out.push_str(mime);
    out.push('\n');
    out.push_str(payload);
    if !payload.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(END_CONTENT);
    out.push('\n');
}

/// A display that can be updated in place, like IPython's `DisplayHandle`.
///
/// Under the `d2l` kernel, the first [`DisplayHandle::show`] creates the display and later ones
/// replace its content. Under stock evcxr every call makes a new display (evcxr has no
/// `update_display_data`); use [`Frontend::supports_update`] to decide how often to show. In a
/// terminal nothing is written: the caller decides what plain text to print.
#[derive(Debug)]
pub struct DisplayHandle {
    id: String,
    shown: bool,
}

impl DisplayHandle {
    /// A handle with a fresh id that starts with `prefix` (e.g. `d2l-board`).
    pub fn new(prefix: &str) -> Self {
        DisplayHandle {
            id: fresh_id(prefix),
            shown: false,
        }
    }

    /// The display id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the display has been created.
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// The target for the next bundle: creation the first time, an update afterwards.
    pub fn next_target(&self) -> DisplayTarget {
        if self.shown {
            DisplayTarget::update(self.id.clone())
        } else {
            DisplayTarget::with_id(self.id.clone())
        }
    }

    /// Shows `bundle` in this display (creating it the first time) when running in a notebook.
    pub fn show(&mut self, bundle: &Bundle) {
        self.show_with(bundle, frontend())
    }

    /// [`DisplayHandle::show`] for an explicit front end; writes nothing for a terminal.
    pub fn show_with(&mut self, bundle: &Bundle, frontend: Frontend) {
        if !frontend.is_notebook() {
            return;
        }
        bundle.publish_to(&self.next_target());
        self.shown = true;
    }

    /// Writes `bundle` to `out` for this display (creating it the first time).
    pub fn write_to<W: Write>(&mut self, out: &mut W, bundle: &Bundle) -> io::Result<()> {
        bundle.write_to(out, &self.next_target())?;
        self.shown = true;
        Ok(())
    }
}

/// A display id unique within this process and unlikely to repeat across processes.
fn fresh_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // Mix pid, time and counter so that two copies of this crate in one process (evcxr may link
    // one per cell) still hand out different ids.
    let mut h =
        nanos ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    format!("{prefix}-{h:016x}")
}

/// A value that can show itself in a notebook.
///
/// `evcxr_display` is the method evcxr calls on the final expression of a cell, so any `Show`
/// value at the end of a cell is displayed richly when this trait is in scope.
pub trait Show {
    /// The rich output of this value; it should include a `text/plain` fallback.
    fn bundle(&self) -> Bundle;

    /// Shows the value (see [`show`]).
    fn evcxr_display(&self) {
        show(self)
    }
}

/// Shows a value: as a bundle in a notebook kernel, as its `text/plain` payload otherwise.
pub fn show<T: Show + ?Sized>(value: &T) {
    let bundle = value.bundle();
    if frontend().is_notebook() {
        bundle.publish();
    } else if let Some(text) = bundle.get("text/plain") {
        println!("{text}");
    }
}

/// Publishes a [`Notice`] for the page this cell belongs to: a bundle with the notice's JSON
/// and a `text/plain` sentence under a notebook kernel, the sentence on stderr otherwise.
/// The book builder takes notices out of the cell's outputs and shows them once, in the box at
/// the top of the page.
pub fn notice(notice: &Notice) {
    if frontend().is_notebook() {
        Bundle::new()
            .with(NOTICE_MIME, notice.to_json())
            .with("text/plain", notice.sentence())
            .publish();
    } else {
        eprintln!("{}", notice.sentence());
    }
}

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------------------------

/// How tensors are printed: elements past `threshold` are summarised with `edge_items` at each
/// end of every dimension, as PyTorch does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorFormat {
    /// Digits after the decimal point for floating-point values.
    pub precision: usize,
    /// Tensors with more elements than this are summarised.
    pub threshold: usize,
    /// Items kept at each end of a summarised dimension.
    pub edge_items: usize,
}

impl Default for TensorFormat {
    fn default() -> Self {
        TensorFormat {
            precision: 4,
            threshold: 1000,
            edge_items: 3,
        }
    }
}

/// A tensor's shape, dtype, device and values as notebook output (`text/plain` and `text/html`).
///
/// The prelude makes every [`Tensor`] [`Show`], so a tensor at the end of a cell displays through
/// this; use [`TensorView::new`] to choose the format.
///
/// ```
/// use d2l::prelude::*;
/// let x = Tensor::from_slice(&[1.0f32, 2.5, 3.0, 4.0]).reshape([2, 2]);
/// let text = d2l::display::TensorView::new(&x).to_string();
/// assert_eq!(text, "tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]], shape=[2, 2], dtype=Float, device=cpu)");
/// ```
pub struct TensorView<'a> {
    tensor: &'a Tensor,
    format: TensorFormat,
}

impl<'a> TensorView<'a> {
    /// A view with the default format.
    pub fn new(tensor: &'a Tensor) -> Self {
        TensorView {
            tensor,
            format: TensorFormat::default(),
        }
    }

    /// A view with the given format.
    pub fn with_format(tensor: &'a Tensor, format: TensorFormat) -> Self {
        TensorView { tensor, format }
    }

    /// The values alone, as `tensor([...])` without the metadata.
    pub fn values(&self) -> String {
        format_values(self.tensor, &self.format)
    }

    fn meta(&self) -> (String, String, String) {
        if !self.tensor.defined() {
            return ("?".into(), "?".into(), "?".into());
        }
        (
            format!("{:?}", self.tensor.size()),
            format!("{:?}", self.tensor.kind()),
            device_name(self.tensor.device()),
        )
    }
}

impl std::fmt::Display for TensorView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.tensor.defined() {
            return f.write_str("tensor(undefined)");
        }
        let values = self.values();
        let (shape, kind, device) = self.meta();
        let body = values.strip_suffix(')').unwrap_or(&values);
        write!(f, "{body}, shape={shape}, dtype={kind}, device={device})")
    }
}

impl Show for TensorView<'_> {
    fn bundle(&self) -> Bundle {
        let text = self.to_string();
        let html = if self.tensor.defined() {
            let (shape, kind, device) = self.meta();
            format!(
                "<div class=\"d2l-tensor\"><div style=\"font-size:smaller;color:#555\">Tensor · shape \
                 <code>{}</code> · dtype <code>{}</code> · device <code>{}</code></div><pre>{}</pre></div>",
                html_escape(&shape),
                html_escape(&kind),
                html_escape(&device),
                html_escape(&self.values())
            )
        } else {
            "<pre>tensor(undefined)</pre>".to_string()
        };
        Bundle::new()
            .with("text/plain", text)
            .with("text/html", html)
    }
}

impl Show for Tensor {
    fn bundle(&self) -> Bundle {
        TensorView::new(self).bundle()
    }
}

/// `cpu`, `cuda:0`, ... as PyTorch names devices.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".to_string(),
        Device::Vulkan => "vulkan".to_string(),
    }
}

/// One dimension of the (possibly summarised) view: the original indices kept, with `None` where
/// the `...` goes.
fn kept_indices(size: i64, fmt: &TensorFormat, summarise: bool) -> Vec<Option<i64>> {
    let e = fmt.edge_items as i64;
    if summarise && size > 2 * e {
        (0..e)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((size - e..size).map(Some))
            .collect()
    } else {
        (0..size).map(Some).collect()
    }
}

enum Values {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

fn format_values(t: &Tensor, fmt: &TensorFormat) -> String {
    if !t.defined() {
        return "tensor(undefined)".into();
    }
    let shape = t.size();
    let summarise = t.numel() > fmt.threshold;
    // Shrink every dimension to its edge items before copying anything to the host.
    let mut small = t.shallow_clone();
    let mut kept = Vec::with_capacity(shape.len());
    for (d, &n) in shape.iter().enumerate() {
        let idx = kept_indices(n, fmt, summarise);
        if idx.len() as i64 != n {
            let e = fmt.edge_items as i64;
            small = Tensor::cat(
                &[
                    small.narrow(d as i64, 0, e),
                    small.narrow(d as i64, n - e, e),
                ],
                d as i64,
            );
        }
        kept.push(idx);
    }
    let small = small.to_device(Device::Cpu).contiguous().flatten(0, -1);
    let values = match t.kind() {
        Kind::Bool => Values::Bool(Vec::<bool>::try_from(&small).unwrap_or_default()),
        Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64 => {
            Values::Int(Vec::<i64>::try_from(small.to_kind(Kind::Int64)).unwrap_or_default())
        }
        Kind::ComplexHalf | Kind::ComplexFloat | Kind::ComplexDouble => Values::Float(
            Vec::<f64>::try_from(small.real().to_kind(Kind::Double)).unwrap_or_default(),
        ),
        _ => Values::Float(Vec::<f64>::try_from(small.to_kind(Kind::Double)).unwrap_or_default()),
    };
    let strings: Vec<String> = match &values {
        Values::Bool(v) => v
            .iter()
            .map(|b| if *b { "True".into() } else { "False".into() })
            .collect(),
        Values::Int(v) => v.iter().map(|i| i.to_string()).collect(),
        Values::Float(v) => format_floats(v, fmt.precision),
    };
    let width = strings.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = String::from("tensor(");
    if shape.is_empty() {
        out.push_str(strings.first().map(String::as_str).unwrap_or(""));
    } else {
        let mut offset = 0;
        write_nested(&mut out, &strings, width, &kept, 0, &mut offset, 7);
    }
    out.push(')');
    out
}

#[allow(clippy::too_many_arguments)]
fn write_nested(
    out: &mut String,
    items: &[String],
    width: usize,
    kept: &[Vec<Option<i64>>],
    dim: usize,
    offset: &mut usize,
    indent: usize,
) {
    out.push('[');
    let last = dim + 1 == kept.len();
    let mut first = true;
    for k in &kept[dim] {
        if !first {
            if last {
                out.push_str(", ");
            } else {
                out.push(',');
                // One blank line per dimension below the next one, as PyTorch does.
                for _ in 0..(kept.len() - dim - 1) {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent + dim + 1));
            }
        }
        first = false;
        match k {
            None => out.push_str("..."),
            Some(_) if last => {
                let _ = write!(
                    out,
                    "{:>width$}",
                    items.get(*offset).map(String::as_str).unwrap_or("?")
                );
                *offset += 1;
            }
            Some(_) => write_nested(out, items, width, kept, dim + 1, offset, indent),
        }
    }
    out.push(']');
}

/// PyTorch-like float formatting: `1.` for whole numbers, fixed `precision` digits otherwise,
/// scientific notation when the magnitudes span too much.
fn format_floats(v: &[f64], precision: usize) -> Vec<String> {
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let all_int = finite.iter().all(|x| x.fract() == 0.0);
    let max = finite.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let min_nonzero = finite
        .iter()
        .filter(|x| **x != 0.0)
        .fold(f64::INFINITY, |m, x| m.min(x.abs()));
    let sci = !finite.is_empty()
        && (max >= 1e8
            || (min_nonzero.is_finite() && (min_nonzero < 1e-4 || max / min_nonzero > 1e3)));
    v.iter()
        .map(|&x| {
            if x.is_nan() {
                "nan".into()
            } else if x.is_infinite() {
                if x > 0.0 {
                    "inf".into()
                } else {
                    "-inf".into()
                }
            } else if all_int && max < 1e8 {
                format!("{x:.0}.")
            } else if sci {
                let s = format!("{x:.precision$e}");
                // Rust writes 1.2340e5; PyTorch writes 1.2340e+05.
                match s.split_once('e') {
                    Some((m, e)) => {
                        let (sign, digits) = match e.strip_prefix('-') {
                            Some(d) => ('-', d),
                            None => ('+', e),
                        };
                        format!("{m}e{sign}{digits:0>2}")
                    }
                    None => s,
                }
            } else {
                format!("{x:.precision$}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_pytorch() {
        assert_eq!(format_floats(&[1.0, 2.0], 4), vec!["1.", "2."]);
        assert_eq!(format_floats(&[1.5, 2.0], 4), vec!["1.5000", "2.0000"]);
        assert_eq!(
            format_floats(&[1e-5, 1.0], 4),
            vec!["1.0000e-05", "1.0000e+00"]
        );
    }

    #[test]
    fn ids_are_fresh() {
        let a = DisplayHandle::new("d2l-test");
        let b = DisplayHandle::new("d2l-test");
        assert_ne!(a.id(), b.id());
        assert!(a.id().starts_with("d2l-test-"));
    }
}
