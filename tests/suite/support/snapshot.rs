//! Whole-output assertions: a run's exit status, stdout and stderr in one insta snapshot, so
//! that a changed, reordered, missing or extra line fails the test (the habit of just's `Test`,
//! uv's `uv_snapshot!` and cargo's `with_stderr_data`).
//!
//! ```ignore
//! let run = env.run(&["plan"]);
//! assert_run!(run, @r#"
//! success: true
//! exit_code: 0
//! ----- stdout -----
//! No changes.
//!
//! ----- stderr -----
//! "#);
//! ```
//!
//! What varies from one run to the next is replaced by insta filters, each as narrow as the
//! thing it hides so that a real difference still shows: the run's working directory
//! (`[dir]`), other temporary directories (`[tmp]`), the emulator's ephemeral port
//! (`127.0.0.1:[port]`), the random trace id of an error answer (`[trace id]`), the durations
//! in verbose lines (`[duration]`) and an account's usage there (`[share]`: its ad-account
//! score decays while the test runs), convctl's own version (`[version]`), and whatever a test adds with [`Convctl::filter`](super::Convctl::filter)
//! (a time, an id made concurrently). Conversion ids the emulator hands out are not redacted:
//! one emulator numbers them in order from 23850000000000001, so a seeded or sequentially
//! created conversion has the same id on every run, and a wrong id shows as a difference.
//!
//! Outputs that no run printed (the library client's verbose lines and errors, the emulator's
//! answers) are snapshotted with insta's own macros under [`text_settings`]: the same filters
//! but a run's own.
//!
//! A test that makes one check over a table of cases puts every run in one snapshot with
//! [`transcripts`].
//!
//! Accept new or changed snapshots with `cargo insta review` (cargo-insta), or by running the
//! test with `INSTA_UPDATE=always` and reading the `.snap.new` / `.pending-snap` files.

use super::Run;
use std::path::Path;

/// The transcript of a run that a snapshot holds: the status, then each stream whole. A stream
/// that does not end with a line break says so, since insta trims the end of a snapshot.
pub fn transcript(run: &Run) -> String {
    let status = match run.signal {
        Some(signal) => format!("success: false\nexit_code: none (signal {signal})"),
        None => format!("success: {}\nexit_code: {}", run.code == 0, run.code),
    };
    format!(
        "{status}\n----- stdout -----\n{}----- stderr -----\n{}",
        stream(&run.stdout),
        stream(&run.stderr)
    )
}

fn stream(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n[no line break at the end]\n")
    }
}

/// Several runs in one snapshot, for a test that makes one check over a table of cases: each
/// run's command line (`$ convctl ...`), then its transcript, both filtered as the run's own
/// snapshot would be. `insta::assert_snapshot!(transcripts(&runs), @"...")`.
pub fn transcripts<'a>(runs: impl IntoIterator<Item = &'a Run>) -> String {
    runs.into_iter()
        .map(|run| {
            let line = command_line(run);
            format!("$ {}\n{}", line.trim_end(), filtered(run, &transcript(run)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The insta settings of a run's snapshot: its filters (the run's own first, then the
/// suite's), and the command line as the snapshot's description.
pub fn settings(run: &Run) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in filters(run) {
        settings.add_filter(&pattern, replacement);
    }
    settings.set_description(command_line(run));
    settings.set_omit_expression(true);
    settings
}

/// Applies the same filters as a snapshot of `run` to `text` (for output read from a file
/// the run wrote, such as a saved plan or an imported manifest).
pub fn filtered(run: &Run, text: &str) -> String {
    let mut text = text.to_string();
    for (pattern, replacement) in filters(run) {
        let re = regex::Regex::new(&pattern).expect("a valid filter");
        text = re.replace_all(&text, replacement.as_str()).into_owned();
    }
    text
}

/// The insta settings of a snapshot of text that no run printed (the library client's verbose
/// lines and errors, the emulator's answers): the suite's filters alone.
pub fn text_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in suite_filters() {
        settings.add_filter(&pattern, replacement);
    }
    settings
}

/// The filters of `run`, in the order they apply: the run's own, then the suite's.
fn filters(run: &Run) -> Vec<(String, String)> {
    let mut filters = Vec::new();
    // The working directory, also as the kernel spells it (through any symlink).
    if let Some(dir) = &run.dir {
        for spelling in [Some(dir.clone()), dir.canonicalize().ok()]
            .into_iter()
            .flatten()
        {
            filters.push((path_pattern(&spelling), "[dir]".to_string()));
        }
    }
    filters.extend(run.filters.iter().cloned());
    filters.extend(suite_filters());
    filters
}

/// What varies in any output of the suite, run or not.
fn suite_filters() -> Vec<(String, String)> {
    let mut filters = Vec::new();
    // tempfile's directories: `.tmp` and six letters or digits, under the temp directory.
    let temp = std::env::temp_dir();
    for spelling in [Some(temp.clone()), temp.canonicalize().ok()]
        .into_iter()
        .flatten()
    {
        filters.push((
            format!(r"{}/\.tmp[A-Za-z0-9]{{6}}", path_pattern(&spelling)),
            "[tmp]".to_string(),
        ));
    }
    filters.push((
        r"127\.0\.0\.1:[0-9]{1,5}\b".to_string(),
        "127.0.0.1:[port]".to_string(),
    ));
    // The trace id the emulator puts in each error answer: eleven random letters and digits,
    // as the real API's.
    filters.push((
        r#"(fbtrace_id[": =]{1,4})[A-Za-z0-9]{11}\b"#.to_string(),
        "${1}[trace id]".to_string(),
    ));
    // Durations in verbose lines: how long an answer took, how long a call waited for the
    // API's usage, and when the API's usage window resets (counted down from the emulator's
    // clock).
    filters.push((r"\bin [0-9]+ ms\b".to_string(), "in [duration]".to_string()));
    filters.push((
        r"\bwaited [0-9]+ ms before\b".to_string(),
        "waited [duration] before".to_string(),
    ));
    filters.push((
        r"\breset in [0-9]+s\b".to_string(),
        "reset in [duration]".to_string(),
    ));
    // An account's usage in verbose lines: its ad-account score decays while the test runs.
    filters.push((
        r"\busage account [0-9]+(\.[0-9]+)?%".to_string(),
        "usage account [share]%".to_string(),
    ));
    // convctl's own version, where convctl prints it, so that a release changes no snapshot.
    let version = regex::escape(env!("CARGO_PKG_VERSION"));
    filters.push((
        format!(r#"("convctl_version": "|convctl(?:-[a-z]+)? ){version}\b"#),
        "${1}[version]".to_string(),
    ));
    filters
}

/// `run` with apply's result lines ordered by account (stably), for a snapshot of an apply
/// of several accounts: apply tells each account's lines as soon as that account is settled,
/// so accounts come in the order they finish, which varies from run to run. Fails unless
/// each account's lines are together (what apply promises), so that ordering them hides
/// only the finishing order.
pub fn accounts_in_order(mut run: Run) -> Run {
    let result = regex::Regex::new(r"^(act_[0-9]+): ").expect("a valid pattern");
    let account = |line: &str| {
        result.captures(line).map(|c| {
            c[1].trim_start_matches("act_")
                .parse::<u64>()
                .expect("digits")
        })
    };
    let lines: Vec<&str> = run.stdout.lines().collect();
    // The result lines: the account lines just before the last line (the summary).
    let end = lines.len().saturating_sub(1);
    let start = (0..end)
        .rev()
        .take_while(|&i| account(lines[i]).is_some())
        .last()
        .unwrap_or(end);
    let mut blocks: Vec<(u64, Vec<&str>)> = Vec::new();
    for line in &lines[start..end] {
        let id = account(line).expect("an account line");
        match blocks.last_mut() {
            Some((last, block)) if *last == id => block.push(line),
            _ => {
                assert!(
                    blocks.iter().all(|(other, _)| *other != id),
                    "act_{id}'s result lines are not together:\n{run}"
                );
                blocks.push((id, vec![line]));
            }
        }
    }
    blocks.sort_by_key(|(id, _)| *id);
    let ordered = lines[..start]
        .iter()
        .copied()
        .chain(blocks.into_iter().flat_map(|(_, block)| block))
        .chain(lines[end..].iter().copied());
    let mut stdout: String = ordered.map(|line| format!("{line}\n")).collect();
    if !run.stdout.ends_with('\n') {
        stdout.pop();
    }
    run.stdout = stdout;
    run
}

/// A regular expression matching exactly `path`, not a longer name that starts with it.
fn path_pattern(path: &Path) -> String {
    format!(r"{}\b", regex::escape(&path.display().to_string()))
}

/// `convctl ARGS` as run, for the snapshot's header (filtered like the output).
fn command_line(run: &Run) -> String {
    let args: Vec<String> = run
        .args()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    filtered(run, &format!("convctl {}", shell_words::join(args)))
}

/// Asserts a whole run (exit status, stdout, stderr) against an insta snapshot, with the
/// run's filters. `assert_run!(run, @"...")` keeps the expected transcript inline;
/// `assert_run!(run)` and `assert_run!("name", run)` keep it in `snapshots/`.
#[macro_export]
macro_rules! assert_run {
    ($run:expr, @$expected:literal $(,)?) => {{
        let run: &$crate::support::Run = &$run;
        $crate::support::snapshot::settings(run).bind(|| {
            insta::assert_snapshot!($crate::support::snapshot::transcript(run), @$expected);
        });
    }};
    ($name:literal, $run:expr $(,)?) => {{
        let run: &$crate::support::Run = &$run;
        $crate::support::snapshot::settings(run).bind(|| {
            insta::assert_snapshot!($name, $crate::support::snapshot::transcript(run));
        });
    }};
    ($run:expr $(,)?) => {{
        let run: &$crate::support::Run = &$run;
        $crate::support::snapshot::settings(run).bind(|| {
            insta::assert_snapshot!($crate::support::snapshot::transcript(run));
        });
    }};
}
