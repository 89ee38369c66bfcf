//! When Meta refuses to delete (most apps may not delete custom conversions: code 200), convctl
//! retires instead: the conversion is renamed `[retired YYYY-MM-DD] Name` with a description
//! saying when and why, and left for a person to archive in Events Manager. A second apply then
//! has nothing to do.

use crate::assert_run;
use crate::support::{Harness, Run};
use convctl::emulator::EmulatorConfig;
use serde_json::json;

fn refusing() -> Harness {
    Harness::with(EmulatorConfig {
        refuse_deletes: true,
        ..EmulatorConfig::default()
    })
}

/// `convctl ARGS` against the harness, today's date shown as `[today]` in snapshots.
fn run(env: &Harness, args: &[&str]) -> Run {
    env.run_dated(args)
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

    assert_run!(run(&env, &["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout" (id 23850000000000001) must be replaced: create the new one, then delete the old one
    -/+ conversion "Checkout" {
            id          = "23850000000000001"
          ~ description = "Checkout page" -> ""
          ~ rule        = {"url": {"i_contains": "/checkout"}} -> {"url": {"i_contains": "/pay"}} # forces replacement
        }

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    act_1: -/+ replace "Checkout" (id 23850000000000001): new id 23850000000000002, old id 23850000000000001 retired: renamed "[retired [today]] Checkout" (this app may not delete custom conversions: Meta refused a delete in this account); archive it in Events Manager
    Apply complete: 1 of 1 actions done (0 conversion(s) deleted, 1 retired instead of deleted: archive the retired ones in Events Manager).
    ----- stderr -----
    warning: Meta refused 1 delete(s) in act_1 (this app may not delete custom conversions, whatever the token's permissions); convctl retired 1 of them instead: renamed "[retired YYYY-MM-DD] ...", to archive in Events Manager. Later plans of these accounts retire without trying to delete; `deletion: retire` in their manifests says so from the start
    "#);

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

    assert_run!(run(&env, &["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

      Retired (1): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired [today]] Checkout" (id 23850000000000001): retired: archive it in Events Manager

      Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Checkout" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    No changes.
    ----- stderr -----
    "#);
    assert_run!(run(&env, &["plan", "--detailed-exitcode"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

      Retired (1): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired [today]] Checkout" (id 23850000000000001): retired: archive it in Events Manager

      Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Checkout" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    No changes.
    ----- stderr -----
    "#);
}

const RETIRING: &str = "account: act_1\ndeletion: retire\nprune: true\nconversions:\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /pay}}\n  - name: Old\n    ensure: absent\n";

/// `deletion: retire`: the plan says what it renames and why, before any write; apply never
/// tries a delete; the next plan, and drift, list the retired ones and have nothing to do.
#[test]
fn deletion_retire_plans_retirements_and_never_tries_a_delete() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "rule": {"url": {"i_contains": "/checkout"}}},
        {"account": "act_1", "name": "Old", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/old"}}, "description": "Spring"},
        {"account": "act_1", "name": "Hand made", "custom_event_type": "LEAD", "rule": {"url": {"i_contains": "/hand"}}},
    ]));
    env.write("conversions/a.yaml", RETIRING);
    assert_run!(run(&env, &["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout" (id 23850000000000001) must be replaced: create the new one, then retire the old one: renamed "[retired [today]] Checkout" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
    -/+ conversion "Checkout" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "/checkout"}} -> {"url": {"i_contains": "/pay"}} # forces replacement
        }

      # "Old" (id 23850000000000002) will be retired (ensure: absent): renamed "[retired [today]] Old" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
      ~ conversion "Old" {
            id          = "23850000000000002"
          ~ name        = "Old" -> "[retired [today]] Old"
          ~ description = "Spring" -> "Retired by convctl on [today]: its manifest says deletion: retire. Archive it in Events Manager. Was: Spring"
        }

      # "Hand made" (id 23850000000000003) will be retired (not declared, prune: true): renamed "[retired [today]] Hand made" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
      ~ conversion "Hand made" {
            id          = "23850000000000003"
          ~ name        = "Hand made" -> "[retired [today]] Hand made"
          ~ description = "" -> "Retired by convctl on [today]: its manifest says deletion: retire. Archive it in Events Manager."
        }

      Note: act_1 retires instead of deleting (deletion: retire): each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 2 to retire.
    ----- stderr -----
    "#);
    let json = env.run(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["summary"],
        json!({"create": 0, "update": 0, "replace": 1, "delete": 0, "retire": 2, "unmanaged": 0})
    );
    let retire = &doc["accounts"][0]["actions"][1];
    assert_eq!(retire["action"], "retire", "{retire}");
    assert_eq!(retire["retirement"]["because"], "setting", "{retire}");
    assert_eq!(
        doc["accounts"][0]["actions"][0]["retire_old"]["because"],
        "setting"
    );
    assert_run!(
        "deletion_retire_markdown",
        run(&env, &["plan", "--format", "markdown"])
    );

    assert_run!(run(&env, &["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout" (id 23850000000000001) must be replaced: create the new one, then retire the old one: renamed "[retired [today]] Checkout" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
    -/+ conversion "Checkout" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "/checkout"}} -> {"url": {"i_contains": "/pay"}} # forces replacement
        }

      # "Old" (id 23850000000000002) will be retired (ensure: absent): renamed "[retired [today]] Old" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
      ~ conversion "Old" {
            id          = "23850000000000002"
          ~ name        = "Old" -> "[retired [today]] Old"
          ~ description = "Spring" -> "Retired by convctl on [today]: its manifest says deletion: retire. Archive it in Events Manager. Was: Spring"
        }

      # "Hand made" (id 23850000000000003) will be retired (not declared, prune: true): renamed "[retired [today]] Hand made" (deletion: retire), nothing else touched; it counts events until you archive it in Events Manager
      ~ conversion "Hand made" {
            id          = "23850000000000003"
          ~ name        = "Hand made" -> "[retired [today]] Hand made"
          ~ description = "" -> "Retired by convctl on [today]: its manifest says deletion: retire. Archive it in Events Manager."
        }

      Note: act_1 retires instead of deleting (deletion: retire): each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 2 to retire.
    act_1: -/+ replace "Checkout" (id 23850000000000001): new id 23850000000000004, old id 23850000000000001 retired: renamed "[retired [today]] Checkout"; archive it in Events Manager
    act_1: ~ retire "Old" (id 23850000000000002, ensure: absent): retired: renamed "[retired [today]] Old"; archive it in Events Manager
    act_1: ~ retire "Hand made" (id 23850000000000003, prune): retired: renamed "[retired [today]] Hand made"; archive it in Events Manager
    Apply complete: 3 of 3 actions done (0 conversion(s) deleted, 3 retired instead of deleted: archive the retired ones in Events Manager).
    ----- stderr -----
    "#);
    assert!(
        env.stats()["by_route"].get("DELETE /{id}").is_none(),
        "no delete tried"
    );
    let old = env
        .live("act_1")
        .into_iter()
        .find(|c| c["name"].as_str().unwrap().ends_with("] Old"))
        .unwrap();
    assert!(
        old["description"]
            .as_str()
            .unwrap()
            .contains("its manifest says deletion: retire")
            && old["description"]
                .as_str()
                .unwrap()
                .ends_with("Was: Spring"),
        "{old}"
    );

    assert_run!(run(&env, &["plan", "--detailed-exitcode"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

      Retired (3): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired [today]] Checkout" (id 23850000000000001): retired: archive it in Events Manager
        ~ "[retired [today]] Hand made" (id 23850000000000003): retired: archive it in Events Manager
        ~ "[retired [today]] Old" (id 23850000000000002): retired: archive it in Events Manager

      Note: act_1 retires instead of deleting (deletion: retire): each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    No changes.
    ----- stderr -----
    "#);
    assert_run!(run(&env, &["drift"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): in sync.

      Retired (3): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired [today]] Checkout" (id 23850000000000001): retired: archive it in Events Manager
        ~ "[retired [today]] Hand made" (id 23850000000000003): retired: archive it in Events Manager
        ~ "[retired [today]] Old" (id 23850000000000002): retired: archive it in Events Manager

      Note: act_1 retires instead of deleting (deletion: retire): each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    No drift: live accounts match the manifests.
    ----- stderr -----
    "#);

    // Archived in Events Manager, as asked: no longer listed as retired.
    for c in env.live("act_1") {
        if c["name"].as_str().unwrap().starts_with("[retired ") {
            env.archive(c["id"].as_str().unwrap());
        }
    }
    let done = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(done.code, 0, "{done}");
    assert!(!done.stdout.contains("Retired ("), "{done}");
}

/// A refusal learnt from a conversion retired earlier: the next plan retires before trying,
/// and says how it knows.
#[test]
fn a_learnt_refusal_makes_the_next_plan_retire() {
    let env = refusing();
    env.seed(json!([
        {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "rule": {"url": {"i_contains": "/checkout"}}},
        {"account": "act_1", "name": "Spring", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/spring"}}},
    ]));
    env.write(
        "conversions/a.yaml",
        &format!("{CHECKOUT}  - name: Spring\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /spring}}}}\n"),
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    env.write(
        "conversions/a.yaml",
        &format!("{CHECKOUT}  - name: Spring\n    ensure: absent\n"),
    );
    assert_run!(run(&env, &["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Spring" (id 23850000000000002) will be retired (ensure: absent): renamed "[retired [today]] Spring" (this app may not delete custom conversions here), nothing else touched; it counts events until you archive it in Events Manager
      ~ conversion "Spring" {
            id          = "23850000000000002"
          ~ name        = "Spring" -> "[retired [today]] Spring"
          ~ description = "" -> "Retired by convctl on [today]: Meta refused to delete it (this app may not delete custom conversions). Archive it in Events Manager."
        }

      Retired (1): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired [today]] Checkout" (id 23850000000000001): retired: archive it in Events Manager

      Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Checkout" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to retire.
    ----- stderr -----
    "#);
    let deletes = env.stats()["by_route"]["DELETE /{id}"].clone();
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert_eq!(
        env.stats()["by_route"]["DELETE /{id}"],
        deletes,
        "not tried again"
    );
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}
