//! Progress that tells the truth, against an emulator that answers slowly (`latency_ms`, as
//! `convctl emulator --latency-ms`): in logs, a `progress:` line while writes last, counting
//! the writes answered so far; on a terminal (a pseudo-terminal from util-linux `script`), a
//! bar drawn before the first answer and counting each batch as it is answered, an account's
//! result lines written above the bar as soon as the account is settled, and a plan longer
//! than the screen shown grouped before the prompt, with the command that shows it whole.
//!
//! What a terminal shows is asserted by the order of its stream (lines and bar frames), never
//! by times.

use crate::support::generate::manifest_document;
use crate::support::{Harness, TOKEN, binary::bin};
use convctl::emulator::EmulatorConfig;
use std::process::{Command, Stdio};
use std::time::Duration;

fn slow(latency_ms: u64) -> Harness {
    Harness::with(EmulatorConfig {
        latency_ms,
        ..EmulatorConfig::default()
    })
}

/// Writes one at a time (`--batch-size 1 --parallelism 1`): 30 creates of one account at
/// 400 ms take some 12 s, past the 10 s after which a log line is due. They are one round of
/// the account's writes: each is counted as its answer arrives, not when the round ends.
#[test]
fn logs_get_a_progress_line_counting_answered_writes() {
    let env = slow(400);
    env.write("conversions/a.yaml", &manifest_document("act_1", 30, 0));
    let run = env
        .convctl()
        .args(&[
            "--batch-size",
            "1",
            "--parallelism",
            "1",
            "apply",
            "--auto-approve",
        ])
        .timeout(Duration::from_secs(120))
        .run();
    assert_eq!(run.code, 0, "{run}");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    assert!(!lines.is_empty(), "no progress line:\n{run}");
    for line in &lines {
        let done: u64 = line["progress: ".len()..]
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Answers are counted as they arrive: some, not none and not all, after 10 s.
        assert!(done > 0 && done < 30, "{line}");
        assert!(line.contains("/30 writes ("), "{line}");
    }
    let quiet = env.convctl().args(&["--quiet", "plan"]).run();
    assert_eq!(quiet.stderr, "", "{quiet}");
}

/// `convctl ARGS` on a pseudo-terminal of `rows` rows, `answer` typed at the prompt.
fn on_terminal(env: &Harness, rows: u16, args: &[&str], answer: &str) -> (i32, String) {
    let mut line = vec![bin().display().to_string(), "--api-base".into(), env.base()];
    line.extend(args.iter().map(|a| a.to_string()));
    let script = format!("stty rows {rows} cols 100; {}", shell_words::join(line));
    let mut child = Command::new("script")
        .args(["-qec", &script, "/dev/null"])
        .current_dir(env.path(""))
        .env("META_ACCESS_TOKEN", TOKEN)
        .env_remove("CONVCTL_API_BASE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

#[test]
fn on_a_terminal_the_bar_shows_before_the_first_answer() {
    let env = slow(300);
    env.write("conversions/a.yaml", &manifest_document("act_1", 6, 0));
    let (code, out) = on_terminal(
        &env,
        50,
        &["--batch-size", "1", "--parallelism", "1", "apply"],
        "yes",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("0/6 writes"),
        "no bar before the first answer:\n{out}"
    );
    assert!(
        out.contains("Apply complete: 6 of 6 actions done."),
        "{out}"
    );
}

#[test]
fn a_plan_longer_than_the_screen_is_shown_grouped_before_the_prompt() {
    let env = Harness::new();
    for a in 1..=3 {
        env.write(
            &format!("conversions/{a}.yaml"),
            &manifest_document(&format!("act_{a}"), 12, 0),
        );
    }
    let (code, out) = on_terminal(&env, 30, &["apply"], "no");
    assert_eq!(code, 1, "{out}");
    let prompt = out
        .find("Do you want to perform these actions?")
        .expect("a prompt");
    let shown = &out[..prompt];
    assert!(
        shown.contains("3 accounts, the same changes in each (act_1, act_2, act_3):\n  + create 12: \"Conversion 000\", \"Conversion 001\""),
        "{shown}"
    );
    assert!(
        shown.contains(
            "Every change is named above, without its diff. To see every diff: `convctl plan`"
        ),
        "{shown}"
    );
    assert!(shown.lines().count() < 30, "{shown}");
    // A screen tall enough: the whole plan.
    let (_, out) = on_terminal(&env, 2000, &["apply"], "no");
    assert!(out.contains("+ conversion \"Conversion 011\""), "{out}");
}

/// The counts of the bar's frames (`N/TOTAL writes`) in a terminal's stream, in order.
fn bar_counts(stream: &str, total: u64) -> Vec<u64> {
    let frame = regex::Regex::new(&format!(r"\b([0-9]+)/{total} writes")).unwrap();
    frame
        .captures_iter(stream)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

/// One round of 20 creates in batches of 5, sent one at a time (`--parallelism 2` lets one
/// request per account be in flight): the bar counts each batch as it is answered.
#[test]
fn on_a_terminal_the_bar_counts_each_batch_as_it_is_answered() {
    let env = slow(300);
    env.write("conversions/a.yaml", &manifest_document("act_1", 20, 0));
    let (code, out) = on_terminal(
        &env,
        50,
        &["--batch-size", "5", "--parallelism", "2", "apply"],
        "yes",
    );
    assert_eq!(code, 0, "{out}");
    let counts = bar_counts(&out, 20);
    assert!(
        counts.iter().any(|&c| c > 0 && c < 20),
        "the bar went from 0 to 20 at once: {counts:?}\n{out}"
    );
    assert!(counts.iter().all(|c| c % 5 == 0), "{counts:?}");
    assert!(counts.is_sorted(), "{counts:?}");
    assert!(
        out.contains("Apply complete: 20 of 20 actions done."),
        "{out}"
    );
}

/// act_1 has one create, act_2 twenty, sent one at a time (`--parallelism 2`: one request per
/// account in flight, so act_1's never waits behind act_2's). act_1's line comes as soon as it
/// is settled, above the bar, which goes on counting act_2's writes below it; act_2's lines
/// follow together, in plan order, and the summary comes last, once the bar is cleared.
#[test]
fn on_a_terminal_an_accounts_lines_come_as_soon_as_it_is_settled() {
    let env = slow(200);
    env.write("conversions/1.yaml", &manifest_document("act_1", 1, 0));
    env.write("conversions/2.yaml", &manifest_document("act_2", 20, 0));
    let (code, out) = on_terminal(
        &env,
        50,
        &["--batch-size", "1", "--parallelism", "2", "apply"],
        "yes",
    );
    assert_eq!(code, 0, "{out}");
    let first = out
        .find("act_1: + create \"Conversion 000\": created, id ")
        .expect("act_1's line");
    let second = out.find("act_2: + create").expect("act_2's lines");
    assert!(first < second, "{out}");
    let between = bar_counts(&out[first..second], 21);
    assert!(
        between.iter().any(|&c| c > 0 && c < 21),
        "no bar counting act_2's writes below act_1's line: {between:?}\n{out}"
    );
    // act_2's lines, written at once: nothing between them.
    let rest: Vec<&str> = out[second..].lines().collect();
    for (i, line) in rest[..20].iter().enumerate() {
        assert!(
            line.starts_with(&format!(
                "act_2: + create \"Conversion {i:03}\": created, id "
            )),
            "line {i}: {line:?}\n{out}"
        );
    }
    // The bar, drawn again below them, is cleared before the summary, which comes last.
    let summary = "Apply complete: 21 of 21 actions done.";
    let at = out.find(summary).expect("the summary");
    assert!(at > second, "{out}");
    assert!(out.trim_end().ends_with(summary), "{out}");
}
