//! `convctl apply`: a failure part way is reported and finished by running apply again; and
//! saved plan files, damaged or edited, are refused or applied safely (`plan_files`).

mod plan_files;
mod progress;
mod retire;
mod verify;

use crate::assert_run;
use crate::support::Harness;
use serde_json::json;

#[test]
fn a_failure_part_way_is_reported_and_finished_by_running_apply_again() {
    // The emulator's cap is lower than the real one, and an unmanaged conversion takes a
    // place: the third create fails (code 100, limit) while the other two succeed.
    let env = Harness::with(convctl::emulator::EmulatorConfig {
        cap: 3,
        ..Default::default()
    });
    let legacy = env.seed(json!([{"account": "act_1", "name": "legacy", "custom_event_type": "LEAD", "rule": {"url": {"eq": "l"}}}]));
    let entries: String = (1..=3)
        .map(|i| format!("  - name: c{i}\n    custom_event_type: LEAD\n    rule: {{url: {{i_contains: p{i}}}}}\n"))
        .collect();
    env.write(
        "conversions/a.yaml",
        &format!("account: act_1\nconversions:\n{entries}"),
    );
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "c1" will be created
      + conversion "c1" {
          + name                     = "c1"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "p1"}}
        }

      # "c2" will be created
      + conversion "c2" {
          + name                     = "c2"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "p2"}}
        }

      # "c3" will be created
      + conversion "c3" {
          + name                     = "c3"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "p3"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "legacy" (id 23850000000000001)

    Plan: 3 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "c1": created, id 23850000000000002
    act_1: + create "c2": created, id 23850000000000003
    act_1: FAILED create "c3": act_1, conversion "c3": (#100) This ad account has reached its limit of 3 custom conversions: delete one before creating another [code 100, subcode 1760005, fbtrace_id [trace id]]; Meta says: Custom conversion limit reached: Ad accounts are limited to 100 custom conversions.
    help: an ad account holds at most 100 custom conversions: delete unused ones first
    Apply failed part way: 2 done, 1 failed, 0 not done. Run `convctl apply` again to finish: it picks up where this stopped, without duplicates.
    ----- stderr -----
    "#);
    assert_eq!(env.live("act_1").len(), 3);
    // Someone makes room by hand; apply again creates only what is missing, no duplicates.
    let deleted = env.graph(reqwest::Method::DELETE, &legacy[0], &[]);
    assert_eq!(deleted["success"], true, "{deleted}");
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "c3" will be created
      + conversion "c3" {
          + name                     = "c3"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "p3"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "c3": created, id 23850000000000004
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.live_names("act_1"), ["c1", "c2", "c3"]);
}
