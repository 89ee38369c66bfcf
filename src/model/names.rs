//! Conversion names as people type them, as the API stores them, and as convctl shows them.
//!
//! - **Stored**: the API may trim a name's leading and trailing whitespace (the emulator does,
//!   with Unicode's `White_Space`), so a name is compared as [`stored`] gives it: a manifest
//!   name with such spaces would never equal what the API keeps, and every apply would make
//!   another copy.
//! - **Shown**: a name is user text, and so are set names and file paths: anything that a
//!   terminal or a reader would not see as it is is escaped ([`quoted`], [`escaped`]): control
//!   characters (a line break must not forge a line, an escape sequence must not reach the
//!   terminal), format characters (bidi controls, zero-width characters), separators other
//!   than the space, private-use and unassigned code points, and Unicode's default-ignorable
//!   code points (a Hangul filler looks like nothing). A name that is not in Unicode NFC shows
//!   every non-ASCII character escaped, so that `"Cafe\u0301"` never reads as `"Café"`.
//! - **Look-alike**: two names that differ only there have the same [`lookalike_key`]: NFC,
//!   without the characters that cannot be seen.
//!
//! Unicode data comes from ICU4X (`icu_normalizer`, `icu_properties`), the Unicode
//! Consortium's own libraries: normalisation and character properties change with every
//! Unicode version, which hand-written tables would not follow.

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use std::borrow::Cow;
use std::fmt::Write;

/// A name as the API stores it: without leading or trailing whitespace.
pub fn stored(name: &str) -> &str {
    name.trim()
}

/// The name is in Unicode NFC (how text is usually typed: `é` as one character).
pub fn is_nfc(name: &str) -> bool {
    ComposingNormalizerBorrowed::new_nfc().is_normalized(name)
}

/// A character a reader would not see as it is (see the module doc); never the space.
pub fn is_invisible(c: char) -> bool {
    if c == ' ' {
        return false;
    }
    let category = CodePointMapData::<GeneralCategory>::new().get(c);
    matches!(
        category,
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::SpaceSeparator
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    ) || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// The characters of `name` that [`is_invisible`] finds, as `U+200B` (each once, in order).
pub fn invisible_characters(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in name.chars().filter(|c| is_invisible(*c)) {
        let code = format!("U+{:04X}", c as u32);
        if !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// What two names that look alike have in common: the stored name, in NFC, without the
/// characters that cannot be seen (every space kind counts as a space).
pub fn lookalike_key(name: &str) -> String {
    let visible: String = stored(name)
        .chars()
        .filter_map(|c| match c {
            ' ' => Some(' '),
            c if c.is_whitespace() => Some(' '),
            c if is_invisible(c) => None,
            c => Some(c),
        })
        .collect();
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(&visible)
        .into_owned()
}

/// User text in double quotes, escaped as a JSON string literal that decodes back to it, with
/// everything a reader would not see as it is escaped (see the module doc):
/// `"Pur\u200bchase"`, `"line\nbreak"`.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    escape_into(&mut out, text, true);
    out.push('"');
    out
}

/// User text (a set name, a file path) without quotes, escaped as [`quoted`] escapes it
/// (backslashes doubled, so that an escape is never ambiguous); borrowed when nothing needs
/// escaping.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if is_nfc(text) && !text.chars().any(|c| c == '\\' || is_invisible(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text, false);
    Cow::Owned(out)
}

/// Free text (a message, a warning) that may hold user text: every character a reader would
/// not see as it is (a line break, an escape sequence, a bidi control) escaped, nothing else
/// touched. Names in it are already [`quoted`]; this keeps whatever was not from breaking the
/// line or reaching the terminal.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_invisible(c) => push_code(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `\u200b`: a character as JSON escapes it (a surrogate pair beyond the first plane).
fn push_code(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        let _ = write!(out, "\\u{unit:04x}");
    }
}

fn escape_into(out: &mut String, text: &str, quotes: bool) {
    // Not in NFC: show how it is composed (every non-ASCII character as its code).
    let composed_oddly = !is_nfc(text);
    for c in text.chars() {
        match c {
            '"' if quotes => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_invisible(c) || (composed_oddly && !c.is_ascii()) => push_code(out, c),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_as_the_api_stores_them() {
        assert_eq!(stored(" Checkout\t"), "Checkout");
        assert_eq!(stored("Check out"), "Check out");
        assert_eq!(stored("\u{a0}Checkout\u{3000}"), "Checkout");
    }

    #[test]
    fn what_cannot_be_seen_is_escaped_and_decodes_back() {
        for (text, shown) in [
            ("Purchase", r#""Purchase""#),
            ("Café", r#""Café""#),
            ("Cafe\u{301}", r#""Cafe\u0301""#),
            ("Pur\u{200b}chase", r#""Pur\u200bchase""#),
            ("Lead \u{202e}dael", r#""Lead \u202edael""#),
            ("a\nNo changes.", r#""a\nNo changes.""#),
            ("\u{1b}[2J", r#""\u001b[2J""#),
            ("say \"hi\" \\o/", r#""say \"hi\" \\o/""#),
            ("tag\u{e0041}", r#""tag\udb40\udc41""#),
            ("\u{3164}", r#""\u3164""#),
            ("non\u{a0}breaking", r#""non\u00a0breaking""#),
            ("Ωhm 日本", r#""Ωhm 日本""#),
        ] {
            assert_eq!(quoted(text), shown, "{text:?}");
            let back: String = serde_json::from_str(&quoted(text)).unwrap();
            assert_eq!(back, text);
        }
    }

    #[test]
    fn set_names_and_paths_are_escaped_without_quotes() {
        assert!(matches!(escaped("ecommerce"), Cow::Borrowed("ecommerce")));
        assert_eq!(
            escaped("conversions/a \"b\".yaml"),
            "conversions/a \"b\".yaml"
        );
        assert_eq!(
            escaped("x\nNo changes.\u{1b}[2J"),
            r"x\nNo changes.\u001b[2J"
        );
        assert_eq!(escaped(r"C:\x"), r"C:\\x");
    }

    #[test]
    fn free_text_keeps_its_words_and_loses_its_controls() {
        assert!(matches!(visible("a \"b\" \\ é"), Cow::Borrowed(_)));
        assert_eq!(
            visible("x\nNo changes.\u{1b}[2J \u{202e}"),
            r"x\nNo changes.\u001b[2J \u202e"
        );
    }

    #[test]
    fn look_alike_names_share_a_key() {
        assert_eq!(lookalike_key("Cafe\u{301}"), lookalike_key("Café"));
        assert_eq!(lookalike_key("Pur\u{200b}chase"), lookalike_key("Purchase"));
        assert_eq!(lookalike_key("Big\u{a0}sale "), lookalike_key("Big sale"));
        assert_ne!(lookalike_key("Purchase"), lookalike_key("Purchases"));
        assert!(is_nfc("Café") && !is_nfc("Cafe\u{301}"));
        assert_eq!(
            invisible_characters("a\u{200b}b\u{200b}\u{202e}"),
            ["U+200B", "U+202E"]
        );
        assert!(invisible_characters("Café 日本").is_empty());
    }
}
