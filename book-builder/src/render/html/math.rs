//! LaTeX → MathML at build time (pulldown-latex), so pages need no script for math.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};

/// Appends a display equation: its MathML in a box of its own that scrolls sideways when the
/// equation is wider than the page, and the number (when numbered) beside that box, so a wide
/// equation never covers or pushes out its number.
///
/// ```text
/// <div class="equation" id="eq_x"><div class="equation-body"><math display="block">…</math></div><span class="eqno">(3.1.2)</span></div>
/// ```
pub fn push_display_equation(
    out: &mut String,
    latex: &str,
    id: Option<&str>,
    number: Option<&str>,
) {
    out.push_str("<div class=\"equation\"");
    if let Some(id) = id {
        out.push_str(" id=\"");
        super::push_escaped(out, id);
        out.push('"');
    }
    out.push_str("><div class=\"equation-body\">");
    push_math(out, latex, true);
    out.push_str("</div>");
    if let Some(n) = number {
        out.push_str("<span class=\"eqno\">(");
        super::push_escaped(out, n);
        out.push_str(")</span>");
    }
    out.push_str("</div>");
}

/// Appends MathML for `latex` to `out`; display math is a block.
/// Unknown commands are rendered in red by the converter, never dropped.
pub fn push_math(out: &mut String, latex: &str, display: bool) {
    let source = normalize(latex);
    let storage = Storage::new();
    let parser = Parser::new(&source, &storage);
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
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

/// Rewrites commands the converter lacks into ones it has: text-mode font
/// commands, `\mathop`, and `\tag` (numbers come from the book).
fn normalize(latex: &str) -> String {
    let mut s = latex
        .replace("\\textrm{", "\\text{")
        .replace("\\textnormal{", "\\text{")
        .replace("\\textbf{", "\\mathbf{")
        .replace("\\textit{", "\\mathit{")
        .replace("\\textsf{", "\\mathsf{")
        .replace("\\texttt{", "\\mathtt{")
        .replace("\\mathop{", "\\operatorname*{");
    while let Some(at) = s.find("\\tag{") {
        let open = at + 4;
        let mut depth = 0;
        let end = s[open..].char_indices().find_map(|(k, c)| {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + k + 1);
                    }
                }
                _ => {}
            }
            None
        });
        match end {
            Some(e) => s.replace_range(at..e, ""),
            None => break,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_fonts_mathop_and_tags_convert() {
        for l in [
            r"\textrm{price} = w",
            r"\textbf{x}",
            r"\mathop{\mathrm{argmin}}_w f",
            r"x \tag{3.1}",
            r"\textit{y}",
        ] {
            let mut s = String::new();
            super::push_math(&mut s, l, true);
            assert!(!s.contains("merror"), "{l}: {s}");
        }
    }

    #[test]
    fn a_display_equation_scrolls_in_its_own_box_beside_its_number() {
        let mut s = String::new();
        super::push_display_equation(&mut s, r"f(\mathbf{X}) = x", Some("eq_f"), Some("7.6.1"));
        assert!(
            s.starts_with("<div class=\"equation\" id=\"eq_f\"><div class=\"equation-body\"><math"),
            "{s}"
        );
        assert!(
            s.ends_with("</math></div><span class=\"eqno\">(7.6.1)</span></div>"),
            "{s}"
        );
        let mut s = String::new();
        super::push_display_equation(&mut s, "x", None, None);
        assert!(
            s.starts_with("<div class=\"equation\"><div class=\"equation-body\"><math")
                && s.ends_with("</math></div></div>"),
            "{s}"
        );
    }

    #[test]
    fn fractions_become_mathml() {
        let mut s = String::new();
        super::push_math(&mut s, r"\frac{a}{b} + \mathbf{x}^2", true);
        assert!(
            s.starts_with("<math") && s.contains("<mfrac>") && s.contains("display=\"block\""),
            "{s}"
        );
    }
}
