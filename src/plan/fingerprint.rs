//! The seal of a saved plan: what `apply --plan` checks before any write, so that it executes
//! only what was approved, on the account and the live state it was made from.
//!
//! Each account of a plan carries two hashes:
//! - `digest`: sha256 of what apply does with the account, its actions and the settings they
//!   run with (`safety`, `token_env`), as serialised in the plan. An edited action, an added
//!   create or looser thresholds change it.
//! - `live_fingerprint`: sha256 of the account id, that digest and the account's live
//!   conversions in a canonical form ([`live_state`]). A plan moved to another account (every
//!   empty account has the same live state), or live state that moved since, changes it.
//!
//! A plan made before the digest existed has none: it is refused as made by an older convctl
//! (its fingerprint covered neither the account nor the actions), never misread.

use super::{AccountPlan, live_json_value, live_rule_value};
use crate::model::LiveConversion;
use crate::model::ids::AdAccountId;
use crate::rule::number_value;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Seals an account's plan (sets `digest` and `live_fingerprint`) against the live conversions
/// it was made from; done last, once its actions are final.
pub(crate) fn seal(plan: &mut AccountPlan, live: &[LiveConversion]) {
    let digest = actions_digest(plan);
    plan.live_fingerprint = live_fingerprint(&plan.account, &digest, live);
    plan.digest = Some(digest);
}

/// Why a sealed plan no longer holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unsealed {
    /// No digest: made by a convctl whose fingerprint covered neither account nor actions.
    Older,
    /// The actions or their settings are not what was sealed.
    Edited,
    /// The account's live state (or the account) is not what the plan was made from.
    Moved,
}

/// Checks an account's plan against its seal and the account's live conversions now.
pub(crate) fn check_seal(plan: &AccountPlan, live: &[LiveConversion]) -> Result<(), Unsealed> {
    let Some(digest) = &plan.digest else {
        return Err(Unsealed::Older);
    };
    if actions_digest(plan) != *digest {
        return Err(Unsealed::Edited);
    }
    if live_fingerprint(&plan.account, digest, live) != plan.live_fingerprint {
        return Err(Unsealed::Moved);
    }
    Ok(())
}

/// sha256 (hex) of the account's actions, `safety` and `token_env` as the plan serialises
/// them. Serialising is deterministic and reads back to the same bytes (fields in declaration
/// order, maps and rules as held, floats round-trip): a saved plan, loaded, gives the digest it
/// was sealed with.
fn actions_digest(plan: &AccountPlan) -> String {
    #[derive(Serialize)]
    struct Sealed<'a> {
        actions: &'a [super::Action],
        safety: &'a Option<crate::manifest::Safety>,
        token_env: &'a Option<String>,
    }
    let mut hasher = HashWriter(Sha256::new());
    serde_json::to_writer(
        &mut hasher,
        &Sealed {
            actions: &plan.actions,
            safety: &plan.safety,
            token_env: &plan.token_env,
        },
    )
    .expect("a plan always serialises, and hashing cannot fail");
    hex::encode(hasher.0.finalize())
}

/// Feeds what serde_json writes straight into the hash (a plan of 50,000 creates is some
/// 20 MB of JSON: never held as text for this).
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// sha256 (hex) of `{"account", "digest", "live"}` in canonical form, `live` being
/// [`live_state`].
fn live_fingerprint(account: &AdAccountId, digest: &str, live: &[LiveConversion]) -> String {
    let mut sealed = serde_json::Map::new();
    sealed.insert("account".into(), Value::String(account.to_string()));
    sealed.insert("digest".into(), Value::String(digest.to_string()));
    sealed.insert("live".into(), live_state(live));
    hex::encode(Sha256::digest(Value::Object(sealed).to_string().as_bytes()))
}

/// An account's live conversions in a canonical form: sorted by id, rules in canonical form
/// (so the API re-serialising a rule does not count as a change), and without
/// `first_fired_time`/`last_fired_time`/`creation_time`, which move by themselves and say
/// nothing about what a plan would do. Each item is `{"id", "is_archived", "is_unavailable",
/// "state"}`, the state being the [`ConversionState`](super::ConversionState) of the live
/// conversion, keys sorted, numbers and rules canonical; its bytes never change (a test pins
/// them).
fn live_state(live: &[LiveConversion]) -> Value {
    let mut sorted: Vec<&LiveConversion> = live.iter().collect();
    sorted.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    Value::Array(sorted.into_iter().map(fingerprint_item).collect())
}

/// One conversion of [`live_state`], built in canonical form directly: keys inserted in
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

    /// The hash of the live state alone: what the live fingerprint was before it covered the
    /// account and the actions, and still its part about live conversions.
    fn state_hash(live: &[LiveConversion]) -> String {
        hex::encode(Sha256::digest(live_state(live).to_string().as_bytes()))
    }

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
        assert_eq!(state_hash(&[a.clone(), b]), state_hash(&[b2, a.clone()]));
        let mut a2 = a.clone();
        a2.description = Some("changed".into());
        assert_ne!(state_hash(&[a]), state_hash(&[a2]));
    }

    /// Saved plans carry fingerprints: how the live state is held in memory must never change
    /// them (a saved plan would otherwise be refused as stale).
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
            state_hash(&listed),
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
            proptest::prop_assert_eq!(state_hash(&live), reference_fingerprint(&live));
        }
    }

    fn plan_of(account: &str, actions: Vec<crate::plan::Action>) -> AccountPlan {
        AccountPlan {
            account: AdAccountId::parse(account).unwrap(),
            source: "a.yaml".into(),
            live_fingerprint: String::new(),
            digest: None,
            actions,
            unmanaged: Vec::new(),
            retired: Vec::new(),
            warnings: Vec::new(),
            refusals: Vec::new(),
            info: Vec::new(),
            safety: None,
            token_env: None,
            notes: Vec::new(),
        }
    }

    fn create(name: &str, value: f64) -> crate::plan::Action {
        crate::plan::Action::Create {
            name: name.into(),
            set: None,
            set_entry: None,
            after: ConversionState {
                name: name.into(),
                description: Some("d \"é\" \u{1b}".into()),
                custom_event_type: Some("PURCHASE".into()),
                default_conversion_value: Some(value),
                event_source_id: None,
                action_source_type: None,
                rule: Some(crate::plan::CompactJson::new(&serde_json::json!(
                    {"and": [{"url": {"i_contains": "/a"}}, {"value": {"gt": 100.5}}]}
                ))),
                advanced_rule: None,
            },
        }
    }

    /// Every empty account had the same fingerprint: the account is part of it now, and so
    /// are the actions.
    #[test]
    fn the_seal_covers_the_account_and_the_actions() {
        let mut a = plan_of("act_1", vec![create("A", 0.0)]);
        seal(&mut a, &[]);
        assert_eq!(check_seal(&a, &[]), Ok(()));
        let mut b = plan_of("act_2", vec![create("A", 0.0)]);
        seal(&mut b, &[]);
        assert_ne!(a.live_fingerprint, b.live_fingerprint);
        assert_eq!(a.digest, b.digest, "the same actions");

        let mut moved = a.clone();
        moved.account = b.account.clone();
        assert_eq!(check_seal(&moved, &[]), Err(Unsealed::Moved));
        let mut added = a.clone();
        added.actions.push(create("B", 0.0));
        assert_eq!(check_seal(&added, &[]), Err(Unsealed::Edited));
        let mut looser = a.clone();
        looser.safety = Some(crate::manifest::Safety::default());
        assert_eq!(check_seal(&looser, &[]), Err(Unsealed::Edited));
        let mut older = a.clone();
        older.digest = None;
        assert_eq!(check_seal(&older, &[]), Err(Unsealed::Older));
        let changed = [live("1", "A", r#"{"url":{"i_contains":"x"}}"#)];
        assert_eq!(check_seal(&a, &changed), Err(Unsealed::Moved));
    }

    proptest::proptest! {
        /// A plan saved and loaded again keeps its seal, whatever its values.
        #[test]
        fn a_saved_plan_keeps_its_seal(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::f64::POSITIVE | proptest::num::f64::ZERO,
                    0.0..1e6f64,
                    proptest::strategy::Just(0.1 + 0.2),
                ],
                1..5,
            ),
            live in proptest::collection::vec(any_live(), 0..4)
        ) {
            let actions = values.iter().enumerate().map(|(i, v)| create(&format!("c{i}"), *v)).collect();
            let mut plan = plan_of("act_7", actions);
            plan.token_env = Some("TOKEN_A".into());
            seal(&mut plan, &live);
            let text = serde_json::to_string(&plan).unwrap();
            let back: AccountPlan = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(check_seal(&back, &live), Ok(()));
        }
    }
}
