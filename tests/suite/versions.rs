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
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Conversion 000" will be created
      + conversion "Conversion 000" {
          + name                     = "Conversion 000"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/act_1/p0/v0"}}
        }

      # "Conversion 001" will be created
      + conversion "Conversion 001" {
          + name                     = "Conversion 001"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 1
          + rule                     = {"url": {"i_contains": "/act_1/p1/v0"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    let early = env
        .convctl()
        .env("CONVCTL_TODAY", "2026-12-24")
        .args(&["--api-version", "v25.0", "plan"])
        .run();
    assert_run!(early, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Conversion 000" will be created
      + conversion "Conversion 000" {
          + name                     = "Conversion 000"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/act_1/p0/v0"}}
        }

      # "Conversion 001" will be created
      + conversion "Conversion 001" {
          + name                     = "Conversion 001"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 1
          + rule                     = {"url": {"i_contains": "/act_1/p1/v0"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
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
    // Quiet, but the JSON document carries the notice.
    assert_run!(quiet, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "format_version": 1,
      "convctl_version": "[version]",
      "api_version": "v26.0",
      "notices": [
        "Graph API v26.0 may expire on 2027-02-02 (in 23 days): Meta has published no date for it and promises only 90 days after its successor (v27.0, released 2026-11-04); from then on Meta may refuse calls to it (code 2635). Switch to v27.0 with --api-version v27.0 (or CONVCTL_API_VERSION=v27.0), or upgrade convctl."
      ],
      "accounts": [
        {
          "account": "act_1",
          "source": "conversions/a.yaml",
          "live_fingerprint": "d9c6a390c94e7278047782465f35c39f8db3e6d485a9a20e1219dfb6e376fbc7",
          "digest": "944eeaaf94a838cd704093c4bd412586241dfe05201053682833d4d055de9de1",
          "actions": [
            {
              "action": "create",
              "name": "Conversion 000",
              "after": {
                "name": "Conversion 000",
                "description": "",
                "custom_event_type": "PURCHASE",
                "default_conversion_value": 0,
                "rule": {
                  "url": {
                    "i_contains": "/act_1/p0/v0"
                  }
                }
              }
            },
            {
              "action": "create",
              "name": "Conversion 001",
              "after": {
                "name": "Conversion 001",
                "description": "",
                "custom_event_type": "PURCHASE",
                "default_conversion_value": 1,
                "rule": {
                  "url": {
                    "i_contains": "/act_1/p1/v0"
                  }
                }
              }
            }
          ],
          "unmanaged": [],
          "warnings": []
        }
      ],
      "summary": {
        "create": 2,
        "update": 0,
        "replace": 0,
        "delete": 0,
        "retire": 0,
        "unmanaged": 0
      }
    }
    ----- stderr -----
    "#);
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
    assert_run!(run, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: CONVCTL_TODAY="10/01/2027" is not a date: write it as YYYY-MM-DD, or unset it to use today's
    "#);
    assert_eq!(env.emulator().stats()["requests"], 0);
}
