//! The Graph API version calendar as a user meets it: every command that calls the API says
//! once on stderr when the version in use expires within 60 days (or has), with the date and
//! what to change, and the markdown plan carries it in a note. The day is set with
//! `CONVCTL_TODAY`, so that nothing here depends on the real date.

use crate::assert_run;
use crate::support::Harness;
use crate::support::generate::manifest_document;

fn env() -> Harness {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest_document("act_1", 2, 0));
    env
}

/// v26.0 has no published expiry: 90 days after v27.0's release, 2027-02-02. On 2027-01-10
/// that is 23 days away: `plan` says so once, and the markdown plan (saved or not) notes it.
#[test]
fn a_version_expiring_within_sixty_days_is_said_once_and_noted_in_the_plan() {
    let env = env();
    let plan = |args: &[&str]| {
        env.convctl()
            .env("CONVCTL_TODAY", "2027-01-10")
            .args(&["--api-version", "v26.0"])
            .args(args)
            .run()
    };
    let run = plan(&["plan", "--format", "markdown", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_run!("expiring_version", run);
    // The saved plan keeps the note: a pull request shows it from the file, offline.
    let shown = env.run(&["plan", "--show", "plan.json", "--format", "markdown"]);
    assert_eq!(shown.code, 0, "{shown}");
    assert_eq!(shown.stdout, run.stdout);
    // apply says it once too, before anything else.
    let applied = plan(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    let warnings: Vec<&str> = applied
        .stderr
        .lines()
        .filter(|l| l.contains("Graph API v26.0"))
        .collect();
    assert_eq!(warnings.len(), 1, "{applied}");
    assert!(
        applied
            .stderr
            .starts_with("warning: Graph API v26.0 may expire on 2027-02-02")
    );
}

/// The default version (v27.0, the newest: no expiry known) says nothing; 61 days ahead
/// nothing either; `--quiet` keeps the warning off stderr (the plan still notes it).
#[test]
fn nothing_is_said_for_a_current_version_or_with_quiet() {
    let env = env();
    let run = env.run(&["plan"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run}");
    let early = env
        .convctl()
        .env("CONVCTL_TODAY", "2026-12-24")
        .args(&["--api-version", "v25.0", "plan"])
        .run();
    assert_eq!((early.code, early.stderr.as_str()), (0, ""), "{early}");
    let quiet = env
        .convctl()
        .env("CONVCTL_TODAY", "2027-01-10")
        .args(&[
            "--quiet",
            "--api-version",
            "v26.0",
            "plan",
            "--format",
            "json",
        ])
        .run();
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""), "{quiet}");
    let doc: serde_json::Value = serde_json::from_str(&quiet.stdout).unwrap();
    assert!(
        doc["notices"][0]
            .as_str()
            .unwrap()
            .starts_with("Graph API v26.0 may expire on 2027-02-02 (in 23 days)"),
        "{doc}"
    );
}

/// The sandbox's emulator reads the same calendar: on 2027-02-23 v25.0 has expired, so the
/// command warns, and the API then answers code 2635 with the hint to change the version.
#[test]
fn an_expired_version_is_said_and_refused_by_the_same_calendar() {
    let env = env();
    let run = env
        .convctl()
        .env("CONVCTL_TODAY", "2027-02-23")
        .args(&["--sandbox", "--api-version", "v25.0", "plan"])
        .run();
    assert_eq!(run.code, 1, "{run}");
    assert_run!("expired_version", run);
    let older = env
        .convctl()
        .args(&["--sandbox", "--api-version", "v19.0", "plan"])
        .run();
    assert_eq!(older.code, 1, "{older}");
    assert!(
        older.stderr.starts_with(
            "warning: Graph API v19.0 is older than every version this convctl knows (the oldest, v24.0, expires on 2026-11-10): Meta has retired it (code 2635). Switch to v27.0 with --api-version v27.0 (or CONVCTL_API_VERSION=v27.0), or upgrade convctl.\n"
        ),
        "{older}"
    );
}

#[test]
fn a_malformed_day_is_an_error_before_any_call() {
    let env = env();
    let run = env
        .convctl()
        .env("CONVCTL_TODAY", "10/01/2027")
        .args(&["plan"])
        .run();
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.stderr,
        "error: CONVCTL_TODAY=\"10/01/2027\" is not a date: write it as YYYY-MM-DD, or unset it to use today's\n"
    );
    assert_eq!(env.emulator().stats()["requests"], 0);
}
