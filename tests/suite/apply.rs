//! `convctl apply`: a failure part way is reported and finished by running apply again; and
//! saved plan files, damaged or edited, are refused or applied safely (`plan_files`).

mod plan_files;
mod progress;
mod verify;

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
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert!(
        apply.stdout.contains("2 done, 1 failed, 0 not done"),
        "{apply}"
    );
    assert!(apply.stdout.contains("FAILED create \"c"), "{apply}");
    assert!(
        apply.stdout.contains("limit of 3 custom conversions"),
        "{apply}"
    );
    assert!(
        apply.stdout.contains("Run `convctl apply` again to finish"),
        "{apply}"
    );
    assert_eq!(env.live("act_1").len(), 3);
    // Someone makes room by hand; apply again creates only what is missing, no duplicates.
    let deleted = env.graph(reqwest::Method::DELETE, &legacy[0], &[]);
    assert_eq!(deleted["success"], true, "{deleted}");
    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        again
            .stdout
            .contains("Apply complete: 1 of 1 actions done."),
        "{again}"
    );
    assert_eq!(env.live_names("act_1"), ["c1", "c2", "c3"]);
}
