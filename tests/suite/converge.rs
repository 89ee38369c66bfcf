//! Convergence: every kind of change, applied once, leaves nothing to do (the next plan says
//! `No changes.`). scripts/test runs these tests a second time with
//! `CONVCTL_TEST_REFUSE_DELETES=1`, where the emulator refuses every delete as the real API does
//! to most apps: there every removal (tombstone, prune, duplicate, the old half of a
//! replacement) must end retired instead of deleted, never as a failure, and the next plan
//! must again show no changes. The end state is checked exactly in both profiles.

use crate::support::Harness;
use crate::support::profile::refuse_deletes as refuse_deletes_profile;
use crate::support::scenario::{self, Scenario};
use serde_json::{Value, json};

/// Applies, then checks: apply done (exit 0), removals deleted or (refusing deletes) retired as
/// the report says, then a plan with no changes. Returns apply's stdout.
fn apply_and_converge(env: &Harness, removed: usize) -> String {
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
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(plan.last_line(), "No changes.", "{plan}");
    apply.stdout
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
    apply_and_converge(&env, 3);
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
    apply_and_converge(&env, 2);
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
    let apply = apply_and_converge(&env, 1);
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
    apply_and_converge(&env, 4);
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
    apply_and_converge(&env, scenario.removals());
    let state = env.emulator().state();
    if let Err(problems) = scenario.check(&state) {
        panic!("{}", problems.join("\n"));
    }
    assert_eq!(
        scenario::retired(&state),
        expected_retired(scenario.removals())
    );
}
