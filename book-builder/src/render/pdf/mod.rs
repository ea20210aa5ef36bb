//! `build pdf`: the whole book as one PDF, typeset in-process by typst.
//!
//! [`source`] writes the model as typst markup against `assets/pdf/template.typ` (title page,
//! contents, page numbers, code and output styles) with math converted by `mitex` ([`math`]);
//! [`world`] holds it all in memory with the fonts shipped in `typst-kit`. A block that typst
//! rejects is reported with its notebook line and typeset again simplified (math as LaTeX
//! text, images left out), so one bad equation or image does not cost the whole book.

pub mod escape;
mod inline;
pub mod math;
pub mod source;
pub mod world;

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use typst_layout::PagedDocument;

use crate::diag::{Diagnostics, Report};
use crate::model::Book;
use crate::passes::number::slug;
use crate::render::{Layout, RenderContext, Renderer};
use source::{Generated, Writer};
use world::MemWorld;

/// The page template the generated source imports.
pub const TEMPLATE: &str = include_str!("../../../assets/pdf/template.typ");

/// How many times a build retries after blaming blocks for typst errors.
const ATTEMPTS: usize = 4;

/// The PDF renderer: `<destination>/<title>.pdf`.
pub struct Pdf;

/// The PDF's file name: the book's title as a slug.
pub fn file_name(book: &Book) -> String {
    let name = slug(&book.config.book.title);
    format!("{}.pdf", if name.is_empty() { "book" } else { &name })
}

impl Renderer for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }

    fn destination(&self, layout: &Layout) -> PathBuf {
        layout.pdf.clone()
    }

    fn render(&self, ctx: &RenderContext) -> Result<Report> {
        let start = std::time::Instant::now();
        let mut diags = Diagnostics::default();
        let bytes = build(ctx.book, &mut diags)?;
        let dir = &ctx.destination;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let file = dir.join(file_name(ctx.book));
        std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
        Ok(Report::done(
            diags,
            format!(
                "pdf: {} in {:.1} s",
                file.display(),
                start.elapsed().as_secs_f64()
            ),
        ))
    }
}

/// The typst world of a generated source.
pub fn world_of(generated: Generated) -> MemWorld {
    let mut world = MemWorld::new(generated.source);
    world.add_source("template.typ", TEMPLATE.to_string());
    world.add_source("mitex.typ", math::PRELUDE.to_string());
    for (path, bytes) in generated.files {
        world.add_file(&path, bytes);
    }
    world
}

/// Typesets the book and returns the PDF's bytes.
pub fn build(book: &Book, diags: &mut Diagnostics) -> Result<Vec<u8>> {
    let mut plain: HashSet<(usize, usize)> = HashSet::new();
    for _ in 0..ATTEMPTS {
        let generated = Writer::new(book, &plain).generate();
        let warnings = generated.warnings.clone();
        let origins = generated.origins.clone();
        let world = world_of(generated);
        let errors = match typst::compile::<PagedDocument>(&world).output {
            Ok(doc) => {
                for (page, line, message) in warnings {
                    diags.warn(&book.pages[page].path, line, message);
                }
                return typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()).map_err(|errs| {
                    anyhow!(
                        "writing the PDF failed: {}",
                        errs.iter()
                            .map(|e| e.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                });
            }
            Err(errors) => errors,
        };
        let main = world.main_source();
        let mut blamed = Vec::new();
        let mut unplaced = Vec::new();
        for error in errors.iter() {
            // The error itself, else the innermost call in the book source that led to it
            // (an image that cannot be decoded fails inside the template's helper).
            let at = span_start(main, error.span).or_else(|| {
                error.trace.iter().rev().find_map(|t| {
                    span_start(main, typst::syntax::DiagSpan::from_span(t.span, None))
                })
            });
            let origin = at.and_then(|at| origins.iter().find(|o| o.range.contains(&at)));
            match origin {
                Some(o) => blamed.push(((o.page, o.block), error.message.to_string())),
                None => unplaced.push(error.message.to_string()),
            }
        }
        if !unplaced.is_empty() || blamed.is_empty() {
            bail!("typst could not typeset the book (a bug of d2l-book's PDF template; please report it): {}", unplaced.join("; "));
        }
        let mut progressed = false;
        for ((page, block), message) in blamed {
            let line = book.pages[page].blocks[block].line;
            if plain.insert((page, block)) {
                progressed = true;
                diags.warn(&book.pages[page].path, line, format!("the PDF cannot typeset this block ({message}); it is shown simplified (math as LaTeX, images left out)"));
            } else {
                bail!(
                    "{}:{line}: the PDF cannot typeset this block: {message}",
                    book.pages[page].path.display()
                );
            }
        }
        if !progressed {
            break;
        }
    }
    bail!("typst kept failing after {ATTEMPTS} attempts; see the warnings above")
}

/// Where in `main` a diagnostic points, as a byte offset (None for other files).
fn span_start(main: &typst::syntax::Source, span: typst::syntax::DiagSpan) -> Option<usize> {
    use typst::syntax::DiagSpanKind;
    match span.get() {
        DiagSpanKind::Number { id, num, sub_range } if id == main.id() => {
            main.range(num, sub_range).map(|r| r.start)
        }
        DiagSpanKind::Range { id, range } if id == main.id() => Some(range.start),
        _ => None,
    }
}

/// Converts one LaTeX formula and typesets it alone against the math prelude: `Ok` when
/// typst accepts it, else mitex's or typst's messages. For tests and for checking a book's math.
pub fn check_math(latex: &str, display: bool) -> Result<(), String> {
    let converted = math::convert(latex)?;
    let body = if display {
        format!("$ {} $", converted.trim())
    } else {
        format!("${}$", converted.trim())
    };
    let mut world = MemWorld::new(format!("#import \"mitex.typ\": *\n{body}\n"));
    world.add_source("mitex.typ", math::PRELUDE.to_string());
    match typst::compile::<PagedDocument>(&world).output {
        Ok(_) => Ok(()),
        Err(errors) => Err(format!(
            "{} (typst math: {})",
            errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            converted.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check_math;

    /// Representative LaTeX of the book: every line must typeset.
    const SNIPPETS: &[&str] = &[
        r"\mathbf{w}^\top \mathbf{x} + b",
        r"\hat{y} = \sum_{i=1}^n w_i x_i",
        r"\frac{\partial L}{\partial \mathbf{w}}",
        r"\mathbb{R}^{n \times d}",
        r"\boldsymbol{\theta}, \boldsymbol{\mu}",
        r"\mathcal{L}(\mathbf{w}, b)",
        r"\operatorname{softmax}(\mathbf{o})_i = \frac{\exp(o_i)}{\sum_j \exp(o_j)}",
        r"\mathop{\mathrm{argmin}}_{\mathbf{w}} \|\mathbf{y} - \mathbf{X}\mathbf{w}\|^2",
        r"\operatorname*{argmax}_j \hat{y}_j",
        r"\begin{aligned} a &= b + c \\ d &= e \end{aligned}",
        r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}",
        r"\begin{pmatrix} a \\ b \end{pmatrix}",
        r"\begin{split} x &= 1 \\ &= 2 \end{split}",
        r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
        r"\mathrm{ReLU}(x) = \max(x, 0)",
        r"\textrm{train} \quad \textbf{bold} \quad \text{text with } x",
        r"\left(\frac{a}{b}\right)^2 \cdot \left[ x \right] \left\{ y \right\}",
        r"\epsilon \sim \mathcal{N}(0, \sigma^2)",
        r"p(y \mid x) \propto \exp\left(-\frac{1}{2\sigma^2}(y - \mathbf{w}^\top \mathbf{x})^2\right)",
        r"\nabla_{\mathbf{w}} l \leftarrow \eta \odot \mathbf{g}",
        r"\mathbf{h} = \phi(\mathbf{W}^{(1)} \mathbf{x} + \mathbf{b}^{(1)})",
        r"\mathbb{E}_{x \sim P}[l(x)] \approx \frac{1}{n} \sum_i l(x_i)",
        r"a \leq b \geq c \neq d \approx e \equiv f",
        r"\lim_{h \rightarrow 0} \frac{f(x+h) - f(x)}{h}",
        r"\int_0^1 x \, dx",
        r"\prod_{i=1}^n p_i, \quad \log \sigma(x), \quad \tanh(x)",
        r"\|\mathbf{x}\|_2 = \sqrt{\sum_i x_i^2}",
        r"\mathbf{1}_n, \mathbf{0}, \mathbf{I}",
        r"\tilde{x}, \bar{x}, \vec{v}, \dot{x}",
        r"x \in \{1, \ldots, n\}, \cdots, \dots",
        r"\underbrace{a + b}_{c}",
        r"\mathbf{X} \in \mathbb{R}^{n \times d} \label{eq:x}",
        r"\top \perp \infty \partial \forall \exists",
        r"\mathcal{A} \cap \mathcal{B} \cup C \setminus D \subseteq E \bigcap_i F_i",
        r"\mathrm{d}x \; \! \, \: \quad \qquad",
    ];

    #[test]
    fn representative_latex_typesets() {
        let failures: Vec<String> = SNIPPETS
            .iter()
            .filter_map(|s| check_math(s, true).err().map(|e| format!("{s}\n    {e}")))
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} snippets fail:\n{}",
            failures.len(),
            SNIPPETS.len(),
            failures.join("\n")
        );
    }
}
