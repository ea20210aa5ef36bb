//! Syntax highlighting with syntect, as CSS classes (one stylesheet for all pages).

use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Highlighted HTML (spans only, no `<pre>`) for `code` in `lang`; escaped plain
/// text when the language is unknown.
pub fn highlight(code: &str, lang: &str) -> String {
    let ss = syntaxes();
    let token = match lang {
        "" => None,
        "py" | "python3" => Some("python"),
        "sh" | "shell" | "console" => Some("bash"),
        "toml" => None,
        other => Some(other),
    };
    let Some(syntax) = token.and_then(|t| ss.find_syntax_by_token(t)) else {
        let mut s = String::new();
        super::push_escaped(&mut s, code);
        return s;
    };
    let mut gen = ClassedHTMLGenerator::new_with_class_style(syntax, ss, STYLE);
    for line in LinesWithEndings::from(code) {
        if gen
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            let mut s = String::new();
            super::push_escaped(&mut s, code);
            return s;
        }
    }
    gen.finalize()
}

/// Stylesheet for the classes [`highlight`] emits.
pub fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let mut css = String::new();
    if let Some(light) = themes.themes.get("InspiredGitHub") {
        css.push_str(&css_for_theme_with_class_style(light, STYLE).unwrap_or_default());
    }
    if let Some(dark) = themes.themes.get("base16-ocean.dark") {
        let dark_css = css_for_theme_with_class_style(dark, STYLE).unwrap_or_default();
        css.push_str("@media (prefers-color-scheme: dark) {\n");
        css.push_str(&dark_css);
        css.push_str("}\n");
    }
    css
}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_keywords_get_classes() {
        let h = super::highlight("fn main() { let x = 1; }\n", "rust");
        assert!(h.contains("hl-keyword") || h.contains("hl-storage"), "{h}");
        assert!(super::highlight("<b>", "nolang").contains("&lt;b&gt;"));
    }
}
