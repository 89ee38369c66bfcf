//! `convctl man [--out DIR]`: manual pages assembled from two sources: the command-line
//! definition (`cli::args::command`: the SYNOPSIS with every option's argument, and the
//! OPTIONS through clap_mangen), so they document exactly the options each command accepts;
//! and the page text in `pages/` ([`text`]: DESCRIPTION, EXIT STATUS, ENVIRONMENT, FILES and
//! EXAMPLES), which is data, not code. Without `--out` the main page goes to stdout
//! (`convctl man | man -l -`); with it, `convctl.1` and one `convctl-<command>.1` per command
//! are written into DIR. Never touches anything outside DIR.
//!
//! The pages pass plain `mandoc -T lint` (style messages included; `tests/suite/cli.rs` lints
//! every page); the `.TH`
//! date is `SOURCE_DATE_EPOCH` (reproducible builds) or this release's date.

mod text;

use crate::cli::args::command;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};
use std::io::Write;
use std::path::Path;
use text::PageText;

/// The date of this release, for `.TH` when `SOURCE_DATE_EPOCH` is not set.
const RELEASE_DATE: &str = "2026-12-01";

/// Renders the page(s).
pub(crate) fn run(out_dir: Option<&Path>, out: &mut dyn Write) -> Outcome {
    let written = match out_dir {
        None => out
            .write_all(main_page().as_bytes())
            .and_then(|()| out.flush()),
        Some(dir) => write_pages(dir)
            .and_then(|n| writeln!(out, "wrote {n} man pages into {}", dir.display())),
    };
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            let place = out_dir
                .map(|dir| format!(" into {}", dir.display()))
                .unwrap_or_default();
            Err(Failure::new(format!(
                "cannot write the man page{place}: {error}"
            )))
        }
        _ => Ok(exit::SUCCESS),
    }
}

fn write_pages(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let pages = pages();
    for (name, text) in &pages {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(pages.len())
}

/// `convctl.1`.
pub(crate) fn main_page() -> String {
    let mut cmd = command();
    cmd.build();
    page(&cmd, None)
}

/// Every page: (file name, roff text), the main page first.
pub(crate) fn pages() -> Vec<(String, String)> {
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    let mut out = vec![("convctl.1".to_string(), page(&cmd, None))];
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let path = format!("{path} {}", sub.get_name());
            if sub.has_subcommands() {
                walk(sub, &path, out);
            }
            let name = path.trim().replace(' ', "-");
            out.push((format!("{name}.1"), page(sub, Some(&path))));
        }
    }
    walk(&cmd, "convctl", &mut out);
    out
}

/// The `.TH` date: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the release date.
fn date() -> String {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|| RELEASE_DATE.to_string())
}

/// One page: clap_mangen's NAME, our SYNOPSIS and DESCRIPTION, clap_mangen's OPTIONS (and
/// COMMANDS), then the page text's sections. `path` is the command's words after `convctl`
/// (`None` for the main page).
fn page(cmd: &clap::Command, path: Option<&str>) -> String {
    let words = path.unwrap_or("convctl");
    let key = words.strip_prefix("convctl").unwrap_or("").trim();
    let name = if key.is_empty() {
        "convctl".to_string()
    } else {
        key.replace(' ', "-")
    };
    let page_text = PageText::of(&name)
        .unwrap_or_else(|| panic!("no man page text for {name} (add pages/{name}.txt)"))
        .unwrap_or_else(|e| panic!("{e}"));
    let man = clap_mangen::Man::new(cmd.clone())
        .title(words.replace(' ', "-").to_uppercase())
        .date(date())
        .source(format!("convctl {}", env!("CARGO_PKG_VERSION")))
        .manual("convctl manual");
    let mut text = Vec::new();
    let mut section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut part = Vec::new();
        render(&mut part).expect("rendering to memory cannot fail");
        text.push(String::from_utf8(part).expect("roff is UTF-8"));
    };
    section(&|w| man.render_title(w));
    section(&|w| man.render_name_section(w));
    let mut roff = Roff::new();
    synopsis(&mut roff, cmd, words);
    roff.control("SH", ["DESCRIPTION"]);
    for (i, paragraph) in page_text.description.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(paragraph.as_str())]);
    }
    section(&|w| roff.to_writer(w));
    section(&|w| man.render_options_section(w));
    if cmd.has_subcommands() {
        section(&|w| man.render_subcommands_section(w));
    }
    let mut roff = Roff::new();
    definitions(&mut roff, "EXIT STATUS", &page_text.exit);
    definitions(&mut roff, "ENVIRONMENT", &page_text.environment);
    definitions(&mut roff, "FILES", &page_text.files);
    roff.control("SH", ["EXAMPLES"]);
    for (i, (what, lines)) in page_text.examples.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(what.as_str())]);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in lines {
            roff.text([bold(line.as_str())]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
    if path.is_none() {
        roff.control("SH", ["SEE ALSO"]);
        let names: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("convctl-{}(1)", s.get_name()))
            .collect();
        roff.text([roman(names.join(", "))]);
    }
    roff.control("SH", ["VERSION"]);
    roff.text([roman(format!(
        "convctl {} (Graph API {})",
        env!("CARGO_PKG_VERSION"),
        crate::DEFAULT_API_VERSION
    ))]);
    let mut ours = Vec::new();
    roff.to_writer(&mut ours)
        .expect("rendering to memory cannot fail");
    text.push(String::from_utf8(ours).expect("roff is UTF-8"));
    tidy(&text)
}

/// SYNOPSIS: the command's words, then every option with its argument (`[--out FILE]`,
/// `[--format text|json|markdown]`, `[--account ACT]...`) and its positional arguments, one a
/// line; the global options as `[GLOBAL OPTIONS]` on a command's page (the main page lists
/// them).
fn synopsis(roff: &mut Roff, cmd: &clap::Command, words: &str) {
    roff.control("SH", ["SYNOPSIS"]);
    let root = command();
    let is_global = |arg: &clap::Arg| {
        words != "convctl" && root.get_arguments().any(|g| g.get_id() == arg.get_id())
    };
    let (global, own): (Vec<&clap::Arg>, Vec<&clap::Arg>) = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .partition(|a| is_global(a));
    let mut first: Vec<Inline> = vec![bold("convctl")];
    let command = words.strip_prefix("convctl").unwrap_or(words).trim();
    if !global.is_empty() {
        first.extend([roman(" ["), italic("GLOBAL OPTIONS"), roman("]")]);
    }
    if !command.is_empty() {
        first.extend([roman(" "), bold(command)]);
    }
    roff.text(first);
    for arg in own.iter().filter(|a| !a.is_positional()) {
        roff.text(option_usage(arg));
    }
    for arg in own.iter().filter(|a| a.is_positional()) {
        let name = arg
            .get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), |n| n.to_string());
        let many = if is_many(arg) { "..." } else { "" };
        if arg.is_required_set() {
            roff.text([italic(name), roman(many)]);
        } else {
            roff.text([roman("["), italic(name), roman(format!("]{many}"))]);
        }
    }
    if cmd.has_subcommands() {
        roff.text([italic("COMMAND"), roman(" ...")]);
    }
}

/// `[--format text|json|markdown]`, `[--out FILE]`, `[-q|--quiet]`, `[--account ACT]...`.
fn option_usage(arg: &clap::Arg) -> Vec<Inline> {
    let mut parts = vec![roman("[")];
    if let Some(short) = arg.get_short() {
        parts.push(bold(format!("-{short}")));
        if arg.get_long().is_some() {
            parts.push(roman("|"));
        }
    }
    if let Some(long) = arg.get_long() {
        parts.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        let value = if !values.is_empty() {
            values.join("|")
        } else {
            arg.get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().as_str().to_uppercase(), |n| n.to_string())
        };
        // `--sandbox[=STATE_FILE]`: the value is optional.
        let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
        if optional {
            parts.extend([roman("[="), italic(value), roman("]")]);
        } else {
            parts.extend([roman(" "), italic(value)]);
        }
    }
    parts.push(roman(if is_many(arg) { "]..." } else { "]" }));
    parts
}

fn is_many(arg: &clap::Arg) -> bool {
    matches!(arg.get_action(), clap::ArgAction::Append)
        || arg.get_num_args().is_some_and(|n| n.max_values() > 1)
}

/// The parts as one page: clap_mangen and roff start every part with the same two-line
/// apostrophe preamble, which is kept once; a `.br` next to a blank line or `.sp` (which
/// mandoc flags) is dropped.
fn tidy(parts: &[String]) -> String {
    let mut out = String::new();
    let mut preamble_seen = false;
    let mut no_fill = false;
    for part in parts {
        let mut lines = part.lines().peekable();
        if lines
            .peek()
            .is_some_and(|l| l.starts_with(".ie \\n(.g .ds Aq"))
        {
            let first = lines.next().expect("peeked");
            let second = lines.next().unwrap_or_default();
            if !preamble_seen {
                out.push_str(first);
                out.push('\n');
                out.push_str(second);
                out.push('\n');
                preamble_seen = true;
            }
        }
        let lines: Vec<&str> = lines.collect();
        for (i, line) in lines.iter().enumerate() {
            let spacing = |l: Option<&&str>| l.is_some_and(|l| l.is_empty() || *l == ".sp");
            if *line == ".br"
                && (spacing(i.checked_sub(1).and_then(|p| lines.get(p)))
                    || spacing(lines.get(i + 1)))
            {
                continue;
            }
            wrap(&mut out, line, &mut no_fill, lines.get(i.wrapping_sub(1)));
        }
    }
    out
}

/// Input lines of at most this many bytes: `mandoc -T lint` flags text lines past 80 bytes as
/// it counts them (escapes such as `\-` expanded), so the pieces keep a margin.
const LINE: usize = 72;

/// Writes a line of roff, a long text line broken at its unescaped spaces (filled text reads
/// the same), trailing spaces dropped. Control lines, a `.TP` tag and no-fill text (`.nf`,
/// the examples) are written as they are; a piece that would start with `.` or `'` (a control
/// line) is guarded with `\&`.
fn wrap(out: &mut String, line: &str, no_fill: &mut bool, previous: Option<&&str>) {
    let line = if line.ends_with("\\ ") {
        line
    } else {
        line.trim_end()
    };
    match line {
        ".nf" => *no_fill = true,
        ".fi" => *no_fill = false,
        _ => {}
    }
    let control = line.starts_with('.') || line.starts_with('\'');
    if control || *no_fill || line.len() <= LINE || previous == Some(&".TP") {
        out.push_str(line);
        out.push('\n');
        return;
    }
    let mut piece = String::new();
    let mut word = String::new();
    let mut escaped = false;
    let flush_word = |piece: &mut String, word: &mut String, out: &mut String| {
        if !piece.is_empty() && piece.len() + 1 + word.len() > LINE {
            out.push_str(piece);
            out.push('\n');
            piece.clear();
        }
        if !piece.is_empty() {
            piece.push(' ');
        } else if word.starts_with('.') || word.starts_with('\'') {
            piece.push_str("\\&");
        }
        piece.push_str(word);
        word.clear();
    };
    for c in line.chars() {
        if c == ' ' && !escaped {
            flush_word(&mut piece, &mut word, out);
        } else {
            word.push(c);
        }
        escaped = c == '\\' && !escaped;
    }
    flush_word(&mut piece, &mut word, out);
    out.push_str(&piece);
    out.push('\n');
}

/// A section of `.TP` definitions.
fn definitions(roff: &mut Roff, title: &str, items: &[(String, String)]) {
    roff.control("SH", [title]);
    for (term, meaning) in items {
        roff.control("TP", []);
        roff.text([bold(term.as_str())]);
        roff.text([roman(meaning.as_str())]);
    }
    if items.is_empty() {
        roff.text([italic("None.")]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTIONS: [&str; 8] = [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
    ];

    #[test]
    fn every_page_has_the_sections_a_man_page_has() {
        for (name, page) in pages() {
            for section in SECTIONS {
                let heading = format!(".SH \"{section}\"");
                let plain = format!(".SH {section}\n");
                assert!(
                    page.contains(&heading) || page.contains(&plain),
                    "{name} lacks {section}"
                );
            }
            assert!(!page.contains("EXTRA"), "{name}");
            assert_eq!(page.matches(".ds Aq").count(), 2, "{name}: one preamble");
        }
    }

    #[test]
    fn the_date_is_one_mandoc_parses() {
        let page = main_page();
        let th = page.lines().find(|l| l.starts_with(".TH ")).unwrap();
        assert!(th.contains(&format!(" {RELEASE_DATE} ")), "{th}");
        let d = jiff::civil::Date::strptime("%Y-%m-%d", RELEASE_DATE);
        assert!(d.is_ok());
    }

    #[test]
    fn main_page_names_commands_options_and_exit_codes() {
        let page = main_page();
        for word in [
            "validate",
            "plan",
            "drift",
            "completions",
            "shard",
            "EXIT STATUS",
        ] {
            assert!(page.contains(word), "man page lacks {word}");
        }
        assert!(
            page.contains(crate::DEFAULT_API_VERSION),
            "the version names the API version"
        );
    }

    /// `man` and `completions` document only their own options.
    #[test]
    fn man_and_completions_pages_have_no_global_options() {
        for (name, page) in pages() {
            let own = name == "convctl-man.1" || name == "convctl-completions.1";
            assert_eq!(!page.contains("api\\-base"), own, "{name}");
        }
    }

    /// SYNOPSIS names each option with its argument; DESCRIPTION is the page text's.
    #[test]
    fn synopsis_has_arguments_and_description_is_real() {
        let plan = pages()
            .into_iter()
            .find(|(name, _)| name == "convctl-plan.1")
            .unwrap()
            .1;
        let synopsis =
            &plan[plan.find(".SH SYNOPSIS").unwrap()..plan.find(".SH DESCRIPTION").unwrap()];
        for usage in [
            "\\fBconvctl\\fR [\\fIGLOBAL OPTIONS\\fR] \\fBplan\\fR",
            "[\\fB\\-\\-account\\fR \\fIACT\\fR]...",
            "[\\fB\\-\\-format\\fR \\fItext|json|markdown\\fR]",
            "[\\fB\\-\\-max\\-chars\\fR \\fIN\\fR]",
            "[\\fIPATH\\fR]...",
        ] {
            assert!(synopsis.contains(usage), "{usage} not in:\n{synopsis}");
        }
        assert!(
            !synopsis.contains("api\\-base"),
            "globals are [GLOBAL OPTIONS]"
        );
        let main = main_page();
        assert!(
            main.contains("[\\fB\\-\\-sandbox\\fR[=\\fISTATE_FILE\\fR]]"),
            "{main}"
        );
        let description =
            &plan[plan.find(".SH DESCRIPTION").unwrap()..plan.find(".SH OPTIONS").unwrap()];
        assert!(description.lines().count() > 8, "{description}");
    }

    /// Every page has its text, and every text its page.
    #[test]
    fn every_page_has_its_text_file() {
        let names: Vec<String> = pages()
            .into_iter()
            .map(|(file, _)| {
                let name = file.trim_end_matches(".1");
                name.strip_prefix("convctl-").unwrap_or(name).to_string()
            })
            .collect();
        let texts: Vec<&str> = PageText::names().collect();
        for name in &names {
            assert!(texts.contains(&name.as_str()), "no pages/{name}.txt");
        }
        for text in texts {
            assert!(
                names.iter().any(|n| n == text),
                "pages/{text}.txt has no page"
            );
        }
    }

    #[test]
    fn long_lines_are_broken_between_words() {
        let long = format!("{}\\-\\-flag .dot 'quote", "word ".repeat(20));
        let mut out = String::new();
        wrap(&mut out, &long, &mut false, None);
        assert!(out.lines().all(|l| l.len() <= LINE), "{out}");
        assert!(out.contains("\n\\&.dot") || out.contains(" .dot"), "{out}");
        assert_eq!(
            out.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("\\&", ""),
            long
        );
        let mut out = String::new();
        wrap(&mut out, &long, &mut true, None);
        assert_eq!(out, format!("{long}\n"), "no-fill text is left alone");
    }

    #[test]
    fn out_dir_gets_one_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        assert_eq!(run(Some(dir.path()), &mut out).unwrap(), exit::SUCCESS);
        for name in [
            "convctl.1",
            "convctl-plan.1",
            "convctl-apply.1",
            "convctl-man.1",
            "convctl-events-send.1",
        ] {
            let page = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(page.contains(".TH"), "{name}");
        }
    }

    #[test]
    fn a_closed_pipe_is_a_quiet_success() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert_eq!(run(None, &mut Closed).unwrap(), exit::SUCCESS);
    }
}
