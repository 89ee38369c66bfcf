//! End to end, against the in-process emulator: the safety rules of docs/reconcile.md, "Safety"
//! (protect, the mass-delete guard, ordering at the 100 cap, duplicate names, recovering a
//! half-finished replacement, a replaced pinned conversion, recently fired warnings) and the exit
//! codes of docs/cli.md, "Exit codes" (plan --detailed-exitcode, drift, apply without a terminal,
//! stale plans). Also: the cap when deletes only archive (`cap`), and the thresholds of the
//! mass-delete guard and of "fired recently" at their exact boundaries (`thresholds`).

mod cap;
mod thresholds;

use crate::assert_run;
use crate::support::Harness;
use serde_json::{Value, json};

fn conversion(account: &str, name: &str, needle: &str) -> Value {
    json!({"account": account, "name": name, "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": needle}}})
}

fn entry(name: &str, needle: &str) -> String {
    format!(
        "  - name: {name}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: {needle}}}}}\n"
    )
}

fn manifest(account: &str, entries: &[String]) -> String {
    format!("account: {account}\nconversions:\n{}", entries.concat())
}

#[test]
fn protect_blocks_a_replacement_and_nothing_is_done() {
    let env = Harness::new();
    env.seed(json!([conversion("act_1", "Checkout", "/checkout")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    protect: true\n",
            manifest("act_1", &[entry("Checkout", "/pay")])
        ),
    );
    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: "Checkout" is protected (protect: true), but the plan would replace it (rule changed)
      |
    3 |   - name: Checkout
      |     ^^^^
    help: revert the change, or remove `protect: true` from this entry if you really mean it
    error: no plan: fix the 1 problem(s) above
    "#);

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: "Checkout" is protected (protect: true), but the plan would replace it (rule changed)
      |
    3 |   - name: Checkout
      |     ^^^^
    help: revert the change, or remove `protect: true` from this entry if you really mean it
    error: no plan: fix the 1 problem(s) above
    "#);

    assert_eq!(env.stats()["writes"], 0, "nothing written");
}

#[test]
fn mass_deletes_are_refused_without_the_flag() {
    let env = Harness::new();
    let seeds: Vec<Value> = (0..12)
        .map(|i| conversion("act_1", &format!("c{i}"), &format!("p{i}")))
        .collect();
    env.seed(Value::Array(seeds));
    env.write("conversions/a.yaml", "account: act_1\nprune: true\nconversions:\n  - name: c0\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: p0}}\n");
    let plan = env.run(&["plan"]);
    assert_run!("mass_deletes_are_refused_without_the_flag__plan", plan);

    let refused = env.run(&["apply", "--auto-approve"]);
    assert_run!(
        "mass_deletes_are_refused_without_the_flag__refused",
        refused
    );

    assert!(
        refused
            .stderr
            .contains("deletes or replaces 11 of the 12 live conversions of act_1"),
        "{refused}"
    );
    assert_eq!(env.live("act_1").len(), 12, "nothing deleted");
    let allowed = env.run(&["apply", "--auto-approve", "--allow-mass-delete"]);
    assert_run!(
        "mass_deletes_are_refused_without_the_flag__allowed",
        allowed
    );

    assert_eq!(env.live_names("act_1"), ["c0"]);
}

#[test]
fn at_the_cap_a_replacement_deletes_first_and_the_plan_says_so() {
    let env = Harness::new();
    let seeds: Vec<Value> = (0..100)
        .map(|i| conversion("act_1", &format!("c{i:03}"), &format!("p{i}")))
        .collect();
    env.seed(Value::Array(seeds));
    let mut entries: Vec<String> = (0..100)
        .map(|i| entry(&format!("c{i:03}"), &format!("p{i}")))
        .collect();
    entries[0] = entry("c000", "changed");
    env.write("conversions/a.yaml", &manifest("act_1", &entries));
    let plan = env.run(&["plan", "--format", "json"]);
    assert_run!(
        "at_the_cap_a_replacement_deletes_first_and_the_plan_says_so__plan",
        plan
    );
    let doc: Value = serde_json::from_str(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {plan}"));
    assert_eq!(
        doc["accounts"][0]["actions"][0]["order"],
        "delete_before_create"
    );
    assert!(
        doc["accounts"][0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("100-conversion limit")
    );
    let text = env.run(&["plan"]);
    assert_run!(text, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "c000" (id 23850000000000001) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "c000" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "p0"}} -> {"url": {"i_contains": "changed"}} # forces replacement
        }

      Warning: "c000" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    ----- stderr -----
    "#);

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "c000" (id 23850000000000001) must be replaced: delete the old one first (account at its limit), then create the new one
    -/+ conversion "c000" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "p0"}} -> {"url": {"i_contains": "changed"}} # forces replacement
        }

      Warning: "c000" is replaced delete-before-create: act_1 is at its 100-conversion limit; it is missing until the new one is created

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    act_1: -/+ replace "c000" (id 23850000000000001): new id 23850000000000101, old id 23850000000000001 deleted
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);

    assert_eq!(env.live("act_1").len(), 100);
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");

    // Below the cap, the same change creates first.
    let env = Harness::new();
    env.seed(json!([conversion("act_1", "c000", "p0")]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("c000", "changed")]),
    );
    let doc: Value = serde_json::from_str(&env.run(&["plan", "--format", "json"]).stdout).unwrap();
    assert_eq!(
        doc["accounts"][0]["actions"][0]["order"],
        "create_before_delete"
    );
}

#[test]
fn duplicate_names_are_an_error_naming_both_ids() {
    let env = Harness::new();
    env.seed(json!([
        conversion("act_1", "Dup", "a"),
        conversion("act_1", "Dup", "b")
    ]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("Dup", "c")]),
    );
    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: 2 live conversions in act_1 are named "Dup" (ids 23850000000000001, 23850000000000002): convctl cannot tell which one this entry means; 23850000000000001 and 23850000000000002 differ(s) from the manifest in fields that force a replacement
      |
    3 |   - name: Dup
      |     ^^^^
    help: pin the one to manage with `id: "23850000000000001"` on this entry (and delete or rename the others)
    error: no plan: fix the 1 problem(s) above
    "#);
}

#[test]
fn a_half_finished_replacement_is_finished() {
    let env = Harness::new();
    // The new half (matching the manifest) was created; the old one was never deleted.
    let ids = env.seed(json!([
        conversion("act_1", "A", "old"),
        conversion("act_1", "A", "new")
    ]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("A", "new")]),
    );
    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000001) will be deleted (finishes an interrupted replacement)
      - conversion "A" {
          - id                       = "23850000000000001"
          - name                     = "A"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "old"}}
        }

      Warning: "A": finishing an interrupted replacement: 23850000000000002 matches the manifest, the old 23850000000000001 will be deleted

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    ----- stderr -----
    "#);

    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000001) will be deleted (finishes an interrupted replacement)
      - conversion "A" {
          - id                       = "23850000000000001"
          - name                     = "A"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "old"}}
        }

      Warning: "A": finishing an interrupted replacement: 23850000000000002 matches the manifest, the old 23850000000000001 will be deleted

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "A" (id 23850000000000001, old half of an interrupted replacement): deleted
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.id_of("act_1", "A"), ids[1]);
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

#[test]
fn replacing_a_pinned_conversion_prints_the_new_id_and_tolerates_the_old_pin() {
    let env = Harness::new();
    let ids = env.seed(json!([conversion("act_1", "P", "old")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"{}\"\n",
            manifest("act_1", &[entry("P", "new")]),
            ids[0]
        ),
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "P" (id 23850000000000001) must be replaced: create the new one, then delete the old one
    -/+ conversion "P" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "old"}} -> {"url": {"i_contains": "new"}} # forces replacement
        }

    Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
    act_1: -/+ replace "P" (id 23850000000000001): new id 23850000000000002, old id 23850000000000001 deleted
    act_1: the manifest pins the old id at conversions/a.yaml:3:5: change it to id: "23850000000000002"
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);

    let new_id = env.id_of("act_1", "P");
    assert_ne!(new_id, ids[0]);
    assert!(
        apply
            .stdout
            .contains(&format!("change it to id: \"{new_id}\"")),
        "{apply}"
    );
    // Until the pin is updated, the missing pinned id is accepted with a warning.
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

      Warning: "P" is pinned to id 23850000000000001, which no longer exists; 23850000000000002 (same name and declared fields) is taken as its replacement. Update the pin at conversions/a.yaml:3:5 to id: "23850000000000002"

    No changes.
    ----- stderr -----
    "#);

    // A pin to an id that does not exist, where no live conversion has the entry's name (a
    // delete-first replacement whose create failed): created, with a warning.
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"999\"\n",
            manifest("act_1", &[entry("Q", "newer")])
        ),
    );
    let create = env.run(&["plan"]);
    assert_run!(create, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Q" will be created
      + conversion "Q" {
          + name                     = "Q"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "newer"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "P" (id 23850000000000002)

      Warning: "Q" is pinned to id 999, which no longer exists, and no live conversion of act_1 has its name: it will be created. Update the pin at conversions/a.yaml:3:5: set it to the new id apply prints, or remove the `id:` line

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);

    // Where a live conversion has the name but other immutable fields, it stays an error.
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"999\"\n",
            manifest("act_1", &[entry("P", "other")])
        ),
    );
    let bad = env.run(&["plan"]);
    assert_run!(bad, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: "P" is pinned to id 999, which does not exist in act_1 (or is archived); 23850000000000002 named "P" differ(s) from it in fields that force a replacement
      |
    3 |   - name: P
      |     ^^^^
    help: check the id (`convctl import` lists live ids): pin the one to manage, or remove the `id:` line and rename or delete the others
    error: no plan: fix the 1 problem(s) above
    "#);
}

#[test]
fn destroying_a_recently_fired_or_unavailable_conversion_warns() {
    let env = Harness::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut fired = conversion("act_1", "Fired", "x");
    fired["last_fired_time"] = json!(now - 3600 * 5);
    let mut flagged = conversion("act_1", "Health", "y");
    flagged["is_unavailable"] = json!(true);
    env.seed(json!([fired, flagged]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Fired\n    ensure: absent\n  - name: Health\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: y}}\n",
    );
    let plan = env.run(&["plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Fired" (id 23850000000000001) will be deleted (ensure: absent)
      - conversion "Fired" {
          - id                       = "23850000000000001"
          - name                     = "Fired"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "x"}}
        }

      Warning: conversions/a.yaml:5:5: "Health" (23850000000000002) is flagged by Meta: it stopped counting events; edits are refused; see Meta's flagged custom conversions help

      Warning: "Fired" (23850000000000001) last fired 5 hours ago: deleting it loses its history; reports and ads optimising for it stay with the old id

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    ----- stderr -----
    "#);
}

#[test]
fn exit_codes_of_plan_drift_and_apply() {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("A", "a")]));
    // plan: 0 without --detailed-exitcode, 2 with it when there are changes.
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    // drift: 2 when live differs.
    let drift = env.run(&["drift"]);
    assert_run!(drift, @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/a.yaml) has drifted from its manifest (values shown live -> manifest):

      # "A" is declared but missing live
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Drift found; to converge: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);

    assert!(
        drift.stdout.contains("\"A\" is declared but missing live"),
        "{drift}"
    );
    // apply without a terminal and without --auto-approve: 1, nothing done.
    let refused = env.run(&["apply"]);
    assert_run!(refused, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    error: apply needs --auto-approve when not run from a terminal; nothing was done
    "#);

    assert!(env.live("act_1").is_empty());
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "A": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
    assert_run!(env.run(&["drift"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): in sync.

    No drift: live accounts match the manifests.
    ----- stderr -----
    ");
    // Errors: 1.
    env.write("conversions/b.yaml", "account: act_2\nconversions:\n  - name: B\n    custom_event_type: NOPE\n    rule: {url: {eq: b}}\n");
    assert_run!(env.run(&["plan", "--detailed-exitcode"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/b.yaml:4:24: error: `NOPE` is not a valid custom_event_type
      |
    4 |     custom_event_type: NOPE
      |                        ^^^^
    help: values are case-sensitive; one of: ADD_PAYMENT_INFO, ADD_TO_CART, ADD_TO_WISHLIST, COMPLETE_REGISTRATION, CONTENT_VIEW, INITIATED_CHECKOUT, LEAD, PURCHASE, SEARCH, CONTACT, CUSTOMIZE_PRODUCT, DONATE, FIND_LOCATION, SCHEDULE, START_TRIAL, SUBMIT_APPLICATION, SUBSCRIBE, LISTING_INTERACTION, FACEBOOK_SELECTED, OTHER
    error: the manifests are invalid; `convctl validate` shows the same checks offline
    ");
    let drift_err = env.run(&["drift"]);
    assert_run!(drift_err, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/b.yaml:4:24: error: `NOPE` is not a valid custom_event_type
      |
    4 |     custom_event_type: NOPE
      |                        ^^^^
    help: values are case-sensitive; one of: ADD_PAYMENT_INFO, ADD_TO_CART, ADD_TO_WISHLIST, COMPLETE_REGISTRATION, CONTENT_VIEW, INITIATED_CHECKOUT, LEAD, PURCHASE, SEARCH, CONTACT, CUSTOMIZE_PRODUCT, DONATE, FIND_LOCATION, SCHEDULE, START_TRIAL, SUBMIT_APPLICATION, SUBSCRIBE, LISTING_INTERACTION, FACEBOOK_SELECTED, OTHER
    error: the manifests are invalid; `convctl validate` shows the same checks offline
    ");
}

#[test]
fn saved_plans_run_exactly_and_stale_ones_are_refused() {
    let env = Harness::new();
    let ids = env.seed(json!([conversion("act_1", "A", "a")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    description: new\n{}",
            manifest("act_1", &[entry("A", "a")]),
            entry("B", "b")
        ),
    );
    let saved = env.run(&["plan", "--out", "plan.json"]);
    assert_run!(saved, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000001) will be updated in place
      ~ conversion "A" {
            id          = "23850000000000001"
          ~ description = "" -> "new"
        }

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "b"}}
        }

    Plan: 1 to create, 1 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.
    "#);

    let text = std::fs::read_to_string(env.path("plan.json")).unwrap();
    assert!(!text.contains(crate::support::TOKEN));

    // Live state moves (a user edits the description over the API): the plan is stale.
    let changed = env.graph(
        reqwest::Method::POST,
        &ids[0],
        &[("description", "edited by hand")],
    );
    assert_eq!(changed["success"], true, "{changed}");
    let stale = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_run!(stale, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: the saved plan plan.json is stale, nothing was done:
      act_1: its live conversions are not those the plan was made from: they changed since, or the plan was made for another account
    make a new plan (`convctl plan --out plan.json`) and review it
    ");

    assert_eq!(env.live("act_1").len(), 1, "nothing created");

    // A fresh plan is executed exactly, even when the manifests change afterwards.
    assert_run!(env.run(&["plan", "--out", "plan.json"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000001) will be updated in place
      ~ conversion "A" {
            id          = "23850000000000001"
          ~ description = "edited by hand" -> "new"
        }

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "b"}}
        }

    Plan: 1 to create, 1 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.
    "#);
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("Z", "z")]));
    let saved = std::fs::read_to_string(env.path("plan.json")).unwrap();
    std::fs::write(
        env.path("plan.json"),
        saved.replace("\"v27.0\"", "\"v25.0\""),
    )
    .unwrap();
    let applied = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_run!(applied, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000001) will be updated in place
      ~ conversion "A" {
            id          = "23850000000000001"
          ~ description = "edited by hand" -> "new"
        }

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "b"}}
        }

    Plan: 1 to create, 1 to update, 0 to replace, 0 to delete.
    act_1: ~ update "A" (id 23850000000000001): updated
    act_1: + create "B": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    warning: the plan was made against API v25.0 and is applied against v27.0
    "#);

    assert!(
        applied
            .stderr
            .contains("made against API v25.0 and is applied against v27.0"),
        "{applied}"
    );
    assert_eq!(env.live_names("act_1"), ["A", "B"]);

    // Broken and foreign files are refused with a clear error.
    env.write("broken.json", "{\"format_version\": 1, \"accounts\": [");
    let broken = env.run(&["apply", "--plan", "broken.json", "--auto-approve"]);
    assert_run!(broken, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: broken.json is not a usable plan: not JSON (EOF while parsing a list at line 1 column 35); was it saved with `convctl plan --out`?
    ");

    assert!(
        broken
            .stderr
            .contains("broken.json is not a usable plan: not JSON"),
        "{broken}"
    );
    env.write("future.json", "{\"format_version\": 2}");
    let future = env.run(&["apply", "--plan", "future.json", "--auto-approve"]);
    assert_run!(future, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: future.json is not a usable plan: format_version 2 is not supported (this convctl reads 1); make the plan again with this convctl
    ");
}

#[test]
fn deletes_that_only_archive_count_as_gone() {
    // As the real API may do: DELETE archives; the archived one stays listed.
    let env = Harness::with(convctl::emulator::EmulatorConfig {
        delete_archives: true,
        ..Default::default()
    });
    env.seed(json!([
        conversion("act_1", "Old", "old"),
        conversion("act_1", "Keep", "keep")
    ]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}  - name: Old\n    ensure: absent\n",
            manifest("act_1", &[entry("Keep", "keep")])
        ),
    );
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Old" (id 23850000000000001) will be deleted (ensure: absent)
      - conversion "Old" {
          - id                       = "23850000000000001"
          - name                     = "Old"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "old"}}
        }

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "Old" (id 23850000000000001, ensure: absent): deleted
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(
        env.live_names("act_1"),
        ["Keep"],
        "archived ones are filtered"
    );
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_run!(plan, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

/// On a terminal, apply asks, and only `yes` goes ahead. (The terminal is a pseudo-terminal
/// made by util-linux `script`.)
#[test]
fn on_a_terminal_apply_asks_and_only_yes_approves() {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("A", "a")]));
    let on_tty = |answer: &str| {
        let out = env
            .convctl()
            .arg("apply")
            .stdin(format!("{answer}\n"))
            .on_terminal()
            .run();
        (out.code, out.stdout)
    };
    let (code, out) = on_tty("no");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Only 'yes' will be accepted"), "{out}");
    assert!(out.contains("apply cancelled; nothing was done"), "{out}");
    assert!(env.live("act_1").is_empty());
    let (code, out) = on_tty("yes");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Apply complete: 1 of 1 actions done."),
        "{out}"
    );
    assert_eq!(env.live_names("act_1"), ["A"]);
}
