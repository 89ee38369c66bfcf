//! `report --stats`: daily counts from the `stats` edge, one batch call per 50 conversions
//! (`--batch-size`), and no call at all without it; the emulator's edge as the SDKs describe
//! `CustomConversionStatsResult`, counted from the Conversions API events it matched.

use super::fleet::{fleet, report};
use crate::assert_run;
use crate::support::{Harness, now};
use convctl::emulator::EmulatorConfig;
use serde_json::{Value, json};

const STATS_ROUTE: &str = "GET /{id}/stats";

/// `(account name, conversion name, total)` of every conversion with counts.
fn totals(doc: &Value) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for account in doc["accounts"].as_array().unwrap() {
        for c in account["conversions"].as_array().unwrap() {
            if let Some(total) = c["stats"]["total"].as_u64() {
                let name = format!(
                    "{} {}",
                    account["account"].as_str().unwrap(),
                    c["name"].as_str().unwrap()
                );
                out.push((name, total));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn without_stats_no_stats_call_is_made() {
    let env = fleet();
    let run = report(&env, &["--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        env.stats()["by_route"][STATS_ROUTE],
        Value::Null,
        "{}",
        env.stats()
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc.get("stats_window").is_none());
    assert!(totals(&doc).is_empty());
}

#[test]
fn stats_are_read_in_batches_and_summed_per_conversion_and_account() {
    let env = fleet();
    let before = env.stats()["batches"].as_u64().unwrap();
    let plain = report(&env, &["--format", "json", "--batch-size", "4"]);
    assert_eq!(plain.code, 0, "{plain}");
    let listing_batches = env.stats()["batches"].as_u64().unwrap() - before;
    let before = env.stats()["batches"].as_u64().unwrap();
    let run = report(&env, &["--format", "json", "--stats", "--batch-size", "4"]);
    assert_eq!(run.code, 0, "{run}");
    let stats = env.stats();
    // 10 conversions that are not archived, 4 to a batch: 3 batch calls beyond the listing's.
    assert_eq!(stats["by_route"][STATS_ROUTE], 10, "{stats}");
    assert_eq!(
        stats["batches"].as_u64().unwrap() - before,
        listing_batches + 3,
        "{stats}"
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["stats_window"],
        json!({"first_day": "2026-11-09", "last_day": "2026-12-06", "days": 28})
    );
    let t = totals(&doc);
    let total = |name: &str| t.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(
        total("act_1 Purchase"),
        Some(24),
        "12 + 9 + 3 in the window: {t:?}"
    );
    assert_eq!(total("act_1 Checkout"), Some(40));
    assert_eq!(total("act_2 Signup"), Some(2));
    assert_eq!(total("act_1 Lead"), Some(0));
    assert_eq!(total("act_3 Purchase"), Some(15));
    assert_eq!(total("act_1 Old campaign"), None, "archived: not asked");
    assert_eq!(
        doc["summary"]["events"],
        24 + 40 + 2 + 15,
        "{}",
        doc["summary"]
    );
    let purchase = doc["accounts"][0]["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Purchase")
        .unwrap()
        .clone();
    let daily = purchase["stats"]["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 28);
    assert_eq!(
        (daily[26].clone(), daily[25].clone(), daily[11].clone()),
        (json!(12), json!(9), json!(3))
    );
    // The text report, with each conversion's events in the window (81 in all).
    assert_run!("fleet_text_stats", report(&env, &["--stats"]));
}

#[test]
fn the_stats_edge_counts_matched_events_per_day_in_the_sdks_shape() {
    let env = Harness::with(EmulatorConfig {
        strict: true,
        ..EmulatorConfig::default()
    });
    let ids = env.seed(json!([
        {"account": "act_5", "name": "Purchase", "custom_event_type": "PURCHASE", "event_source_id": "99",
         "rule": {"event": {"eq": "Purchase"}}}
    ]));
    let id = &ids[0];
    let t = now();
    let events: Vec<Value> = (0..3)
        .map(|i| {
            json!({"event_name": "Purchase", "event_time": t - i * 86_400, "action_source": "website",
                   "event_source_url": "https://shop.example/thanks", "event_id": format!("e{i}"),
                   "user_data": {"client_user_agent": "ua", "external_id": ["x"]}})
        })
        .collect();
    let received = env.graph(
        reqwest::Method::POST,
        "99/events",
        &[("data", &Value::Array(events).to_string())],
    );
    assert_eq!(received["events_received"], 3, "{received}");
    let start = (t - 10 * 86_400).to_string();
    let end = (t + 86_400).to_string();
    let answer = env.graph(
        reqwest::Method::GET,
        &format!("{id}/stats?aggregation=count&start_time={start}&end_time={end}"),
        &[],
    );
    let data = answer["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(data.len(), 3, "one result per day with events: {answer}");
    for result in data {
        assert_eq!(result["aggregation"], "count");
        assert!(
            result["timestamp"]
                .as_str()
                .unwrap()
                .ends_with("T00:00:00+0000")
        );
        assert_eq!(result["data"], json!([{"count": 1}]));
    }
    let refused = env.graph(
        reqwest::Method::GET,
        &format!("{id}/stats?aggregation=weekly"),
        &[],
    );
    assert_eq!(refused["error"]["code"], 100, "{refused}");
    let day_later = env.graph(
        reqwest::Method::GET,
        &format!("{id}/stats?aggregation=count&start_time={end}&end_time={start}"),
        &[],
    );
    assert_eq!(day_later["error"]["code"], 100, "{day_later}");
}

#[test]
fn pages_of_stats_are_followed_under_the_strict_profile() {
    let env = Harness::with(EmulatorConfig {
        strict: true,
        ..EmulatorConfig::default()
    });
    let days: serde_json::Map<String, Value> = (9..=30)
        .map(|d| (format!("2026-11-{d:02}"), json!(1)))
        .chain((1..=6).map(|d| (format!("2026-12-{d:02}"), json!(2))))
        .collect();
    env.seed(json!([
        {"account": "act_5", "name": "Busy", "custom_event_type": "PURCHASE", "event_source_id": "99",
         "rule": {"event": {"eq": "Purchase"}}, "daily_counts": days,
         "creation_time": super::fleet::ago(3)}
    ]));
    env.write(
        "conversions/a.yaml",
        "account: act_5\ndefaults: {event_source_id: \"99\"}\nconversions:\n  - name: Busy\n    custom_event_type: PURCHASE\n    rule: {event: {eq: Purchase}}\n",
    );
    let run = report(&env, &["--format", "json", "--stats"]);
    assert_run!("busy_json_stats", run);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let busy = &doc["accounts"][0]["conversions"][0]["stats"];
    assert_eq!(
        busy["total"],
        22 + 12,
        "28 results over two pages of 25: {busy}"
    );
}
