//! LaTeX → MathML at build time (pulldown-latex), so pages need no script for math.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};

/// Appends MathML for `latex` to `out`; display math is a block.
/// Unknown commands are rendered in red by the converter, never dropped.
pub fn push_math(out: &mut String, latex: &str, display: bool) {
    let storage = Storage::new();
    let parser = Parser::new(latex, &storage);
    let config = RenderConfig {
        display_mode: if display { DisplayMode::Block } else { DisplayMode::Inline },
        annotation: Some(latex),
        ..RenderConfig::default()
    };
    let start = out.len();
    if push_mathml(out, parser, config).is_err() {
        out.truncate(start);
        out.push_str("<code class=\"math-error\">");
        super::push_escaped(out, latex);
        out.push_str("</code>");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fractions_become_mathml() {
        let mut s = String::new();
        super::push_math(&mut s, r"\frac{a}{b} + \mathbf{x}^2", true);
        assert!(s.starts_with("<math") && s.contains("<mfrac>") && s.contains("display=\"block\""), "{s}");
    }
}
