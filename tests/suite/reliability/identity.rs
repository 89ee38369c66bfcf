//! Which live conversion an entry means, when a person gets it wrong: a pasted id never
//! bypasses `protect`, a conversion made by hand is never taken for a duplicate, names are
//! compared as the API stores them, and an earlier name belongs to one entry. End to end: the
//! real binary against the in-process emulator.

use crate::assert_run;
use crate::support::{Harness as Env, Run};
use convctl::emulator::EmulatorConfig;
use serde_json::{Value, json};

fn writes(env: &Env) -> u64 {
    env.stats()["writes"].as_u64().expect("writes stat")
}

/// Lines 3 to 6 of every manifest below: the protected checkout conversion.
const PROTECTED: &str = "  - name: Checkout\n    protect: true\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /checkout}}\n";

fn seeded(account: &str, name: &str, event_type: &str, needle: &str) -> Value {
    json!({"account": account, "name": name, "custom_event_type": event_type,
           "rule": {"url": {"i_contains": needle}}})
}

/// Plan and apply both fail with the same errors, and nothing is written: the plan's run,
/// whose errors the caller checks whole.
#[track_caller]
fn refused(env: &Env, manifest: &str) -> Run {
    env.write("conversions/a.yaml", manifest);
    let before = writes(env);
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{manifest}\n{plan}");
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{manifest}\n{apply}");
    assert_eq!(apply.stderr, plan.stderr, "{manifest}");
    assert_eq!(writes(env), before, "nothing written: {manifest}");
    plan
}

/// A pin (a wrong id pasted into a PR) never reaches the conversion a protected entry
/// matches, and no live conversion is claimed by two entries.
#[test]
fn protect_is_not_bypassed_by_an_id_pin() {
    let env = Env::new();
    let ids = env.seed(json!([
        seeded("act_1", "Checkout", "INITIATED_CHECKOUT", "/checkout"),
        seeded("act_1", "Summer sale", "PURCHASE", "/summer"),
        seeded("act_1", "Checkout (old)", "INITIATED_CHECKOUT", "/checkout"),
    ]));
    let (checkout, summer, old) = (&ids[0], &ids[1], &ids[2]);
    let head = "account: act_1\nconversions:\n";

    // A tombstone pinning the protected conversion's id.
    let plan = refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{checkout}\"\n"
        ),
    );
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:7:5: error: act_1: the tombstone "Old spring" pins id 23850000000000001, which is named "Checkout", and the entry "Checkout" at conversions/a.yaml:3:5 means that conversion by its name: one live conversion cannot be claimed by two entries; "Checkout" is protected (protect: true), and a plan must never delete or replace it through another entry
      |
    7 |   - name: Old spring
      |     ^^^^
    help: check the id (`convctl import` lists live ids): a pin must be the conversion its entry names; if it is, rename or remove the entry at conversions/a.yaml:3:5
    conversions/a.yaml:7:5: error: act_1: the entry "Old spring" would delete "Checkout" (23850000000000001), which the protected entry "Checkout" at conversions/a.yaml:3:5 matches by its name (protect: true)
      |
    7 |   - name: Old spring
      |     ^^^^
    help: a protected conversion is never deleted or replaced through another entry or by prune: check the ids pinned, and delete or rename it by hand if it really must go
    conversions/a.yaml:3:5: error: act_1: "Checkout" would be created with the rule of "Checkout (old)" (23850000000000003) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Checkout
      |     ^^^^
    help: change this entry's rule, or remove "Checkout (old)" (23850000000000003) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 3 problem(s) above
    "#);
    // A present entry pinning it, with another rule: a replacement.
    let plan = refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Checkout v2\n    id: \"{checkout}\"\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /pay}}}}\n"
        ),
    );
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:7:5: error: act_1: "Checkout v2" pins id 23850000000000001, which is named "Checkout", and the entry "Checkout" at conversions/a.yaml:3:5 means that conversion by its name: one live conversion cannot be claimed by two entries; "Checkout" is protected (protect: true), and a plan must never delete or replace it through another entry
      |
    7 |   - name: Checkout v2
      |     ^^^^
    help: check the id (`convctl import` lists live ids): a pin must be the conversion its entry names; if it is, rename or remove the entry at conversions/a.yaml:3:5
    conversions/a.yaml:7:5: error: act_1: the entry "Checkout v2" would replace "Checkout" (23850000000000001), which the protected entry "Checkout" at conversions/a.yaml:3:5 matches by its name (protect: true)
      |
    7 |   - name: Checkout v2
      |     ^^^^
    help: a protected conversion is never deleted or replaced through another entry or by prune: check the ids pinned, and delete or rename it by hand if it really must go
    conversions/a.yaml:3:5: error: act_1: "Checkout" would be created with the rule of "Checkout (old)" (23850000000000003) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Checkout
      |     ^^^^
    help: change this entry's rule, or remove "Checkout (old)" (23850000000000003) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 3 problem(s) above
    "#);
    // A pin whose live conversion carries another entry's name (neither protected).
    let plan = refused(
        &env,
        &format!(
            "{head}  - name: Sale\n    id: \"{checkout}\"\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n"
        ),
    );
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:7:5: error: "Checkout" has the same rule as "Sale" (declared at conversions/a.yaml:3:5) in act_1 (neither declares an event source): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    7 |   - name: Checkout
      |     ^^^^
    help: give each conversion its own rule (a condition more or less), or keep only one of them
    error: the manifests are invalid; `convctl validate` shows the same checks offline
    "#);
    // The protected entry itself pinned to the wrong conversion, with prune: renaming that one
    // would leave the real checkout to be pruned.
    let plan = refused(
        &env,
        &format!(
            "account: act_1\nprune: true\nconversions:\n  - name: Checkout\n    id: \"{old}\"\n    protect: true\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n  - name: Summer sale\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /summer}}}}\n"
        ),
    );
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:4:5: error: act_1: "Checkout" pins id 23850000000000003, which is named "Checkout (old)", while 23850000000000001 is named "Checkout": the plan would rename 23850000000000003 to a name 23850000000000001 already has, and leave 23850000000000001 unmanaged (or prune it)
      |
    4 |   - name: Checkout
      |     ^^^^
    help: check the id (`convctl import` lists live ids): if 23850000000000001 is the conversion this entry means, pin it instead; if 23850000000000003 is, delete or rename 23850000000000001 first
    conversions/a.yaml:1:1: error: act_1: prune would delete "Checkout" (23850000000000001), which the protected entry "Checkout" at conversions/a.yaml:4:5 matches by its name (protect: true)
      |
    1 | account: act_1
      | ^^^^^^^
    help: a protected conversion is never deleted or replaced through another entry or by prune: check the ids pinned, and delete or rename it by hand if it really must go
    error: no plan: fix the 2 problem(s) above
    "#);
    // A tombstone whose pasted id is another conversion than the one it names.
    let plan = refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{summer}\"\n"
        ),
    );
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:7:5: error: act_1: the tombstone "Old spring" pins id 23850000000000002, which is named "Summer sale": applying it would delete "Summer sale", not "Old spring"
      |
    7 |   - name: Old spring
      |     ^^^^
    help: check the id (`convctl import` lists live ids); to delete "Summer sale" write its name in the tombstone, or leave `name:` out to delete the id whatever its name
    error: no plan: fix the 1 problem(s) above
    "#);
    let live = env.live("act_1");
    assert_eq!(live.len(), 3, "{live:?}");
    assert_eq!(env.id_of("act_1", "Checkout"), *checkout);

    // The same manifests, pinned right, plan and apply.
    env.write(
        "conversions/a.yaml",
        &format!("{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{old}\"\n"),
    );
    // The tombstone names another conversion than the one its id is.
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:7:5: error: act_1: the tombstone "Old spring" pins id 23850000000000003, which is named "Checkout (old)": applying it would delete "Checkout (old)", not "Old spring"
      |
    7 |   - name: Old spring
      |     ^^^^
    help: check the id (`convctl import` lists live ids); to delete "Checkout (old)" write its name in the tombstone, or leave `name:` out to delete the id whatever its name
    error: no plan: fix the 1 problem(s) above
    "#);
    env.write(
        "conversions/a.yaml",
        &format!(
            "{head}{PROTECTED}  - name: Checkout (old)\n    ensure: absent\n    id: \"{old}\"\n"
        ),
    );
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Checkout (old)" (id 23850000000000003) will be deleted (ensure: absent)
      - conversion "Checkout (old)" {
          - id                       = "23850000000000003"
          - name                     = "Checkout (old)"
          - custom_event_type        = "INITIATED_CHECKOUT"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "/checkout"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Summer sale" (id 23850000000000002)

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "Checkout (old)" (id 23850000000000003, ensure: absent): deleted
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.id_of("act_1", "Checkout"), *checkout);
    assert_eq!(env.live("act_1").len(), 2);
}

/// A conversion that shares a declared one's name and rule but has its own pixel,
/// description and value was made by hand: it is no duplicate. Nothing is deleted; the plan
/// asks for a pin.
#[test]
fn a_hand_made_conversion_is_not_deleted_as_a_duplicate() {
    let env = Env::new();
    let ids = env.seed(json!([
        {"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
         "event_source_id": "111", "rule": {"url": {"i_contains": "/thanks"}},
         "creation_time": 1_767_225_600},
        {"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
         "event_source_id": "222", "description": "made by hand for the shop",
         "default_conversion_value": 25.0, "rule": {"url": {"i_contains": "/thanks"}},
         "creation_time": 1_767_225_700},
    ]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Purchase\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /thanks}}\n",
    );
    let before = writes(&env);
    // Both ids named, a pin asked for, no duplicate repaired.
    assert_eq!(ids, ["23850000000000001", "23850000000000002"]);
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: 2 live conversions in act_1 are named "Purchase" (ids 23850000000000001, 23850000000000002): convctl cannot tell which one this entry means; 23850000000000002 is not a copy of 23850000000000001: it differs in description, default_conversion_value, event_source_id (made by hand?), so none of them is deleted as a duplicate
      |
    3 |   - name: Purchase
      |     ^^^^
    help: pin the one to manage with `id: "23850000000000001"` on this entry (and delete or rename the others)
    conversions/a.yaml:3:5: error: act_1: "Purchase" would be created with the rule of "Purchase" (23850000000000001) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Purchase
      |     ^^^^
    help: change this entry's rule, or remove "Purchase" (23850000000000001) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    conversions/a.yaml:3:5: error: act_1: "Purchase" would be created with the rule of "Purchase" (23850000000000002) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Purchase
      |     ^^^^
    help: change this entry's rule, or remove "Purchase" (23850000000000002) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 3 problem(s) above
    "#);
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert_eq!(writes(&env), before, "nothing written");
    assert_eq!(env.live("act_1").len(), 2);

    // Exact twins (a race) are still repaired, and the warning says what is the same.
    let env = Env::new();
    let twin = json!({"account": "act_1", "name": "Lead", "custom_event_type": "LEAD",
                      "event_source_id": "111", "description": "d",
                      "rule": {"url": {"i_contains": "/lead"}}});
    let ids = env.seed(json!([twin, twin]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Lead\n    description: d\n    custom_event_type: LEAD\n    rule: {url: {i_contains: /lead}}\n",
    );
    // The twin is deleted, keeping the oldest.
    assert_eq!(ids, ["23850000000000001", "23850000000000002"]);
    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Lead" (id 23850000000000002) will be deleted (a duplicate: the oldest with this name is kept)
      - conversion "Lead" {
          - id                       = "23850000000000002"
          - name                     = "Lead"
          - description              = "d"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - event_source_id          = "111"
          - rule                     = {"url": {"i_contains": "/lead"}}
        }

      Warning: "Lead": 2 live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer): keeping the oldest, 23850000000000001, and deleting 23850000000000002 as duplicate(s)

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    ----- stderr -----
    "#);
}

/// Under the strict profile, which does not report `action_source_type`: a copy that
/// differs only there cannot be shown to be a twin of the one the manifest declares.
#[test]
fn a_copy_differing_only_in_an_unreported_field_is_not_a_duplicate() {
    let env = Env::with(EmulatorConfig {
        strict: true,
        ..EmulatorConfig::default()
    });
    let rule = json!({"url": {"i_contains": "/thanks"}});
    let ids = env.seed(json!([
        {"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
         "event_source_id": "111", "action_source_type": "website", "rule": rule,
         "creation_time": 1_767_225_600},
        {"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
         "event_source_id": "111", "action_source_type": "app", "rule": rule,
         "creation_time": 1_767_225_700},
    ]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\ndefaults: {event_source_id: \"111\", action_source_type: website}\nconversions:\n  - name: Purchase\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /thanks}}\n",
    );
    let before = writes(&env);
    assert_eq!(ids, ["23850000000000001", "23850000000000002"]);
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:4:5: error: act_1: 2 live conversions in act_1 are named "Purchase" (ids 23850000000000001, 23850000000000002): convctl cannot tell which one this entry means; 23850000000000002 is not a copy of 23850000000000001: the API reported neither one's action_source_type, which the manifest declares (made by hand?), so none of them is deleted as a duplicate
      |
    4 |   - name: Purchase
      |     ^^^^
    help: pin the one to manage with `id: "23850000000000001"` on this entry (and delete or rename the others)
    conversions/a.yaml:4:5: error: act_1: "Purchase" would be created with the rule of "Purchase" (23850000000000001) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    4 |   - name: Purchase
      |     ^^^^
    help: change this entry's rule, or remove "Purchase" (23850000000000001) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    conversions/a.yaml:4:5: error: act_1: "Purchase" would be created with the rule of "Purchase" (23850000000000002) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    4 |   - name: Purchase
      |     ^^^^
    help: change this entry's rule, or remove "Purchase" (23850000000000002) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 3 problem(s) above
    "#);
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert_eq!(writes(&env), before, "nothing written");
}

/// A name with leading or trailing spaces is an error (not a lint `-q` hides), and a
/// live name is compared as the API stores it, so a protected conversion is never deleted and
/// made again, and no apply makes a second copy.
#[test]
fn names_with_leading_or_trailing_spaces_are_refused_and_never_copied() {
    let env = Env::new();
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: \"Checkout \"\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /checkout}}\n",
    );
    assert_run!(env.run(&["-q", "validate"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/a.yaml:3:11: error: `name` "Checkout " has leading or trailing spaces
      |
    3 |   - name: "Checkout "
      |           ^^^^^^^^^
    help: write it as the API stores it, "Checkout": the API trims names, so this one would never match the conversion it made, and every apply would make another copy
    "#);
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert!(env.live("act_1").is_empty());
    // In a set, a parameter that brings the spaces in is refused too.
    env.write(
        "conversions/a.yaml",
        "set: shop\nparams: [brand]\nconversions:\n  - name: ${brand} Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /checkout}}\n---\naccount: act_1\nuse:\n  - set: shop\n    params: {brand: \"\"}\n",
    );
    assert_run!(env.run(&["validate"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/a.yaml:11:21: error: `name` " Checkout" has leading or trailing spaces (the value of parameter `brand`, used by the set at conversions/a.yaml:4:11) (set shop, used by act_1 at conversions/a.yaml:10:5)
       |
    11 |     params: {brand: ""}
       |                     ^^
    help: write it as the API stores it, "Checkout": the API trims names, so this one would never match the conversion it made, and every apply would make another copy
    "#);

    // A live name the API kept with a trailing space (made by hand where the API does not
    // trim) is the declared name: matched, never pruned and made again, and no rename either.
    let id = env
        .seed(json!([seeded(
            "act_1",
            "Checkout ",
            "INITIATED_CHECKOUT",
            "/checkout"
        )]))
        .remove(0);
    env.write(
        "conversions/a.yaml",
        &format!("account: act_1\nprune: true\nconversions:\n{PROTECTED}"),
    );
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
    for _ in 0..2 {
        let apply = env.run(&["apply", "--auto-approve"]);
        assert_eq!(apply.code, 0, "{apply}");
    }
    let live = env.live("act_1");
    assert_eq!(live.len(), 1, "no second copy: {live:?}");
    assert_eq!(live[0]["id"], id.as_str());
    // import writes it as the API stores names, and the result plans no change.
    assert_run!(env.run(&["import", "act_1", "--out", "imported"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Wrote imported/act_1.yaml (1 conversions, ids pinned).
    ----- stderr -----
    ");
    let imported = std::fs::read_to_string(env.path("imported/act_1.yaml")).unwrap();
    insta::assert_snapshot!(imported, @r#"
    # yaml-language-server: $schema=../schema.json
    # Imported by `convctl import act_1`: ids are pinned, so renames here are safe.
    version: 1
    account: act_1
    conversions:
    - name: Checkout
      id: "23850000000000001"
      custom_event_type: INITIATED_CHECKOUT
      rule:
        url:
          i_contains: /checkout
    "#);
    assert_run!(env.run(&["plan", "imported"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (imported/act_1.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

/// Two entries that list the same earlier name: file order would decide which one
/// renames the live conversion. `validate` fails naming both.
#[test]
fn two_entries_may_not_list_the_same_earlier_name() {
    let env = Env::new();
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Lead (shop)\n    renamed_from: [Lead]\n    custom_event_type: LEAD\n    rule: {url: {i_contains: /lead}}\n  - name: Lead (blog)\n    renamed_from: [Old lead, Lead]\n    custom_event_type: LEAD\n    rule: {url: {i_contains: /blog-lead}}\n",
    );
    assert_run!(env.run(&["validate"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/a.yaml:7:5: error: "Lead (blog)" lists "Lead" in `renamed_from`, and so does "Lead (shop)" at conversions/a.yaml:3:5: which one is the live "Lead" is ambiguous
      |
    7 |   - name: Lead (blog)
      |     ^^^^
    help: list an earlier name in one entry only (the one the live conversion becomes); pin the other entry's conversion with `id:` if it has one
    "#);
    env.seed(json!([seeded("act_1", "Lead", "LEAD", "/lead")]));
    let before = writes(&env);
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert_eq!(writes(&env), before);
}
