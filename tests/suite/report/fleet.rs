//! A small fleet with one conversion of every kind, judged at a fixed instant: the text, JSON
//! and markdown reports whole, and the exit codes.

use crate::assert_run;
use crate::support::Harness;
use crate::support::snapshot::filtered;
use convctl::emulator::EmulatorConfig;
use convctl::model::AdAccountId;
use serde_json::{Value, json};

/// The report's clock in these tests: 2026-12-06T08:00:00Z.
pub const NOW: &str = "2026-12-06T08:00:00Z";
const NOW_UNIX: i64 = 1_796_544_000;
const DAY: i64 = 86_400;

/// Unix seconds `days` before [`NOW`].
pub fn ago(days: i64) -> i64 {
    NOW_UNIX - days * DAY
}

/// A name no page may run: it is escaped wherever it is shown.
pub const HOSTILE: &str = "<script>alert(1)</script> & \"Quotes\"";

/// Three accounts: act_1 with a conversion of every kind and a change to plan; act_2 in
/// order; act_3 using the `ecommerce` set and lacking one of its entries.
/// Only these accounts exist: another one declared cannot be read.
pub fn fleet() -> Harness {
    let env = Harness::with(EmulatorConfig {
        accounts: ["act_1", "act_2", "act_3"]
            .iter()
            .map(|a| AdAccountId::parse(a).unwrap())
            .collect(),
        ..EmulatorConfig::default()
    });
    env.write(
        "conversions/shop.yaml",
        r#"account: act_1
defaults: {event_source_id: "55"}
conversions:
  - name: Purchase
    description: Every purchase
    custom_event_type: PURCHASE
    rule: {event: {eq: Purchase}}
  - name: Lead
    custom_event_type: LEAD
    rule: {event: {eq: Lead}}
  - name: Checkout
    custom_event_type: INITIATED_CHECKOUT
    expect_fire_within: 2d
    rule: {url: {i_contains: /checkout}}
  - name: Black Friday
    custom_event_type: PURCHASE
    expect_fire_within: "off"
    rule: {url: {i_contains: /black-friday}}
  - name: Diabetes test kit
    custom_event_type: PURCHASE
    rule: {url: {i_contains: /kit}}
  - name: '<script>alert(1)</script> & "Quotes"'
    custom_event_type: LEAD
    rule: {url: {i_contains: /hostile}}
---
account: act_2
defaults: {event_source_id: "55"}
conversions:
  - name: Signup
    custom_event_type: COMPLETE_REGISTRATION
    rule: {event: {eq: CompleteRegistration}}
"#,
    );
    env.write(
        "conversions/sets.yaml",
        r#"set: ecommerce
conversions:
  - name: Purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {url: {i_contains: shop-three}}]}
  - name: Add to cart
    custom_event_type: ADD_TO_CART
    rule: {and: [{event: {eq: AddToCart}}, {url: {i_contains: shop-three}}]}
---
account: act_3
defaults: {event_source_id: "77"}
use:
  - set: ecommerce
"#,
    );
    let rule = |r: Value| r;
    env.seed(json!([
        {"account": "act_1", "name": "Purchase", "description": "Old words", "custom_event_type": "PURCHASE",
         "event_source_id": "55", "rule": rule(json!({"event": {"eq": "Purchase"}})),
         "creation_time": ago(90), "first_fired_time": ago(85), "last_fired_time": ago(1),
         "daily_counts": {"2026-12-05": 12, "2026-12-04": 9, "2026-11-20": 3}},
        {"account": "act_1", "name": "Lead", "custom_event_type": "LEAD", "event_source_id": "55",
         "rule": {"event": {"eq": "Lead"}}, "creation_time": ago(20)},
        {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/checkout"}}, "creation_time": ago(200),
         "first_fired_time": ago(199), "last_fired_time": ago(5), "daily_counts": {"2026-12-01": 40}},
        {"account": "act_1", "name": "Black Friday", "custom_event_type": "PURCHASE", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/black-friday"}}, "creation_time": ago(300)},
        {"account": "act_1", "name": "Diabetes test kit", "custom_event_type": "PURCHASE", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/kit"}}, "creation_time": ago(60), "first_fired_time": ago(59),
         "last_fired_time": ago(40), "is_unavailable": true},
        {"account": "act_1", "name": HOSTILE, "custom_event_type": "LEAD", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/hostile"}}, "creation_time": ago(30)},
        {"account": "act_1", "name": "Made by hand", "custom_event_type": "OTHER", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/by-hand"}}, "creation_time": ago(100),
         "first_fired_time": ago(99), "last_fired_time": ago(45)},
        {"account": "act_1", "name": "Old campaign", "custom_event_type": "OTHER", "event_source_id": "55",
         "rule": {"url": {"i_contains": "/old"}}, "creation_time": ago(400), "is_archived": true},
        {"account": "act_1", "name": "[retired 2026-11-30] Spring sale", "custom_event_type": "OTHER",
         "event_source_id": "55", "rule": {"url": {"i_contains": "/spring"}}, "creation_time": ago(120)},
        {"account": "act_2", "name": "Signup", "custom_event_type": "COMPLETE_REGISTRATION", "event_source_id": "55",
         "rule": {"event": {"eq": "CompleteRegistration"}}, "creation_time": ago(50),
         "first_fired_time": ago(49), "last_fired_time": ago(0), "daily_counts": {"2026-12-06": 2}},
        {"account": "act_3", "name": "Purchase", "custom_event_type": "PURCHASE", "event_source_id": "77",
         "rule": {"and": [{"event": {"eq": "Purchase"}}, {"url": {"i_contains": "shop-three"}}]},
         "creation_time": ago(10), "first_fired_time": ago(9), "last_fired_time": ago(2),
         "daily_counts": {"2026-11-27": 4, "2026-11-29": 6, "2026-12-04": 5}}
    ]));
    env
}

/// `convctl report ARGS` at [`NOW`].
pub fn report(env: &Harness, args: &[&str]) -> crate::support::Run {
    env.convctl()
        .env("CONVCTL_NOW", NOW)
        .arg("report")
        .args(args)
        .run()
}

#[test]
fn the_text_report_lists_every_finding_with_its_evidence() {
    let env = fleet();
    let run = report(&env, &[]);
    assert_eq!(run.code, 0, "{run}");
    insta::assert_snapshot!("fleet_text", filtered(&run, &run.stdout));
}

#[test]
fn the_json_report_has_a_version_and_each_finding_its_evidence() {
    let env = fleet();
    let run = report(&env, &["--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["generated_at"], NOW);
    let kinds: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("flagged", "Diabetes test kit"),
            ("never_fired", HOSTILE),
            ("never_fired", "Lead"),
            ("stopped_firing", "Checkout"),
            ("stopped_firing", "Made by hand"),
            ("unmanaged", "Made by hand"),
            ("retired", "[retired 2026-11-30] Spring sale"),
            ("archived", "Old campaign"),
        ]
    );
    let lead = &doc["findings"][2];
    assert_eq!(lead["account"], "act_1");
    assert!(
        lead["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert_eq!(
        lead["evidence"],
        json!({"creation_time": "2026-11-16T08:00:00Z", "first_fired_time": null,
               "last_fired_time": null, "threshold": "7d", "days": 20,
               "is_unavailable": false, "is_archived": false})
    );
    assert_eq!(
        doc["findings"][3]["evidence"]["threshold"], "2d",
        "Checkout's own"
    );
    assert_eq!(doc["summary"]["drift"]["update"], 1);
    assert_eq!(
        doc["summary"]["drift"]["create"], 1,
        "act_3 lacks Add to cart"
    );
    assert_eq!(doc["accounts"][0]["account"], "act_1", "problems first");
    assert_eq!(
        doc["accounts"][0]["cap"],
        json!({"live": 9, "archived": 1, "retired": 1, "limit": 100, "headroom": 91})
    );
    assert_eq!(doc["sets"][0]["set"], "ecommerce");
    assert_eq!(
        doc["sets"][0]["accounts"][0]["missing"],
        json!(["Add to cart"])
    );
    insta::assert_snapshot!("fleet_json", filtered(&run, &run.stdout));
}

#[test]
fn the_markdown_report_is_bounded_and_keeps_the_counts() {
    let env = fleet();
    let run = report(&env, &["--format", "markdown"]);
    assert_eq!(run.code, 0, "{run}");
    insta::assert_snapshot!("fleet_markdown", filtered(&run, &run.stdout));
    let short = report(&env, &["--format", "markdown", "--max-chars", "1000"]);
    assert_eq!(short.code, 0, "{short}");
    assert!(short.stdout.len() <= 1500, "{}", short.stdout.len());
    assert!(
        short.stdout.contains("never fired (`never_fired`) | 2 |"),
        "{short}"
    );
    assert!(short.stdout.contains("not detailed here"), "{short}");
    assert!(!short.stdout.contains("<script>"), "{short}");
}

#[test]
fn the_html_report_is_one_page_with_each_finding_in_words_and_a_sparkline_a_conversion() {
    let env = fleet();
    let run = report(&env, &["--format", "html", "--stats"]);
    assert_eq!(run.code, 0, "{run}");
    insta::assert_snapshot!("fleet_html", filtered(&run, &run.stdout));
}

#[test]
fn fail_on_exits_2_for_the_kinds_named_and_0_otherwise() {
    let env = fleet();
    // Each prints the report and warnings of a plain run (the report is `fleet_text`); what
    // differs is the exit code.
    let mut base = report(&env, &[]);
    for (kinds, code) in [
        ("never_fired", 2),
        ("flagged,archived", 2),
        ("drift", 2),
        ("retired", 2),
        ("stopped_firing,unmanaged", 2),
    ] {
        let run = report(&env, &["--fail-on", kinds]);
        assert_eq!(
            (run.code, &run.stdout, &run.stderr),
            (code, &base.stdout, &base.stderr),
            "--fail-on {kinds}"
        );
    }
    base.stdout = "[the report]\n".to_string();
    assert_run!(base, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    [the report]
    ----- stderr -----
    conversions/shop.yaml:7:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
      |
    7 |     rule: {event: {eq: Purchase}}
      |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:10:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    10 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:31:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    31 |     rule: {event: {eq: CompleteRegistration}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
    let calm = report(
        &env,
        &[
            "--account",
            "act_2",
            "--fail-on",
            "never_fired,drift,flagged",
        ],
    );
    assert_run!(calm, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    Conversion health, 2026-12-06 08:00 UTC
    1 account(s), 1 live conversion(s), 1 firing
    Findings: no findings
    Drift: none
    Thresholds: never fired after 7d, stopped firing after 30d, unless an entry sets expect_fire_within

    act_2  cap 1/100: 1 conversion(s), nothing to report
    ----- stderr -----
    conversions/shop.yaml:7:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
      |
    7 |     rule: {event: {eq: Purchase}}
      |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:10:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    10 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:31:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    31 |     rule: {event: {eq: CompleteRegistration}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
    assert_run!(report(&env, &["--fail-on", "dead"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value 'dead' for '--fail-on <KIND,...>': `dead` is no kind of finding; name any of flagged, never_fired, stopped_firing, unmanaged, retired, archived, drift

    For more information, try '--help'.
    ");
}

#[test]
fn the_flag_overrides_every_threshold() {
    let env = fleet();
    let run = report(&env, &["--format", "json", "--expect-fire-within", "365d"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let fired: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .filter(|k| *k == "never_fired" || *k == "stopped_firing")
        .collect();
    assert!(fired.is_empty(), "{fired:?}");
    assert_eq!(doc["thresholds"]["overridden_by_flag"], "365d");
    let off = report(&env, &["--format", "json", "--expect-fire-within", "1h"]);
    let doc: Value = serde_json::from_str(&off.stdout).unwrap();
    let black_friday = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Black Friday");
    assert!(black_friday, "the flag overrides `off` too");
    assert_run!(
        report(&env, &["--expect-fire-within", "2 fortnights"]),
        @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '2 fortnights' for '--expect-fire-within <DURATION|off>': `2 fortnights` is not a duration (failed to parse input in the "friendly" duration format: expected to find unit designator suffix (e.g., `years` or `secs`) after parsing integer); write a duration such as 90s, 10m, 36h or 2d, or `off`

    For more information, try '--help'.
    "#
    );
}

#[test]
fn a_report_writes_files_by_their_extension_from_one_read() {
    let env = fleet();
    let lists = || {
        env.stats()["by_route"]["GET /act_{id}/customconversions"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = lists();
    let plan = env.run(&["drift"]);
    assert_eq!(plan.code, 2, "{plan}");
    let by_drift = lists() - before;
    let before = lists();
    let mut run = report(
        &env,
        &[
            "--format",
            "markdown",
            "--out",
            "out/report.html",
            "--out",
            "out/report.json",
        ],
    );
    assert_eq!(
        lists() - before,
        by_drift,
        "the same reads as drift, for every output"
    );
    // Each output is the report of its format.
    let html = std::fs::read_to_string(env.path("out/report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    let json = std::fs::read_to_string(env.path("out/report.json")).unwrap();
    assert_eq!(json, report(&env, &["--format", "json"]).stdout);
    assert_eq!(
        run.stdout,
        report(&env, &["--format", "markdown"]).stdout,
        "{run}"
    );
    let stdout = std::mem::replace(&mut run.stdout, "[the markdown report]\n".to_string());
    assert!(stdout.starts_with("## Conversion health"), "{stdout}");
    // The size of each file is the page's business, not this test's.
    (run.filters).push((r"\([0-9]+ bytes\)".into(), "([size] bytes)".into()));
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    [the markdown report]
    ----- stderr -----
    conversions/shop.yaml:7:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
      |
    7 |     rule: {event: {eq: Purchase}}
      |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:10:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    10 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    conversions/shop.yaml:31:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time")
       |
    31 |     rule: {event: {eq: CompleteRegistration}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    Wrote the report to out/report.html ([size] bytes).
    Wrote the report to out/report.json ([size] bytes).
    "#);
    assert_run!(report(&env, &["--out", "report.pdf"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --out report.pdf: name the file by its format: .html, .json, .md or .txt
    ");
}

#[test]
fn an_account_that_cannot_be_read_is_named_on_top_and_the_exit_is_1() {
    let env = fleet();
    env.write("conversions/gone.yaml", "account: act_9\nconversions: []\n");
    let run = report(&env, &["--format", "json", "--fail-on", "never_fired"]);
    // Errors come before --fail-on: exit 1.
    assert_run!("unreadable_account", run);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["accounts"][0]["account"], "act_9", "unreadable first");
    assert!(
        doc["accounts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("cannot list"),
        "{}",
        doc["accounts"][0]
    );
    assert_eq!(doc["summary"]["accounts_unreadable"], 1);
    assert_eq!(
        doc["accounts"][1]["account"], "act_1",
        "the others are still judged"
    );
}
