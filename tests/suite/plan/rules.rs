//! One rule per account, end to end against an emulator that refuses a second conversion with
//! a rule the account holds (`--unique-rules`): the plan orders the delete that frees a rule
//! before the create and says so; where nothing convctl may do frees it, the plan refuses
//! before any write; and a refusal the plan could not foresee (another event source) is
//! reported with its explanation, never retried.

use crate::assert_run;
use crate::support::Harness;
use convctl::emulator::EmulatorConfig;
use serde_json::json;

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
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout" (id 23850000000000001) must be replaced: delete the old one first (Meta refuses a second conversion with the rule it holds), then create the new one; if the create fails, the old one is already gone
    -/+ conversion "Checkout" {
            id                = "23850000000000001"
          ~ custom_event_type = "PURCHASE" -> "INITIATED_CHECKOUT" # forces replacement
        }

      Warning: "Checkout" is replaced delete-before-create: the new one keeps the rule of the old one (23850000000000001), and Meta refuses a second conversion with a rule the account holds; if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    ----- stderr -----
    "#);
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
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:4:5: error: act_1: "Checkout" would be created with the rule of "Checkout" (23850000000000001) in act_1, which is its own old half: that one must go first, and this app may not delete it (the manifest says `deletion: retire`): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    4 |   - name: Checkout
      |     ^^^^
    help: keep the changed fields (custom_event_type, action_source_type, event_source_id) as they are live, or change the rule too: a replacement with a new rule creates the new conversion, then retires the old one
    error: no plan: fix the 1 problem(s) above
    "#);
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert_eq!(env.stats()["writes"], 0, "nothing written");

    env.write("conversions/a.yaml", KEEPS_RULE);
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout" (id 23850000000000001) must be replaced: delete the old one first (Meta refuses a second conversion with the rule it holds), then create the new one; if the create fails, the old one is already gone
    -/+ conversion "Checkout" {
            id                = "23850000000000001"
          ~ custom_event_type = "PURCHASE" -> "INITIATED_CHECKOUT" # forces replacement
        }

      Warning: "Checkout" is replaced delete-before-create: the new one keeps the rule of the old one (23850000000000001), and Meta refuses a second conversion with a rule the account holds; if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    act_1: FAILED replace "Checkout" (id 23850000000000001): Meta refused to delete it (act_1, conversion 23850000000000001: (#200) Permissions error [code 200, fbtrace_id [trace id]]): nothing was changed. The new conversion keeps the old one's rule, and Meta refuses a second conversion with a rule the account holds, so the old one must go first, and this app may not delete it. Keep custom_event_type as live, or change the rule too (a new rule is created first, then the old one retired); set `deletion: retire` in the manifest so that plans say this before any write
    Apply failed part way: 0 done, 1 failed, 0 not done. Change what the lines above ask, then run `convctl apply` again: it picks up where this stopped, without duplicates.
    ----- stderr -----
    warning: Meta refused 1 delete(s) in act_1 (this app may not delete custom conversions, whatever the token's permissions); convctl retired 0 of them instead: renamed "[retired YYYY-MM-DD] ...", to archive in Events Manager. Later plans of these accounts retire without trying to delete; `deletion: retire` in their manifests says so from the start
    "#);
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
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Purchase" (id 23850000000000001) will be deleted (ensure: absent) before the creates: "Purchases" needs its rule, which Meta refuses to hold twice; if that create then fails, this one is already gone
      - conversion "Purchase" {
          - id                       = "23850000000000001"
          - name                     = "Purchase"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "/thanks"}}
        }

      # "Purchases" will be created
      + conversion "Purchases" {
          + name                     = "Purchases"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

      Warning: "Purchase" (23850000000000001) is deleted before "Purchases" is created: it holds that rule, and Meta refuses a second conversion with a rule the account holds; if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)

    Plan: 1 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "Purchase" (id 23850000000000001, ensure: absent): deleted
    act_1: + create "Purchases": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.live_names("act_1"), ["Purchases"]);

    let env = unique_rules(true);
    env.seed(seed);
    env.write("conversions/a.yaml", RENAMED);
    assert_run!(env.run_dated(&["apply", "--auto-approve"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Purchase" (id 23850000000000001) will be deleted (ensure: absent) before the creates: "Purchases" needs its rule, which Meta refuses to hold twice; if that create then fails, this one is already gone
      - conversion "Purchase" {
          - id                       = "23850000000000001"
          - name                     = "Purchase"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "/thanks"}}
        }

      # "Purchases" will be created
      + conversion "Purchases" {
          + name                     = "Purchases"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

      Warning: "Purchase" (23850000000000001) is deleted before "Purchases" is created: it holds that rule, and Meta refuses a second conversion with a rule the account holds; if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)

    Plan: 1 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "Purchase" (id 23850000000000001, ensure: absent): retired: renamed "[retired [today]] Purchase" (this app may not delete custom conversions: Meta refused a delete in this account); archive it in Events Manager
    act_1: NOT DONE create "Purchases": not tried: "Purchase" (id 23850000000000001) holds its rule and was retired instead of deleted (a retired conversion keeps its rule), and Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002); change this entry's rule, or remove the other one in Events Manager
    Apply failed part way: 1 done, 0 failed, 1 not done (0 conversion(s) deleted, 1 retired instead of deleted: archive the retired ones in Events Manager). Change what the lines above ask, then run `convctl apply` again: it picks up where this stopped, without duplicates.
    ----- stderr -----
    warning: Meta refused 1 delete(s) in act_1 (this app may not delete custom conversions, whatever the token's permissions); convctl retired 1 of them instead: renamed "[retired YYYY-MM-DD] ...", to archive in Events Manager. Later plans of these accounts retire without trying to delete; `deletion: retire` in their manifests says so from the start
    "#);
    let writes = env.stats()["writes"].clone();
    assert_run!(env.run_dated(&["apply", "--auto-approve"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:5:5: error: act_1: "Purchases" would be created with the rule of "[retired [today]] Purchase" (23850000000000001) in act_1, which was retired by convctl on [today] and waits to be archived in Events Manager (a retired conversion keeps its rule): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    5 |   - name: Purchases
      |     ^^^^
    help: change this entry's rule, or remove "[retired [today]] Purchase" (23850000000000001) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 1 problem(s) above
    "#);
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
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Purchase" will be created
      + conversion "Purchase" {
          + name                     = "Purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "55"
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Legacy" (id 23850000000000001)

      Warning: conversions/a.yaml:3:5: "Purchase" has the rule of "Legacy" (23850000000000001), which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first); they count different event sources (55 and 77), which Meta may accept, but it may also refuse the create (code 100, subcode 1760002)

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: FAILED create "Purchase": act_1, conversion "Purchase": (#100) Invalid parameter [code 100, subcode 1760002, fbtrace_id [trace id]]; Meta says: Duplicate Custom Conversion Rule: A custom conversion with the same rule already exists in this ad account.
    help: the ad account already holds a conversion with this rule (renaming or archiving one does not free its rule): change the rule, or remove the other one in Events Manager
    Apply failed part way: 0 done, 1 failed, 0 not done. Change what the lines above ask, then run `convctl apply` again: it picks up where this stopped, without duplicates.
    ----- stderr -----
    "#);
    assert_eq!(
        env.stats()["by_route"]["POST /act_{id}/customconversions"],
        1,
        "not retried"
    );
}
