//! The man pages' own text, as data: one file per page under `pages/` (`convctl.txt` for the
//! main page, `plan.txt`, `events-send.txt`...), compiled in. What clap knows (the options) is
//! not repeated there; the files hold what it does not: DESCRIPTION, EXIT STATUS,
//! ENVIRONMENT, FILES and EXAMPLES.
//!
//! The format, read by [`PageText::parse`]:
//!
//! ```text
//! == DESCRIPTION
//! Lines of a paragraph (joined); a blank line starts the next paragraph.
//!
//! == EXIT STATUS
//! 0 :: What exit 0 means.            a definition: term, " :: ", meaning
//! @closed-output                     the definitions of pages/_closed-output.txt
//!
//! == EXAMPLES
//! What the example does:             a line of its own
//!     convctl plan --out plan.json   the command, indented by four spaces (one or more lines)
//! ```

/// One page's text.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PageText {
    pub(super) description: Vec<String>,
    pub(super) exit: Vec<(String, String)>,
    pub(super) environment: Vec<(String, String)>,
    pub(super) files: Vec<(String, String)>,
    /// What it does, and the command's lines.
    pub(super) examples: Vec<(String, Vec<String>)>,
}

/// The page files, by name (the command's words joined by `-`; `convctl` for the main page).
const PAGES: &[(&str, &str)] = &[
    ("convctl", include_str!("pages/convctl.txt")),
    ("validate", include_str!("pages/validate.txt")),
    ("test", include_str!("pages/test.txt")),
    ("plan", include_str!("pages/plan.txt")),
    ("apply", include_str!("pages/apply.txt")),
    ("drift", include_str!("pages/drift.txt")),
    ("show", include_str!("pages/show.txt")),
    ("report", include_str!("pages/report.txt")),
    ("import", include_str!("pages/import.txt")),
    ("emulator", include_str!("pages/emulator.txt")),
    ("events", include_str!("pages/events.txt")),
    ("events-send", include_str!("pages/events-send.txt")),
    ("completions", include_str!("pages/completions.txt")),
    ("man", include_str!("pages/man.txt")),
];

/// Definitions several pages share (`@name` in a page).
const SHARED: &[(&str, &str)] = &[
    ("closed-output", include_str!("pages/_closed-output.txt")),
    ("network-env", include_str!("pages/_network-env.txt")),
    ("manifests", include_str!("pages/_manifests.txt")),
    ("sandbox", include_str!("pages/_sandbox.txt")),
];

/// Why a page file cannot be read: a mistake in convctl's own source, caught by its tests.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("man page text {page}, line {line}: {problem}")]
pub(super) struct TextError {
    page: String,
    line: usize,
    problem: String,
}

impl PageText {
    /// The text of the page `name` (`convctl`, `plan`, `events-send`); `None` when there is no
    /// file for it.
    pub(super) fn of(name: &str) -> Option<Result<PageText, TextError>> {
        PAGES
            .iter()
            .find(|(page, _)| *page == name)
            .map(|(page, text)| PageText::parse(page, text))
    }

    /// The names of every page file.
    #[cfg(test)]
    pub(super) fn names() -> impl Iterator<Item = &'static str> {
        PAGES.iter().map(|(name, _)| *name)
    }

    pub(super) fn parse(page: &str, text: &str) -> Result<PageText, TextError> {
        let mut out = PageText::default();
        let mut section: Option<&str> = None;
        let mut paragraph = String::new();
        for (n, line) in text.lines().enumerate() {
            let fail = |problem: String| TextError {
                page: page.to_string(),
                line: n + 1,
                problem,
            };
            if let Some(title) = line.strip_prefix("== ") {
                flush(&mut out.description, &mut paragraph);
                section = Some(match title {
                    "DESCRIPTION" | "EXIT STATUS" | "ENVIRONMENT" | "FILES" | "EXAMPLES" => title,
                    other => return Err(fail(format!("no section {other:?}"))),
                });
                continue;
            }
            let Some(section) = section else {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(fail("text before the first `== SECTION`".into()));
            };
            match section {
                "DESCRIPTION" if line.trim().is_empty() => {
                    flush(&mut out.description, &mut paragraph);
                }
                "DESCRIPTION" => {
                    if !paragraph.is_empty() {
                        paragraph.push(' ');
                    }
                    paragraph.push_str(line.trim());
                }
                "EXAMPLES" => {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match line.strip_prefix("    ") {
                        Some(command) => match out.examples.last_mut() {
                            Some((_, lines)) => lines.push(command.to_string()),
                            None => return Err(fail("a command before what it does".into())),
                        },
                        None => out.examples.push((line.to_string(), Vec::new())),
                    }
                }
                _ => {
                    let list = match section {
                        "EXIT STATUS" => &mut out.exit,
                        "ENVIRONMENT" => &mut out.environment,
                        _ => &mut out.files,
                    };
                    definitions(line, list).map_err(fail)?;
                }
            }
        }
        flush(&mut out.description, &mut paragraph);
        if let Some((what, _)) = out.examples.iter().find(|(_, lines)| lines.is_empty()) {
            return Err(TextError {
                page: page.to_string(),
                line: 0,
                problem: format!("the example {what:?} has no command"),
            });
        }
        Ok(out)
    }
}

fn flush(paragraphs: &mut Vec<String>, paragraph: &mut String) {
    if !paragraph.is_empty() {
        paragraphs.push(std::mem::take(paragraph));
    }
}

/// One line of definitions: `term :: meaning`, `@shared`, or blank.
fn definitions(line: &str, list: &mut Vec<(String, String)>) -> Result<(), String> {
    if line.trim().is_empty() {
        return Ok(());
    }
    if let Some(name) = line.strip_prefix('@') {
        let (_, text) = SHARED
            .iter()
            .find(|(shared, _)| *shared == name.trim())
            .ok_or_else(|| format!("no shared definitions {name:?}"))?;
        for line in text.lines() {
            definitions(line, list)?;
        }
        return Ok(());
    }
    let (term, meaning) = line
        .split_once(" :: ")
        .ok_or_else(|| format!("expected `term :: meaning`, found {line:?}"))?;
    list.push((term.trim().to_string(), meaning.trim().to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_file_reads() {
        for name in PageText::names() {
            let page = PageText::of(name).unwrap().unwrap();
            assert!(!page.description.is_empty(), "{name}: no description");
            assert!(!page.exit.is_empty(), "{name}: no exit status");
        }
    }

    #[test]
    fn the_format_reads_paragraphs_definitions_shared_lists_and_examples() {
        let text = "== DESCRIPTION\nOne\ntwo.\n\nThree.\n== EXIT STATUS\n0 :: Fine.\n@closed-output\n== EXAMPLES\nDo it:\n    convctl a \\\n      b\n";
        let page = PageText::parse("x", text).unwrap();
        assert_eq!(page.description, ["One two.", "Three."]);
        assert_eq!(page.exit[0], ("0".to_string(), "Fine.".to_string()));
        assert_eq!(page.exit[1].0, "Closed output");
        assert_eq!(
            page.examples,
            [(
                "Do it:".to_string(),
                vec!["convctl a \\".to_string(), "  b".to_string()]
            )]
        );
    }

    #[test]
    fn mistakes_name_the_page_and_line() {
        let err =
            PageText::parse("plan", "== DESCRIPTION\nx\n== EXIT STATUS\n0 - fine\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "man page text plan, line 4: expected `term :: meaning`, found \"0 - fine\""
        );
        assert!(PageText::parse("p", "== USAGE\n").is_err());
        assert!(PageText::parse("p", "== EXAMPLES\n    convctl\n").is_err());
        assert!(PageText::parse("p", "== FILES\n@nothing\n").is_err());
    }
}
