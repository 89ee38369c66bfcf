//! Which live conversion an entry means, when a person gets it wrong: a pasted id never
//! bypasses `protect`, a conversion made by hand is never taken for a duplicate, names are
//! compared as the API stores them, and an earlier name belongs to one entry. End to end: the
//! real binary against the in-process emulator.

use crate::support::Harness as Env;
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

/// Plan and apply both fail, naming both entries, and nothing is written.
fn refused(env: &Env, manifest: &str, places: &[&str], words: &[&str]) {
    env.write("conversions/a.yaml", manifest);
    let before = writes(env);
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{manifest}\n{plan}");
    for expected in places.iter().chain(words) {
        assert!(
            plan.stderr.contains(expected),
            "{expected}: {manifest}\n{plan}"
        );
    }
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{manifest}\n{apply}");
    assert_eq!(writes(env), before, "nothing written: {manifest}");
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
    refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{checkout}\"\n"
        ),
        &["conversions/a.yaml:3:5", "conversions/a.yaml:7:5"],
        &["\"Checkout\"", "\"Old spring\"", "protect"],
    );
    // A present entry pinning it, with another rule: a replacement.
    refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Checkout v2\n    id: \"{checkout}\"\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /pay}}}}\n"
        ),
        &["conversions/a.yaml:3:5", "conversions/a.yaml:7:5"],
        &["\"Checkout v2\"", "protect"],
    );
    // A pin whose live conversion carries another entry's name (neither protected).
    refused(
        &env,
        &format!(
            "{head}  - name: Sale\n    id: \"{checkout}\"\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n"
        ),
        &["conversions/a.yaml:3:5", "conversions/a.yaml:7:5"],
        &["\"Sale\"", "\"Checkout\""],
    );
    // The protected entry itself pinned to the wrong conversion, with prune: renaming that one
    // would leave the real checkout to be pruned.
    refused(
        &env,
        &format!(
            "account: act_1\nprune: true\nconversions:\n  - name: Checkout\n    id: \"{old}\"\n    protect: true\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {{url: {{i_contains: /checkout}}}}\n  - name: Summer sale\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /summer}}}}\n"
        ),
        &["conversions/a.yaml:4:5", checkout.as_str()],
        &["\"Checkout\""],
    );
    // A tombstone whose pasted id is another conversion than the one it names.
    refused(
        &env,
        &format!(
            "{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{summer}\"\n"
        ),
        &["conversions/a.yaml:7:5", summer.as_str()],
        &["\"Summer sale\"", "\"Old spring\""],
    );
    let live = env.live("act_1");
    assert_eq!(live.len(), 3, "{live:?}");
    assert_eq!(env.id_of("act_1", "Checkout"), *checkout);

    // The same manifests, pinned right, plan and apply.
    env.write(
        "conversions/a.yaml",
        &format!("{head}{PROTECTED}  - name: Old spring\n    ensure: absent\n    id: \"{old}\"\n"),
    );
    let plan = env.run(&["plan"]);
    assert_eq!(
        plan.code, 1,
        "the tombstone names another conversion: {plan}"
    );
    env.write(
        "conversions/a.yaml",
        &format!(
            "{head}{PROTECTED}  - name: Checkout (old)\n    ensure: absent\n    id: \"{old}\"\n"
        ),
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
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
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr.contains(&format!("ids {}, {}", ids[0], ids[1])),
        "{plan}"
    );
    assert!(plan.stderr.contains("pin the one to manage"), "{plan}");
    assert!(!plan.stdout.contains("duplicate"), "{plan}");
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
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(
        plan.stdout
            .contains("identical in every field the API reported"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains(&format!("keeping the oldest, {}", ids[0])),
        "{plan}"
    );
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
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr.contains(&format!("ids {}, {}", ids[0], ids[1])),
        "{plan}"
    );
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
    let validate = env.run(&["-q", "validate"]);
    assert_eq!(validate.code, 1, "{validate}");
    assert!(
        validate.stderr.contains("conversions/a.yaml:3:11")
            && validate.stderr.contains("leading or trailing"),
        "{validate}"
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert!(env.live("act_1").is_empty());
    // In a set, a parameter that brings the spaces in is refused too.
    env.write(
        "conversions/a.yaml",
        "set: shop\nparams: [brand]\nconversions:\n  - name: ${brand} Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /checkout}}\n---\naccount: act_1\nuse:\n  - set: shop\n    params: {brand: \"\"}\n",
    );
    let validate = env.run(&["validate"]);
    assert_eq!(validate.code, 1, "{validate}");
    assert!(
        validate.stderr.contains("leading or trailing"),
        "{validate}"
    );

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
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
    for _ in 0..2 {
        let apply = env.run(&["apply", "--auto-approve"]);
        assert_eq!(apply.code, 0, "{apply}");
    }
    let live = env.live("act_1");
    assert_eq!(live.len(), 1, "no second copy: {live:?}");
    assert_eq!(live[0]["id"], id.as_str());
    // import writes it as the API stores names, and the result plans no change.
    let import = env.run(&["import", "act_1", "--out", "imported"]);
    assert_eq!(import.code, 0, "{import}");
    let imported = std::fs::read_to_string(env.path("imported/act_1.yaml")).unwrap();
    assert!(imported.contains("name: Checkout\n"), "{imported}");
    assert_eq!(env.run(&["plan", "imported"]).last_line(), "No changes.");
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
    let validate = env.run(&["validate"]);
    assert_eq!(validate.code, 1, "{validate}");
    assert!(
        validate.stderr.contains("conversions/a.yaml:7:5")
            && validate.stderr.contains("conversions/a.yaml:3:5")
            && validate.stderr.contains("\"Lead\""),
        "{validate}"
    );
    env.seed(json!([seeded("act_1", "Lead", "LEAD", "/lead")]));
    let before = writes(&env);
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 1);
    assert_eq!(writes(&env), before);
}
