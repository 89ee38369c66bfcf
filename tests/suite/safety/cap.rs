//! "Delete first only when the account is at its 100 limit" (docs/reconcile.md, "Safety"), against
//! an API where DELETE only archives and archived conversions still count toward the limit
//! (reference: Custom conversions; the emulator's `--delete-archives`). There, deleting first makes
//! no room: apply must notice after the first such delete and not destroy the others.

use crate::assert_run;
use crate::support::Harness;
use serde_json::json;

#[test]
fn at_the_cap_deletes_that_only_archive_stop_after_the_first() {
    let env = Harness::with(convctl::emulator::EmulatorConfig {
        delete_archives: true,
        ..Default::default()
    });
    let seeds: Vec<_> = (0..100)
        .map(|i| {
            json!({"account": "act_1", "name": format!("C{i:03}"), "custom_event_type": "PURCHASE",
                   "rule": {"url": {"i_contains": format!("c{i}")}}})
        })
        .collect();
    env.seed(json!(seeds));
    let mut manifest = String::from("account: act_1\nconversions:\n");
    for i in 0..100 {
        let needle = if i < 3 {
            format!("new{i}")
        } else {
            format!("c{i}")
        };
        manifest.push_str(&format!(
            "  - name: C{i:03}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: {needle}}}}}\n"
        ));
    }
    env.write("conversions/a.yaml", &manifest);

    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "C000" (id 23850000000000001) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C000" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "c0"}} -> {"url": {"i_contains": "new0"}} # forces replacement
        }

      # "C001" (id 23850000000000002) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C001" {
            id   = "23850000000000002"
          ~ rule = {"url": {"i_contains": "c1"}} -> {"url": {"i_contains": "new1"}} # forces replacement
        }

      # "C002" (id 23850000000000003) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C002" {
            id   = "23850000000000003"
          ~ rule = {"url": {"i_contains": "c2"}} -> {"url": {"i_contains": "new2"}} # forces replacement
        }

      Warning: "C000" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

      Warning: "C001" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

      Warning: "C002" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

    Plan: 0 to create, 0 to update, 3 to replace, 0 to delete.
    ----- stderr -----
    "#);

    assert_eq!(
        plan.stdout.matches("delete the old one first").count(),
        3,
        "{plan}"
    );

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "C000" (id 23850000000000001) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C000" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "c0"}} -> {"url": {"i_contains": "new0"}} # forces replacement
        }

      # "C001" (id 23850000000000002) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C001" {
            id   = "23850000000000002"
          ~ rule = {"url": {"i_contains": "c1"}} -> {"url": {"i_contains": "new1"}} # forces replacement
        }

      # "C002" (id 23850000000000003) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C002" {
            id   = "23850000000000003"
          ~ rule = {"url": {"i_contains": "c2"}} -> {"url": {"i_contains": "new2"}} # forces replacement
        }

      Warning: "C000" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

      Warning: "C001" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

      Warning: "C002" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

    Plan: 0 to create, 0 to update, 3 to replace, 0 to delete.
    act_1: FAILED replace "C000" (id 23850000000000001): the API archived id 23850000000000001 instead of deleting it, and archived conversions still count toward the 100 limit of act_1 and hold their rule, so nothing was freed and the new one was not created. The old conversion is archived (restore it in Events Manager if needed)
    act_1: NOT DONE replace "C001" (id 23850000000000002): not started: deleting in act_1 only archives (see "C000"), so it would lose the conversion without freeing anything. Make room in Events Manager, then apply again
    act_1: NOT DONE replace "C002" (id 23850000000000003): not started: deleting in act_1 only archives (see "C000"), so it would lose the conversion without freeing anything. Make room in Events Manager, then apply again
    Apply failed part way: 0 done, 1 failed, 2 not done. Run `convctl apply` again to finish: it picks up where this stopped, without duplicates.
    ----- stderr -----
    "#);

    // Only one conversion was lost to the probe; the other two old ones are still live.
    let names = env.live_names("act_1");
    assert_eq!(names.len(), 99, "{names:?}");
    assert!(names.contains(&"C001".to_string()) && names.contains(&"C002".to_string()));
}

#[test]
fn at_the_cap_the_plan_says_archived_ones_count_toward_the_limit() {
    let env = Harness::new();
    let mut seeds: Vec<_> = (0..99)
        .map(|i| {
            json!({"account": "act_1", "name": format!("C{i:03}"), "custom_event_type": "PURCHASE",
                   "rule": {"url": {"i_contains": format!("c{i}")}}})
        })
        .collect();
    seeds.push(
        json!({"account": "act_1", "name": "Gone", "custom_event_type": "PURCHASE",
                      "rule": {"url": {"i_contains": "gone"}}, "is_archived": true}),
    );
    env.seed(json!(seeds));
    let mut manifest = String::from("account: act_1\nconversions:\n");
    for i in 0..99 {
        let needle = if i == 0 {
            "new".to_string()
        } else {
            format!("c{i}")
        };
        manifest.push_str(&format!(
            "  - name: C{i:03}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: {needle}}}}}\n"
        ));
    }
    env.write("conversions/a.yaml", &manifest);
    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "C000" (id 23850000000000001) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "C000" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "c0"}} -> {"url": {"i_contains": "new"}} # forces replacement
        }

      Warning: act_1 counts 1 archived conversion(s) toward its 100 limit: if deleting only archives on this account, deleting first makes no room, and apply stops after the first such delete

      Warning: "C000" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    ----- stderr -----
    "#);
}
