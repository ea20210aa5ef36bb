//! LaTeX math → typst math with `mitex`, and the prelude its output needs.
//!
//! mitex writes calls to helpers that its own typst package defines (`mitexmathbf`, `aligned`,
//! `bmatrix`, `operatornamewithlimits`, …) and a few old symbol names (`diff` for ∂). That
//! package cannot be fetched at build time, so `assets/pdf/mitex.typ` defines every helper the
//! book uses; the tests compile each equation of the book against it.

/// The typst prelude that converted math relies on.
pub const PRELUDE: &str = include_str!("../../../assets/pdf/mitex.typ");

/// Converts LaTeX math (without `$` delimiters) to typst math markup.
pub fn convert(latex: &str) -> Result<String, String> {
    let cleaned = strip_unsupported(latex);
    mitex::convert_math(&cleaned, None).map(|typst| rename_symbols(&typst))
}

/// Symbol names mitex writes that typst 0.15 renamed (`diff` is defined in the prelude).
const RENAMED: &[(&str, &str)] = &[
    ("dot.circle", "dot.o"),
    ("sect.big", "inter.big"),
    ("sect", "inter"),
    ("angle.l", "chevron.l"),
    ("angle.r", "chevron.r"),
];

/// Replaces [`RENAMED`] names where they stand as whole names (not part of a longer one).
fn rename_symbols(typst: &str) -> String {
    let mut out = typst.to_string();
    for (old, new) in RENAMED {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(old) {
            let before_ok = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '.'));
            let after = &rest[at + old.len()..];
            let after_ok = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '.'));
            result.push_str(&rest[..at]);
            result.push_str(if before_ok && after_ok { new } else { old });
            rest = after;
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Drops commands that only matter to LaTeX's own numbering (`\label`, `\tag`, `\nonumber`,
/// `\notag`): the book numbers equations itself.
fn strip_unsupported(latex: &str) -> String {
    let mut out = String::with_capacity(latex.len());
    let mut rest = latex;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let name_len = tail[1..]
            .find(|c: char| !c.is_ascii_alphabetic())
            .map_or(tail.len() - 1, |n| n);
        let name = &tail[1..1 + name_len];
        match name {
            "label" | "tag" => {
                let after = &tail[1 + name_len..];
                match after
                    .trim_start()
                    .strip_prefix('{')
                    .and_then(|a| a.find('}').map(|e| (a, e)))
                {
                    Some((a, e)) => rest = &a[e + 1..],
                    None => rest = after,
                }
            }
            "nonumber" | "notag" => rest = &tail[1 + name_len..],
            _ => {
                let keep = 1 + name_len.max(1).min(tail.len() - 1);
                let keep = tail.char_indices().nth(keep).map_or(tail.len(), |(i, _)| i);
                out.push_str(&tail[..keep]);
                rest = &tail[keep..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_commands_are_dropped() {
        assert_eq!(
            strip_unsupported(r"a = b \label{eq:x} \nonumber").trim_end(),
            "a = b"
        );
        assert_eq!(
            rename_symbols("a dot.circle b angle.l x angle.r dot.circles"),
            "a dot.o b chevron.l x chevron.r dot.circles"
        );
        assert_eq!(strip_unsupported(r"\frac{a}{b} \\ c"), r"\frac{a}{b} \\ c");
        assert_eq!(strip_unsupported(r"\alpha\tag{1}"), r"\alpha");
    }
}
