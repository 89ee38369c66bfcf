//! Hostile API answers: a small mutating proxy sits between the Graph
//! client and the real emulator and damages one chosen answer — truncated JSON, values of the
//! wrong type, missing fields, a huge page, an HTML error page, a changed status. The client
//! must never panic, must fail with a message (not an empty one), and must never turn a damaged
//! answer into a false success: no create made twice (a garbled answer to a committed create is
//! checked, not repeated, also when the listings that check it are damaged too), no delete
//! reported done while the conversion still exists, no create reported done that does not
//! exist. The binary's `plan` through the same proxy exits 0 or 1.

use crate::support::emulator::with_token;
use crate::support::generate::{manifest_document, seed_account};
use crate::support::json::walk;
use crate::support::snapshot::{filtered, transcript};
use crate::support::{Convctl, Harness, TOKEN};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use convctl::graph::{GraphClient, GraphConfig, RetryPolicy};
use convctl::model::Secret;
use convctl::model::ids::{AdAccountId, ConversionId};
use convctl::model::{ConversionUpdate, NewConversion, WriteOp, WriteOutcome};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to damage an answer.
#[derive(Clone, Debug)]
enum Damage {
    Truncate(f64),
    /// Replace the k-th JSON node (depth first) with this value.
    Replace(usize, Value),
    /// Remove the k-th object member.
    Remove(usize),
    /// Repeat the `data` items (or the batch entries) this many times, or pad with a huge string.
    Huge(usize),
    Html,
    Status(u16),
}

/// Damage the `nth` answer (counting every request through the proxy) with `damage`.
#[derive(Clone, Debug)]
struct Plan {
    nth: usize,
    /// Damage every answer from the `nth` on (the API keeps misbehaving).
    every: bool,
    damage: Damage,
}

#[derive(Default)]
struct ProxyState {
    upstream: String,
    /// The proxy's own address: it replaces the upstream's in answers (the `next` links of
    /// pages), so that every page comes through the proxy too.
    own: std::sync::OnceLock<String>,
    plan: Mutex<Option<Plan>>,
    seen: AtomicUsize,
    http: reqwest::Client,
}

/// Batch answers carry each entry's answer as a JSON string in `body`: damage inside it too.
fn expand_bodies(v: &mut Value) {
    walk(v, &mut |x| {
        if let Some(body) = x.get_mut("body")
            && let Some(text) = body.as_str()
            && let Ok(inner) = serde_json::from_str::<Value>(text)
        {
            *body = inner;
        }
        false
    });
}

fn collapse_bodies(v: &mut Value) {
    walk(v, &mut |x| {
        if let Some(body) = x.get_mut("body")
            && !body.is_string()
            && !body.is_null()
        {
            *body = Value::String(body.to_string());
        }
        false
    });
}

fn damage(status: u16, body: &[u8], d: &Damage) -> (u16, Vec<u8>) {
    let mut doc: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return (status, body.to_vec()),
    };
    let batch = doc.is_array();
    if batch {
        expand_bodies(&mut doc);
    }
    match d {
        Damage::Truncate(f) => {
            let mut b = body.to_vec();
            b.truncate((b.len() as f64 * f) as usize);
            return (status, b);
        }
        Damage::Html => {
            return (
                status,
                b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            );
        }
        Damage::Status(s) => return (*s, body.to_vec()),
        Damage::Replace(k, value) => {
            let mut n = 0;
            walk(&mut doc, &mut |_| {
                n += 1;
                false
            });
            let mut i = 0;
            walk(&mut doc, &mut |x| {
                if i == k % n {
                    *x = value.clone();
                    return true;
                }
                i += 1;
                false
            });
        }
        Damage::Remove(k) => {
            let mut n = 0;
            walk(&mut doc, &mut |x| {
                n += usize::from(x.as_object().is_some_and(|o| !o.is_empty()));
                false
            });
            if n > 0 {
                let mut i = 0;
                walk(&mut doc, &mut |x| {
                    if let Some(o) = x.as_object_mut().filter(|o| !o.is_empty()) {
                        if i == k % n {
                            let key = o.keys().nth(k / n % o.len()).unwrap().clone();
                            o.remove(&key);
                            return true;
                        }
                        i += 1;
                    }
                    false
                });
            }
        }
        Damage::Huge(times) => {
            if let Some(items) = doc.get_mut("data").and_then(Value::as_array_mut) {
                let copy = items.clone();
                for _ in 0..*times {
                    items.extend(copy.iter().cloned());
                }
            } else if let Some(items) = doc.as_array_mut() {
                let copy = items.clone();
                for _ in 0..*times {
                    items.extend(copy.iter().cloned());
                }
            } else if let Some(o) = doc.as_object_mut() {
                o.insert("padding".into(), Value::String("x".repeat(4 << 20)));
            }
        }
    }
    if batch {
        collapse_bodies(&mut doc);
    }
    (status, serde_json::to_vec(&doc).unwrap())
}

async fn forward(
    axum::extract::State(state): axum::extract::State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = state.seen.fetch_add(1, Ordering::SeqCst);
    let url = format!(
        "{}{}",
        state.upstream,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut request = state
        .http
        .request(Method::from_bytes(method.as_str().as_bytes()).unwrap(), url)
        .body(body.to_vec());
    for name in ["authorization", "content-type"] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v.to_str().unwrap_or_default());
        }
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = answer.status().as_u16();
    let mut out_headers = HeaderMap::new();
    for (k, v) in answer.headers() {
        if k.as_str().starts_with("x-") || k == "content-type" {
            out_headers.insert(k.clone(), v.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    let bytes = match (std::str::from_utf8(&bytes), state.own.get()) {
        (Ok(text), Some(own)) => Bytes::from(text.replace(&state.upstream, own)),
        _ => bytes,
    };
    let plan = state.plan.lock().unwrap().clone();
    let (status, bytes) = match plan {
        Some(p) if p.nth == n || (p.every && n >= p.nth) => damage(status, &bytes, &p.damage),
        _ => (status, bytes.to_vec()),
    };
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        bytes,
    )
        .into_response();
    response.headers_mut().extend(out_headers);
    response
}

/// The harness (an in-process emulator) behind a damaging proxy.
struct Rig {
    harness: Harness,
    proxy: String,
    state: Arc<ProxyState>,
}

fn rig() -> Rig {
    let harness = Harness::with(with_token());
    let state = Arc::new(ProxyState {
        upstream: harness.base(),
        ..ProxyState::default()
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(state.clone());
    let proxy = harness.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        state.own.set(proxy.clone()).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        proxy
    });
    Rig {
        harness,
        proxy,
        state,
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
        Just(Value::String("23850000000000001".into())),
        Just(serde_json::json!({"error": {"message": "x", "code": 100}})),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

fn damage_strategy() -> impl Strategy<Value = Damage> {
    prop_oneof![
        1 => (0.0..1.0f64).prop_map(Damage::Truncate),
        3 => (any::<usize>(), any_json()).prop_map(|(k, v)| Damage::Replace(k, v)),
        2 => any::<usize>().prop_map(Damage::Remove),
        1 => (1usize..40).prop_map(Damage::Huge),
        1 => Just(Damage::Html),
        1 => prop::sample::select(vec![200u16, 204, 302, 400, 404, 429, 500, 503]).prop_map(Damage::Status),
    ]
}

fn client(base: &str) -> GraphClient {
    let mut config = GraphConfig::new(base, Secret::new(TOKEN));
    config.parallelism = 4;
    config.per_account_parallelism = 2;
    config.batch_size = 3;
    config.retry = RetryPolicy {
        max_attempts: 6,
        max_total: Duration::from_secs(5),
        ..RetryPolicy::fast()
    };
    GraphClient::new(config).unwrap()
}

fn new_conversion(name: &str) -> NewConversion {
    NewConversion {
        name: name.into(),
        description: String::new(),
        rule: Some(format!(r#"{{"url":{{"i_contains":"/{name}"}}}}"#)),
        advanced_rule: None,
        custom_event_type: Some("PURCHASE".parse().unwrap()),
        event_source_id: None,
        action_source_type: None,
        default_conversion_value: 0.0,
    }
}

fn live_in(rig: &Rig, digits: &str) -> Vec<Value> {
    rig.harness.emulator().state()["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["account_id"] == digits && c["is_archived"] != Value::Bool(true))
        .cloned()
        .collect()
}

/// One case: a fresh account with 4 conversions; list it, then create 4, update 1, delete 2
/// through the proxy with one answer damaged.
fn case(
    rig: &Rig,
    n: usize,
    plan: Plan,
    failures: &AtomicUsize,
    damaged: &AtomicUsize,
) -> Result<(), TestCaseError> {
    let digits = format!("{}", 7_500_000 + n);
    let account = AdAccountId::parse(&digits).unwrap();
    let ids: Vec<String> = seed_account(account.as_str(), 4, 0)
        .into_iter()
        .map(|s| {
            rig.harness
                .emulator()
                .insert_conversion(serde_json::from_value(s).unwrap())
                .unwrap()
        })
        .collect();
    rig.state.seen.store(0, Ordering::SeqCst);
    *rig.state.plan.lock().unwrap() = Some(plan.clone());
    let client = client(&rig.proxy);
    let (listed, results) = rig.harness.block_on(async {
        let listed = client.list_conversions(&account).await;
        let mut ops: Vec<WriteOp> = (0..4)
            .map(|i| WriteOp::Create {
                account: account.clone(),
                conversion: new_conversion(&format!("new-{i}")),
            })
            .collect();
        ops.push(WriteOp::Update {
            id: ConversionId::parse(&ids[0]).unwrap(),
            update: ConversionUpdate {
                description: Some("changed".into()),
                ..ConversionUpdate::default()
            },
        });
        for id in &ids[2..4] {
            ops.push(WriteOp::Delete {
                id: ConversionId::parse(id).unwrap(),
            });
        }
        let results = client.write(ops.clone()).await;
        (listed, results.into_iter().zip(ops).collect::<Vec<_>>())
    });
    *rig.state.plan.lock().unwrap() = None;
    if listed.is_err() || results.iter().any(|(r, _)| r.is_err()) {
        failures.fetch_add(1, Ordering::Relaxed);
    }
    if rig.state.seen.load(Ordering::SeqCst) > plan.nth {
        damaged.fetch_add(1, Ordering::Relaxed);
    }
    if let Err(e) = &listed {
        prop_assert!(!e.to_string().trim().is_empty(), "{plan:?}: empty error");
    }
    let live = live_in(rig, &digits);
    for i in 0..4 {
        let name = format!("new-{i}");
        let copies = live.iter().filter(|c| c["name"] == name.as_str()).count();
        prop_assert!(copies <= 1, "{plan:?}: {name} created {copies} times");
    }
    for (result, op) in &results {
        match (result, op) {
            (Err(e), _) => prop_assert!(!e.to_string().trim().is_empty(), "{plan:?}: empty error"),
            (
                Ok(
                    WriteOutcome::Created(id)
                    | WriteOutcome::Adopted(id)
                    | WriteOutcome::Resent(id),
                ),
                WriteOp::Create { conversion, .. },
            ) => {
                let found = live
                    .iter()
                    .any(|c| c["id"] == id.as_str() && c["name"] == conversion.name.as_str());
                let named = live.iter().any(|c| c["name"] == conversion.name.as_str());
                // A damaged answer may carry a made-up id; the conversion must exist all the same.
                prop_assert!(
                    found || named,
                    "{plan:?}: {} reported created as {id} but absent",
                    conversion.name
                );
            }
            (Ok(WriteOutcome::Deleted | WriteOutcome::AlreadyGone), WriteOp::Delete { id }) => {
                prop_assert!(
                    !live.iter().any(|c| c["id"] == id.as_str()),
                    "{plan:?}: delete of {id} reported done but it exists"
                );
            }
            (Ok(WriteOutcome::Updated), WriteOp::Update { .. }) => {}
            (Ok(other), op) => prop_assert!(false, "{plan:?}: {op:?} answered {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn damaged_answers_never_become_false_successes() {
    let rig = rig();
    let counter = AtomicUsize::new(0);
    let failures = AtomicUsize::new(0);
    let damaged = AtomicUsize::new(0);
    // Cases that once failed run first, under both emulator profiles: their seeds are kept in
    // tests/proptest-regressions/faults/damaged_answers.txt.
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    });
    runner
        .run(
            &((0usize..6), prop::bool::weighted(0.3), damage_strategy()),
            |(nth, every, damage)| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let plan = Plan { nth, every, damage };
                case(&rig, n, plan, &failures, &damaged)
            },
        )
        .unwrap();
    let (cases, failed, damaged) = (
        counter.into_inner(),
        failures.into_inner(),
        damaged.into_inner(),
    );
    eprintln!(
        "{cases} cases: {damaged} served a damaged answer, {failed} ended in a reported failure"
    );
    assert!(
        damaged * 2 >= cases && failed > 0,
        "the damage must actually bite: {damaged} damaged, {failed} failed of {cases}"
    );
}

/// The binary through the proxy: `plan` with the first answer damaged in each way exits 0 or
/// 1 with a message, never a panic.
#[test]
fn plan_through_damaging_proxy_fails_cleanly() {
    let rig = rig();
    let a = "act_7600001";
    for s in seed_account(a, 30, 0) {
        rig.harness
            .emulator()
            .insert_conversion(serde_json::from_value(s).unwrap())
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        manifest_document(a, 30, 0),
    )
    .unwrap();
    let damages = [
        Damage::Truncate(0.5),
        Damage::Replace(0, Value::Null),
        Damage::Replace(1, serde_json::json!("not a list")),
        Damage::Replace(3, serde_json::json!(7)),
        Damage::Remove(0),
        Damage::Huge(200),
        Damage::Html,
        Damage::Status(400),
        Damage::Status(404),
    ];
    let mut outputs = Vec::new();
    for damage in damages {
        rig.state.seen.store(0, Ordering::SeqCst);
        *rig.state.plan.lock().unwrap() = Some(Plan {
            nth: 0,
            every: false,
            damage: damage.clone(),
        });
        let run = Convctl::new()
            .against(&rig.proxy)
            .current_dir(dir.path())
            .args(&["plan"])
            .run();
        assert!(!run.stderr.contains("panicked"), "{damage:?}: {run}");
        outputs.push(format!(
            "== {damage:?}\n{}",
            filtered(&run, &transcript(&run))
        ));
    }
    // Each exits 0 (the damage was retried away: no changes) or 1 with a message. The strict
    // profile first refuses a field the listing asks for: its first answer, the one damaged,
    // is that refusal.
    let outputs = outputs.join("\n");
    if crate::support::profile::strict() {
        insta::assert_snapshot!(outputs, @r#"
        == Truncate(0.5)
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
        error: no plan: fix the 1 problem(s) above

        == Replace(0, Null)
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
        error: no plan: fix the 1 problem(s) above

        == Replace(1, String("not a list"))
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
        error: no plan: fix the 1 problem(s) above

        == Replace(3, Number(7))
        success: true
        exit_code: 0
        ----- stdout -----
        act_7600001 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----

        == Remove(0)
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
        error: no plan: fix the 1 problem(s) above

        == Huge(200)
        success: true
        exit_code: 0
        ----- stdout -----
        act_7600001 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----

        == Html
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
        error: no plan: fix the 1 problem(s) above

        == Status(400)
        success: true
        exit_code: 0
        ----- stdout -----
        act_7600001 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----

        == Status(404)
        success: true
        exit_code: 0
        ----- stdout -----
        act_7600001 (conversions/a.yaml): no changes.

        No changes.
        ----- stderr -----
        "#);
        return;
    }
    insta::assert_snapshot!(outputs, @r#"
    == Truncate(0.5)
    success: true
    exit_code: 0
    ----- stdout -----
    act_7600001 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----

    == Replace(0, Null)
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API answered a list without `data`
    error: no plan: fix the 1 problem(s) above

    == Replace(1, String("not a list"))
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API's `data` is not a list
    error: no plan: fix the 1 problem(s) above

    == Replace(3, Number(7))
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API answered a conversion whose `creation_time` is not a string: {"creation_time":7,"custom_event_type":"PURCHASE","data_sources":[],"default_conversion_value":0,"description":"","id":"…
    error: no plan: fix the 1 problem(s) above

    == Remove(0)
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API answered a list without `data`
    error: no plan: fix the 1 problem(s) above

    == Huge(200)
    success: true
    exit_code: 0
    ----- stdout -----
    act_7600001 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----

    == Html
    success: true
    exit_code: 0
    ----- stdout -----
    act_7600001 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----

    == Status(400)
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API answered HTTP 400 without a Graph error body; check --api-base and --api-version [HTTP 400]
    error: no plan: fix the 1 problem(s) above

    == Status(404)
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_7600001: cannot list custom conversions: the API answered HTTP 404 without a Graph error body; check --api-base and --api-version [HTTP 404]
    error: no plan: fix the 1 problem(s) above
    "#);
}

/// Batched listings (first pages of several accounts in one batch request) under the same
/// damage: every account ends with a listing or a clear error, an account's listing never
/// shows another account's conversion (entries are never misattributed), and damage that
/// leaves nothing readable (truncated, HTML, a changed status) never changes a listing that
/// succeeds.
#[test]
fn damaged_batched_listings_fail_cleanly_and_are_never_misattributed() {
    let rig = rig();
    let counter = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 80,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &((0usize..4), prop::bool::weighted(0.2), damage_strategy()),
            |(nth, every, damage)| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let accounts: Vec<AdAccountId> = (0..3)
                    .map(|k| AdAccountId::parse(&format!("{}", 7_700_000 + n * 3 + k)).unwrap())
                    .collect();
                let mut truth: Vec<Vec<String>> = Vec::new();
                for account in &accounts {
                    let mut ids: Vec<String> = seed_account(account.as_str(), 3, 0)
                        .into_iter()
                        .map(|s| {
                            rig.harness.emulator()
                                .insert_conversion(serde_json::from_value(s).unwrap())
                                .unwrap()
                        })
                        .collect();
                    ids.sort();
                    truth.push(ids);
                }
                rig.state.seen.store(0, Ordering::SeqCst);
                let plan = Plan {
                    nth,
                    every,
                    damage: damage.clone(),
                };
                *rig.state.plan.lock().unwrap() = Some(plan.clone());
                let listed = rig.harness.block_on(client(&rig.proxy).list_many(&accounts));
                *rig.state.plan.lock().unwrap() = None;
                let unreadable = matches!(damage, Damage::Truncate(_) | Damage::Html | Damage::Status(_));
                let made_up_id = matches!(&damage, Damage::Replace(_, v) if v == "23850000000000001");
                for (k, result) in listed.iter().enumerate() {
                    match result {
                        Err(e) => prop_assert!(!e.to_string().trim().is_empty(), "{plan:?}: empty error"),
                        Ok(list) => {
                            let mut ids: Vec<String> = list.iter().map(|c| c.id.to_string()).collect();
                            ids.sort();
                            for (j, other) in truth.iter().enumerate() {
                                if j != k && !made_up_id {
                                    prop_assert!(
                                        !ids.iter().any(|id| other.contains(id)),
                                        "{plan:?}: account {k} shows account {j}'s conversions: {ids:?}"
                                    );
                                }
                            }
                            if unreadable {
                                prop_assert_eq!(&ids, &truth[k], "{:?}: account {} listed wrong", plan, k);
                            }
                        }
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}
