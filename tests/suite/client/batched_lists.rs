//! Listing many accounts: first pages go in batch requests (up to 50 accounts per round trip),
//! and batching must never change what a listing returns or how it fails. Anything a batch did
//! not settle (a `null` entry, a throttled or failed sub-request, an answer that is not a list)
//! is listed again on its own; a first page with `next` is followed on its own.

use crate::support::emulator::start_exactly;
use crate::support::snapshot::text_settings;
use crate::support::{TOKEN, client::*, stub::*};
use convctl::emulator::{EmulatorConfig, Faults, SeedConversion};
use convctl::graph::{ErrorKind, GraphError};
use convctl::model::LiveConversion;
use convctl::model::ids::AdAccountId;
use serde_json::{Value, json};

fn item(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "rule": "{\"url\":{\"i_contains\":\"x\"}}"})
}

fn batch_of(seen: &Seen) -> Option<Vec<Value>> {
    if seen.method != "POST" || seen.target.split('?').next() != Some("/v27.0/") {
        return None;
    }
    let fields = form(&seen.body);
    let text = &fields.iter().find(|(k, _)| k == "batch")?.1;
    serde_json::from_str(text).ok()
}

/// What a listing of many accounts gave, one account a line: the id and name of each
/// conversion listed (the rest is `item`'s), or the error as a person reads it (which names
/// its account).
fn outcomes(
    accounts: &[AdAccountId],
    listed: &[Result<Vec<LiveConversion>, GraphError>],
) -> String {
    assert_eq!(accounts.len(), listed.len(), "one result per account");
    let mut text = String::new();
    for (account, result) in accounts.iter().zip(listed) {
        let shown = match result {
            Ok(conversions) => {
                let items: Vec<String> = conversions
                    .iter()
                    .map(|c| format!("{} {:?}", c.id, c.name.as_deref().unwrap_or_default()))
                    .collect();
                format!("{account}: [{}]", items.join(", "))
            }
            Err(e) => format!("failed: {e}"),
        };
        text.push_str(&format!("{shown}\n"));
    }
    text
}

/// One batch for five accounts; each entry answers differently, and each account ends up with
/// what a listing of its own would give: a page is read, a refusal is that account's error, and
/// what was throttled or not run is asked again, in a batch, after the backoff.
#[tokio::test]
async fn each_entry_of_a_batched_listing_is_settled_like_a_listing_of_its_own() {
    let server = Stub::start(|seen, index| {
        let batch = batch_of(seen).unwrap_or_else(|| panic!("only batches expected: {seen:?}"));
        let urls: Vec<&str> = batch
            .iter()
            .map(|e| {
                assert_eq!(e["method"], "GET");
                e["relative_url"].as_str().unwrap()
            })
            .collect();
        for url in &urls {
            assert!(url.contains("limit=100") && !url.contains("access_token"), "{url}");
        }
        let page = |body: Value| json!({"code": 200, "headers": [], "body": body.to_string()});
        if index == 0 {
            for (i, url) in urls.iter().enumerate() {
                assert!(
                    url.starts_with(&format!("v27.0/act_{}/customconversions?fields=", i + 1)),
                    "{url}"
                );
            }
            return ok(json!([
                // act_1: a first page that goes on, to another host.
                page(json!({"data": [item("11", "a1")], "paging": {"next": format!("{}/v27.0/act_1/customconversions?after=X&access_token=leaked", "http://127.0.0.1:1")}})),
                // act_2: not run.
                null,
                // act_3: throttled (the app limit, no usage headers).
                {"code": 400, "headers": [], "body": graph_error(4, None, "(#4) Application request limit reached")},
                // act_4: an empty account.
                page(json!({"data": []})),
                // act_5: refused for good.
                {"code": 403, "headers": [], "body": graph_error(200, None, "(#200) Requires ads_read permission")},
            ]));
        }
        // The second batch: only what was not settled.
        assert_eq!(urls.len(), 2, "{urls:?}");
        assert!(urls[0].starts_with("v27.0/act_2/") && urls[1].starts_with("v27.0/act_3/"));
        ok(json!([
            page(json!({"data": [item("21", "b1"), item("22", "b2")]})),
            page(json!({"data": [item("31", "c1")]})),
        ]))
    })
    .await;
    let mut cfg = config(&server.base, TOKEN);
    cfg.retry.base_delay = std::time::Duration::from_millis(40);
    let (client, log) = client(cfg);
    let accounts: Vec<_> = (1..=5).map(account).collect();
    let listed = client.list_many(&accounts).await;

    text_settings().bind(|| insta::assert_snapshot!(outcomes(&accounts, &listed), @r#"
    failed: act_1: the API's paging `next` link points at another host than --api-base; not followed, so that the token is never sent elsewhere
    act_2: [21 "b1", 22 "b2"]
    act_3: [31 "c1"]
    act_4: []
    failed: act_5: (#200) Requires ads_read permission [code 200, fbtrace_id TRACE123]
    help: grant the token's app ads_management on this ad account
    "#));
    let e = listed[0].clone().unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsafeRedirect, "{e}");
    let e = listed[4].clone().unwrap_err();
    assert_eq!((e.kind, e.code), (ErrorKind::Permission, Some(200)));
    assert_eq!(
        e.account(),
        Some(&account(5)),
        "the error names its account"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "two batches, nothing else");
    for r in &requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(!r.target.contains(TOKEN) && !r.body.contains(TOKEN));
    }
    let text = log.text();
    assert!(!text.contains(TOKEN) && !text.contains("leaked"), "{text}");
    text_settings().bind(|| insta::assert_snapshot!(text, @"
    graph: POST /v27.0/ (first pages of 5 accounts) → 200 in [duration]
    graph: act_2: first page not read from the batch: the batch answer has no result for this request (not run or timed out)
    graph: act_3: first page not read from the batch: (#4) Application request limit reached [code 4, fbtrace_id TRACE123]
    help: the API asks to slow down: try again later or lower --parallelism
    graph: retry of the first pages of 2 accounts in [duration] after: the batch answer has no result for this request (not run or timed out)
    graph: POST /v27.0/ (first pages of 2 accounts) → 200 in [duration]
    graph: first pages of 5 accounts: 3 read from the batch, 0 listed on their own (2 round(s) of batches)
    graph: act_2: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    graph: act_3: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    "));
}

/// A batch answer that is not one result per request, or a batch the API refuses, is not the
/// accounts' fault: each is listed on its own.
#[tokio::test]
async fn a_batch_answer_that_cannot_be_read_falls_back_to_one_listing_per_account() {
    let mut shown = String::new();
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
                .trim_start_matches("/v27.0/act_")
                .trim_end_matches("/customconversions");
            ok(json!({"data": [item(&format!("{n}0"), &format!("only {n}"))]}))
        })
        .await;
        let (client, _) = client(config(&server.base, TOKEN));
        let accounts: Vec<_> = (1..=3).map(account).collect();
        let listed = client.list_many(&accounts).await;
        shown.push_str(&outcomes(&accounts, &listed));
        assert_eq!(server.requests().len(), 4, "one batch, then three lists");
    }
    insta::assert_snapshot!(shown, @r#"
    act_1: [10 "only 1"]
    act_2: [20 "only 2"]
    act_3: [30 "only 3"]
    act_1: [10 "only 1"]
    act_2: [20 "only 2"]
    act_3: [30 "only 3"]
    act_1: [10 "only 1"]
    act_2: [20 "only 2"]
    act_3: [30 "only 3"]
    "#);
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
    let mut cfg = config(&server.base, TOKEN);
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
    let (batched, _) = client(config(&server.base, TOKEN));
    assert!(batched.list_many(&accounts[..1]).await[0].is_ok());
    // Four plain listings (side by side: sorted), then one.
    let mut requests = server.requests();
    requests[..4].sort_by(|a, b| a.target.cmp(&b.target));
    insta::assert_snapshot!(super::stub::sent(&requests), @"
    GET /v27.0/act_1/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100
    GET /v27.0/act_2/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100
    GET /v27.0/act_3/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100
    GET /v27.0/act_4/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100
    GET /v27.0/act_1/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100
    ");
}

/// Sub-requests refused for an optional field are asked again in a batch without the optional
/// fields (not one by one with the full list first), and the client remembers it.
#[tokio::test]
async fn a_field_refused_in_a_batch_is_asked_again_in_a_batch_without_it() {
    let server = Stub::start(|seen, _| {
        let batch = batch_of(seen).unwrap_or_else(|| panic!("only batches expected: {seen:?}"));
        let entries: Vec<Value> = batch
            .iter()
            .map(|e| {
                if e["relative_url"].as_str().unwrap().contains("pixel") {
                    json!({"code": 400, "headers": [], "body": graph_error(100, None, "(#100) Tried accessing nonexisting field (pixel)")})
                } else {
                    json!({"code": 200, "headers": [], "body": json!({"data": [item("1", "only")]}).to_string()})
                }
            })
            .collect();
        ok(Value::Array(entries))
    })
    .await;
    let (client, log) = client(config(&server.base, TOKEN));
    let accounts: Vec<_> = (1..=3).map(account).collect();
    let listed = client.list_many(&accounts).await;
    insta::assert_snapshot!(outcomes(&accounts, &listed), @r#"
    act_1: [1 "only"]
    act_2: [1 "only"]
    act_3: [1 "only"]
    "#);
    assert_eq!(server.requests().len(), 2, "{}", log.text());
    text_settings().bind(|| insta::assert_snapshot!(log.text(), @"
    graph: POST /v27.0/ (first pages of 3 accounts) → 200 in [duration]
    graph: act_1: the API refused the full field list ((#100) Tried accessing nonexisting field (pixel)); asking again without advanced_rule, event_source_id, pixel, action_source_type, for the rest of the run (they stay unknown)
    graph: act_2: the API refused the full field list ((#100) Tried accessing nonexisting field (pixel)); asking again without advanced_rule, event_source_id, pixel, action_source_type, for the rest of the run (they stay unknown)
    graph: act_3: the API refused the full field list ((#100) Tried accessing nonexisting field (pixel)); asking again without advanced_rule, event_source_id, pixel, action_source_type, for the rest of the run (they stay unknown)
    graph: POST /v27.0/ (first pages of 3 accounts) → 200 in [duration]
    graph: first pages of 3 accounts: 3 read from the batch, 0 listed on their own (2 round(s) of batches)
    graph: act_1: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    graph: act_2: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    graph: act_3: no conversion in the answer carried custom_event_type, event_source_id, action_source_type (unknown: never a change)
    "));
    for result in client.list_many(&accounts).await {
        assert!(result.is_ok());
    }
    assert_eq!(
        server.requests().len(),
        3,
        "the next listing asks without them at once"
    );
}

/// A batch that keeps timing out (a big answer on a slow link) does not fail its accounts:
/// after a few tries they are listed on their own, which works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_times_out_leaves_its_accounts_to_be_listed_on_their_own() {
    let server = Stub::start(|seen, _| {
        if batch_of(seen).is_some() {
            // Blocks one of the two workers only; the client's timeout fires on the other.
            std::thread::sleep(std::time::Duration::from_millis(400));
        }
        ok(json!({"data": [item("1", "fine")]}))
    })
    .await;
    let mut cfg = config(&server.base, TOKEN);
    cfg.retry.request_timeout = std::time::Duration::from_millis(150);
    let (client, log) = client(cfg);
    let accounts: Vec<_> = (1..=3).map(account).collect();
    let listed = client.list_many(&accounts).await;
    insta::assert_snapshot!(outcomes(&accounts, &listed), @r#"
    act_1: [1 "fine"]
    act_2: [1 "fine"]
    act_3: [1 "fine"]
    "#);
    let batches = server
        .requests()
        .iter()
        .filter(|r| batch_of(r).is_some())
        .count();
    assert_eq!(batches, 3, "three tries of the batch, then one by one");
    assert_eq!(server.requests().len(), 3 + 3);
    assert!(
        log.text()
            .contains("first pages of 3 accounts: 0 read from the batch, 3 listed on their own"),
        "{}",
        log.text()
    );
}

/// When no connection can be made at all, every account says so after a few quick tries of
/// the batch, instead of each account trying again on its own.
#[tokio::test]
async fn an_unreachable_api_fails_every_account_of_a_batch_at_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (client, log) = client(config(&base, TOKEN));
    let accounts: Vec<_> = (1..=4).map(account).collect();
    let started = std::time::Instant::now();
    let listed = client.list_many(&accounts).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    for (result, acc) in listed.iter().zip(&accounts) {
        let e = result.clone().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{e}");
        assert_eq!(e.account(), Some(acc));
    }
    text_settings().bind(|| insta::assert_snapshot!(outcomes(&accounts, &listed), @"
    failed: act_1: cannot connect to http://127.0.0.1:[port] (check --api-base and the network): Connection refused (os error 111) [after 3 attempts]
    failed: act_2: cannot connect to http://127.0.0.1:[port] (check --api-base and the network): Connection refused (os error 111) [after 3 attempts]
    failed: act_3: cannot connect to http://127.0.0.1:[port] (check --api-base and the network): Connection refused (os error 111) [after 3 attempts]
    failed: act_4: cannot connect to http://127.0.0.1:[port] (check --api-base and the network): Connection refused (os error 111) [after 3 attempts]
    "));
    assert!(
        !log.text().contains("page 1"),
        "no account tried on its own: {}",
        log.text()
    );
}

/// Batches of listings count against the global limit only: 10 batches with parallelism 16
/// are all in flight at once (not 4, the per-account limit).
#[tokio::test]
async fn batches_of_listings_are_bounded_by_the_global_limit_only() {
    let server = Stub::start_with_delay(std::time::Duration::from_millis(150), |seen, _| {
        let Some(batch) = batch_of(seen) else {
            return ok(json!({"data": []}));
        };
        let page = json!({"code": 200, "headers": [], "body": json!({"data": []}).to_string()});
        ok(Value::Array(vec![page; batch.len()]))
    })
    .await;
    let mut cfg = config(&server.base, TOKEN);
    cfg.parallelism = 16;
    cfg.per_account_parallelism = 4;
    let (client, _) = client(cfg);
    let accounts: Vec<_> = (1..=500).map(account).collect();
    assert!(client.list_many(&accounts).await.iter().all(Result::is_ok));
    assert_eq!(
        server.requests().len(),
        1 + 10,
        "the first account alone (are the optional fields read back?), then 10 batches"
    );
    assert_eq!(
        server
            .peak_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        10
    );
}

/// An account the API asked to slow down is not put in a batch: its own call waits for it.
#[tokio::test]
async fn a_paced_account_is_listed_on_its_own() {
    let server = Stub::start(|seen, _| {
        if batch_of(seen).is_some() {
            let page = json!({"code": 200, "headers": [], "body": json!({"data": []}).to_string()});
            return ok(json!([page.clone(), page]));
        }
        let busy = seen.target.starts_with("/v27.0/act_1/");
        let usage = if busy { 90 } else { 10 };
        (
            200,
            vec![(
                "x-ad-account-usage",
                format!("{{\"acc_id_util_pct\":{usage}}}"),
            )],
            json!({"data": []}).to_string(),
        )
    })
    .await;
    let mut cfg = config(&server.base, TOKEN);
    cfg.retry.pacing_max_delay = std::time::Duration::from_millis(20);
    let (client, _) = client(cfg);
    client.list_conversions(&account(1)).await.unwrap();
    let accounts: Vec<_> = (1..=3).map(account).collect();
    assert!(client.list_many(&accounts).await.iter().all(Result::is_ok));
    let requests = server.requests();
    let batch = requests.iter().find_map(batch_of).expect("one batch");
    // The batch holds the other two accounts only.
    insta::assert_json_snapshot!(batch, @r#"
    [
      {
        "method": "GET",
        "relative_url": "v27.0/act_2/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100"
      },
      {
        "method": "GET",
        "relative_url": "v27.0/act_3/customconversions?fields=id%2Cname%2Cdescription%2Crule%2Cadvanced_rule%2Ccustom_event_type%2Cevent_source_id%2Cdata_sources%2Cpixel%2Caction_source_type%2Cdefault_conversion_value%2Cis_archived%2Cis_unavailable%2Ccreation_time%2Cfirst_fired_time%2Clast_fired_time&limit=100"
      }
    ]
    "#);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.target.starts_with("/v27.0/act_1/"))
            .count(),
        2,
        "act_1 listed on its own again"
    );
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

/// Against the emulator: 120 accounts (one with 230 conversions, three pages) list in the
/// first account alone (which tells whether the optional fields are read back), 3 batches and
/// the 2 further pages, and give exactly what listing each account alone gives,
/// with and without injected faults.
#[tokio::test]
async fn many_accounts_list_in_batches_exactly_as_one_by_one() {
    // The round trips counted below are the lenient profile's (the strict one refuses some
    // fields, pages by 25 and leaves batch entries past the 40th unrun).
    let emu = start_exactly(EmulatorConfig {
        score_window: crate::support::emulator::FAULT_SCORE_WINDOW,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let accounts: Vec<_> = (1..=120).map(|n| account(9000 + n)).collect();
    for n in 1..=120u64 {
        seed(&emu, 9000 + n, (n % 4) as usize);
    }
    seed(&emu, 9007, 230 - 3);
    let (one_by_one, _) = client(config(&emu.base_url(), TOKEN));
    let mut expected = Vec::new();
    for acc in &accounts {
        expected.push(one_by_one.list_conversions(acc).await.unwrap());
    }
    assert_eq!(expected[6].len(), 230);

    let before = emu.stats()["http_requests"].as_u64().unwrap();
    let (batched, log) = client(config(&emu.base_url(), TOKEN));
    let listed: Vec<_> = batched
        .list_many(&accounts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        emu.stats()["http_requests"].as_u64().unwrap() - before,
        1 + 3 + 2,
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
    let (faulted, log) = client(config(&emu.base_url(), TOKEN));
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
