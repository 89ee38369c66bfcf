//! Convergence: every kind of change, applied once, leaves nothing to do (the next plan says
//! `No changes.`). scripts/test runs these tests a second time with
//! `CONVCTL_TEST_REFUSE_DELETES=1`, where the emulator refuses every delete as the real API does
//! to most apps: there every removal (tombstone, prune, duplicate, the old half of a
//! replacement) must end retired instead of deleted, never as a failure, and the next plan
//! must again show no changes. The end state is checked exactly in both profiles.

use crate::assert_run;
use crate::support::profile::refuse_deletes as refuse_deletes_profile;
use crate::support::scenario::{self, Scenario};
use crate::support::{Harness, Run};
use serde_json::{Value, json};

/// Applies, then checks: apply done (exit 0), removals deleted or (refusing deletes) retired as
/// the report says, then a plan with no changes. Returns apply's stdout and that plan's run,
/// which the caller checks whole: refusing deletes, it also lists what was retired (dated
/// `[today]`).
fn apply_and_converge(env: &Harness, removed: usize) -> (String, Run) {
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    let retired = apply.stdout.matches("retired: renamed \"[retired ").count();
    if refuse_deletes_profile() {
        assert_eq!(retired, removed, "every removal retired:\n{apply}");
        assert!(
            removed == 0
                || apply.stdout.contains(&format!(
                    "0 conversion(s) deleted, {removed} retired instead of deleted"
                )),
            "{apply}"
        );
        assert!(
            removed == 0 || apply.stderr.contains("warning: Meta refused"),
            "{apply}"
        );
    } else {
        assert_eq!(retired, 0, "{apply}");
    }
    let plan = env.run_dated(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(plan.last_line(), "No changes.", "{plan}");
    (apply.stdout, plan)
}

/// The names of an account's conversions that are neither archived nor retired, sorted; and
/// how many are retired.
fn names_and_retired(env: &Harness, account: &str) -> (Vec<String>, usize) {
    let names = env.live_names(account);
    let retired = names.iter().filter(|n| n.starts_with("[retired ")).count();
    (
        names
            .into_iter()
            .filter(|n| !n.starts_with("[retired "))
            .collect(),
        retired,
    )
}

/// Retired conversions left where deletes are refused; none otherwise.
fn expected_retired(removed: usize) -> usize {
    if refuse_deletes_profile() { removed } else { 0 }
}

fn purchase(account: &str, name: &str, needle: &str) -> Value {
    json!({"account": account, "name": name, "custom_event_type": "PURCHASE",
        "rule": {"url": {"i_contains": needle}}})
}

fn entry(name: &str, needle: &str) -> String {
    format!(
        "  - name: {name}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: {needle}}}}}\n"
    )
}

#[test]
fn creates_updates_replacements_tombstones_and_prunes_converge() {
    let env = Harness::new();
    env.seed(json!([
        purchase("act_1", "Same", "same"),
        purchase("act_1", "Described", "described"),
        purchase("act_1", "Replaced", "old-rule"),
        purchase("act_1", "Tombstoned", "gone"),
        purchase("act_1", "Pruned", "pruned"),
    ]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_1\nprune: true\nconversions:\n{}{}    description: now described\n{}  - name: Tombstoned\n    ensure: absent\n{}",
            entry("Same", "same"),
            entry("Described", "described"),
            entry("Replaced", "new-rule"),
            entry("Created", "created")
        ),
    );
    // The replacement's old half, the tombstone and the prune.
    let plan = apply_and_converge(&env, 3).1;
    if refuse_deletes_profile() {
        assert_run!(plan, @r#"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

          Retired (3): renamed by convctl instead of deleted; they still count events and toward the limit:
            ~ "[retired [today]] Pruned" (id 23850000000000005): retired: archive it in Events Manager
            ~ "[retired [today]] Replaced" (id 23850000000000003): retired: archive it in Events Manager
            ~ "[retired [today]] Tombstoned" (id 23850000000000004): retired: archive it in Events Manager

          Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Replaced" (23850000000000003) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

        No changes.
        ----- stderr -----
        "#);
    } else {
        assert_run!(plan, @"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----
        ");
    }
    assert_eq!(
        names_and_retired(&env, "act_1"),
        (
            vec![
                "Created".into(),
                "Described".into(),
                "Replaced".into(),
                "Same".into()
            ],
            expected_retired(3)
        )
    );
}

/// Duplicates (two applies that met) and a replacement cut off half way: the extra copy and
/// the old half are removed.
#[test]
fn duplicates_and_an_interrupted_replacement_converge() {
    let env = Harness::new();
    let now = crate::support::now();
    let mut old_half = purchase("act_1", "Half", "old");
    old_half["creation_time"] = json!(now - 100);
    let mut new_half = purchase("act_1", "Half", "new");
    new_half["creation_time"] = json!(now - 50);
    let mut first = purchase("act_1", "Twice", "twice");
    first["creation_time"] = json!(now - 100);
    let mut second = purchase("act_1", "Twice", "twice");
    second["creation_time"] = json!(now - 50);
    env.seed(json!([old_half, new_half, first, second]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_1\nconversions:\n{}{}",
            entry("Half", "new"),
            entry("Twice", "twice")
        ),
    );
    let plan = apply_and_converge(&env, 2).1;
    if refuse_deletes_profile() {
        assert_run!(plan, @r#"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

          Retired (2): renamed by convctl instead of deleted; they still count events and toward the limit:
            ~ "[retired [today]] Half" (id 23850000000000001): retired: archive it in Events Manager
            ~ "[retired [today]] Twice" (id 23850000000000004): retired: archive it in Events Manager

          Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Half" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

        No changes.
        ----- stderr -----
        "#);
    } else {
        assert_run!(plan, @"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----
        ");
    }
    assert_eq!(
        names_and_retired(&env, "act_1"),
        (vec!["Half".into(), "Twice".into()], expected_retired(2))
    );
}

/// A pinned conversion replaced: the next plan accepts the old pin with a warning (the new id
/// has the name) until it is updated, and has nothing to do.
#[test]
fn a_pinned_replacement_converges() {
    let env = Harness::new();
    let ids = env.seed(json!([purchase("act_1", "Pinned", "old")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_1\nconversions:\n{}    id: \"{}\"\n",
            entry("Pinned", "new"),
            ids[0]
        ),
    );
    let (apply, plan) = apply_and_converge(&env, 1);
    if refuse_deletes_profile() {
        assert_run!(plan, @r#"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

          Retired (1): renamed by convctl instead of deleted; they still count events and toward the limit:
            ~ "[retired [today]] Pinned" (id 23850000000000001): retired: archive it in Events Manager

          Warning: "Pinned" is pinned to id 23850000000000001, which convctl retired ("[retired [today]] Pinned": never managed again); 23850000000000002 (same name and declared fields) is taken as its replacement. Update the pin at conversions/a.yaml:3:5 to id: "23850000000000002"

          Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Pinned" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

        No changes.
        ----- stderr -----
        "#);
    } else {
        assert_run!(plan, @r#"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/a.yaml): no changes.

          Warning: "Pinned" is pinned to id 23850000000000001, which no longer exists; 23850000000000002 (same name and declared fields) is taken as its replacement. Update the pin at conversions/a.yaml:3:5 to id: "23850000000000002"

        No changes.
        ----- stderr -----
        "#);
    }
    assert!(apply.contains("change it to id: \""), "{apply}");
    assert_eq!(
        names_and_retired(&env, "act_1"),
        (vec!["Pinned".into()], expected_retired(1))
    );
}

/// A set used by two accounts: an entry's rule changes (a replacement in each) and another is
/// dropped (a prune in each).
#[test]
fn a_set_used_by_two_accounts_converges() {
    let env = Harness::new();
    for account in ["act_1", "act_2"] {
        env.seed(json!([
            purchase(account, "Lead", &format!("{account}/lead")),
            purchase(account, "Dropped", &format!("{account}/dropped")),
        ]));
        env.write(
            &format!("conversions/{account}.yaml"),
            &format!("account: {account}\nprune: true\nuse:\n  - set: basics\n    params: {{site: {account}}}\n"),
        );
    }
    env.write(
        "conversions/basics.yaml",
        "set: basics\nparams: [site]\nconversions:\n  - name: Lead\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: \"${site}/lead-v2\"}}\n",
    );
    let plan = apply_and_converge(&env, 4).1;
    if refuse_deletes_profile() {
        assert_run!(plan, @r#"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/act_1.yaml): no changes.

          Retired (2): renamed by convctl instead of deleted; they still count events and toward the limit:
            ~ "[retired [today]] Dropped" (id 23850000000000002): retired: archive it in Events Manager
            ~ "[retired [today]] Lead" (id 23850000000000001): retired: archive it in Events Manager

          Note: act_1: Meta refused to delete one before: convctl retired "[retired [today]] Lead" (23850000000000001) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

        act_2 (conversions/act_2.yaml): no changes.

          Retired (2): renamed by convctl instead of deleted; they still count events and toward the limit:
            ~ "[retired [today]] Dropped" (id 23850000000000004): retired: archive it in Events Manager
            ~ "[retired [today]] Lead" (id 23850000000000003): retired: archive it in Events Manager

          Note: act_2: Meta refused to delete one before: convctl retired "[retired [today]] Lead" (23850000000000003) after a refused delete, so this plan retires instead of deleting: each conversion it removes is renamed "[retired YYYY-MM-DD] ..." for you to archive in Events Manager

        No changes.
        ----- stderr -----
        "#);
    } else {
        assert_run!(plan, @"
        success: true
        exit_code: 0
        ----- stdout -----
        act_1 (conversions/act_1.yaml): no changes.

        act_2 (conversions/act_2.yaml): no changes.

        No changes.
        ----- stderr -----
        ");
    }
    for account in ["act_1", "act_2"] {
        assert_eq!(
            names_and_retired(&env, account),
            (vec!["Lead".into()], expected_retired(2))
        );
    }
}

/// The reliability scenario (updates, replacements, tombstones, prunes, creates, an unmanaged
/// conversion left alone) over four accounts: exactly the declared end state.
#[test]
fn the_agency_scenario_converges_exactly() {
    let env = Harness::new();
    let scenario = Scenario {
        accounts: (1..=4).map(|a| format!("act_{}", 4400 + a)).collect(),
        live: 10,
    };
    env.seed(scenario.seed_documents());
    scenario.write_manifests(env.dir.path());
    let plan = apply_and_converge(&env, scenario.removals()).1;
    if refuse_deletes_profile() {
        assert_run!("agency_scenario_converged_retiring", plan);
    } else {
        assert_run!("agency_scenario_converged", plan);
    }
    let state = env.emulator().state();
    if let Err(problems) = scenario.check(&state) {
        panic!("{}", problems.join("\n"));
    }
    assert_eq!(
        scenario::retired(&state),
        expected_retired(scenario.removals())
    );
}
