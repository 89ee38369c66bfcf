//! Property tests: no input panics the manifest loader or the rule parser; every error names a
//! location; a valid rule survives its own API serialisation with the same meaning.

use convctl::manifest::load_str;
use convctl::rule::Rule;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

/// YAML-ish text built from the tokens manifests are made of, so that the loader's deeper
/// paths (entries, rules, tests) are reached, not only the YAML parser's errors.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("account: act_1\n".to_string()),
        Just("account: 12\n".to_string()),
        Just("conversions:\n".to_string()),
        Just("  - name: A\n".to_string()),
        Just("  - name: A\n    custom_event_type: PURCHASE\n".to_string()),
        Just("    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}\n".to_string()),
        Just("    rule: '{\"url\":{\"i_contains\":\"x\"}}'\n".to_string()),
        Just("    rule: {url: {regex_match: '(a'}}\n".to_string()),
        Just("    tests: {match: [{event: Purchase, value: 150}], no_match: [x]}\n".to_string()),
        Just("    ensure: absent\n".to_string()),
        Just("    id: 123\n".to_string()),
        Just("defaults: {event_source_id: 5, custom_event_type: LEAD}\n".to_string()),
        Just("---\n".to_string()),
        Just("version: 1\n".to_string()),
        Just("prune: maybe\n".to_string()),
        Just("&a [*a]\n".to_string()),
        Just("    : \n".to_string()),
        Just("\t".to_string()),
        Just("[{".to_string()),
        Just("}]".to_string()),
        "[ -~]{0,12}\n",
    ];
    prop::collection::vec(token, 0..24).prop_map(|t| t.concat())
}

fn rule_json() -> impl Strategy<Value = Value> {
    let leaf = (
        prop_oneof![
            Just("url"),
            Just("event"),
            Just("value"),
            Just("and"),
            Just("")
        ],
        prop_oneof![
            Just("eq"),
            Just("neq"),
            Just("i_contains"),
            Just("gt"),
            Just("lte"),
            Just("regex_match"),
            Just("bogus")
        ],
        prop_oneof![
            any::<String>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            any::<i64>().prop_map(Value::from),
            Just(Value::Null),
            Just(json!("(unclosed")),
        ],
    )
        .prop_map(|(f, o, v)| json!({ f: { o: v } }));
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| json!({"or": v})),
            inner.prop_map(|r| json!({"not": r})),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn loader_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = load_str(Path::new("f.yaml"), &text);
    }

    #[test]
    fn loader_never_panics_and_always_locates(text in yamlish()) {
        if let Err(diags) = load_str(Path::new("f.yaml"), &text) {
            prop_assert!(!diags.is_empty());
            for d in diags {
                prop_assert!(d.location.is_some(), "{d}");
                prop_assert!(d.hint.is_some(), "{d}");
            }
        }
    }

    #[test]
    fn rule_parser_never_panics_on_text(text in any::<String>()) {
        let _ = Rule::from_json_str(&text);
    }

    #[test]
    fn valid_rules_round_trip_through_the_api_string(value in rule_json()) {
        if let Ok(rule) = Rule::from_value(&value) {
            let again = Rule::from_json_str(&rule.to_api_string()).expect("own output parses");
            prop_assert_eq!(&again, &rule);
            prop_assert_eq!(again.to_api_string(), rule.to_api_string());
            let _ = rule.matches(&serde_json::Map::new());
        }
    }
}
