//! Escaping for typst: user text in markup, and typst string literals.

/// Appends `text` to `out` as literal typst markup: every character with a markup meaning
/// (`# $ * _ ` < > @ [ ] \ ~ = - + / ;`, and `.` after a digit, which could start a numbered
/// list) is backslash-escaped.
pub fn push_markup(out: &mut String, text: &str) {
    let mut prev = '\0';
    for c in text.chars() {
        match c {
            // `;` right after an embedded expression would end it and vanish.
            '\\' | '#' | '$' | '*' | '_' | '`' | '<' | '>' | '@' | '[' | ']' | '~' | '=' | '-'
            | '+' | '/' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '.' if prev.is_ascii_digit() => out.push_str("\\."),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
        prev = c;
    }
}

/// `text` as literal markup.
pub fn markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_markup(&mut out, text);
    out
}

/// `text` as a typst string literal, quotes included.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A typst label name made from any text: `[A-Za-z0-9_-]` kept, everything else `_XX`.
pub fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_specials_are_escaped() {
        assert_eq!(
            markup("a*b_c #x $y$ [z] <l> @r"),
            "a\\*b\\_c \\#x \\$y\\$ \\[z\\] \\<l\\> \\@r"
        );
        assert_eq!(
            markup("= h\n- item // c 1. x"),
            "\\= h \\- item \\/\\/ c 1\\. x"
        );
        assert_eq!(markup("path\\to"), "path\\\\to");
        assert_eq!(markup("; x"), "\\; x");
    }

    #[test]
    fn strings_and_labels() {
        assert_eq!(string("say \"hi\"\n\\"), "\"say \\\"hi\\\"\\n\\\\\"");
        assert_eq!(label("sec_intro.x"), "sec_5fintro_2ex");
    }
}
