//! Apply against an in-memory fake API that can fail chosen writes: phases, dependencies and
//! the report of a failure part way. (End-to-end runs against the emulator are in
//! tests/suite/, modules `apply`, `plan`, `safety`.)

mod refused;
mod streamed;

use super::*;
use crate::graph::{ErrorKind, GraphError};
use crate::model::LiveConversion;
use crate::model::ids::{AdAccountId, ObjectId};
use crate::plan::{AccountPlan, ConversionState, PlanDocument};
use std::sync::Mutex;

#[derive(Default)]
struct Fake {
    log: Mutex<Vec<String>>,
    fail: Vec<String>,
    /// Every DELETE answered code 200 "Permissions error", as most apps meet the real API.
    refuse_deletes: bool,
    /// The renames sent (id, name, description): retirements.
    renamed: Mutex<Vec<(String, String, String)>>,
    /// Writes answered "does not exist" (100/33).
    not_found: Vec<String>,
    /// Creates answered as sent twice (their first answer lost, no listing showed them).
    resent: Vec<String>,
    /// What listing any account shows (ids only matter).
    listed: Vec<&'static str>,
    next: Mutex<u64>,
}

impl LiveApi for Fake {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        self.log.lock().unwrap().push("list".into());
        let listed: Vec<LiveConversion> = self
            .listed
            .iter()
            .map(|id| crate::diff::tests::live(id, "listed", r#"{"url":{"i_contains":"x"}}"#))
            .collect();
        accounts.iter().map(|_| Ok(listed.clone())).collect()
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>> {
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
                    return Err(GraphError::new(
                        ErrorKind::Transient,
                        format!("(#2) Service temporarily unavailable [{key}]"),
                    ));
                }
                if self.refuse_deletes && matches!(op, WriteOp::Delete { .. }) {
                    return Err(
                        GraphError::new(ErrorKind::Permission, "(#200) Permissions error")
                            .with_code(200),
                    );
                }
                if let WriteOp::Update {
                    id,
                    update:
                        ConversionUpdate {
                            name: Some(name),
                            description: Some(description),
                            ..
                        },
                } = &op
                {
                    self.renamed.lock().unwrap().push((
                        id.to_string(),
                        name.clone(),
                        description.clone(),
                    ));
                }
                if self.not_found.contains(&key) {
                    return Err(GraphError::new(
                        ErrorKind::NotFound,
                        format!("Unsupported delete request. Object does not exist [{key}]"),
                    ));
                }
                Ok(match op {
                    WriteOp::Create { .. } => {
                        let mut n = self.next.lock().unwrap();
                        *n += 1;
                        let id = ObjectId::parse(&format!("{}", 100 + *n)).unwrap();
                        if self.resent.contains(&key) {
                            WriteOutcome::Resent(id)
                        } else {
                            WriteOutcome::Created(id)
                        }
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
        // A rule of its own: Meta refuses to hold one rule twice.
        rule: Some(serde_json::json!({"url": {"i_contains": name}}).into()),
        ..Default::default()
    })
}

/// The day retirements are dated in these tests.
fn day() -> jiff::civil::Date {
    "2026-12-06".parse().unwrap()
}

fn id(s: &str) -> ObjectId {
    ObjectId::parse(s).unwrap()
}

fn replace(old: &str, name: &str, order: ReplaceOrder) -> Action {
    Action::Replace {
        id: id(old),
        name: name.into(),
        set: None,
        set_entry: None,
        forced_by: vec![crate::plan::Field::Rule],
        order,
        changes: vec![],
        before: state(name),
        after: state(name),
        pinned_at: Some("conversions/a.yaml:9:5".into()),
        delete_first: None,
        retire_old: None,
    }
}

fn doc(actions: Vec<Action>) -> PlanDocument {
    PlanDocument::new(
        "v26.0",
        vec![AccountPlan {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/a.yaml".into(),
            live_fingerprint: String::new(),
            digest: None,
            actions,
            unmanaged: vec![],
            warnings: vec![],
            refusals: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
            retired: vec![],
            info: vec![],
        }],
    )
}

fn every_kind() -> PlanDocument {
    doc(vec![
        Action::Create {
            name: "A".into(),
            set: None,
            set_entry: None,
            after: *state("A"),
        },
        Action::Update {
            id: id("2"),
            name: "B".into(),
            set: None,
            set_entry: None,
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
            set: None,
            set_entry: None,
            reason: DeleteReason::Absent,
            before: None,
            frees_rule_for: None,
            flagged: false,
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
        every_kind(),
        std::sync::Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
        day(),
    )
    .await;
    assert_eq!(
        *fake.log.lock().unwrap(),
        [
            "delete 5",
            "list", // did deleting make room?
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

/// A create the client sent twice (its first answer lost, the account's listing without it)
/// is done, and its line says so: had the listing left the first attempt's conversion out, the
/// account holds a second copy, and nothing else would tell.
#[tokio::test]
async fn a_create_sent_twice_is_done_and_says_so() {
    let fake = Fake {
        resent: vec!["create A".into(), "create C".into()],
        ..Default::default()
    };
    let report = execute(&fake, every_kind(), std::sync::Arc::new(|| {}), day()).await;
    assert!(report.is_complete(), "{}", report.render());
    let text = report.render();
    let twice = "(sent twice: its first answer was lost and the account, listed again, did not show it; had that listing left it out, the account holds a second copy: `convctl plan` shows it)";
    assert!(
        text.contains(&format!("act_1: + create \"A\": created, id 101 {twice}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "act_1: -/+ replace \"C\" (id 3): new id 102, old id 3 deleted {twice}"
        )),
        "{text}"
    );
    assert_eq!(text.matches("sent twice").count(), 2, "{text}");
    let create = report.actions.iter().find(|a| a.what == "create \"A\"");
    assert_eq!(
        create.and_then(|a| a.new_id.as_ref()).map(|id| id.as_str()),
        Some("101")
    );
}

#[tokio::test]
async fn never_deletes_the_old_half_when_the_new_one_failed() {
    let fake = Fake {
        fail: vec!["create C".into(), "delete 5".into()],
        ..Default::default()
    };
    let report = execute(&fake, every_kind(), std::sync::Arc::new(|| {}), day()).await;
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
    // The new id is also in the report as data (the check after apply reads it there).
    let create = report
        .actions
        .iter()
        .find(|a| a.what == "create \"A\"")
        .unwrap();
    assert_eq!(create.new_id.as_ref().map(|id| id.as_str()), Some("101"));
    let failed = report
        .actions
        .iter()
        .find(|a| a.what.starts_with("replace \"C\""))
        .unwrap();
    assert_eq!(failed.new_id, None);
    assert!(text.contains("3 done, 2 failed, 0 not done"), "{text}");
    // `apply` prints an account's lines as it is settled, then the summary: the same bytes.
    let mut streamed = Vec::new();
    render_lines_to(&mut streamed, &report.actions).unwrap();
    report.render_summary_to(&mut streamed).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), text);
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn a_failed_delete_after_a_create_is_reported_half_done() {
    let fake = Fake {
        fail: vec!["delete 3".into()],
        ..Default::default()
    };
    let report = execute(
        &fake,
        doc(vec![replace("3", "C", ReplaceOrder::CreateBeforeDelete)]),
        std::sync::Arc::new(|| {}),
        day(),
    )
    .await;
    let text = report.render();
    assert!(
        text.contains("the new conversion was created (id 101) but deleting the old id 3 failed"),
        "{text}"
    );
    assert!(text.contains("Run `convctl apply` again"), "{text}");
}

/// A delete answered "does not exist" (another apply, or a person, deleted
/// it first) is done, once a listing confirms the conversion is gone: "already gone", for a
/// tombstone, a prune and the old half of a replacement alike.
#[tokio::test]
async fn a_delete_that_finds_the_conversion_gone_is_done() {
    let fake = Fake {
        not_found: vec!["delete 3".into(), "delete 4".into(), "delete 5".into()],
        ..Default::default()
    };
    let report = execute(&fake, every_kind(), std::sync::Arc::new(|| {}), day()).await;
    let text = report.render();
    assert!(report.is_complete(), "{text}");
    assert!(
        text.contains("act_1: - delete \"D\" (id 4, ensure: absent): already gone"),
        "{text}"
    );
    assert!(
        text.contains("act_1: -/+ replace \"C\" (id 3): new id 102, old id 3 already gone"),
        "{text}"
    );
    assert!(
        text.contains("act_1: -/+ replace \"E\" (id 5): new id 103, old id 5 already gone"),
        "{text}"
    );
    assert!(
        text.contains("Apply complete: 5 of 5 actions done."),
        "{text}"
    );
    // One listing per phase that met such an answer (besides the probe's own check).
    let log = fake.log.lock().unwrap().join(" | ");
    assert_eq!(
        log,
        "delete 5 | list | list | create A, update 2, create C, create E | delete 3, delete 4 | list"
    );
}

/// "does not exist" while the account still lists the conversion means something else (a
/// permission, a wrong id): a failure, and the old half of a replacement is reported half done.
#[tokio::test]
async fn a_delete_answered_does_not_exist_while_still_listed_fails() {
    let fake = Fake {
        not_found: vec!["delete 3".into(), "delete 4".into()],
        listed: vec!["3", "4"],
        ..Default::default()
    };
    let report = execute(&fake, every_kind(), std::sync::Arc::new(|| {}), day()).await;
    let text = report.render();
    assert!(!report.is_complete(), "{text}");
    assert!(
        text.contains("FAILED delete \"D\" (id 4, ensure: absent): ")
            && text.contains("the account still lists id 4, so it is not gone"),
        "{text}"
    );
    assert!(
        text.contains("the new conversion was created (id 102) but deleting the old id 3 failed"),
        "{text}"
    );
}

/// A delete-first replacement whose create failed says what the next
/// apply does, and what to do about the pin.
#[tokio::test]
async fn a_delete_first_replacement_whose_create_failed_says_how_to_finish() {
    let fake = Fake {
        fail: vec!["create E".into()],
        ..Default::default()
    };
    let report = execute(
        &fake,
        doc(vec![replace("5", "E", ReplaceOrder::DeleteBeforeCreate)]),
        std::sync::Arc::new(|| {}),
        day(),
    )
    .await;
    let text = report.render();
    assert!(
        text.contains("the old id 5 was deleted (account at its limit) but creating the new one failed")
            && text.contains("Run apply again: it creates the conversion (the pin at conversions/a.yaml:9:5 names the deleted id")
            && text.contains("then update the pin to the new id apply prints"),
        "{text}"
    );
}

/// A stateful in-memory API: what `apply` writes is what the next listing shows, with rules
/// re-serialised the way the API does (keys sorted, compact), so that convergence is tested
/// against a store that does not echo the manifest's bytes.
#[derive(Default)]
struct Store {
    live: Mutex<Vec<LiveConversion>>,
    next: Mutex<u64>,
}

impl LiveApi for Store {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        accounts
            .iter()
            .map(|_| Ok(self.live.lock().unwrap().clone()))
            .collect()
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>> {
        let mut live = self.live.lock().unwrap();
        ops.into_iter()
            .map(|op| {
                on_done();
                match op {
                    WriteOp::Create { conversion: c, .. } => {
                        let mut n = self.next.lock().unwrap();
                        *n += 1;
                        let id = ObjectId::parse(&format!("{}", 1000 + *n)).unwrap();
                        let reserialise = |t: &String| {
                            serde_json::from_str::<serde_json::Value>(t)
                                .unwrap()
                                .to_string()
                        };
                        live.push(LiveConversion {
                            id: id.clone(),
                            name: Some(c.name),
                            description: Some(c.description),
                            rule: c.rule.as_ref().map(reserialise),
                            advanced_rule: c.advanced_rule.as_ref().map(reserialise),
                            custom_event_type: c.custom_event_type.map(|t| t.to_string()),
                            event_source_id: c.event_source_id.map(|i| i.to_string()),
                            action_source_type: c.action_source_type.map(|t| t.to_string()),
                            default_conversion_value: Some(c.default_conversion_value),
                            is_archived: false,
                            is_unavailable: false,
                            creation_time: Some("2026-06-01T00:00:00+0000".into()),
                            first_fired_time: None,
                            last_fired_time: None,
                        });
                        Ok(WriteOutcome::Created(id))
                    }
                    WriteOp::Update { id, update } => {
                        let c = live
                            .iter_mut()
                            .find(|c| c.id == id)
                            .ok_or_else(|| GraphError::new(ErrorKind::NotFound, "no such id"))?;
                        if let Some(n) = update.name {
                            c.name = Some(n);
                        }
                        if let Some(d) = update.description {
                            c.description = Some(d);
                        }
                        if let Some(v) = update.default_conversion_value {
                            c.default_conversion_value = Some(v);
                        }
                        Ok(WriteOutcome::Updated)
                    }
                    WriteOp::Delete { id } => {
                        let before = live.len();
                        live.retain(|c| c.id != id);
                        Ok(if live.len() < before {
                            WriteOutcome::Deleted
                        } else {
                            WriteOutcome::AlreadyGone
                        })
                    }
                }
            })
            .collect()
    }
}

mod convergence {
    use super::*;
    use crate::diff::{DiffOptions, diff_account};
    use crate::manifest::{
        DesiredAccount, DesiredConversion, Ensure, Location, RuleSpec, RuleTests,
    };
    use proptest::prelude::*;

    const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];
    const RULES: [&str; 3] = [
        r#"{"url":{"i_contains":"x"}}"#,
        r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
        r#"{"or":[{"url":{"i_contains":"thank\/you"}},{"url":{"eq":"y"}}]}"#,
    ];
    const TYPES: [crate::model::event_types::CustomEventType; 2] = [
        crate::model::event_types::CustomEventType::Purchase,
        crate::model::event_types::CustomEventType::Lead,
    ];

    fn live_strategy() -> impl Strategy<Value = Vec<LiveConversion>> {
        proptest::collection::vec(
            (0..5usize, 0..3usize, 0..2usize, 0..2u8, any::<bool>()),
            0..6,
        )
        .prop_map(|items| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (name, rule, ty, value, described))| LiveConversion {
                    id: ObjectId::parse(&format!("{}", i + 1)).unwrap(),
                    name: Some(NAMES[name].into()),
                    description: Some(if described { "d".into() } else { String::new() }),
                    rule: Some(RULES[rule].into()),
                    advanced_rule: None,
                    custom_event_type: Some(TYPES[ty].to_string()),
                    event_source_id: None,
                    action_source_type: None,
                    default_conversion_value: Some(f64::from(value) * 12.0),
                    is_archived: false,
                    is_unavailable: false,
                    creation_time: Some(format!("2026-01-01T00:00:{i:02}+0000")),
                    first_fired_time: None,
                    last_fired_time: None,
                })
                .collect()
        })
    }

    fn desired_strategy() -> impl Strategy<Value = DesiredAccount> {
        let entry = (0..3usize, 0..2usize, 0..2u8, any::<bool>(), 0..5u8);
        (proptest::collection::vec(entry, 5), any::<bool>()).prop_map(|(entries, prune)| {
            DesiredAccount {
                account: AdAccountId::parse("act_1").unwrap(),
                location: Location {
                    file: "m.yaml".into(),
                    line: 1,
                    column: 1,
                },
                prune,
                token_env: None,
                safety: None,
                conversions: entries
                    .into_iter()
                    .enumerate()
                    .filter(|(_, (_, _, _, _, kind))| *kind != 0) // kind 0: not declared
                    .map(
                        |(i, (rule, ty, value, described, kind))| DesiredConversion {
                            name: NAMES[i].into(),
                            id: None,
                            ensure: if kind == 1 {
                                Ensure::Absent
                            } else {
                                Ensure::Present
                            },
                            protect: false,
                            description: if described { "d".into() } else { String::new() },
                            custom_event_type: Some(TYPES[ty]),
                            default_conversion_value: f64::from(value) * 12.0,
                            rule: Some(RuleSpec::Rule(
                                crate::rule::Rule::from_json_str(RULES[rule]).unwrap(),
                            )),
                            event_source_id: None,
                            action_source_type: None,
                            expect_fire_within: None,
                            tests: RuleTests::default(),
                            renamed_from: Vec::new(),
                            set: None,
                            location: Location {
                                file: "m.yaml".into(),
                                line: i + 3,
                                column: 5,
                            },
                        },
                    )
                    .collect(),
                deletion: Default::default(),
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        /// Whatever the live state, once a plan can be made, applying it converges: the next
        /// plan is empty, and every declared conversion exists exactly once.
        #[test]
        fn apply_converges(live in live_strategy(), desired in desired_strategy()) {
            let opts = DiffOptions { now: "2026-11-25T12:00:00Z".parse().unwrap(), cap: 100, report_only: false };
            let plan = diff_account(&desired, &live, &opts);
            prop_assume!(plan.is_ok()); // duplicate names without pins are refused, by design
            let store = Store { live: Mutex::new(live), next: Mutex::new(0) };
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let report = rt.block_on(execute(&store, PlanDocument::new("v26.0", vec![plan.unwrap()]), std::sync::Arc::new(|| {}), day()));
            prop_assert!(report.is_complete(), "{}", report.render());
            let after = store.live.lock().unwrap().clone();
            let again = diff_account(&desired, &after, &opts).unwrap();
            prop_assert!(again.actions.is_empty(), "{:?}", again.actions);
            // An oracle independent of the diff: the live fields are the declared ones.
            for entry in &desired.conversions {
                let found: Vec<&LiveConversion> = after.iter().filter(|c| c.name.as_deref() == Some(entry.name.as_str())).collect();
                prop_assert_eq!(found.len(), usize::from(entry.ensure == Ensure::Present), "{}", entry.name);
                if let [c] = found.as_slice() {
                    prop_assert_eq!(c.description.as_deref(), Some(entry.description.as_str()));
                    prop_assert_eq!(c.default_conversion_value, Some(entry.default_conversion_value));
                    prop_assert_eq!(c.custom_event_type.clone(), entry.custom_event_type.map(|t| t.to_string()));
                    let Some(RuleSpec::Rule(want)) = &entry.rule else { unreachable!() };
                    prop_assert_eq!(&crate::rule::Rule::from_json_str(c.rule.as_deref().unwrap()).unwrap(), want);
                }
            }
            if desired.prune {
                prop_assert!(after.iter().all(|c| desired.conversions.iter().any(|e| c.name.as_deref() == Some(e.name.as_str()))));
            }
        }
    }
}
