//! Unit tests of sets: expansion with parameters, and the errors that name
//! both the set's place and the account's `use`.

use crate::manifest::*;
use crate::model::event_types::CustomEventType;
use crate::rule::Event;

const SET: &str = r#"version: 1
set: ecommerce
params: [domain, purchase_value]
conversions:
  - name: Purchase
    description: Purchases on ${domain}
    custom_event_type: PURCHASE
    default_conversion_value: ${purchase_value}
    rule: {and: [{event: {eq: Purchase}}, {url: {i_contains: "${domain}/thank-you"}}, {value: {gte: "${purchase_value}"}}]}
    tests:
      match: [{event: Purchase, url: "https://${domain}/thank-you", value: "${purchase_value}"}]
  - name: Lead (${domain})
    renamed_from: [Lead]
    custom_event_type: LEAD
    rule: '{"event":{"eq":"Lead"}}'
"#;

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn load_dir(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Manifests, Vec<Diagnostic>>) {
    let dir = dir_with(files);
    let result = load(&[dir.path().to_path_buf()]);
    (dir, result)
}

fn errors_of(files: &[(&str, &str)]) -> Vec<String> {
    let (dir, result) = load_dir(files);
    let prefix = format!("{}/", dir.path().display());
    result
        .expect_err("should be invalid")
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string().replace(&prefix, ""))
        .collect()
}

const ACCOUNT_A: &str = r#"account: act_1
defaults: {event_source_id: "111", action_source_type: website}
use:
  - set: ecommerce
    params: {domain: shop-a.example, purchase_value: 40}
    ids: {Purchase: "23850000000000001"}
conversions:
  - name: Own
    custom_event_type: LEAD
    rule: {url: {i_contains: own}}
"#;

#[test]
fn a_use_expands_the_set_with_the_accounts_values_and_defaults() {
    let (_dir, result) = load_dir(&[("sets.yaml", SET), ("a.yaml", ACCOUNT_A)]);
    let m = result.unwrap_or_else(|d| panic!("{d:#?}"));
    let a = &m.accounts[0];
    let names: Vec<&str> = a.conversions.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Own", "Purchase", "Lead (shop-a.example)"]);
    let purchase = &a.conversions[1];
    assert_eq!(purchase.description, "Purchases on shop-a.example");
    assert_eq!(
        purchase.default_conversion_value, 40.0,
        "a whole ${{p}} takes the number"
    );
    assert_eq!(purchase.id.as_ref().unwrap().as_str(), "23850000000000001");
    assert_eq!(purchase.event_source_id.as_ref().unwrap().as_str(), "111");
    assert_eq!(purchase.custom_event_type, Some(CustomEventType::Purchase));
    assert_eq!(purchase.set.as_ref().unwrap().name, "ecommerce");
    assert!(purchase.location.file.ends_with("sets.yaml"));
    assert_eq!(purchase.location.line, 5);
    assert!(
        purchase
            .set
            .as_ref()
            .unwrap()
            .used_at
            .file
            .ends_with("a.yaml")
    );
    let RuleSpec::Rule(rule) = purchase.rule.as_ref().unwrap() else {
        panic!()
    };
    let mut event = Event::new();
    event.insert("event".into(), "Purchase".into());
    event.insert("url".into(), "https://shop-a.example/thank-you".into());
    event.insert("value".into(), 40.into());
    assert!(rule.matches(&event).unwrap(), "{rule:?}");
    // The test event took the domain and the number.
    assert_eq!(purchase.tests.matches[0]["value"], serde_json::json!(40));
    assert!(
        purchase.tests.match_locations[0]
            .file
            .ends_with("sets.yaml")
    );
    let lead = &a.conversions[2];
    assert_eq!(lead.renamed_from, ["Lead"]);
    assert_eq!(lead.id, None);
    assert!(a.conversions[0].set.is_none());
}

#[test]
fn exclude_and_ids_take_the_names_as_written_in_the_set() {
    let account = r#"account: act_2
use:
  - set: ecommerce
    params: {domain: b.example, purchase_value: 5}
    exclude: ["Lead (${domain})"]
"#;
    let (_dir, result) = load_dir(&[("sets.yaml", SET), ("b.yaml", account)]);
    let m = result.unwrap();
    let names: Vec<&str> = m.accounts[0]
        .conversions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Purchase"]);
    let expanded = account.replace("Lead (${domain})", "Lead (b.example)");
    let (_dir, result) = load_dir(&[("sets.yaml", SET), ("b.yaml", &expanded)]);
    assert_eq!(result.unwrap().accounts[0].conversions.len(), 1);
}

#[test]
fn use_errors_name_the_use_and_the_set() {
    let bad = |use_text: &str| {
        let account = format!("account: act_3\nuse:\n{use_text}");
        errors_of(&[("sets.yaml", SET), ("c.yaml", &account)])
    };
    let e = bad("  - set: ecomerce\n    params: {domain: x, purchase_value: 1}\n");
    assert!(
        e[0].starts_with(
            "c.yaml:3:10: error: act_3 uses set \"ecomerce\", which is declared nowhere"
        ),
        "{e:?}"
    );
    assert!(e[0].contains("did you mean `ecommerce`?"), "{e:?}");

    let e = bad("  - set: ecommerce\n    params: {domain: x}\n");
    assert!(
        e[0].starts_with(
            "c.yaml:3:5: error: act_3 uses set \"ecommerce\" without parameter `purchase_value`"
        ) && e[0].contains("sets.yaml:2:1"),
        "{e:?}"
    );

    let e = bad("  - set: ecommerce\n    params: {domain: x, purchase_value: 1, domian: y}\n");
    assert!(
        e[0].starts_with("c.yaml:4:44: error: unknown parameter `domian` for set \"ecommerce\""),
        "{e:?}"
    );

    let e = bad(
        "  - set: ecommerce\n    params: {domain: x, purchase_value: 1}\n    exclude: [Lead]\n    ids: {Purchse: \"1\"}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("c.yaml:5:15: error: set \"ecommerce\" has no entry named \"Lead\""),
        "{e:?}"
    );
    assert!(e[1].contains("did you mean `Purchase`?"), "{e:?}");
}

#[test]
fn unresolved_and_unknown_parameters_in_a_set_are_errors_in_the_set() {
    let set = SET
        .replace("Purchases on ${domain}", "Purchases on ${domian}")
        .replace("Lead (${domain})", "Lead (${domain)");
    let e = errors_of(&[("sets.yaml", &set), ("a.yaml", ACCOUNT_A)]);
    assert!(
        e.iter().any(
            |e| e.starts_with("sets.yaml:6:18: error: unknown parameter `${domian}`")
                && e.contains("did you mean `${domain}`?")
        ),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|e| e.starts_with("sets.yaml:12:11: error: unresolved parameter")),
        "{e:?}"
    );
}

/// An error of the set itself (not of a value) is one error, naming every account it hits.
#[test]
fn a_broken_set_entry_is_one_error_naming_the_accounts() {
    let set = SET.replace("custom_event_type: LEAD", "custom_event_type: LEED");
    let b = ACCOUNT_A
        .replace("act_1", "act_2")
        .replace("ids: {Purchase: \"23850000000000001\"}", "");
    let e = errors_of(&[("sets.yaml", &set), ("a.yaml", ACCOUNT_A), ("b.yaml", &b)]);
    let leed: Vec<&String> = e.iter().filter(|e| e.contains("LEED")).collect();
    assert_eq!(leed.len(), 1, "{e:?}");
    assert!(
        leed[0].starts_with("sets.yaml:14:24: error:")
            && leed[0].contains(
                "(set ecommerce, used by 2 accounts: act_1 at a.yaml:4:5, act_2 at b.yaml:4:5)"
            ),
        "{leed:?}"
    );
}

/// A bad value shows up in the account that gives it, not in the set.
#[test]
fn a_bad_value_is_an_error_at_the_value() {
    let b = ACCOUNT_A.replace("purchase_value: 40", "purchase_value: lots");
    let e = errors_of(&[("sets.yaml", SET), ("a.yaml", &b)]);
    assert!(!e.is_empty());
    for e in &e {
        assert!(
            e.starts_with("a.yaml:5:54: error:")
                && e.contains("parameter `purchase_value`")
                && e.contains("sets.yaml:")
                && e.contains("used by act_1 at a.yaml:4:5"),
            "{e}"
        );
    }
}

#[test]
fn name_collisions_name_both_places() {
    let own = ACCOUNT_A.replace("name: Own", "name: Purchase");
    let e = errors_of(&[("sets.yaml", SET), ("a.yaml", &own)]);
    assert!(
        e.iter().any(|e| e.starts_with("sets.yaml:5:5: error: duplicate conversion name \"Purchase\" in act_1: also declared at a.yaml:8:5")
            && e.contains("used by act_1 at a.yaml:4:5")
            && e.contains("`exclude`")),
        "{e:?}"
    );
    // Two sets with one entry name.
    let other = "set: other\nconversions:\n  - name: Purchase\n    custom_event_type: PURCHASE\n    rule: {event: {eq: Purchase}}\n";
    let two = ACCOUNT_A.replace("conversions:\n", "  - set: other\nconversions:\n");
    let e = errors_of(&[("sets.yaml", SET), ("other.yaml", other), ("a.yaml", &two)]);
    assert!(
        e.iter()
            .any(|e| e.contains("duplicate conversion name \"Purchase\"")
                && e.contains("(set ecommerce, used at a.yaml:4:5)")
                && e.contains("two sets")),
        "{e:?}"
    );
    // A set declared twice.
    let e = errors_of(&[
        ("sets.yaml", SET),
        ("sets2.yaml", SET),
        ("a.yaml", ACCOUNT_A),
    ]);
    assert!(
        e.iter().any(|e| e.starts_with(
            "sets2.yaml:2:1: error: set \"ecommerce\" is declared twice: here and at"
        )),
        "{e:?}"
    );
}

#[test]
fn an_earlier_name_that_is_also_declared_is_an_error() {
    let own = ACCOUNT_A.replace("name: Own", "name: Lead");
    let e = errors_of(&[("sets.yaml", SET), ("a.yaml", &own)]);
    assert!(
        e.iter().any(|e| e.contains(
            "lists \"Lead\" in `renamed_from`, but \"Lead\" is also declared in act_1 at"
        )),
        "{e:?}"
    );
}

#[test]
fn ids_are_pinned_in_the_use_not_in_the_set() {
    let set = SET.replace(
        "  - name: Purchase\n",
        "  - name: Purchase\n    id: \"1\"\n",
    );
    let e = errors_of(&[("sets.yaml", &set), ("a.yaml", ACCOUNT_A)]);
    assert!(
        e.iter()
            .any(|e| e.contains("unknown key `id` in an entry of a set") && e.contains("`ids: {")),
        "{e:?}"
    );
}

#[test]
fn token_env_and_safety_are_read_and_checked() {
    let text = "account: act_9\ntoken_env: META_TOKEN_B\nsafety: {max_deletes: 20, max_delete_pct: 50}\nconversions: []\n";
    let m = load_str(Path::new("m.yaml"), text).unwrap();
    let a = &m.accounts[0];
    assert_eq!(a.token_env.as_deref(), Some("META_TOKEN_B"));
    assert_eq!(
        a.safety,
        Some(Safety {
            max_deletes: 20,
            max_delete_pct: 50
        })
    );
    let half = load_str(
        Path::new("m.yaml"),
        &text.replace(", max_delete_pct: 50", ""),
    )
    .unwrap();
    assert_eq!(half.accounts[0].safety.unwrap().max_delete_pct, 30);
    let bad = load_str(
        Path::new("m.yaml"),
        &text
            .replace("META_TOKEN_B", "EAAB secret-looking")
            .replace("50}", "150}"),
    )
    .unwrap_err();
    let text: Vec<String> = bad.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("`token_env` must be the name")),
        "{text:?}"
    );
    assert!(
        text.iter().all(|t| !t.contains("EAAB")),
        "a token is never echoed: {text:?}"
    );
    assert!(text.iter().any(|t| t.contains("from 0 to 100")), "{text:?}");
}

/// A rule written as a JSON string takes parameters as values in its strings, never as JSON
/// text: a backslash stays a backslash, a quote cannot add a condition, a whole `"${p}"` takes
/// the value's type, `$${` stays a literal `${`, and an advanced_rule is treated alike.
#[test]
fn parameters_in_a_json_string_rule_are_values_not_json_text() {
    let set = r#"set: s
params: [word, path, min, key]
conversions:
  - name: Thanks
    custom_event_type: PURCHASE
    rule: '{"and":[{"url":{"regex_match":"${word}"}},{"url":{"i_contains":"/${path}"}},{"value":{"gt":"${min}"}},{"${key}":{"eq":"$${x}"}}]}'
  - name: Advanced
    custom_event_type: PURCHASE
    advanced_rule: '{"x":"${path}","n":"${min}"}'
"#;
    let account = r#"account: act_1
use:
  - set: s
    params: {word: '\bthank\b', path: 'a"}},{"event":{"eq":"Lead', min: 40, key: color}
"#;
    let (_dir, result) = load_dir(&[("sets.yaml", set), ("a.yaml", account)]);
    let m = result.unwrap_or_else(|d| panic!("{d:#?}"));
    let RuleSpec::Rule(rule) = m.accounts[0].conversions[0].rule.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(
        rule.to_value(),
        serde_json::json!({"and": [
            {"url": {"regex_match": "\\bthank\\b"}},
            {"url": {"i_contains": "/a\"}},{\"event\":{\"eq\":\"Lead"}},
            {"value": {"gt": 40}},
            {"color": {"eq": "${x}"}},
        ]})
    );
    let RuleSpec::Advanced(advanced) = m.accounts[0].conversions[1].rule.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(
        *advanced,
        serde_json::json!({"x": "a\"}},{\"event\":{\"eq\":\"Lead", "n": 40})
    );
}

/// A parameter outside the JSON strings of a JSON string rule is an error at the rule, saying
/// how to write it.
#[test]
fn a_parameter_outside_the_json_strings_is_an_error() {
    let set = "set: s\nparams: [min]\nconversions:\n  - name: T\n    custom_event_type: PURCHASE\n    rule: '{\"value\":{\"gt\":${min}}}'\n";
    let account = "account: act_1\nuse:\n  - set: s\n    params: {min: 40}\n";
    let errors = errors_of(&[("sets.yaml", set), ("a.yaml", account)]);
    assert!(
        errors[0].starts_with("sets.yaml:6:11: error: invalid rule: the rule is not valid JSON")
            && errors[0].contains("write \"${min}\""),
        "{errors:#?}"
    );
}

/// A set's entries land in the accounts that use it: `deletion` is the account's setting.
#[test]
fn deletion_belongs_to_the_account_not_the_set() {
    let set = format!("{SET}deletion: retire\n");
    let e = errors_of(&[("set.yaml", &set), ("a.yaml", ACCOUNT_A)]);
    assert!(
        e.iter().any(|e| e.contains("`deletion`")
            && e.contains("belongs to an account: a set's entries land in the accounts that use it, and each account's `deletion` governs them")),
        "{e:?}"
    );
    let retiring = ACCOUNT_A.replace("use:", "deletion: retire\nuse:");
    let (_dir, loaded) = load_dir(&[("set.yaml", SET), ("a.yaml", &retiring)]);
    let account = &loaded.unwrap().accounts[0];
    assert_eq!(account.deletion, Deletion::Retire);
    assert!(account.conversions.iter().any(|c| c.set.is_some()));
}
