//! End to end, against the in-process emulator: every change kind (create, update, replace,
//! delete by tombstone, prune, unmanaged), the three plan formats (insta snapshots), and
//! convergence: after apply, plan says `No changes.` although the API re-serialises rules.
//! Also: errors that stop a plan (`errors`), the markdown plan's layout under hostile names
//! (`markdown`), and fields the API does not report (`unknown_fields`).

mod errors;
mod frozen;
mod markdown;
mod rules;
mod show;
mod unknown_fields;

use crate::assert_run;
use crate::support::Harness;
use serde_json::json;

const MIXED: &str = r#"
account: act_100
defaults:
  event_source_id: "555"
conversions:
  - name: High value purchase
    custom_event_type: PURCHASE
    default_conversion_value: 100
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
  - name: Thank you
    description: Thank-you page views
    custom_event_type: PURCHASE
    rule: '{"url": {"i_contains": "thank\/you"}}'
  - name: Checkout
    custom_event_type: INITIATED_CHECKOUT
    rule: {or: [{url: {i_contains: /checkout}}, {url: {i_contains: /pay}}]}
  - name: Old spring
    ensure: absent
"#;

fn seed_mixed(env: &Harness) -> Vec<String> {
    env.seed(json!([
        {"account": "act_100", "name": "Thank you", "custom_event_type": "PURCHASE", "event_source_id": "555",
         "rule": {"url": {"i_contains": "thank/you"}}},
        {"account": "act_100", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "event_source_id": "555",
         "rule": {"or": [{"url": {"i_contains": "/checkout"}}]}},
        {"account": "act_100", "name": "Old spring", "custom_event_type": "PURCHASE", "event_source_id": "555",
         "rule": {"url": {"i_contains": "spring"}}},
        {"account": "act_100", "name": "Legacy", "custom_event_type": "LEAD", "event_source_id": "555",
         "rule": {"url": {"i_contains": "legacy"}}},
    ]))
}

#[test]
fn every_change_kind_is_planned_in_three_formats_applied_and_converges() {
    let env = Harness::new();
    let ids = seed_mixed(&env);
    env.write("conversions/acme.yaml", MIXED);

    assert_run!("mixed_plan_text", env.run(&["plan"]));
    assert_run!("mixed_plan_json", env.run(&["plan", "--format", "json"]));
    assert_run!(
        "mixed_plan_markdown",
        env.run(&["plan", "--format", "markdown"])
    );

    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_100 (conversions/acme.yaml) will change:

      # "High value purchase" will be created
      + conversion "High value purchase" {
          + name                     = "High value purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 100
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" (id 23850000000000001) will be updated in place
      ~ conversion "Thank you" {
            id          = "23850000000000001"
          ~ description = "" -> "Thank-you page views"
        }

      # "Checkout" (id 23850000000000002) must be replaced: create the new one, then delete the old one
    -/+ conversion "Checkout" {
            id   = "23850000000000002"
          ~ rule = # forces replacement
                {
                  "or": [
                    {"url": {"i_contains": "/checkout"}},
              +     {"url": {"i_contains": "/pay"}}
                  ]
                }
        }

      # "Old spring" (id 23850000000000003) will be deleted (ensure: absent)
      - conversion "Old spring" {
          - id                       = "23850000000000003"
          - name                     = "Old spring"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - event_source_id          = "555"
          - rule                     = {"url": {"i_contains": "spring"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Legacy" (id 23850000000000004)

    Plan: 1 to create, 1 to update, 1 to replace, 1 to delete.
    act_100: + create "High value purchase": created, id 23850000000000005
    act_100: ~ update "Thank you" (id 23850000000000001): updated
    act_100: -/+ replace "Checkout" (id 23850000000000002): new id 23850000000000006, old id 23850000000000002 deleted
    act_100: - delete "Old spring" (id 23850000000000003, ensure: absent): deleted
    Apply complete: 4 of 4 actions done.
    ----- stderr -----
    "#);
    assert_eq!(
        env.live_names("act_100"),
        ["Checkout", "High value purchase", "Legacy", "Thank you"]
    );
    assert_ne!(
        env.id_of("act_100", "Checkout"),
        ids[1],
        "a replacement makes a new id"
    );
    assert_eq!(
        env.id_of("act_100", "Thank you"),
        ids[0],
        "an update keeps the id"
    );
    let thanks = env
        .live("act_100")
        .into_iter()
        .find(|c| c["name"] == "Thank you")
        .unwrap();
    assert_eq!(thanks["description"], "Thank-you page views");

    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_100 (conversions/acme.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Legacy" (id 23850000000000004)

    No changes.
    ----- stderr -----
    "#);
}

#[test]
fn prune_deletes_what_no_entry_declares() {
    let env = Harness::new();
    seed_mixed(&env);
    env.write(
        "conversions/acme.yaml",
        &MIXED.replace("defaults:", "prune: true\ndefaults:"),
    );
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_100 (conversions/acme.yaml) will change:

      # "High value purchase" will be created
      + conversion "High value purchase" {
          + name                     = "High value purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 100
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" (id 23850000000000001) will be updated in place
      ~ conversion "Thank you" {
            id          = "23850000000000001"
          ~ description = "" -> "Thank-you page views"
        }

      # "Checkout" (id 23850000000000002) must be replaced: create the new one, then delete the old one
    -/+ conversion "Checkout" {
            id   = "23850000000000002"
          ~ rule = # forces replacement
                {
                  "or": [
                    {"url": {"i_contains": "/checkout"}},
              +     {"url": {"i_contains": "/pay"}}
                  ]
                }
        }

      # "Old spring" (id 23850000000000003) will be deleted (ensure: absent)
      - conversion "Old spring" {
          - id                       = "23850000000000003"
          - name                     = "Old spring"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - event_source_id          = "555"
          - rule                     = {"url": {"i_contains": "spring"}}
        }

      # "Legacy" (id 23850000000000004) will be deleted (not declared, prune: true)
      - conversion "Legacy" {
          - id                       = "23850000000000004"
          - name                     = "Legacy"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - event_source_id          = "555"
          - rule                     = {"url": {"i_contains": "legacy"}}
        }

    Plan: 1 to create, 1 to update, 1 to replace, 2 to delete.
    ----- stderr -----
    "#);
    env.run(&["apply", "--auto-approve"]).assert_success();
    assert_eq!(
        env.live_names("act_100"),
        ["Checkout", "High value purchase", "Thank you"]
    );
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_100 (conversions/acme.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

#[test]
fn a_pinned_rename_is_an_update_and_numbers_compare_by_value() {
    let env = Harness::new();
    let ids = env.seed(
        json!([{"account": "act_7", "name": "Old name", "custom_event_type": "LEAD",
        "rule": "{\"url\":{\"i_contains\":\"lead\"}}", "default_conversion_value": 12.0}]),
    );
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_7\nconversions:\n  - name: New name\n    id: \"{}\"\n    custom_event_type: LEAD\n    default_conversion_value: 12\n    rule: {{url: {{i_contains: lead}}}}\n",
            ids[0]
        ),
    );
    // 12 and 12.0 are one value: only the name changes.
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_7 (conversions/a.yaml) will change:

      # "New name" (id 23850000000000001) will be updated in place
      ~ conversion "New name" {
            id   = "23850000000000001"
          ~ name = "Old name" -> "New name"
        }

    Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_7 (conversions/a.yaml) will change:

      # "New name" (id 23850000000000001) will be updated in place
      ~ conversion "New name" {
            id   = "23850000000000001"
          ~ name = "Old name" -> "New name"
        }

    Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.
    act_7: ~ update "New name" (id 23850000000000001): updated
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.id_of("act_7", "New name"), ids[0]);
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_7 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

#[test]
fn account_filter_and_archived_conversions() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Gone", "rule": {"url": {"eq": "x"}}, "custom_event_type": "LEAD", "is_archived": true},
    ]));
    env.write(
        "conversions/two.yaml",
        "account: act_1\nconversions:\n  - name: Gone\n    custom_event_type: LEAD\n    rule: {url: {eq: x}}\n---\naccount: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {eq: b}}\n",
    );
    // The archived "Gone" is not tracked, and it still holds its rule: Meta would refuse to
    // create it anew, so the plan says so before any write.
    assert_run!(env.run(&["plan", "--account", "act_1"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/two.yaml:3:5: error: act_1: "Gone" would be created with the rule of "Gone" (23850000000000001) in act_1, which is archived (Meta keeps archived conversions listed, and their rules held): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Gone
      |     ^^^^
    help: change this entry's rule, or remove "Gone" (23850000000000001) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 1 problem(s) above
    "#);
    // With a new rule it is created; the archived one is named as information. act_2 is left
    // out.
    env.write(
        "conversions/two.yaml",
        "account: act_1\nconversions:\n  - name: Gone\n    custom_event_type: LEAD\n    rule: {url: {eq: y}}\n---\naccount: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {eq: b}}\n",
    );
    assert_run!(env.run(&["plan", "--account", "act_1"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/two.yaml) will change:

      # "Gone" will be created
      + conversion "Gone" {
          + name                     = "Gone"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"eq": "y"}}
        }

      Note: "Gone" (23850000000000001) is archived: Meta keeps it listed and frozen (convctl never edits it); it holds the name of "Gone" (conversions/two.yaml:3:5)

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    assert_run!(env.run(&["plan", "--account", "act_9"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --account act_9 is not declared in the manifests; declared: act_1, act_2
    ");
}
