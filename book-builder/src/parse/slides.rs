//! d2lbook's slide markers in markdown.
//!
//! d2lbook marks what its slides show: `[**text**]` starts a slide with `text` and
//! `(**text**)` adds `text` to the current one; both keep `text` in the book. `[~~text~~]` and
//! `(~~text~~)` are for slides only. The book shows none of the markers: [`strip_slide_marks`]
//! keeps the text of the first two and drops the last two, as d2lbook's `remove_slide_marks`
//! does. `[**a**](url)` is a bold link, not a marker.

/// Marker pairs and whether their text stays in the book.
const PAIRS: [(&str, &str, bool); 4] = [
    ("[**", "**]", true),
    ("(**", "**)", true),
    ("[~~", "~~]", false),
    ("(~~", "~~)", false),
];

/// `text` with d2lbook's slide markers taken out. Removed text leaves its line breaks, so
/// that the lines after it keep their numbers.
pub fn strip_slide_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        // The earliest opener that has its closer.
        let found = PAIRS
            .iter()
            .filter_map(|&(open, close, keep)| {
                let at = find_opener(rest, open, close)?;
                let inner_start = at + open.len();
                let end = inner_start + rest[inner_start..].find(close)?;
                Some((at, inner_start, end, close.len(), keep))
            })
            .min_by_key(|&(at, ..)| at);
        let Some((at, inner_start, end, close_len, keep)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        let inner = &rest[inner_start..end];
        if keep {
            out.push_str(&strip_slide_marks(inner));
        } else {
            out.extend(inner.chars().filter(|&c| c == '\n'));
        }
        rest = &rest[end + close_len..];
    }
}

/// The first `open` in `text` that is a marker: `[**a**](url)` is a link.
fn find_opener(text: &str, open: &str, close: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = text[from..].find(open) {
        let at = from + k;
        let inner = at + open.len();
        let end = inner + text[inner..].find(close)?;
        if close.ends_with(']') && text[end + close.len()..].starts_with('(') {
            from = inner;
            continue;
        }
        return Some(at);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::strip_slide_marks;

    #[test]
    fn markers_go_and_their_text_stays() {
        assert_eq!(
            strip_slide_marks("[**Tensors hold data.**] We (**create one**) now."),
            "Tensors hold data. We create one now."
        );
        assert_eq!(
            strip_slide_marks("(**$$y = x$$**)\n:eqlabel:`eq_y`\n"),
            "$$y = x$$\n:eqlabel:`eq_y`\n"
        );
        assert_eq!(strip_slide_marks("a [~~slides\nonly~~] b"), "a \n b");
        assert_eq!(
            strip_slide_marks("[**outer (**inner**) text**]"),
            "outer inner text"
        );
    }

    #[test]
    fn bold_links_and_plain_bold_stay() {
        let link = "See [**the docs**](https://example.com) and **bold** (in brackets) [x].";
        assert_eq!(strip_slide_marks(link), link);
        assert_eq!(
            strip_slide_marks("[**a**](u) then [**b**]"),
            "[**a**](u) then b"
        );
        assert_eq!(
            strip_slide_marks("an unclosed (** marker"),
            "an unclosed (** marker"
        );
    }
}
