//! The format types are the one definition of the manifest format: these tests fail when the
//! schema, the loader or `import`'s writer disagree with them.

use super::*;
use crate::manifest::{load_str, schema};
use proptest::strategy::Strategy;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every mapping of the format: its keys, and its definition in `schema.json`.
fn mapping_types() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("ManifestDocument", keys::<ManifestDocument>()),
        ("SetDocument", keys::<SetDocument>()),
        ("Defaults", keys::<DefaultsEntry>()),
        ("SafetyEntry", keys::<SafetyEntry>()),
        ("UseEntry", keys::<UseEntry>()),
        ("ConversionEntry", keys::<ConversionEntry>()),
        ("SetEntry", keys::<SetEntry>()),
        ("RuleTestsEntry", keys::<RuleTestsEntry>()),
    ]
}

/// The schema describes exactly the keys the loader accepts, for every mapping of the format
/// (and no mapping of the format is left out of [`mapping_types`]).
#[test]
fn the_schema_and_the_loader_know_the_same_keys() {
    let schema = schema::manifest_schema();
    let definitions = schema["definitions"].as_object().unwrap();
    let types = mapping_types();
    for (name, keys) in &types {
        let properties: BTreeSet<&str> = definitions[*name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has no properties in the schema"))
            .keys()
            .map(String::as_str)
            .collect();
        let keys: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(
            keys, properties,
            "{name}: the loader's keys vs the schema's"
        );
        assert_eq!(
            definitions[*name]["additionalProperties"],
            json!(false),
            "{name}: the schema must refuse unknown keys, as the loader does"
        );
    }
    // The rule grammar (and its copy for sets, where values may be parameters) is checked by
    // the rule parser, not as format mappings.
    let grammar = ["Condition", "RuleNode", "SetCondition", "SetRuleNode"];
    for (name, definition) in definitions {
        if definition.get("properties").is_some() && !grammar.contains(&name.as_str()) {
            assert!(
                types.iter().any(|(n, _)| n == name),
                "{name} is a mapping of the format: add it to mapping_types()"
            );
        }
    }
}

/// The keys come in the order the types declare them (the loader lists them in its hints).
#[test]
fn keys_follow_the_declaration_order() {
    assert_eq!(
        keys::<ManifestDocument>(),
        [
            "version",
            "account",
            "defaults",
            "prune",
            "token_env",
            "safety",
            "use",
            "conversions"
        ]
    );
    assert_eq!(keys::<RuleTestsEntry>(), ["match", "no_match"]);
}

/// A manifest that sets every key of every mapping of the format: an account with all its
/// keys, using a set with all of its. The struct literals name every field (no
/// `..Default::default()` on the first of each type), so a new field does not compile until
/// it has an example here, and the tests below then check that the loader reads it.
fn every_key() -> Vec<AnyDocument> {
    let tests = RuleTestsEntry {
        matches: vec![event(json!({"event": "Purchase", "value": 150}))],
        no_match: vec![event(json!({"event": "Purchase", "value": 50}))],
    };
    let set = SetDocument {
        version: Some(1),
        set: "shop".into(),
        params: vec!["domain".into(), "value".into()],
        conversions: vec![
            SetEntry {
                name: Some("Purchase (${domain})".into()),
                ensure: Some(Ensure::Present),
                protect: Some(true),
                description: Some("Purchases on ${domain}".into()),
                custom_event_type: Some("PURCHASE".into()),
                default_conversion_value: Some(json!("${value}")),
                rule: Some(RuleText::Tree(json!({"and": [
                    {"event": {"eq": "Purchase"}},
                    {"url": {"i_contains": "${domain}"}}
                ]}))),
                advanced_rule: None,
                event_source_id: Some(IdText::Text("111".into())),
                action_source_type: Some("website".into()),
                tests: Some(RuleTestsEntry {
                    matches: vec![event(
                        json!({"event": "Purchase", "url": "https://${domain}/thanks"}),
                    )],
                    no_match: vec![event(json!({"event": "Lead"}))],
                }),
                renamed_from: Some(vec!["Purchase".into()]),
                expect_fire_within: Some("2d".into()),
            },
            SetEntry {
                name: Some("Set advanced".into()),
                custom_event_type: Some("LEAD".into()),
                advanced_rule: Some(json!({"url": {"i_contains": "lead"}})),
                ..SetEntry::default()
            },
            // Excluded by the account's `use`, so never expanded nor checked.
            SetEntry {
                name: Some("Left out".into()),
                ..SetEntry::default()
            },
        ],
    };
    let account = ManifestDocument {
        version: Some(1),
        account: IdText::Text("act_1".into()),
        defaults: Some(DefaultsEntry {
            event_source_id: Some(IdText::Text("998877665544".into())),
            action_source_type: Some(ActionSourceType::Website),
            custom_event_type: Some(CustomEventType::Purchase),
            default_conversion_value: Some(5.0),
            expect_fire_within: Some("3d".into()),
        }),
        prune: Some(false),
        token_env: Some("META_TOKEN_CLIENT_A".into()),
        safety: Some(SafetyEntry {
            max_deletes: Some(20),
            max_delete_pct: Some(50),
        }),
        uses: vec![UseEntry {
            set: "shop".into(),
            params: BTreeMap::from([
                ("domain".to_string(), json!("shop.example")),
                ("value".to_string(), json!(40)),
            ]),
            exclude: vec!["Left out".into()],
            ids: BTreeMap::from([(
                "Purchase (${domain})".to_string(),
                IdText::Text("23850000000000001".into()),
            )]),
        }],
        conversions: vec![
            ConversionEntry {
                name: Some("Own purchase".into()),
                id: Some(IdText::Text("23850000000000002".into())),
                ensure: Some(Ensure::Present),
                protect: Some(false),
                description: Some("Purchases over 100".into()),
                custom_event_type: Some(CustomEventType::Purchase),
                default_conversion_value: Some(100.0),
                rule: Some(RuleText::Tree(json!({"and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                ]}))),
                advanced_rule: None,
                event_source_id: Some(IdText::Text("998877665544".into())),
                action_source_type: Some(ActionSourceType::Website),
                tests: Some(tests),
                renamed_from: Some(vec!["Old purchase".into()]),
                expect_fire_within: Some("off".into()),
            },
            ConversionEntry {
                name: Some("Own advanced".into()),
                advanced_rule: Some(json!({"url": {"i_contains": "thankyou"}})),
                ..ConversionEntry::default()
            },
        ],
    };
    vec![AnyDocument::Set(set), AnyDocument::Account(account)]
}

fn event(value: Value) -> TestEvent {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an event is an object"),
    }
}

/// The documents as one manifest file, written as `import` writes.
fn write(docs: &[Value]) -> String {
    docs.iter().map(to_yaml).collect::<Vec<_>>().join("---\n")
}

/// Where each mapping of the format sits in a document (a JSON pointer), and its keys.
fn mappings_of(doc: &Value) -> Vec<(String, &'static str, &'static [&'static str])> {
    let items = |key: &str| doc[key].as_array().map_or(0, Vec::len);
    let mut out = Vec::new();
    let (root, entry) = if doc.get("set").is_some() {
        (
            ("SetDocument", keys::<SetDocument>()),
            ("SetEntry", keys::<SetEntry>()),
        )
    } else {
        (
            ("ManifestDocument", keys::<ManifestDocument>()),
            ("ConversionEntry", keys::<ConversionEntry>()),
        )
    };
    out.push((String::new(), root.0, root.1));
    if doc.get("defaults").is_some() {
        out.push(("/defaults".into(), "Defaults", keys::<DefaultsEntry>()));
    }
    if doc.get("safety").is_some() {
        out.push(("/safety".into(), "SafetyEntry", keys::<SafetyEntry>()));
    }
    for i in 0..items("use") {
        out.push((format!("/use/{i}"), "UseEntry", keys::<UseEntry>()));
    }
    for i in 0..items("conversions") {
        out.push((format!("/conversions/{i}"), entry.0, entry.1));
        if doc["conversions"][i].get("tests").is_some() {
            let tests = keys::<RuleTestsEntry>();
            out.push((format!("/conversions/{i}/tests"), "RuleTestsEntry", tests));
        }
    }
    out
}

/// The loader reads every key of the format: the every-key manifest loads, and a value no key
/// takes (`[[{}]]`) put under any one of its keys is an error. A key declared in a type but
/// not read by the loader would be accepted and ignored, and fail here.
#[test]
fn the_loader_reads_every_key_of_the_format() {
    let docs: Vec<Value> = every_key()
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    let text = write(&docs);
    let file = Path::new("every-key.yaml");
    if let Err(diags) = load_str(file, &text) {
        panic!("the every-key manifest must load:\n{diags:#?}\n{text}");
    }

    let mut covered: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut ignored = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        for (pointer, name, keys) in mappings_of(doc) {
            let present = doc.pointer(&pointer).and_then(Value::as_object).unwrap();
            for key in keys.iter().filter(|k| present.contains_key(**k)) {
                covered.entry(name).or_default().insert(key);
                let mut poisoned = docs.clone();
                poisoned[d].pointer_mut(&pointer).unwrap()[*key] = json!([[{}]]);
                if load_str(file, &write(&poisoned)).is_ok() {
                    ignored.push(format!("`{key}` of {name} (at {pointer:?})"));
                }
            }
        }
    }
    assert!(
        ignored.is_empty(),
        "the loader accepts any value for these keys: read them where the loader reads their mapping:\n{ignored:#?}"
    );
    for (name, keys) in mapping_types() {
        let missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !covered.get(name).is_some_and(|c| c.contains(k)))
            .collect();
        assert!(
            missing.is_empty(),
            "the every-key manifest does not set {missing:?} of {name}: give them a value in every_key()"
        );
    }
}

/// What `import` writes reads back as the same documents, and passes the schema.
#[test]
fn written_manifests_read_back_unchanged_and_pass_the_schema() {
    let schema = schema::manifest_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for doc in every_key() {
        let text = to_yaml(&doc);
        let again: AnyDocument = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(again, doc, "{text}");
        let value = serde_json::to_value(&doc).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{text}");
    }
}

/// Not blank, without edge spaces: a name `validate` takes (`import` writes names trimmed).
fn is_stored_name(name: &str) -> bool {
    !name.is_empty() && crate::model::names::stored(name) == name
}

proptest::proptest! {
    /// Whatever text a live conversion has, the manifest `import` writes gives it back: the
    /// writer quotes what YAML would read as something else, and the loader reads it as text.
    #[test]
    fn written_texts_load_back_as_written(
        name in ".{1,100}".prop_filter("a name as the API stores it", |n| is_stored_name(n)),
        description in "(?s).{0,300}|[ -~\\n\\t]{0,300}",
        renamed in ".{1,100}".prop_filter("a name as the API stores it", |n| is_stored_name(n)),
    ) {
        use proptest::prelude::prop_assert_eq;
        let doc = ManifestDocument {
            account: IdText::Text("act_1".into()),
            conversions: vec![ConversionEntry {
                name: Some(name.clone()),
                description: Some(description.clone()),
                custom_event_type: Some(CustomEventType::Purchase),
                rule: Some(RuleText::Tree(json!({"url": {"i_contains": name}}))),
                renamed_from: Some(vec![renamed.clone()]),
                ..ConversionEntry::default()
            }],
            version: None,
            defaults: None,
            prune: None,
            token_env: None,
            safety: None,
            uses: Vec::new(),
        };
        let text = to_yaml(&doc);
        let loaded = load_str(Path::new("m.yaml"), &text)
            .unwrap_or_else(|d| panic!("{d:#?}\n{text}"));
        let c = &loaded.accounts[0].conversions[0];
        prop_assert_eq!(&c.name, &name, "{}", text);
        prop_assert_eq!(&c.description, &description, "{}", text);
        prop_assert_eq!(&c.renamed_from, &vec![renamed], "{}", text);
    }
}
