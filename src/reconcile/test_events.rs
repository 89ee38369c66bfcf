//! `convctl test --live`: turns the manifests' rule tests into Conversions API server events.
//!
//! Every `tests.match` example of a present conversion with a `rule` becomes one server event
//! for that conversion's pixel (`event_source_id`): `event` → `event_name` (`PageView` when the
//! example names no event), `url` → `event_source_url`, every other key → `custom_data`, with
//! `event_time` = now, the conversion's `action_source_type` (default `website`), a fixed
//! synthetic `user_data` and a unique `event_id` (so a retried request is not counted twice).
//! Each event is checked to still satisfy the rule as the API will see it, so a conversion that
//! passes offline is the one that fires.
//!
//! Pure: no clock (the caller passes `now`), no network, no files.

use crate::manifest::{Ensure, Manifests, RuleSpec};
use crate::model::event_types::ActionSourceType;
use crate::model::ids::{AdAccountId, ObjectId};
use crate::reconcile::shard::Shard;
use crate::rule::Event;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The event name sent for an example that names none (URL rules match any event).
pub(crate) const DEFAULT_EVENT_NAME: &str = "PageView";
/// `event_source_url` for a website example that gives no `url`.
pub(crate) const PLACEHOLDER_URL: &str = "https://convctl.invalid/test-event";
/// `user_data.client_user_agent` of every test event.
pub(crate) const USER_AGENT: &str =
    concat!("convctl/", env!("CARGO_PKG_VERSION"), " (test --live)");

/// One server event ready to send, and what it is for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LiveEvent {
    pub(crate) account: AdAccountId,
    pub(crate) conversion: String,
    pub(crate) pixel: ObjectId,
    /// Position in the conversion's `tests.match`.
    pub(crate) index: usize,
    /// The Conversions API event object.
    pub(crate) payload: Value,
}

/// A conversion whose examples cannot be sent, and why.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Skipped {
    pub(crate) account: AdAccountId,
    pub(crate) conversion: String,
    pub(crate) reason: String,
}

/// The events for every testable conversion (in manifest order), and the ones left out.
pub(crate) fn build(
    manifests: &Manifests,
    shard: Option<Shard>,
    now: i64,
) -> (Vec<LiveEvent>, Vec<Skipped>) {
    let mut events = Vec::new();
    let mut skipped = Vec::new();
    for account in &manifests.accounts {
        if shard.is_some_and(|s| !s.contains(&account.account)) {
            continue;
        }
        for conversion in &account.conversions {
            if conversion.ensure == Ensure::Absent || conversion.tests.matches.is_empty() {
                continue;
            }
            let skip = |reason: &str| Skipped {
                account: account.account.clone(),
                conversion: conversion.name.clone(),
                reason: reason.to_string(),
            };
            let Some(RuleSpec::Rule(rule)) = &conversion.rule else {
                skipped.push(skip(
                    "it has an advanced_rule, which convctl cannot evaluate",
                ));
                continue;
            };
            let Some(pixel) = &conversion.event_source_id else {
                skipped.push(skip(
                    "it has no event_source_id (set it, or defaults.event_source_id): there is no pixel to send to",
                ));
                continue;
            };
            let source = conversion
                .action_source_type
                .unwrap_or(ActionSourceType::Website);
            for (index, example) in conversion.tests.matches.iter().enumerate() {
                let event_id = event_id(&account.account, &conversion.name, index, now);
                let payload = server_event(example, source, now, &event_id);
                match rule.matches(&as_seen_by_rules(&payload)) {
                    Ok(true) => {}
                    Ok(false) => {
                        skipped.push(skip(&format!(
                            "match example {index} no longer matches once sent as a server event \
                             (it needs a `url` for a {source} event): add `url` to the example"
                        )));
                        continue;
                    }
                    Err(e) => {
                        skipped.push(skip(&format!(
                            "match example {index} cannot be evaluated once sent as a server event: {e}"
                        )));
                        continue;
                    }
                }
                events.push(LiveEvent {
                    account: account.account.clone(),
                    conversion: conversion.name.clone(),
                    pixel: pixel.clone(),
                    index,
                    payload,
                });
            }
        }
    }
    (events, skipped)
}

/// The Conversions API event for one rule-test example.
pub(crate) fn server_event(
    example: &Event,
    source: ActionSourceType,
    now: i64,
    event_id: &str,
) -> Value {
    let event_name = example
        .get("event")
        .and_then(text_of)
        .unwrap_or_else(|| DEFAULT_EVENT_NAME.to_string());
    let url = example.get("url").and_then(text_of);
    let custom_data: Map<String, Value> = example
        .iter()
        .filter(|(key, _)| key.as_str() != "event" && key.as_str() != "url")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut event = json!({
        "event_name": event_name,
        "event_time": now,
        "action_source": source.as_str(),
        "event_id": event_id,
        "user_data": {
            "client_user_agent": USER_AGENT,
            "external_id": [hex::encode(Sha256::digest(b"convctl-test-live"))],
        },
        "custom_data": custom_data,
    });
    let url = url.or_else(|| (source == ActionSourceType::Website).then(|| PLACEHOLDER_URL.into()));
    if let Some(url) = url {
        event["event_source_url"] = Value::String(url);
    }
    event
}

/// The event as rules see it once received, read by the same code the emulator answers
/// `/events` with (`events::ServerEvent::rule_event`). An event capi refuses sees nothing.
fn as_seen_by_rules(payload: &Value) -> Event {
    let time = payload["event_time"].as_i64().unwrap_or_default();
    crate::events::validate_event(payload, 0, time)
        .map(|event| event.rule_event())
        .unwrap_or_default()
}

/// Unique per run, conversion and example; stable within a run, so a resent request is
/// deduplicated by the API rather than counted twice.
fn event_id(account: &AdAccountId, conversion: &str, index: usize, now: i64) -> String {
    let digest = Sha256::digest(format!("{account}\n{conversion}").as_bytes());
    format!(
        "convctl-test-{now}-{}-{}-{index}",
        account.digits(),
        &hex::encode(digest)[..12]
    )
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
/// Re-exported for callers that only hold a rule (unit tests, the command).
pub(crate) fn fires(
    rule: &crate::rule::Rule,
    payload: &Value,
) -> Result<bool, crate::rule::EvalError> {
    rule.matches(&as_seen_by_rules(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const NOW: i64 = 1_790_000_000;

    fn manifests(text: &str) -> Manifests {
        crate::manifest::load_str(Path::new("shop.yaml"), text).expect("valid manifest")
    }

    const SHOP: &str = r#"
account: act_42
defaults:
  event_source_id: "998877"
conversions:
  - name: High value purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
    tests:
      match: [{event: Purchase, value: 150, currency: EUR}, {event: Purchase, value: "101"}]
      no_match: [{event: Purchase, value: 50}]
  - name: Thank you page
    custom_event_type: PURCHASE
    rule: {url: {i_contains: thankyou.html}}
    tests:
      match: [{url: "https://shop.example/ThankYou.html"}]
  - name: Untested
    custom_event_type: LEAD
    rule: {event: {eq: Lead}}
  - name: Old
    ensure: absent
"#;

    #[test]
    fn match_examples_become_server_events_for_the_pixel() {
        let (events, skipped) = build(&manifests(SHOP), None, NOW);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(events.len(), 3);
        let first = &events[0];
        assert_eq!(first.pixel.as_str(), "998877");
        assert_eq!(first.conversion, "High value purchase");
        assert_eq!(first.payload["event_name"], "Purchase");
        assert_eq!(first.payload["event_time"], NOW);
        assert_eq!(first.payload["action_source"], "website");
        assert_eq!(
            first.payload["custom_data"],
            json!({"value": 150, "currency": "EUR"})
        );
        assert_eq!(first.payload["event_source_url"], PLACEHOLDER_URL);
        assert_eq!(first.payload["user_data"]["client_user_agent"], USER_AGENT);
        let url_event = &events[2];
        assert_eq!(url_event.payload["event_name"], DEFAULT_EVENT_NAME);
        assert_eq!(
            url_event.payload["event_source_url"],
            "https://shop.example/ThankYou.html"
        );
        assert_eq!(url_event.payload["custom_data"], json!({}));
    }

    #[test]
    fn event_ids_are_unique_per_example_and_stable_per_run() {
        let (a, _) = build(&manifests(SHOP), None, NOW);
        let (b, _) = build(&manifests(SHOP), None, NOW);
        let (c, _) = build(&manifests(SHOP), None, NOW + 1);
        let ids = |events: &[LiveEvent]| -> Vec<String> {
            events
                .iter()
                .map(|e| e.payload["event_id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        let unique: std::collections::BTreeSet<String> = ids(&a).into_iter().collect();
        assert_eq!(unique.len(), 3);
    }

    #[test]
    fn every_built_event_fires_its_rule() {
        let m = manifests(SHOP);
        let (events, _) = build(&m, None, NOW);
        for event in events {
            let conversion = m.accounts[0]
                .conversions
                .iter()
                .find(|c| c.name == event.conversion)
                .unwrap();
            let Some(RuleSpec::Rule(rule)) = &conversion.rule else {
                panic!()
            };
            assert_eq!(
                fires(rule, &event.payload),
                Ok(true),
                "{}",
                event.conversion
            );
        }
    }

    #[test]
    fn conversions_without_a_pixel_or_that_need_a_url_are_skipped_with_a_reason() {
        let text = r#"
account: act_7
conversions:
  - name: No pixel
    custom_event_type: PURCHASE
    rule: {event: {eq: Purchase}}
    tests: {match: [{event: Purchase}]}
  - name: Not a placeholder
    custom_event_type: PURCHASE
    event_source_id: "55"
    rule: {url: {i_not_contains: convctl.invalid}}
    tests: {match: [{event: Purchase}]}
"#;
        let (events, skipped) = build(&manifests(text), None, NOW);
        assert!(events.is_empty());
        assert_eq!(skipped.len(), 2);
        assert!(
            skipped[0].reason.contains("no event_source_id"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].reason.contains("add `url` to the example"),
            "{skipped:?}"
        );
    }

    #[test]
    fn built_events_pass_the_offline_conversions_api_checks() {
        let (events, _) = build(&manifests(SHOP), None, NOW);
        let payloads: Vec<Value> = events.into_iter().map(|e| e.payload).collect();
        crate::events::validate_batch(&payloads, NOW).expect("valid server events");
    }

    #[test]
    fn the_shipped_examples_can_all_be_sent_live() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/conversions");
        let m = crate::manifest::load(&[dir]).expect("the examples are valid");
        let (events, skipped) = build(&m, None, NOW);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert!(!events.is_empty());
        let payloads: Vec<Value> = events.into_iter().map(|e| e.payload).collect();
        crate::events::validate_batch(&payloads, NOW).expect("valid server events");
    }

    #[test]
    fn non_website_events_carry_no_placeholder_url() {
        let example: Event = json!({"event": "Purchase"}).as_object().unwrap().clone();
        let payload = server_event(&example, ActionSourceType::PhysicalStore, NOW, "x");
        assert!(payload.get("event_source_url").is_none());
        assert_eq!(payload["action_source"], "physical_store");
    }

    #[test]
    fn shards_filter_accounts() {
        let shard_of_42 = (1..=4)
            .map(|k| Shard::parse(&format!("{k}/4")).unwrap())
            .find(|s| s.contains(&AdAccountId::parse("act_42").unwrap()))
            .unwrap();
        let other = (1..=4)
            .map(|k| Shard::parse(&format!("{k}/4")).unwrap())
            .find(|s| *s != shard_of_42)
            .unwrap();
        assert_eq!(build(&manifests(SHOP), Some(shard_of_42), NOW).0.len(), 3);
        assert!(build(&manifests(SHOP), Some(other), NOW).0.is_empty());
    }
}
