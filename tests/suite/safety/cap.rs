//! Review of spec section 2, "delete first only when the account is at its 100 limit", against
//! an API where DELETE only archives and archived conversions still count toward the limit
//! (reference: Custom conversions; the emulator's `--delete-archives`). There, deleting first
//! makes no room: apply must notice after the first such delete and not destroy the others.

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
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(
        plan.stdout.matches("delete the old one first").count(),
        3,
        "{plan}"
    );

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert!(apply.stdout.contains("archived"), "says why:\n{apply}");
    assert!(apply.stdout.contains("NOT DONE"), "{apply}");
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
    assert_eq!(plan.code, 0, "{plan}");
    assert!(plan.stdout.contains("delete the old one first"), "{plan}");
    assert!(
        plan.stdout.contains("1 archived"),
        "the plan says archived ones count and deleting may not make room:\n{plan}"
    );
}
