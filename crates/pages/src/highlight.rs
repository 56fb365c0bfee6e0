//! Rust source as HTML with the tokens a reader looks for marked: comments, strings, numbers,
//! keywords, macros, lifetimes and type names. A small lexer, not a parser: it only has to colour
//! the workbook's own lessons, and it never drops or reorders a character (the text between the
//! tags is the source, escaped).

use crate::escape;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

/// The source as HTML: escaped text, with `<span class="…">` around comments (`c`, and `d` for
/// doc comments), strings and characters (`s`), numbers (`n`), keywords (`k`), macros (`m`),
/// lifetimes (`l`) and capitalised names (`t`).
pub fn rust_html(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut html = String::with_capacity(source.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest = |k: usize| chars.get(i + k).copied();
        let (class, end) = if c == '/' && rest(1) == Some('/') {
            let end = line_end(&chars, i);
            let doc = matches!(rest(2), Some('/' | '!'));
            (Some(if doc { "d" } else { "c" }), end)
        } else if c == '/' && rest(1) == Some('*') {
            (Some("c"), block_comment_end(&chars, i))
        } else if c == '"' {
            (Some("s"), string_end(&chars, i + 1))
        } else if c == 'r' && matches!(rest(1), Some('"' | '#')) && raw_string(&chars, i).is_some()
        {
            (Some("s"), raw_string(&chars, i).unwrap_or(i + 1))
        } else if c == 'b' && rest(1) == Some('"') {
            (Some("s"), string_end(&chars, i + 2))
        } else if c == '\'' {
            match char_literal_end(&chars, i) {
                Some(end) => (Some("s"), end),
                None => (Some("l"), word_end(&chars, i + 1)),
            }
        } else if c.is_ascii_digit() {
            (Some("n"), number_end(&chars, i))
        } else if c.is_alphabetic() || c == '_' {
            let end = word_end(&chars, i);
            let word: String = chars[i..end].iter().collect();
            let class = if chars.get(end) == Some(&'!') && chars.get(end + 1) != Some(&'=') {
                Some("m")
            } else if KEYWORDS.contains(&word.as_str()) {
                Some("k")
            } else if c.is_uppercase() {
                Some("t")
            } else {
                None
            };
            // A macro's `!` belongs to its name.
            (class, if class == Some("m") { end + 1 } else { end })
        } else {
            (None, i + 1)
        };
        let text: String = chars[i..end.min(chars.len())].iter().collect();
        match class {
            Some(class) => {
                html.push_str(&format!("<span class=\"{class}\">{}</span>", escape(&text)));
            }
            None => html.push_str(&escape(&text)),
        }
        i = end.min(chars.len()).max(i + 1);
    }
    html
}

fn line_end(chars: &[char], from: usize) -> usize {
    chars[from..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| from + p)
}

fn block_comment_end(chars: &[char], from: usize) -> usize {
    let mut depth = 0;
    let mut i = from;
    while i + 1 < chars.len() {
        if chars[i] == '/' && chars[i + 1] == '*' {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars[i + 1] == '/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    chars.len()
}

/// The end of a string whose body starts at `from` (after the opening quote), escapes skipped.
fn string_end(chars: &[char], from: usize) -> usize {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// The end of a raw string `r#"…"#` starting at `from`, if one starts there.
fn raw_string(chars: &[char], from: usize) -> Option<usize> {
    let hashes = chars[from + 1..].iter().take_while(|&&c| c == '#').count();
    if chars.get(from + 1 + hashes) != Some(&'"') {
        return None;
    }
    let body = from + 2 + hashes;
    let mut i = body;
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(chars.len())
}

/// The end of a character literal (`'a'`, `'\n'`, `'\u{1F600}'`) at `from`; None for a lifetime.
fn char_literal_end(chars: &[char], from: usize) -> Option<usize> {
    match chars.get(from + 1) {
        Some('\\') => {
            let close = chars[from + 2..].iter().position(|&c| c == '\'')?;
            Some(from + 2 + close + 1)
        }
        Some(_) if chars.get(from + 2) == Some(&'\'') => Some(from + 3),
        _ => None,
    }
}

fn word_end(chars: &[char], from: usize) -> usize {
    chars[from..]
        .iter()
        .position(|&c| !(c.is_alphanumeric() || c == '_'))
        .map_or(chars.len(), |p| from + p)
}

/// Digits, underscores, a decimal point followed by a digit, exponents and type suffixes.
fn number_end(chars: &[char], from: usize) -> usize {
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        let decimal_point = c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_alphanumeric() || c == '_' || decimal_point {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text between the tags, unescaped: what a reader sees.
    fn visible(html: &str) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    #[test]
    fn every_character_survives_and_tokens_are_marked() {
        let source = "//! Doc\nfn main() -> Result<(), E> { let s = \"a \\\" <b>\"; let r = r#\"x\"y\"#; \
                      let c = '\\n'; let x = 1_000.5e3f64; println!(\"{s}\"); /* c */ x != 2 }\nfn f<'a>(v: &'a str) {}";
        let html = rust_html(source);
        assert_eq!(visible(&html), source);
        assert!(html.contains("<span class=\"d\">//! Doc</span>"), "{html}");
        assert!(html.contains("<span class=\"k\">fn</span>"));
        assert!(html.contains("<span class=\"t\">Result</span>"));
        assert!(
            html.contains("<span class=\"s\">&quot;a \\&quot; &lt;b&gt;&quot;</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"s\">r#&quot;x&quot;y&quot;#</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"s\">&#39;\\n&#39;</span>"),
            "{html}"
        );
        assert!(html.contains("<span class=\"n\">1_000.5e3f64</span>"));
        assert!(html.contains("<span class=\"m\">println!</span>"));
        assert!(html.contains("<span class=\"c\">/* c */</span>"));
        assert!(html.contains("<span class=\"l\">&#39;a</span>"), "{html}");
        // `x != 2` is not a macro call.
        assert!(!html.contains("<span class=\"m\">x!</span>"));
        assert!(!html.contains("<b>"));
    }
}
