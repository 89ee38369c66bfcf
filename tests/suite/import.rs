//! `convctl import` in the GitOps walk-through, scripted: an account managed by hand is
//! imported (ids pinned, rules as YAML, never overwriting), the manifest is edited, planned,
//! applied; a manual change made over the API afterwards shows up as drift (text, json,
//! markdown), and apply puts it back.

use crate::assert_run;
use crate::support::Harness;
use serde_json::json;

#[test]
fn import_edit_plan_apply_then_drift_after_a_manual_change() {
    let env = Harness::new();
    // Conversions made by hand, over the API, as in Events Manager.
    let created = env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Purchase over 100"),
            (
                "rule",
                r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            ),
            ("custom_event_type", "PURCHASE"),
            ("event_source_id", "777"),
            ("default_conversion_value", "12.0"),
        ],
    );
    let purchase_id = created["id"].as_str().unwrap().to_string();
    env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Thank you"),
            ("rule", r#"{"url":{"i_contains":"thank\/you"}}"#),
            ("custom_event_type", "LEAD"),
            ("description", "old text"),
        ],
    );

    // 1. import: one manifest, ids pinned, rules as YAML mappings; plan on it: no changes.
    assert_run!(env.run(&["import", "act_42", "--out", "conversions"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Wrote conversions/act_42.yaml (2 conversions, ids pinned).
    ----- stderr -----
    ");
    let path = env.path("conversions/act_42.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!("imported_manifest", yaml);
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
    // Importing again never overwrites.
    assert_run!(env.run(&["import", "act_42", "--out", "conversions"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: conversions/act_42.yaml already exists; convctl import never overwrites a manifest: move it away or pass another --out
    ");

    // 2. edit: a description, a rule (replacement) and a new conversion.
    let edited = yaml
        .replace("old text", "Thank-you page")
        .replace("gt: 100", "gt: 150")
        + "- name: Lead form\n  custom_event_type: LEAD\n  rule:\n    and:\n      - event: {eq: Lead}\n      - url: {i_contains: /contact}\n";
    std::fs::write(&path, edited).unwrap();
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_42 (conversions/act_42.yaml) will change:

      # "Purchase over 100" (id 23850000000000001) must be replaced: create the new one, then delete the old one
    -/+ conversion "Purchase over 100" {
            id   = "23850000000000001"
          ~ rule = # forces replacement
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
              -     {"value": {"gt": 100}}
              +     {"value": {"gt": 150}}
                  ]
                }
        }

      # "Thank you" (id 23850000000000002) will be updated in place
      ~ conversion "Thank you" {
            id          = "23850000000000002"
          ~ description = "old text" -> "Thank-you page"
        }

      # "Lead form" will be created
      + conversion "Lead form" {
          + name                     = "Lead form"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Lead"}},
                    {"url": {"i_contains": "/contact"}}
                  ]
                }
        }

    Plan: 1 to create, 1 to update, 1 to replace, 0 to delete.
    ----- stderr -----
    "#);

    // 3. apply: done, and the pinned replacement says which id to pin.
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml) will change:

      # "Purchase over 100" (id 23850000000000001) must be replaced: create the new one, then delete the old one
    -/+ conversion "Purchase over 100" {
            id   = "23850000000000001"
          ~ rule = # forces replacement
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
              -     {"value": {"gt": 100}}
              +     {"value": {"gt": 150}}
                  ]
                }
        }

      # "Thank you" (id 23850000000000002) will be updated in place
      ~ conversion "Thank you" {
            id          = "23850000000000002"
          ~ description = "old text" -> "Thank-you page"
        }

      # "Lead form" will be created
      + conversion "Lead form" {
          + name                     = "Lead form"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Lead"}},
                    {"url": {"i_contains": "/contact"}}
                  ]
                }
        }

    Plan: 1 to create, 1 to update, 1 to replace, 0 to delete.
    act_42: -/+ replace "Purchase over 100" (id 23850000000000001): new id 23850000000000003, old id 23850000000000001 deleted
    act_42: the manifest pins the old id at conversions/act_42.yaml:6:3: change it to id: "23850000000000003"
    act_42: ~ update "Thank you" (id 23850000000000002): updated
    act_42: + create "Lead form": created, id 23850000000000004
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    "#);
    let new_id = env.id_of("act_42", "Purchase over 100");
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace(&purchase_id, &new_id),
    )
    .unwrap();
    assert_run!(env.run(&["drift"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml): in sync.

    No drift: live accounts match the manifests.
    ----- stderr -----
    ");

    // 4. someone renames a conversion and changes its value by hand: drift, field by field.
    let thanks = env.id_of("act_42", "Thank you");
    env.graph(
        reqwest::Method::POST,
        &thanks,
        &[
            ("name", "Thanks (edited)"),
            ("default_conversion_value", "5"),
        ],
    );
    assert_run!("drift_text", env.run(&["drift"]));
    assert_run!("drift_json", env.run(&["drift", "--format", "json"]));
    assert_run!(
        "drift_markdown",
        env.run(&["drift", "--format", "markdown"])
    );

    // 5. apply puts it back.
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml) will change:

      # "Thank you" (id 23850000000000002) will be updated in place
      ~ conversion "Thank you" {
            id                       = "23850000000000002"
          ~ name                     = "Thanks (edited)" -> "Thank you"
          ~ default_conversion_value = 5 -> 0
        }

    Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.
    act_42: ~ update "Thank you" (id 23850000000000002): updated
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_run!(env.run(&["drift"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml): in sync.

    No drift: live accounts match the manifests.
    ----- stderr -----
    ");
}

/// A conversion convctl retired (renamed `[retired ...]`, waiting to be archived) is left out of
/// an import, named in a warning; the plan on the result has nothing to do.
#[test]
fn retired_conversions_are_left_out_of_an_import() {
    let env = Harness::new();
    let ids = env.seed(json!([
        {"account": "act_43", "name": "Purchase", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/thanks"}}},
        {"account": "act_43", "name": "[retired 2026-11-20] Purchase", "custom_event_type": "PURCHASE",
         "rule": {"url": {"i_contains": "/old-thanks"}},
         "description": "Retired by convctl on 2026-11-20: Meta refused to delete it (this app may not delete custom conversions). Archive it in Events Manager."},
    ]));
    assert_run!(env.run(&["import", "act_43", "--out", "conversions"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Wrote conversions/act_43.yaml (1 conversions, ids pinned).
    ----- stderr -----
    warning: act_43: 1 conversion(s) convctl retired are left out (ids 23850000000000002): archive them in Events Manager
    ");
    let yaml = std::fs::read_to_string(env.path("conversions/act_43.yaml")).unwrap();
    assert!(!yaml.contains("[retired"), "{yaml}");
    assert!(yaml.contains(&ids[0]), "{yaml}");
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_43 (conversions/act_43.yaml): no changes.

      Retired (1): renamed by convctl instead of deleted; they still count events and toward the limit:
        ~ "[retired 2026-11-20] Purchase" (id 23850000000000002): retired: archive it in Events Manager

      Note: act_43: Meta refused to delete one before: convctl retired "[retired 2026-11-20] Purchase" (23850000000000002) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

    No changes.
    ----- stderr -----
    "#);
}
