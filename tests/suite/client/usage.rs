//! Usage headers are pacing input, not blocks. Meta's documented sample on
//! every answer (`{"acc_id_util_pct": 9.67, "reset_time_duration": 100, ...}`) must cost no
//! waiting at all; a block comes only from usage at 100% (the shorter regain figure) or from a
//! throttling error (its wait). Waiting is checked through the client's own accounting
//! (`GraphClient::waits`); every test is also bounded by a timeout far below the 100 s per
//! request that the old reading of `reset_time_duration` waited.

use crate::support::snapshot::text_settings;
use crate::support::{TOKEN, client::*, stub::*};
use convctl::graph::{GraphClient, RetryPolicy, Waits};
use serde_json::json;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const SAMPLE: &str = r#"{"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": "standard_access"}"#;

fn page(n: usize, next: Option<String>) -> String {
    let mut body = json!({"data": [{"id": format!("{}1", n + 1), "name": format!("page {n}"),
        "rule": "{\"url\":{\"i_contains\":\"x\"}}"}]});
    if let Some(next) = next {
        body["paging"] = json!({"next": next});
    }
    body.to_string()
}

/// The production retry policy (15 minutes of budget per request): the old client waited the
/// 100 s out instead of failing fast.
fn patient(base: &str) -> (GraphClient, Captured) {
    let mut cfg = config(base, TOKEN);
    cfg.retry = RetryPolicy::default();
    client(cfg)
}

/// A stub whose answers carry `headers` and page through three pages (`next` on its own address).
async fn three_pages(headers: Vec<(&'static str, String)>) -> Stub {
    let base: Arc<OnceLock<String>> = Arc::default();
    let own = base.clone();
    let server = Stub::start(move |_, index| {
        let next = (index < 2).then(|| {
            format!(
                "{}/v27.0/act_1/customconversions?after={index}",
                own.get().unwrap()
            )
        });
        (200, headers.clone(), page(index, next))
    })
    .await;
    base.set(server.base.clone()).unwrap();
    server
}

#[tokio::test]
async fn the_documented_usage_sample_on_every_answer_costs_no_waiting() {
    let server = three_pages(vec![("x-ad-account-usage", SAMPLE.to_string())]).await;
    let (client, log) = patient(&server.base);
    let listed = tokio::time::timeout(
        Duration::from_secs(10),
        client.list_conversions(&account(1)),
    )
    .await
    .expect("no stall: reset_time_duration is not a block")
    .unwrap();
    assert_eq!(listed.len(), 3, "three pages read");
    assert_eq!(server.requests().len(), 3);
    assert_eq!(
        client.waits(),
        Waits::default(),
        "not one pause: {}",
        log.text()
    );
    // Verbose output still reports what the headers say (which the suite's filters hide).
    assert!(
        log.text().contains("account 9.67%") && log.text().contains("reset in 100s"),
        "{}",
        log.text()
    );
    text_settings().bind(|| insta::assert_snapshot!(log.text(), @"
    graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1] usage account [share]% reset in [duration]
    graph: GET /v27.0/act_1/customconversions (page 2) → 200 in [duration] [act_1] usage account [share]% reset in [duration]
    graph: GET /v27.0/act_1/customconversions (page 3) → 200 in [duration] [act_1] usage account [share]% reset in [duration]
    graph: act_1: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    "));
}

const APP_SAMPLE: &str = r#"{"call_count":28,"total_time":25,"total_cputime":25}"#;
const BUC_SAMPLE: &str = r#"{"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0}]}"#;

/// The app and ad-account samples on every answer of a batched listing of many accounts and of
/// batched writes: nothing waits. With the business-use-case sample too (95% of the call
/// count: near the limit), calls are paced a little, but nothing is ever blocked.
#[tokio::test]
async fn the_documented_samples_never_block_batches_or_writes() {
    for with_buc in [false, true] {
        let (client, log) = samples_everywhere(with_buc).await;
        let waits = client.waits();
        assert_eq!(waits.blocks, 0, "{waits:?}\n{}", log.text());
        if with_buc {
            assert!(
                waits.paused <= Duration::from_millis(20) * waits.paused_calls as u32,
                "only pacing, at most its maximum per call: {waits:?}"
            );
        } else {
            assert_eq!(waits, Waits::default(), "{}", log.text());
        }
    }
}

async fn samples_everywhere(with_buc: bool) -> (GraphClient, Captured) {
    let headers = move || {
        let mut h = vec![
            ("x-app-usage", APP_SAMPLE.to_string()),
            ("x-ad-account-usage", SAMPLE.to_string()),
        ];
        if with_buc {
            h.push(("x-business-use-case-usage", BUC_SAMPLE.to_string()));
        }
        h
    };
    let server = Stub::start(move |seen, _| {
        let entry_headers: Vec<_> = headers()
            .into_iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        let body = if seen.method == "POST" && seen.target.starts_with("/v27.0/?")
            || seen.target == "/v27.0/"
        {
            let batch: Vec<serde_json::Value> = form(&seen.body)
                .into_iter()
                .find(|(k, _)| k == "batch")
                .map(|(_, v)| serde_json::from_str(&v).unwrap())
                .unwrap();
            let entries: Vec<_> = batch
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let body = if e["method"] == "GET" {
                        json!({"data": []})
                    } else {
                        json!({"id": format!("77{i}")})
                    };
                    json!({"code": 200, "headers": entry_headers, "body": body.to_string()})
                })
                .collect();
            json!(entries).to_string()
        } else if seen.method == "GET" {
            json!({"data": []}).to_string()
        } else {
            json!({"id": "991"}).to_string()
        };
        (200, headers(), body)
    })
    .await;
    // Pacing at 95% is the fast policy's (20 ms at most), so that the test stays short.
    let (client, log) = if with_buc {
        client(config(&server.base, TOKEN))
    } else {
        patient(&server.base)
    };
    let accounts: Vec<_> = (1..=60).map(account).collect();
    let run = async {
        let listed = client.list_many(&accounts).await;
        assert!(listed.iter().all(Result::is_ok));
        let ops = (0..5)
            .map(|i| convctl::model::WriteOp::Create {
                account: account(1),
                conversion: new_conversion(&format!("c{i}"), 100 + i),
            })
            .collect();
        let written = client.write(ops).await;
        assert!(written.iter().all(Result::is_ok), "{written:?}");
    };
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("no stall");
    (client, log)
}

/// Usage at 100% is a block, for the shorter of the two figures (here 1 s, not 60 s).
#[tokio::test]
async fn usage_at_100_percent_blocks_for_the_shorter_figure() {
    let full = r#"{"acc_id_util_pct":100,"reset_time_duration":1}"#.to_string();
    let buc =
        r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":1}]}"#;
    let server = three_pages(vec![
        ("x-ad-account-usage", full),
        ("x-business-use-case-usage", buc.to_string()),
    ])
    .await;
    let (client, log) = patient(&server.base);
    let listed = tokio::time::timeout(
        Duration::from_secs(20),
        client.list_conversions(&account(1)),
    )
    .await
    .expect("bounded by the shorter figure")
    .unwrap();
    assert_eq!(listed.len(), 3);
    let waits = client.waits();
    assert_eq!(waits.paused_calls, 2, "pages 2 and 3 wait: {}", log.text());
    text_settings().bind(|| insta::assert_snapshot!(log.text(), @"
    graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1] usage account [share]% reset in [duration] regain access in 60s
    graph: waited [duration] before GET /v27.0/act_1/customconversions (usage/throttle pacing)
    graph: GET /v27.0/act_1/customconversions (page 2) → 200 in [duration] [act_1] usage account [share]% reset in [duration] regain access in 60s
    graph: waited [duration] before GET /v27.0/act_1/customconversions (usage/throttle pacing)
    graph: GET /v27.0/act_1/customconversions (page 3) → 200 in [duration] [act_1] usage account [share]% reset in [duration] regain access in 60s
    graph: act_1: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    "));
    assert!(
        waits.paused >= Duration::from_millis(1900) && waits.paused < Duration::from_secs(10),
        "about 1 s each, never the minute: {waits:?}"
    );
}

/// A throttling error is a block for what its headers say (for the ad-account score's code 17,
/// the shorter figure; a Business Use Case code waits its own regain time: see
/// `graph::usage`), then the request goes through.
#[tokio::test]
async fn a_throttling_error_blocks_for_its_wait() {
    let server = Stub::start(|_, index| {
        if index == 0 {
            return (
                400,
                vec![
                    (
                        "x-ad-account-usage",
                        r#"{"acc_id_util_pct":100,"reset_time_duration":1}"#.to_string(),
                    ),
                    (
                        "x-business-use-case-usage",
                        r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":3}]}"#
                            .to_string(),
                    ),
                ],
                graph_error(17, Some(2446079), "(#17) User request limit reached"),
            );
        }
        (200, vec![], page(5, None))
    })
    .await;
    let (client, log) = patient(&server.base);
    let listed = tokio::time::timeout(
        Duration::from_secs(20),
        client.list_conversions(&account(1)),
    )
    .await
    .expect("bounded")
    .unwrap();
    assert_eq!(listed.len(), 1);
    let waits = client.waits();
    assert!(waits.blocks >= 1, "{waits:?}");
    assert!(
        waits.paused >= Duration::from_millis(900) && waits.paused < Duration::from_secs(10),
        "{waits:?}\n{}",
        log.text()
    );
    text_settings().bind(|| insta::assert_snapshot!(log.text(), @"
    graph: GET /v27.0/act_1/customconversions (page 1) → 400 in [duration] [act_1] usage account [share]% reset in [duration] regain access in 180s
    graph: retry (attempt 2/8) of GET /v27.0/act_1/customconversions in [duration] after: (#17) User request limit reached [code 17, subcode 2446079, fbtrace_id TRACE123]
    help: the API asks to slow down: try again later or lower --parallelism
    graph: waited [duration] before GET /v27.0/act_1/customconversions (usage/throttle pacing)
    graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1]
    graph: act_1: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    "));
}
