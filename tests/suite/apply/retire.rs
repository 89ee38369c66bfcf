//! When Meta refuses to delete (most apps may not delete custom conversions: code 200), convctl
//! retires instead: the conversion is renamed `[retired YYYY-MM-DD] Name` with a description
//! saying when and why, and left for a person to archive in Events Manager. A second apply then
//! has nothing to do.

use crate::support::{Harness, redact};
use convctl::emulator::EmulatorConfig;
use serde_json::json;

fn refusing() -> Harness {
    Harness::with(EmulatorConfig {
        refuse_deletes: true,
        ..EmulatorConfig::default()
    })
}

/// Today's date (UTC, as apply names retired conversions) and the run's volatile parts, for
/// snapshots.
fn redacted(text: &str, env: &Harness) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    redact(text, env.dir.path()).replace(&today, "[today]")
}

const CHECKOUT: &str = "account: act_1\nconversions:\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /pay}}\n";

#[test]
fn a_replacement_whose_delete_is_refused_retires_the_old_one_and_the_next_apply_does_nothing() {
    let env = refusing();
    let old = env.seed(
        json!([{"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT",
        "rule": {"url": {"i_contains": "/checkout"}}, "description": "Checkout page"}]),
    );
    env.write("conversions/a.yaml", CHECKOUT);

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    insta::assert_snapshot!("refused_delete_apply", redacted(&apply.stdout, &env));
    insta::assert_snapshot!("refused_delete_apply_stderr", redacted(&apply.stderr, &env));

    let live = env.live("act_1");
    let retired = live.iter().find(|c| c["id"] == json!(old[0])).unwrap();
    let name = retired["name"].as_str().unwrap();
    assert!(
        name.starts_with("[retired ") && name.ends_with("] Checkout"),
        "{name}"
    );
    let description = retired["description"].as_str().unwrap();
    assert!(
        description.contains("Archive it in Events Manager")
            && description.ends_with("Was: Checkout page"),
        "{description}"
    );
    assert_eq!(
        retired["rule"],
        json!(r#"{"url":{"i_contains":"/checkout"}}"#),
        "nothing else touched"
    );

    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again}");
    insta::assert_snapshot!("refused_delete_second_apply", redacted(&again.stdout, &env));
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
}
