//! The write observer (what progress counts): each write told once, as it is settled, however
//! many attempts, checks or adoptions that took, and a batch's writes told as that batch is
//! answered, not when the slowest batch of their round is.

use crate::support::{TOKEN, client::*, stub::*};
use convctl::graph::GraphError;
use convctl::model::ids::ConversionId;
use convctl::model::{ConversionUpdate, WriteOp, WriteOutcome};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

type Told = Arc<Mutex<Vec<(String, Result<WriteOutcome, GraphError>)>>>;

/// Which write an observation is about: a create's name, or the id written.
fn key(op: &WriteOp) -> String {
    match op {
        WriteOp::Create { conversion, .. } => format!("create {}", conversion.name),
        WriteOp::Update { id, .. } => format!("update {id}"),
        WriteOp::Delete { id } => format!("delete {id}"),
    }
}

fn item(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "rule": "{\"url\":{\"i_contains\":\"x\"}}", "custom_event_type": "LEAD"})
}

/// A batch entry answering `body`.
fn entry(body: Value) -> Value {
    json!({"code": 200, "headers": [], "body": body.to_string()})
}

/// In one call: a create whose answer is lost and which a listing then shows (adopted), a
/// create whose answer is lost and which no whole listing shows (sent again), an update whose
/// batch entry is empty (sent again), and a delete refused. Each is told exactly once, with
/// the result the call returns for it.
#[tokio::test]
async fn each_write_is_told_once_however_it_was_settled() {
    let posts = Arc::new(AtomicUsize::new(0));
    let seen_posts = posts.clone();
    let server = Stub::start(move |seen, _| {
        if seen.method == "GET" {
            let mut data = vec![item("11", "u"), item("12", "d")];
            if seen_posts.load(Ordering::SeqCst) > 0 {
                // Create A, made although its answer was lost.
                data.push(json!({"id": "501", "name": "A", "description": "A described",
                    "rule": "{\"and\":[{\"event\":{\"eq\":\"Purchase\"}},{\"value\":{\"gt\":1}}]}",
                    "custom_event_type": "PURCHASE", "data_sources": [{"id": "5550001"}],
                    "default_conversion_value": 12, "is_archived": false}));
            }
            return ok(json!({"data": data}));
        }
        match seen_posts.fetch_add(1, Ordering::SeqCst) {
            0 => ok(json!([
                null,
                null,
                null,
                {"code": 400, "headers": [], "body": graph_error(100, None, "(#100) Invalid parameter")},
            ])),
            // The update and create B, sent again.
            _ => ok(json!([entry(json!({"success": true})), entry(json!({"id": "700"}))])),
        }
    })
    .await;
    let (client, log) = client(config(&server.base, TOKEN));
    client.list_conversions(&account(9)).await.unwrap();
    let told: Told = Arc::default();
    let telling = told.clone();
    let results = client
        .write_observed(
            vec![
                WriteOp::Create {
                    account: account(9),
                    conversion: new_conversion("A", 1),
                },
                WriteOp::Create {
                    account: account(9),
                    conversion: new_conversion("B", 2),
                },
                WriteOp::Update {
                    id: ConversionId::parse("11").unwrap(),
                    update: ConversionUpdate {
                        name: Some("renamed".into()),
                        ..ConversionUpdate::default()
                    },
                },
                WriteOp::Delete {
                    id: ConversionId::parse("12").unwrap(),
                },
            ],
            Arc::new(
                move |op: &WriteOp, result: &Result<WriteOutcome, GraphError>| {
                    telling.lock().unwrap().push((key(op), result.clone()));
                },
            ),
        )
        .await;
    let log = log.text();
    let id = |s: &str| ConversionId::parse(s).unwrap();
    assert_eq!(results[0], Ok(WriteOutcome::Adopted(id("501"))), "{log}");
    assert_eq!(results[1], Ok(WriteOutcome::Resent(id("700"))), "{log}");
    assert_eq!(results[2], Ok(WriteOutcome::Updated), "{log}");
    assert_eq!(results[3].clone().unwrap_err().code, Some(100), "{log}");
    assert_eq!(posts.load(Ordering::SeqCst), 2, "{log}");
    let mut told = told.lock().unwrap().clone();
    told.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<(String, Result<WriteOutcome, GraphError>)> =
        ["create A", "create B", "update 11", "delete 12"]
            .into_iter()
            .map(String::from)
            .zip(results)
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect();
    assert_eq!(told, expected, "{log}");
}

/// Ten deletes in batches of five, both batches of the round sent at once. The stub holds the
/// second batch's answer until the first batch's five deletes have been told (or, were they
/// told only with the whole round, until a minute has passed: the test then fails on what
/// had been told, not on time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_told_as_it_is_answered_not_with_its_round() {
    let told: Told = Arc::default();
    let gate = Arc::new((Mutex::new(0usize), Condvar::new()));
    let released_by_answers = Arc::new(Mutex::new(None::<bool>));
    let (stub_gate, released) = (gate.clone(), released_by_answers.clone());
    let ids: Vec<String> = (101..=110).map(|i| i.to_string()).collect();
    let listed: Vec<Value> = ids.iter().map(|id| item(id, "x")).collect();
    let server = Stub::start(move |seen, _| {
        if seen.method == "GET" {
            return ok(json!({"data": listed}));
        }
        let fields = form(&seen.body);
        let batch = &fields.iter().find(|(k, _)| k == "batch").unwrap().1;
        let entries: Vec<Value> = serde_json::from_str(batch).unwrap();
        let second = entries[0]["relative_url"]
            .as_str()
            .unwrap()
            .ends_with("/106");
        if second {
            let (count, changed) = &*stub_gate;
            let by_answers = tokio::task::block_in_place(|| {
                let (count, wait) = changed
                    .wait_timeout_while(count.lock().unwrap(), Duration::from_secs(60), |n| *n < 5)
                    .unwrap();
                !wait.timed_out() && *count >= 5
            });
            *released.lock().unwrap() = Some(by_answers);
        }
        let answers: Vec<Value> = entries
            .iter()
            .map(|_| entry(json!({"success": true})))
            .collect();
        ok(Value::Array(answers))
    })
    .await;
    let mut cfg = config(&server.base, TOKEN);
    cfg.batch_size = 5;
    cfg.parallelism = 4;
    cfg.per_account_parallelism = 2;
    // Held for up to a minute, the second batch must not time out meanwhile.
    cfg.retry.request_timeout = Duration::from_secs(120);
    cfg.retry.max_total = Duration::from_secs(300);
    let (client, log) = client(cfg);
    client.list_conversions(&account(4)).await.unwrap();
    let deletes = ids
        .iter()
        .map(|id| WriteOp::Delete {
            id: ConversionId::parse(id).unwrap(),
        })
        .collect();
    let telling = told.clone();
    let observer_gate = gate.clone();
    let results = client
        .write_observed(
            deletes,
            Arc::new(
                move |op: &WriteOp, result: &Result<WriteOutcome, GraphError>| {
                    telling.lock().unwrap().push((key(op), result.clone()));
                    let (count, changed) = &*observer_gate;
                    *count.lock().unwrap() += 1;
                    changed.notify_all();
                },
            ),
        )
        .await;
    let log = log.text();
    assert!(
        results.iter().all(|r| *r == Ok(WriteOutcome::Deleted)),
        "{results:?}\n{log}"
    );
    assert_eq!(
        *released_by_answers.lock().unwrap(),
        Some(true),
        "the first batch's deletes were not told before the second batch was answered:\n{log}"
    );
    let told: Vec<String> = told
        .lock()
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    let (first, second) = told.split_at(5);
    let mut first = first.to_vec();
    first.sort();
    assert_eq!(
        first,
        [
            "delete 101",
            "delete 102",
            "delete 103",
            "delete 104",
            "delete 105"
        ]
    );
    assert_eq!(second.len(), 5, "{told:?}");
}
