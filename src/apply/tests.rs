//! Apply against an in-memory fake API that can fail chosen writes: phases, dependencies and
//! the report of a failure part way. (End-to-end runs against the emulator are in
//! tests/reconcile_*.rs.)

use super::*;
use crate::graph::LiveConversion;
use crate::ids::{AdAccountId, ObjectId};
use crate::plan::{AccountPlan, ConversionState, PlanDocument};
use std::sync::Mutex;

#[derive(Default)]
struct Fake {
    log: Mutex<Vec<String>>,
    fail: Vec<String>,
    next: Mutex<u64>,
}

impl LiveApi for Fake {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, String>> {
        accounts.iter().map(|_| Ok(vec![])).collect()
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: crate::session::Progress,
    ) -> Vec<Result<WriteOutcome, String>> {
        let mut batch = Vec::new();
        let results = ops
            .into_iter()
            .map(|op| {
                on_done();
                let key = match &op {
                    WriteOp::Create { conversion, .. } => format!("create {}", conversion.name),
                    WriteOp::Update { id, .. } => format!("update {id}"),
                    WriteOp::Delete { id } => format!("delete {id}"),
                };
                batch.push(key.clone());
                if self.fail.contains(&key) {
                    return Err(format!("(#2) Service temporarily unavailable [{key}]"));
                }
                Ok(match op {
                    WriteOp::Create { .. } => {
                        let mut n = self.next.lock().unwrap();
                        *n += 1;
                        WriteOutcome::Created(ObjectId::parse(&format!("{}", 100 + *n)).unwrap())
                    }
                    WriteOp::Update { .. } => WriteOutcome::Updated,
                    WriteOp::Delete { .. } => WriteOutcome::Deleted,
                })
            })
            .collect();
        self.log.lock().unwrap().push(batch.join(", "));
        results
    }
}

fn state(name: &str) -> Box<ConversionState> {
    Box::new(ConversionState {
        name: name.into(),
        description: Some(String::new()),
        custom_event_type: Some("PURCHASE".into()),
        default_conversion_value: Some(0.0),
        rule: Some(serde_json::json!({"url": {"i_contains": "x"}})),
        ..Default::default()
    })
}

fn id(s: &str) -> ObjectId {
    ObjectId::parse(s).unwrap()
}

fn replace(old: &str, name: &str, order: ReplaceOrder) -> Action {
    Action::Replace {
        id: id(old),
        name: name.into(),
        forced_by: vec![crate::plan::Field::Rule],
        order,
        changes: vec![],
        before: state(name),
        after: state(name),
        pinned_at: Some("conversions/a.yaml:9:5".into()),
    }
}

fn doc(actions: Vec<Action>) -> PlanDocument {
    PlanDocument::new(
        "v26.0",
        vec![AccountPlan {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/a.yaml".into(),
            live_fingerprint: String::new(),
            actions,
            unmanaged: vec![],
            warnings: vec![],
            notes: vec![],
        }],
    )
}

fn every_kind() -> PlanDocument {
    doc(vec![
        Action::Create {
            name: "A".into(),
            after: *state("A"),
        },
        Action::Update {
            id: id("2"),
            name: "B".into(),
            changes: vec![crate::plan::FieldChange {
                field: crate::plan::Field::Description,
                before: "".into(),
                after: "b".into(),
            }],
        },
        replace("3", "C", ReplaceOrder::CreateBeforeDelete),
        replace("5", "E", ReplaceOrder::DeleteBeforeCreate),
        Action::Delete {
            id: id("4"),
            name: "D".into(),
            reason: DeleteReason::Absent,
        },
    ])
}

#[tokio::test]
async fn runs_in_phases_and_reports_everything_done() {
    let fake = Fake::default();
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = ticks.clone();
    let report = execute(
        &fake,
        &every_kind(),
        std::sync::Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
    )
    .await;
    assert_eq!(
        *fake.log.lock().unwrap(),
        [
            "delete 5",
            "create A, update 2, create C, create E",
            "delete 3, delete 4"
        ]
    );
    assert_eq!(ticks.load(std::sync::atomic::Ordering::Relaxed), 7);
    assert!(report.is_complete(), "{}", report.render());
    let text = report.render();
    assert!(
        text.contains("act_1: -/+ replace \"C\" (id 3): new id 102, old id 3 deleted"),
        "{text}"
    );
    assert!(text.contains("change it to id: \"102\""), "{text}");
    assert!(
        text.contains("Apply complete: 5 of 5 actions done."),
        "{text}"
    );
}

#[tokio::test]
async fn never_deletes_the_old_half_when_the_new_one_failed() {
    let fake = Fake {
        fail: vec!["create C".into(), "delete 5".into()],
        ..Default::default()
    };
    let report = execute(&fake, &every_kind(), std::sync::Arc::new(|| {})).await;
    let log = fake.log.lock().unwrap().join(" | ");
    assert!(!log.contains("delete 3"), "{log}");
    assert!(!log.contains("create E"), "{log}");
    assert!(!report.is_complete());
    let text = report.render();
    assert!(text.contains("FAILED replace \"C\" (id 3): creating the new conversion failed, so the old id 3 was kept"), "{text}");
    assert!(
        text.contains(
            "FAILED replace \"E\" (id 5): deleting the old id 5 failed, so nothing was created"
        ),
        "{text}"
    );
    assert!(
        text.contains("act_1: + create \"A\": created, id 101"),
        "{text}"
    );
    assert!(text.contains("3 done, 2 failed, 0 not done"), "{text}");
}

#[tokio::test]
async fn a_failed_delete_after_a_create_is_reported_half_done() {
    let fake = Fake {
        fail: vec!["delete 3".into()],
        ..Default::default()
    };
    let report = execute(
        &fake,
        &doc(vec![replace("3", "C", ReplaceOrder::CreateBeforeDelete)]),
        std::sync::Arc::new(|| {}),
    )
    .await;
    let text = report.render();
    assert!(
        text.contains("the new conversion was created (id 101) but deleting the old id 3 failed"),
        "{text}"
    );
    assert!(text.contains("Run `convctl apply` again"), "{text}");
}
