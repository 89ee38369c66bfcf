//! Listing many accounts: first pages go in batch requests (up to 50 accounts per round trip),
//! and batching must never change what a listing returns or how it fails. Anything a batch did
//! not settle (a `null` entry, a throttled or failed sub-request, an answer that is not a list)
//! is listed again on its own; a first page with `next` is followed on its own.

mod client_common;

use client_common::*;
use convctl::emulator::{EmulatorConfig, Faults, SeedConversion};
use convctl::graph::{ErrorKind, LiveConversion};
use serde_json::{Value, json};

fn ok(body: Value) -> Answer {
    (200, vec![], body.to_string())
}

fn item(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "rule": "{\"url\":{\"i_contains\":\"x\"}}"})
}

fn batch_of(seen: &Seen) -> Option<Vec<Value>> {
    if seen.method != "POST" || seen.target.split('?').next() != Some("/v26.0/") {
        return None;
    }
    let fields = form(&seen.body);
    let text = &fields.iter().find(|(k, _)| k == "batch")?.1;
    serde_json::from_str(text).ok()
}

fn names(listed: &[LiveConversion]) -> Vec<&str> {
    listed.iter().map(|c| c.name.as_str()).collect()
}

/// One batch for five accounts; each entry answers differently, and each account ends up with
/// exactly what a listing of its own would give.
#[tokio::test]
async fn each_entry_of_a_batched_listing_is_settled_like_a_listing_of_its_own() {
    let server = Stub::start(|seen, _| {
        if let Some(batch) = batch_of(seen) {
            assert_eq!(batch.len(), 5);
            for (i, entry) in batch.iter().enumerate() {
                assert_eq!(entry["method"], "GET");
                let url = entry["relative_url"].as_str().unwrap();
                assert!(
                    url.starts_with(&format!("v26.0/act_{}/customconversions?fields=", i + 1)),
                    "{url}"
                );
                assert!(url.contains("limit=100") && !url.contains("access_token"), "{url}");
            }
            let page = |body: Value| json!({"code": 200, "headers": [], "body": body.to_string()});
            return ok(json!([
                // act_1: a first page that goes on.
                page(json!({"data": [item("11", "a1")], "paging": {"next": format!("{}/v26.0/act_1/customconversions?after=X&access_token=leaked", "http://127.0.0.1:1")}})),
                // act_2: not run.
                null,
                // act_3: throttled (with usage headers).
                {"code": 400, "headers": [{"name": "X-Business-Use-Case-Usage", "value": "{\"3\":[{\"type\":\"ads_management\",\"call_count\":100,\"estimated_time_to_regain_access\":0}]}"}],
                 "body": graph_error(80004, None, "There have been too many calls to this ad-account.")},
                // act_4: an empty account.
                page(json!({"data": []})),
                // act_5: refused for good.
                {"code": 403, "headers": [], "body": graph_error(200, None, "(#200) Requires ads_read permission")},
            ]));
        }
        let path = seen.target.split('?').next().unwrap().to_string();
        match path.as_str() {
            "/v26.0/act_2/customconversions" => ok(json!({"data": [item("21", "b1"), item("22", "b2")]})),
            "/v26.0/act_3/customconversions" => ok(json!({"data": [item("31", "c1")]})),
            "/v26.0/act_5/customconversions" => (
                403,
                vec![],
                graph_error(200, None, "(#200) Requires ads_read permission"),
            ),
            other => panic!("unexpected request {other}"),
        }
    })
    .await;
    // The `next` link above points at another port: it must not be followed.
    let (client, log) = client(config(&server.base, CANARY));
    let accounts: Vec<_> = (1..=5).map(account).collect();
    let listed = client.list_many(&accounts).await;

    let e = listed[0].clone().unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsafeRedirect, "{e}");
    assert_eq!(names(listed[1].as_ref().unwrap()), ["b1", "b2"]);
    assert_eq!(names(listed[2].as_ref().unwrap()), ["c1"]);
    assert!(listed[3].as_ref().unwrap().is_empty());
    let e = listed[4].clone().unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Permission, Some(200)));
    assert_eq!(
        e.account(),
        Some(&account(5)),
        "the error names its account"
    );

    let requests = server.requests();
    let targets: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.target.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        targets[0], "POST /v26.0/",
        "one batch first, then only what it did not settle"
    );
    let mut rest = targets[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest,
        [
            "GET /v26.0/act_2/customconversions",
            "GET /v26.0/act_3/customconversions",
            "GET /v26.0/act_5/customconversions"
        ]
    );
    for r in &requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {CANARY}").as_str())
        );
        assert!(!r.target.contains(CANARY) && !r.body.contains(CANARY));
    }
    let text = log.text();
    assert!(
        text.contains("first pages of 5 accounts: 2 read from the batch, 3 listed on their own"),
        "{text}"
    );
    assert!(!text.contains(CANARY) && !text.contains("leaked"), "{text}");
}

/// A batch answer that is not one result per request, or a batch the API refuses, is not the
/// accounts' fault: each is listed on its own.
#[tokio::test]
async fn a_batch_answer_that_cannot_be_read_falls_back_to_one_listing_per_account() {
    for broken in [
        ok(json!({"data": []})),
        ok(json!([null])),
        (
            400,
            vec![],
            graph_error(100, None, "(#100) Param batch must be a JSON array"),
        ),
    ] {
        let server = Stub::start(move |seen, _| {
            if batch_of(seen).is_some() {
                return broken.clone();
            }
            let path = seen.target.split('?').next().unwrap();
            let n = path
                .trim_start_matches("/v26.0/act_")
                .trim_end_matches("/customconversions");
            ok(json!({"data": [item(&format!("{n}0"), &format!("only {n}"))]}))
        })
        .await;
        let (client, _) = client(config(&server.base, CANARY));
        let accounts: Vec<_> = (1..=3).map(account).collect();
        let listed = client.list_many(&accounts).await;
        for (i, result) in listed.iter().enumerate() {
            assert_eq!(
                names(result.as_ref().unwrap()),
                [format!("only {}", i + 1).as_str()]
            );
        }
        assert_eq!(server.requests().len(), 4, "one batch, then three lists");
    }
}

/// With `batch_size` 1, listings are one request per account (the comparison the benchmark
/// shows); one account alone is never put in a batch.
#[tokio::test]
async fn batch_size_one_and_a_single_account_list_with_plain_requests() {
    let server = Stub::start(|seen, _| {
        assert!(batch_of(seen).is_none(), "no batch expected");
        ok(json!({"data": []}))
    })
    .await;
    let mut cfg = config(&server.base, CANARY);
    cfg.batch_size = 1;
    let (unbatched, _) = client(cfg);
    let accounts: Vec<_> = (1..=4).map(account).collect();
    assert!(
        unbatched
            .list_many(&accounts)
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(server.requests().len(), 4);
    let (batched, _) = client(config(&server.base, CANARY));
    assert!(batched.list_many(&accounts[..1]).await[0].is_ok());
    assert_eq!(server.requests().len(), 5);
}

fn seed(emu: &convctl::emulator::RunningEmulator, account: u64, count: usize) {
    for i in 0..count {
        let seed: SeedConversion = serde_json::from_value(json!({
            "account": format!("act_{account}"),
            "name": format!("c{i:03}"),
            "rule": {"url": {"i_contains": format!("{account}-{i}")}},
            "custom_event_type": "PURCHASE",
            "event_source_id": "5550001",
        }))
        .unwrap();
        emu.insert_conversion(seed).unwrap();
    }
}

/// Against the emulator: 120 accounts (one with 230 conversions, three pages) list in 3
/// batches plus the 2 further pages, and give exactly what listing each account alone gives,
/// with and without injected faults.
#[tokio::test]
async fn many_accounts_list_in_batches_exactly_as_one_by_one() {
    let emu = start(EmulatorConfig::default()).await;
    let accounts: Vec<_> = (1..=120).map(|n| account(9000 + n)).collect();
    for n in 1..=120u64 {
        seed(&emu, 9000 + n, (n % 4) as usize);
    }
    seed(&emu, 9007, 230 - 3);
    let (one_by_one, _) = client(config(&emu.base_url(), CANARY));
    let mut expected = Vec::new();
    for acc in &accounts {
        expected.push(one_by_one.list_conversions(acc).await.unwrap());
    }
    assert_eq!(expected[6].len(), 230);

    let before = emu.stats()["http_requests"].as_u64().unwrap();
    let (batched, log) = client(config(&emu.base_url(), CANARY));
    let listed: Vec<_> = batched
        .list_many(&accounts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        emu.stats()["http_requests"].as_u64().unwrap() - before,
        3 + 2,
        "{}",
        log.text()
    );

    emu.set_faults(Faults {
        latency_ms: 0,
        fault_rate: 0.3,
        drop_after_commit: 0.0,
        rate_limit: None,
    })
    .unwrap();
    let (faulted, log) = client(config(&emu.base_url(), CANARY));
    let listed: Vec<_> = faulted
        .list_many(&accounts)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}\n{}", log.text())))
        .collect();
    assert_eq!(
        listed, expected,
        "faults never change what a listing returns"
    );
}
