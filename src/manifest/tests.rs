//! Unit tests of the loader over in-memory text (the broken-manifest corpus in tests/corpus
//! drives the binary over files).

use super::*;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use std::path::Path;

fn load(text: &str) -> Result<Manifests, Vec<Diagnostic>> {
    load_str(Path::new("m.yaml"), text)
}

/// The errors (not the warnings) of an invalid manifest, as printed.
fn errors(text: &str) -> Vec<String> {
    load(text)
        .expect_err("should be invalid")
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

const GOOD: &str = "\
account: 123
defaults:
  event_source_id: 998877665544
  action_source_type: website
conversions:
  - name: A
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
  - name: B
    custom_event_type: LEAD
    event_source_id: \"42\"
    default_conversion_value: 12
    rule: '{\"url\":{\"i_contains\":\"thank\\/you\"}}'
    tests: {match: [{url: /thank/you}], no_match: [{url: /x}]}
  - name: C
    ensure: absent
";

#[test]
fn loads_with_defaults_and_normalisation() {
    let m = load(GOOD).unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let a = &m.accounts[0];
    assert_eq!(a.account.as_str(), "act_123");
    assert_eq!((a.location.line, a.location.column), (1, 1));
    let [x, y, z] = &a.conversions[..] else {
        panic!()
    };
    assert_eq!(x.event_source_id.as_ref().unwrap().as_str(), "998877665544");
    assert_eq!(x.action_source_type, Some(ActionSourceType::Website));
    assert_eq!(x.custom_event_type, Some(CustomEventType::Purchase));
    assert_eq!(x.location.line, 6);
    assert_eq!(y.event_source_id.as_ref().unwrap().as_str(), "42");
    assert_eq!(y.default_conversion_value, 12.0);
    assert_eq!(y.tests.matches.len(), 1);
    assert_eq!(y.tests.match_locations[0].line, 14);
    let RuleSpec::Rule(rule) = y.rule.as_ref().unwrap() else {
        panic!()
    };
    assert_eq!(
        rule.to_api_string(),
        r#"{"url":{"i_contains":"thank/you"}}"#
    );
    assert_eq!(z.ensure, Ensure::Absent);
}

#[test]
fn unknown_keys_suggest_and_locate() {
    let e = errors(
        "account: act_1\nconversions:\n  - nmae: A\n    custom_event_type: PURCHASE\n    rule: {url: {eq: x}}\n",
    );
    assert!(
        e.iter()
            .any(|e| e.starts_with("m.yaml:3:5: error: unknown key `nmae`")
                && e.contains("did you mean `name`?")),
        "{e:?}"
    );
    let e = errors("account: act_1\nname: A\n");
    assert!(e[0].contains("belongs to a conversion entry"), "{e:?}");
}

#[test]
fn all_errors_of_a_run_together() {
    let e = errors(
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: purchase\n    rule: {url: {icontains: x}}\n  - name: B\n    custom_event_type: LEAD\n    rule: {value: {gt: \"100\"}}\n    default_conversion_value: -1\n",
    );
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e[0].starts_with("m.yaml:4:24:") && e[0].contains("did you mean `PURCHASE`"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("m.yaml:5:18:") && e[1].contains("did you mean `i_contains`"),
        "{e:?}"
    );
    assert!(
        e[2].starts_with("m.yaml:8:20:") && e[2].contains("must be a number"),
        "{e:?}"
    );
    assert!(e[3].starts_with("m.yaml:9:31:"), "{e:?}");
}

#[test]
fn duplicates_name_both_places() {
    let e = errors(
        "account: act_1\nconversions:\n  - {name: A, custom_event_type: LEAD, rule: {event: {eq: Lead}}}\n  - {name: A, custom_event_type: LEAD, rule: {event: {eq: Lead}}}\n",
    );
    assert!(
        e[0].starts_with("m.yaml:4:5:") && e[0].contains("also declared at m.yaml:3:5"),
        "{e:?}"
    );
    let e = errors("account: act_1\n---\naccount: \"1\"\n");
    assert!(
        e[0].starts_with("m.yaml:3:1:") && e[0].contains("declared twice: here and at m.yaml:1:1"),
        "{e:?}"
    );
}

#[test]
fn rule_errors_point_inside_the_rule() {
    let e = errors(
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule:\n      and:\n        - event: {eq: Lead}\n        - url: {regex_match: '(unclosed'}\n",
    );
    assert!(
        e[0].starts_with("m.yaml:8:17:") && e[0].contains("PCRE"),
        "{e:?}"
    );
}

#[test]
fn cap_of_one_hundred_present_conversions() {
    let mut text = String::from("account: act_1\nconversions:\n");
    for i in 0..101 {
        text.push_str(&format!(
            "  - {{name: c{i}, custom_event_type: LEAD, rule: {{event: {{eq: Lead}}}}}}\n"
        ));
    }
    text.push_str("  - {name: gone, ensure: absent}\n");
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("m.yaml:103:5:") && e[0].contains("101 present conversions"),
        "{e:?}"
    );
}

#[test]
fn lints_are_warnings() {
    let m = load("account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    default_conversion_value: 9.5\n    rule: {and: [{event: {eq: purchase}}, {url: {i_contains: /a}}]}\n  - name: B\n    custom_event_type: LEAD\n    rule: {and: [{url: {i_contains: /b}}, {event: {eq: Purchase}}]}\n").unwrap();
    let w: Vec<String> = m.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("fractional"));
    assert!(w[1].contains("looks like the standard event `Purchase`"));
    assert!(
        w[2].starts_with("m.yaml:9:52:") && w[2].contains("custom_event_type is LEAD"),
        "{w:?}"
    );
}

/// Rules Meta accepts and that never fire, or that it refuses: each a warning at its place,
/// saying why and what to write instead. A contradiction is only reported without `tests:`.
#[test]
fn rules_that_never_fire_are_warnings() {
    let m = load(
        "\
account: act_1
conversions:
  - name: Typo key
    custom_event_type: LEAD
    rule: {and: [{event_type: {eq: Lead}}, {url: {i_contains: /lead}}]}
  - name: Spaces
    custom_event_type: LEAD
    rule: {url: {i_contains: ' thanks '}}
  - name: Event only
    custom_event_type: PURCHASE
    rule: {event: {eq: Purchase}}
  - name: Contradiction
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {url: {i_contains: /a}}, {event: {eq: Lead}}]}
  - name: Contradiction with tests
    custom_event_type: PURCHASE
    rule: {and: [{value: {gt: 100}}, {value: {lt: 50}}]}
    tests: {no_match: [{value: 70}]}
",
    )
    .unwrap();
    let w: Vec<String> = m.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        w,
        [
            "m.yaml:5:19: warning: `event_type` is not event data Meta matches: Meta accepts the rule and it never fires\nhelp: did you mean `event`? e.g. `event: {eq: Purchase}`",
            "m.yaml:8:18: warning: the value \" thanks \" has leading or trailing spaces: Meta accepts it and the condition never matches\nhelp: write \"thanks\"",
            "m.yaml:11:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, \"A conversion rule is required at creation time\")\nhelp: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`",
            "m.yaml:14:77: warning: the rule can never match any event: `event` would have to equal both `Purchase` and `Lead`\nhelp: fix the rule (was an `or` meant?), or add `tests:` with a `match` example if it can match",
        ]
    );
}

/// Rules made in Meta's UI say `URL` for the page: `convctl test` reads it as `url`, and the
/// rule keeps its spelling (an import round-trips unchanged).
#[test]
fn the_ui_url_key_means_the_page_url() {
    let m = load(
        "\
account: act_1
conversions:
  - name: Thanks
    custom_event_type: OTHER
    rule: '{\"and\":[{\"event\":{\"eq\":\"PageView\"}},{\"or\":[{\"URL\":{\"i_contains\":\"thanks\"}}]}]}'
    tests:
      match: [{event: PageView, url: 'https://shop.example/thanks'}]
      no_match: [{event: PageView, url: 'https://shop.example/cart'}]
",
    )
    .unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let run = examples::run(&m);
    assert_eq!(run.failed(), 0);
    let Some(RuleSpec::Rule(rule)) = &m.accounts[0].conversions[0].rule else {
        panic!("a rule")
    };
    assert_eq!(
        rule.to_api_string(),
        r#"{"and":[{"event":{"eq":"PageView"}},{"or":[{"URL":{"i_contains":"thanks"}}]}]}"#
    );
    let lower = crate::rule::Rule::from_json_str(
        r#"{"and":[{"event":{"eq":"PageView"}},{"or":[{"url":{"i_contains":"thanks"}}]}]}"#,
    )
    .unwrap();
    assert_eq!(*rule, lower, "`URL` and `url` mean the same page");
}

#[test]
fn empty_and_hostile_files() {
    assert!(errors("")[0].contains("the file is empty"));
    assert!(errors("# only a comment\n")[0].contains("the file is empty"));
    assert!(errors("- a\n- b\n")[0].contains("must be a mapping"));
    assert!(errors(&"[".repeat(50_000))[0].contains("invalid YAML"));
    assert!(errors("account: act_1\nversion: 2\n")[0].contains("unsupported manifest version"));
}

#[test]
fn null_values_mean_not_set() {
    let m = load("account: act_1\ndefaults:\nprune:\nconversions:\n  - name: A\n    description:\n    custom_event_type: LEAD\n    rule: {event: {eq: Lead}}\n    tests:\n").unwrap();
    let c = &m.accounts[0].conversions[0];
    assert_eq!(c.description, "");
    assert!(!m.accounts[0].prune);
    let e = errors(
        "account: act_1\nconversions:\n  - name:\n    custom_event_type: LEAD\n    rule: {event: {eq: Lead}}\n",
    );
    assert!(e[0].contains("needs a `name`"), "{e:?}");
}

#[test]
fn expect_fire_within_comes_from_the_entry_or_the_defaults_and_off_turns_it_off() {
    let m = load(
        "account: 1\ndefaults:\n  event_source_id: \"5\"\n  expect_fire_within: 3d\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: a}}\n  - name: B\n    custom_event_type: PURCHASE\n    expect_fire_within: 36h\n    rule: {url: {i_contains: b}}\n  - name: C\n    custom_event_type: PURCHASE\n    expect_fire_within: off\n    rule: {url: {i_contains: c}}\n",
    )
    .unwrap();
    let c = &m.accounts[0].conversions;
    let secs = |d: u64| FireExpectation::Within(std::time::Duration::from_secs(d));
    assert_eq!(c[0].expect_fire_within, Some(secs(3 * 86_400)));
    assert_eq!(c[1].expect_fire_within, Some(secs(36 * 3_600)));
    assert_eq!(c[2].expect_fire_within, Some(FireExpectation::Off));
}

#[test]
fn a_bad_expect_fire_within_names_its_place_and_how_to_write_one() {
    for (value, says) in [
        ("2", "has no unit"),
        ("soon", "is not a duration"),
        ("0s", "write `off` to never check it"),
        ("[1d]", "must be a duration or `off`"),
        ("1mo", "months and years"),
    ] {
        let e = errors(&format!(
            "account: 1\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    event_source_id: \"5\"\n    expect_fire_within: {value}\n    rule: {{url: {{i_contains: a}}}}\n"
        ));
        assert!(
            e[0].starts_with("m.yaml:6:25: error: `expect_fire_within`"),
            "{value}: {e:?}"
        );
        assert!(e[0].contains(says), "{value}: {e:?}");
        assert!(e[0].contains("help: write how long"), "{value}: {e:?}");
    }
}
