//! One rule per account, end to end against an emulator that refuses a second conversion with
//! a rule the account holds (`--unique-rules`): the plan orders the delete that frees a rule
//! before the create and says so; where nothing convctl may do frees it, the plan refuses
//! before any write; and a refusal the plan could not foresee (another event source) is
//! reported with its explanation, never retried.

use crate::support::{Harness, redact};
use convctl::emulator::EmulatorConfig;
use serde_json::json;

/// The run's volatile parts, for snapshots.
fn redacted(text: &str, env: &Harness) -> String {
    redact(text, env.dir.path())
}

fn unique_rules(refuse_deletes: bool) -> Harness {
    Harness::with(EmulatorConfig {
        unique_rules: true,
        refuse_deletes,
        ..EmulatorConfig::default()
    })
}

/// "Checkout" changes only its event type: the new conversion keeps the rule.
const KEEPS_RULE: &str = "account: act_1\nconversions:\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /checkout}}\n";

fn seed_checkout(env: &Harness) -> Vec<String> {
    env.seed(
        json!([{"account": "act_1", "name": "Checkout", "custom_event_type": "PURCHASE",
        "rule": {"url": {"i_contains": "/checkout"}}}]),
    )
}

#[test]
fn a_replacement_that_keeps_its_rule_deletes_first_and_apply_says_what_happened() {
    let env = unique_rules(false);
    let old = seed_checkout(&env);
    env.write("conversions/a.yaml", KEEPS_RULE);
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    insta::assert_snapshot!("keeps_rule_plan", redacted(&plan.stdout, &env));
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert!(
        apply.stdout.contains(&format!("old id {} deleted", old[0])),
        "{apply}"
    );
    assert_eq!(env.live_names("act_1"), ["Checkout"]);
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}

/// Where this app may not delete, the same replacement is impossible: with `deletion: retire`
/// the plan refuses before any write; without it, apply tries the delete first, is refused,
/// changes nothing and says what to change.
#[test]
fn a_replacement_that_keeps_its_rule_where_deletes_are_refused_stops_before_any_write() {
    let env = unique_rules(true);
    seed_checkout(&env);
    env.write(
        "conversions/a.yaml",
        &KEEPS_RULE.replace("account: act_1\n", "account: act_1\ndeletion: retire\n"),
    );
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    insta::assert_snapshot!("keeps_rule_refused", redacted(&plan.stderr, &env));
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert_eq!(env.stats()["writes"], 0, "nothing written");

    env.write("conversions/a.yaml", KEEPS_RULE);
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    insta::assert_snapshot!("keeps_rule_delete_refused", redacted(&apply.stdout, &env));
    assert_eq!(env.stats()["writes"], 0, "nothing written");
    assert_eq!(
        env.live_names("act_1"),
        ["Checkout"],
        "the old one untouched"
    );
}

/// Renaming by a tombstone and a new entry with the same rule: the tombstone's delete runs
/// first. Where Meta refuses it, the old one is retired (its own intent) and the create is not
/// tried; the next plan says, before any write, that the retired one still holds the rule.
#[test]
fn a_delete_that_frees_a_rule_runs_first_and_a_refused_one_is_told_before_the_next_write() {
    const RENAMED: &str = "account: act_1\nconversions:\n  - name: Purchase\n    ensure: absent\n  - name: Purchases\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /thanks}}\n";
    let seed = json!([{"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
        "rule": {"url": {"i_contains": "/thanks"}}}]);
    let env = unique_rules(false);
    env.seed(seed.clone());
    env.write("conversions/a.yaml", RENAMED);
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout.contains(
            "will be deleted (ensure: absent) before the creates: \"Purchases\" needs its rule"
        ),
        "{plan}"
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.live_names("act_1"), ["Purchases"]);

    let env = unique_rules(true);
    env.seed(seed);
    env.write("conversions/a.yaml", RENAMED);
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert!(
        apply
            .stdout
            .contains("NOT DONE create \"Purchases\": not tried: \"Purchase\" (id ")
            && apply
                .stdout
                .contains("holds its rule and was retired instead of deleted"),
        "{apply}"
    );
    let writes = env.stats()["writes"].clone();
    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 1, "{again}");
    assert!(
        again
            .stderr
            .contains("\"Purchases\" would be created with the rule of \"[retired ")
            && again.stderr.contains("a retired conversion keeps its rule"),
        "{again}"
    );
    assert_eq!(env.stats()["writes"], writes, "nothing written");
}

/// On another event source the plan only warns (Meta may accept it); the emulator refuses,
/// and apply reports subcode 1760002 with its explanation, after one attempt.
#[test]
fn a_duplicate_rule_refusal_the_plan_could_not_foresee_is_explained_and_not_retried() {
    let env = unique_rules(false);
    env.seed(
        json!([{"account": "act_1", "name": "Legacy", "custom_event_type": "PURCHASE",
        "event_source_id": "77", "rule": {"url": {"i_contains": "/thanks"}}}]),
    );
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Purchase\n    event_source_id: \"55\"\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /thanks}}\n",
    );
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("they count different event sources (55 and 77), which Meta may accept"),
        "{plan}"
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    insta::assert_snapshot!("duplicate_rule_refused", redacted(&apply.stdout, &env));
    assert_eq!(
        env.stats()["by_route"]["POST /act_{id}/customconversions"],
        1,
        "not retried"
    );
}
