//! `convctl man [--out DIR]`: manual pages built from the command-line definition
//! (`cli::args::command`, through clap_mangen), so they document exactly the options each
//! command accepts, plus the sections a manual page is expected to have that clap knows
//! nothing of: EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES, per command. Without `--out` the
//! main page goes to stdout (`convctl man | man -l -`); with it, `convctl.1` and one
//! `convctl-<command>.1` per command are written into DIR. Never touches anything outside DIR.
//!
//! The pages pass `mandoc -T lint` without warnings (`tests/suite/cli.rs` lints every page);
//! the `.TH` date is `SOURCE_DATE_EPOCH` (reproducible builds) or this release's date.

use crate::cli::args::command;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use clap_mangen::roff::{Roff, bold, italic, roman};
use std::io::Write;
use std::path::Path;

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

/// One page: clap_mangen's NAME, SYNOPSIS, DESCRIPTION, OPTIONS (and COMMANDS), then ours.
/// `path` is the command's words after `convctl` (`None` for the main page).
fn page(cmd: &clap::Command, path: Option<&str>) -> String {
    let words = path.unwrap_or("convctl");
    let key = words.strip_prefix("convctl").unwrap_or("").trim();
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
    section(&|w| man.render_synopsis_section(w));
    section(&|w| man.render_description_section(w));
    section(&|w| man.render_options_section(w));
    if cmd.has_subcommands() {
        section(&|w| man.render_subcommands_section(w));
    }
    let extra = extra(key);
    let mut roff = Roff::new();
    definitions(&mut roff, "EXIT STATUS", extra.exit);
    definitions(&mut roff, "ENVIRONMENT", extra.environment);
    definitions(&mut roff, "FILES", extra.files);
    roff.control("SH", ["EXAMPLES"]);
    for (i, (what, example)) in extra.examples.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(*what)]);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        roff.text([bold(*example)]);
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

/// The parts as one page: clap_mangen and roff start every part with the same two-line
/// apostrophe preamble, which is kept once; a `.br` next to a blank line or `.sp` (which
/// mandoc flags) is dropped.
fn tidy(parts: &[String]) -> String {
    let mut out = String::new();
    let mut preamble_seen = false;
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
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A section of `.TP` definitions.
fn definitions(roff: &mut Roff, title: &str, items: &[(&str, &str)]) {
    roff.control("SH", [title]);
    for (term, meaning) in items {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*meaning)]);
    }
    if items.is_empty() {
        roff.text([italic("None.")]);
    }
}

/// What clap does not know about a command.
struct Extra {
    exit: &'static [(&'static str, &'static str)],
    environment: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    examples: &'static [(&'static str, &'static str)],
}

const PIPE: (&str, &str) = (
    "Closed output",
    "A reader that stops early (convctl ... | head) is not an error: output stops quietly.",
);

const NETWORK_ENV: &[(&str, &str)] = &[
    (
        "META_ACCESS_TOKEN",
        "The access token (a system user token), unless --access-token-file is given.",
    ),
    (
        "META_APP_SECRET",
        "The app secret: when set, every call carries appsecret_proof.",
    ),
    (
        "CONVCTL_API_BASE",
        "Address of the Graph API, as --api-base.",
    ),
    (
        "CONVCTL_API_VERSION",
        "Graph API version, as --api-version.",
    ),
    ("NO_COLOR", "When set, no colours (as --color never)."),
];

const REPORT_ENV: &[(&str, &str)] = &[
    (
        "META_ACCESS_TOKEN",
        "The access token (a system user token), unless --access-token-file is given.",
    ),
    (
        "META_APP_SECRET",
        "The app secret: when set, every call carries appsecret_proof.",
    ),
    (
        "CONVCTL_API_BASE",
        "Address of the Graph API, as --api-base.",
    ),
    (
        "CONVCTL_API_VERSION",
        "Graph API version, as --api-version.",
    ),
    (
        "CONVCTL_FULL_PLAN_URL",
        "Where the whole plan can be read, as --full-plan-url.",
    ),
    ("NO_COLOR", "When set, no colours (as --color never)."),
];

const MANIFESTS: (&str, &str) = (
    "conversions/",
    "The default place of the manifests: every *.yaml and *.yml file below it, in sorted order.",
);
const SANDBOX: (&str, &str) = (
    ".convctl/sandbox.json",
    "The emulator's state with --sandbox and no STATE_FILE.",
);

fn extra(command: &str) -> Extra {
    match command {
        "" => Extra {
            exit: &[
                (
                    "0",
                    "Success: valid, tests pass, plan made, apply done, no drift.",
                ),
                (
                    "1",
                    "Error: bad input, API failure, refused plan, partial apply, usage error.",
                ),
                (
                    "2",
                    "Changes present (plan --detailed-exitcode) or drift found (drift).",
                ),
                PIPE,
            ],
            environment: NETWORK_ENV,
            files: &[MANIFESTS, SANDBOX],
            examples: &[
                (
                    "Check the manifests offline:",
                    "convctl validate conversions",
                ),
                (
                    "See what would change, then do it:",
                    "convctl plan --out plan.json\nconvctl apply --plan plan.json",
                ),
                (
                    "Try everything against the built-in emulator:",
                    "convctl --sandbox plan examples/conversions",
                ),
            ],
        },
        "validate" => Extra {
            exit: &[
                ("0", "Every manifest is valid (warnings allowed)."),
                ("1", "A manifest is invalid, or a usage error."),
                PIPE,
            ],
            environment: &[("NO_COLOR", "When set, no colours.")],
            files: &[MANIFESTS],
            examples: &[
                ("Check every manifest:", "convctl validate"),
                (
                    "Annotate a pull request in GitHub Actions:",
                    "convctl validate conversions --format github",
                ),
            ],
        },
        "test" => Extra {
            exit: &[
                ("0", "Every rule test passes."),
                (
                    "1",
                    "A test fails, a manifest is invalid, or a usage error.",
                ),
                PIPE,
            ],
            environment: NETWORK_ENV,
            files: &[MANIFESTS],
            examples: &[
                ("Run the rule tests offline:", "convctl test"),
                (
                    "Also send the match examples as test events:",
                    "convctl test --live --test-event-code TEST123",
                ),
            ],
        },
        "plan" => Extra {
            exit: &[
                ("0", "The plan was made (with or without changes)."),
                (
                    "1",
                    "An error: bad manifests, API failure, a plan apply would refuse.",
                ),
                ("2", "With --detailed-exitcode: there are changes."),
                PIPE,
            ],
            environment: REPORT_ENV,
            files: &[
                MANIFESTS,
                (
                    "--out FILE",
                    "The saved plan, for convctl apply --plan FILE.",
                ),
                SANDBOX,
            ],
            examples: &[
                ("Plan and save:", "convctl plan --out plan.json"),
                (
                    "A pull-request comment of at most 65,536 characters:",
                    "convctl plan --format markdown --full-plan-url \"$RUN_URL\" > comment.md",
                ),
                (
                    "Show a saved plan again, offline:",
                    "convctl plan --show plan.json --format markdown --max-chars 20000",
                ),
            ],
        },
        "apply" => Extra {
            exit: &[
                ("0", "Done: the accounts match the manifests."),
                (
                    "1",
                    "An error, a refused plan (nothing done) or a partial apply (see the report).",
                ),
            ],
            environment: NETWORK_ENV,
            files: &[
                MANIFESTS,
                ("--plan FILE", "A plan saved by convctl plan --out."),
                SANDBOX,
            ],
            examples: &[
                ("Apply, asking first:", "convctl apply"),
                (
                    "Apply exactly a reviewed plan in CI:",
                    "convctl apply --plan plan.json --auto-approve",
                ),
            ],
        },
        "drift" => Extra {
            exit: &[
                ("0", "In sync: the accounts match the manifests."),
                ("1", "The check could not run: never read this as no drift."),
                ("2", "Drift found."),
                PIPE,
            ],
            environment: REPORT_ENV,
            files: &[MANIFESTS, SANDBOX],
            examples: &[
                ("Check every account:", "convctl drift"),
                (
                    "A report for an issue, and its document for later:",
                    "convctl drift --format json > drift.json\nconvctl drift --show drift.json --format markdown > issue.md",
                ),
            ],
        },
        "import" => Extra {
            exit: &[
                ("0", "Every account was written."),
                (
                    "1",
                    "An account could not be read or written, or a file exists.",
                ),
                PIPE,
            ],
            environment: NETWORK_ENV,
            files: &[(
                "conversions/act_<digits>.yaml",
                "One manifest per account (--out DIR); never overwritten.",
            )],
            examples: &[(
                "Import two accounts:",
                "convctl import act_1 act_2 --out conversions",
            )],
        },
        "emulator" => Extra {
            exit: &[
                ("0", "Stopped (Ctrl-C)."),
                ("1", "Could not start: a bad address or state file."),
            ],
            environment: &[],
            files: &[(
                "--state FILE",
                "The emulator's state, loaded at start and saved atomically.",
            )],
            examples: &[(
                "A local Graph API on port 8080:",
                "convctl emulator --listen 127.0.0.1:8080 --state emu.json",
            )],
        },
        "events" | "events send" => Extra {
            exit: &[
                ("0", "The events were accepted."),
                ("1", "An event is invalid, or the API refused them."),
                PIPE,
            ],
            environment: NETWORK_ENV,
            files: &[(
                "--file FILE",
                "The events, as JSON (- reads standard input).",
            )],
            examples: &[(
                "Send test events to a pixel:",
                "convctl events send --pixel 998877 --file events.json --test-event-code TEST123",
            )],
        },
        "completions" => Extra {
            exit: &[
                ("0", "The script was written."),
                ("1", "It could not be written."),
                PIPE,
            ],
            environment: &[],
            files: &[
                (
                    "~/.local/share/bash-completion/completions/convctl",
                    "Where bash looks for it.",
                ),
                (
                    "~/.config/fish/completions/convctl.fish",
                    "Where fish looks for it.",
                ),
            ],
            examples: &[(
                "Install for bash:",
                "convctl completions bash > ~/.local/share/bash-completion/completions/convctl",
            )],
        },
        "man" => Extra {
            exit: &[
                ("0", "The pages were written."),
                ("1", "They could not be written."),
                PIPE,
            ],
            environment: &[(
                "SOURCE_DATE_EPOCH",
                "When set, the pages' date (for reproducible builds).",
            )],
            files: &[(
                "--out DIR",
                "convctl.1 and one convctl-COMMAND.1 per command are written there.",
            )],
            examples: &[
                ("Read the manual:", "convctl man | man -l -"),
                (
                    "Install the pages:",
                    "convctl man --out ~/.local/share/man/man1",
                ),
            ],
        },
        _ => Extra {
            exit: &[("0", "Success."), ("1", "An error.")],
            environment: &[],
            files: &[],
            examples: &[],
        },
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
        assert!(page.contains("v26.0"), "the version names the API version");
    }

    /// `man` and `completions` document only their own options.
    #[test]
    fn man_and_completions_pages_have_no_global_options() {
        for (name, page) in pages() {
            let own = name == "convctl-man.1" || name == "convctl-completions.1";
            assert_eq!(!page.contains("api\\-base"), own, "{name}");
        }
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
