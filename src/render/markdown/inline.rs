//! Inline markdown for user text and numbers: entities for every character markdown or HTML
//! could read, names in `<code>`, fences longer than what they enclose.

use crate::model::names;
use std::fmt::Write;

/// A URL as an autolink when it can be one (no space, `<` or `>`), else as literal text.
pub(crate) fn link(url: &str) -> String {
    let plain = url.starts_with("https://") || url.starts_with("http://");
    if plain
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
    {
        format!("<{url}>")
    } else {
        code(url)
    }
}

/// `65536` as `65,536`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// User text as inline markdown that renders literally: ASCII punctuation that markdown or
/// HTML could read (`<`, `|`, `` ` ``, `*`, `[`, `@`...) becomes a numeric entity, line
/// breaks become spaces, and any other character a reader would not see as it is (a bidi
/// control, a zero-width space) is shown as its code (`\u200b`). Entities never split a table
/// row, open a tag or start emphasis.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if names::is_invisible(c) => {
                out.push_str(&escape(&names::visible(&c.to_string())));
            }
            '.' | ',' | '-' | '/' | ' ' | '"' | '\'' | '(' | ')' | '?' | '%' | '=' | '+' | ';' => {
                out.push(c);
            }
            c if c.is_ascii_punctuation() => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// User text (a name, a set name, a path) in `<code>`: literal, out of reach of GitHub's links
/// and @mentions, and escaped as every output escapes names ([`names::escaped`]: line breaks,
/// invisible characters and a name not in NFC shown as codes).
pub(crate) fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(&names::escaped(text)))
}

/// A backtick fence longer than any run of backticks in `content` (at least four).
pub(crate) fn fence_for(content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(4))
}
