//! Hostile and broken answers: whatever a server sends (garbage JSON of the right shape and
//! the wrong types, truncated answers, huge numbers, nulls), the client answers with a result
//! or a clear error: never a panic, never a hang, and never a write reported done that the
//! answer did not confirm.

use crate::support::{TOKEN, client::*, emulator, stub::Stub};
use convctl::graph::GraphClient;
use convctl::model::ids::ConversionId;
use convctl::model::{ConversionUpdate, WriteOp, WriteOutcome};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const KEYS: &[&str] = &[
    "data",
    "paging",
    "next",
    "cursors",
    "id",
    "name",
    "rule",
    "description",
    "error",
    "code",
    "error_subcode",
    "message",
    "is_transient",
    "default_conversion_value",
    "is_archived",
    "data_sources",
    "pixel",
    "success",
    "body",
    "headers",
    "value",
    "custom_event_type",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[0-9]{1,20}".prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A plausible answer, possibly cut short.
fn answer() -> impl Strategy<Value = (u16, String)> {
    let status = prop::sample::select(vec![200u16, 200, 200, 400, 500]);
    let shaped = json_value().prop_map(|v| match v {
        Value::Array(items) => json!(items),
        Value::Object(_) => {
            json!({"data": [v], "paging": {"cursors": {"after": "x"}}, "error": v.get("error")})
        }
        other => json!({"data": other}),
    });
    (status, shaped, any::<bool>(), 0usize..400).prop_map(|(status, value, truncate, cut)| {
        let text = value.to_string();
        let text = if truncate {
            text.chars().take(cut).collect()
        } else {
            text
        };
        (status, text)
    })
}

/// A client of a stub whose one answer each case sets.
struct StubClient {
    rt: tokio::runtime::Runtime,
    client: GraphClient,
    reply: Arc<Mutex<(u16, String)>>,
}

fn stub_client() -> StubClient {
    let rt = emulator::runtime();
    let reply = Arc::new(Mutex::new((200u16, String::new())));
    let shared = reply.clone();
    let stub = rt.block_on(Stub::start(move |_, _| {
        let (status, body) = shared.lock().unwrap().clone();
        (status, vec![], body)
    }));
    let mut cfg = config(&stub.base, TOKEN);
    cfg.retry.max_attempts = 2;
    cfg.batch_size = 3;
    let (client, _) = rt.block_on(async { client(cfg) });
    StubClient { rt, client, reply }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_gives_a_result_or_an_error_never_a_panic((status, body) in answer()) {
        thread_local! { static H: StubClient = stub_client(); }
        H.with(|h| {
            *h.reply.lock().unwrap() = (status, body.clone());
            let listed = h.rt.block_on(h.client.list_conversions(&account(1)));
            if let Ok(items) = &listed {
                prop_assert_eq!(status, 200, "a list from a failed answer: {}", body);
                prop_assert!(items.iter().all(|c| !c.id.as_str().is_empty()));
            }
            let update = ConversionUpdate { name: Some("x".into()), ..ConversionUpdate::default() };
            let ops = vec![
                WriteOp::Create { account: account(1), conversion: new_conversion("n", 1) },
                WriteOp::Update { id: ConversionId::parse("7").unwrap(), update },
                WriteOp::Delete { id: ConversionId::parse("8").unwrap() },
            ];
            let results = h.rt.block_on(h.client.write(ops));
            prop_assert_eq!(results.len(), 3);
            for result in &results {
                if let Ok(outcome) = result {
                    // Anything reported done came from a 200 answer (or a listing adoption).
                    prop_assert!(status == 200 || matches!(outcome, WriteOutcome::Adopted(_)), "{:?} from HTTP {}: {}", outcome, status, body);
                }
                if let Err(e) = result {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Ok(())
        })?;
    }
}
