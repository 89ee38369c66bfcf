//! The live fingerprint: a hash of an account's live conversions that a saved plan carries,
//! so that `apply --plan` can refuse a plan once the live state it was made from has moved.

use super::{live_json_value, live_rule_value};
use crate::model::LiveConversion;
use crate::rule::number_value;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// sha256 (hex) over a canonical serialisation of an account's live conversions: sorted by id,
/// rules in canonical form (so the API re-serialising a rule does not count as a change), and
/// without `first_fired_time`/`last_fired_time`/`creation_time`, which move by themselves and
/// say nothing about what a plan would do.
///
/// Saved plans carry it, so its bytes never change (a test pins one): each item is
/// `{"id", "is_archived", "is_unavailable", "state"}`, the state being the [`ConversionState`]
/// of the live conversion, keys sorted, numbers and rules canonical.
pub(crate) fn live_fingerprint(live: &[LiveConversion]) -> String {
    let mut sorted: Vec<&LiveConversion> = live.iter().collect();
    sorted.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let items: Vec<Value> = sorted.into_iter().map(fingerprint_item).collect();
    let canonical = Value::Array(items).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// One conversion of [`live_fingerprint`], built in canonical form directly: keys inserted in
/// sorted order (canonical whatever serde_json's map keeps), numbers through `number_value`,
/// rules through `live_rule_value` / `live_json_value` (already canonical). Plan (read-only)
/// of 50,000 live conversions spent a quarter of its CPU here when this went through
/// `ConversionState` and a second canonicalising copy.
fn fingerprint_item(c: &LiveConversion) -> Value {
    fn text(state: &mut serde_json::Map<String, Value>, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            state.insert(key.to_string(), Value::String(v.clone()));
        }
    }
    let mut state = serde_json::Map::new();
    text(&mut state, "action_source_type", &c.action_source_type);
    if let Some(r) = &c.advanced_rule {
        state.insert("advanced_rule".into(), live_json_value(r));
    }
    text(&mut state, "custom_event_type", &c.custom_event_type);
    if let Some(v) = c.default_conversion_value {
        state.insert("default_conversion_value".into(), number_value(v));
    }
    text(&mut state, "description", &c.description);
    text(&mut state, "event_source_id", &c.event_source_id);
    // Omitted when the API did not report it (a reported name gives the same bytes as ever).
    if let Some(name) = &c.name {
        state.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(r) = &c.rule {
        state.insert("rule".into(), live_rule_value(r));
    }
    let mut item = serde_json::Map::new();
    item.insert("id".into(), Value::String(c.id.as_str().to_string()));
    item.insert("is_archived".into(), Value::Bool(c.is_archived));
    item.insert("is_unavailable".into(), Value::Bool(c.is_unavailable));
    item.insert("state".into(), Value::Object(state));
    Value::Object(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::ObjectId;
    use crate::plan::ConversionState;
    use crate::rule::canonical_json;

    fn live(id: &str, name: &str, rule: &str) -> LiveConversion {
        LiveConversion {
            id: ObjectId::parse(id).unwrap(),
            name: Some(name.into()),
            description: Some(String::new()),
            rule: Some(rule.into()),
            advanced_rule: None,
            custom_event_type: Some("PURCHASE".into()),
            event_source_id: Some("55".into()),
            action_source_type: None,
            default_conversion_value: Some(0.0),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        }
    }

    #[test]
    fn fingerprint_ignores_order_serialisation_and_firing() {
        let a = live("1", "A", r#"{"url":{"i_contains":"x"}}"#);
        let b = live("2", "B", r#"{"and":[{"value":{"gt":100}}]}"#);
        let mut b2 = b.clone();
        b2.rule = Some(r#"{ "and" : [ {"value": {"gt": 100.0}} ] }"#.into());
        b2.last_fired_time = Some("2026-11-01T00:00:00+0000".into());
        assert_eq!(
            live_fingerprint(&[a.clone(), b]),
            live_fingerprint(&[b2, a.clone()])
        );
        let mut a2 = a.clone();
        a2.description = Some("changed".into());
        assert_ne!(live_fingerprint(&[a]), live_fingerprint(&[a2]));
    }

    /// Saved plans carry fingerprints: how the live state is held in memory must never change
    /// them (a plan saved by an earlier convctl would otherwise be refused as stale).
    #[test]
    fn fingerprint_is_stable_across_versions() {
        let mut odd = live("9", "Odd \"one\"", "not json {");
        odd.advanced_rule = Some(r#"{"b": [1, 2.5, {"z": true, "a": null}], "a": "x"}"#.into());
        odd.default_conversion_value = Some(12.5);
        let listed = [
            live(
                "10",
                "A",
                r#"{"and":[{"url":{"i_contains":"/a"}},{"value":{"gt":100.0}}]}"#,
            ),
            live("2", "B", r#"{"event":{"eq":"Purchase"}}"#),
            odd,
        ];
        assert_eq!(
            live_fingerprint(&listed),
            "7040142124af342ca1b5ca375fb70c1806d996c9714b36e981d9a31e9ac81044"
        );
    }

    /// The fingerprint as it was first written (through `ConversionState` and
    /// `canonical_json`): the reference the direct construction must match.
    fn reference_fingerprint(live: &[LiveConversion]) -> String {
        let mut items: Vec<Value> = live
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id.as_str(),
                    "state": ConversionState::from_live(c),
                    "is_archived": c.is_archived,
                    "is_unavailable": c.is_unavailable,
                })
            })
            .collect();
        items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        let canonical = canonical_json(&Value::Array(items)).to_string();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    fn any_live() -> impl proptest::strategy::Strategy<Value = LiveConversion> {
        use proptest::prelude::*;
        const RULES: &[&str] = &[
            r#"{"url":{"i_contains":"/a"}}"#,
            r#"{ "and" : [ {"value": {"gt": 100.0}}, {"event": {"eq": "Purchase"}} ] }"#,
            r#"{"or":[{"url":{"eq":"\/x"}},{"not":{"value":{"lt":1e3}}}]}"#,
            r#"{"b": [1, 2.5, {"z": true, "a": null}], "a": "x"}"#,
            "not json {",
            "[3, 1.0]",
        ];
        let text = proptest::option::of("[a-zA-Z0-9 \"\\\\é\\[]{0,12}");
        (
            (
                1u64..40,
                "[a-zA-Z0-9 \"\\\\é]{0,12}",
                text.clone(),
                text.clone(),
                text,
            ),
            (
                proptest::option::of(0..RULES.len()),
                proptest::option::of(0..RULES.len()),
                proptest::option::of(prop_oneof![
                    Just(0.0),
                    Just(12.0),
                    Just(12.5),
                    Just(-0.0),
                    Just(1e20),
                    any::<f64>().prop_filter("finite", |v| v.is_finite()),
                ]),
                any::<bool>(),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (id, name, description, event_type, source),
                    (rule, advanced, value, archived, unavailable),
                )| {
                    LiveConversion {
                        id: ObjectId::parse(&id.to_string()).unwrap(),
                        name: Some(name),
                        description,
                        rule: rule.map(|i| RULES[i].to_string()),
                        advanced_rule: advanced.map(|i| RULES[i].to_string()),
                        custom_event_type: event_type,
                        event_source_id: source,
                        action_source_type: Some("website".into()).filter(|_| archived),
                        default_conversion_value: value,
                        is_archived: archived,
                        is_unavailable: unavailable,
                        creation_time: None,
                        first_fired_time: None,
                        last_fired_time: None,
                    }
                },
            )
    }

    proptest::proptest! {
        #[test]
        fn fingerprints_are_what_they_always_were(
            live in proptest::collection::vec(any_live(), 0..6)
        ) {
            proptest::prop_assert_eq!(live_fingerprint(&live), reference_fingerprint(&live));
        }
    }
}
