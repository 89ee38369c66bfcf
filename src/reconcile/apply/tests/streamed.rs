//! Accounts told as they are settled, and progress counting the plan's writes: each account's
//! lines reach the caller while other accounts still write, and the count of settled writes
//! ends at the plan's total, never above it, whatever was retried, retired or not sent.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn create(name: &str) -> Action {
    Action::Create {
        name: name.into(),
        set: None,
        set_entry: None,
        after: *state(name),
    }
}

fn account_plan(account: &str, actions: Vec<Action>) -> AccountPlan {
    let mut plan = doc(actions).accounts.remove(0);
    plan.account = AdAccountId::parse(account).unwrap();
    plan
}

/// [`Fake`], whose writes to `held` wait until `release` is notified.
struct Held {
    fake: Fake,
    held: AdAccountId,
    release: tokio::sync::Notify,
}

impl LiveApi for Held {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        self.fake.list_many(accounts).await
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>> {
        let held = ops
            .iter()
            .any(|op| matches!(op, WriteOp::Create { account, .. } if *account == self.held));
        if held {
            self.release.notified().await;
        }
        self.fake.write(ops, on_done).await
    }
}

/// The account held first in the plan cannot be settled before the other one is told: its
/// writes wait for that. Accounts are told in the order they are settled, each with all its
/// lines in plan order; the report keeps plan order.
#[tokio::test(start_paused = true)]
async fn an_account_is_told_as_soon_as_it_is_settled() {
    let api = Held {
        fake: Fake::default(),
        held: AdAccountId::parse("act_2").unwrap(),
        release: tokio::sync::Notify::new(),
    };
    let plan = PlanDocument::new(
        "v26.0",
        vec![
            account_plan("act_2", vec![create("B1"), create("B2")]),
            account_plan("act_1", vec![create("A1"), create("A2"), create("A3")]),
        ],
    );
    let mut told: Vec<Vec<String>> = Vec::new();
    let run = execute_streamed(&api, plan, Arc::new(|| {}), day(), |actions| {
        let mut lines = Vec::new();
        render_lines_to(&mut lines, actions).unwrap();
        let lines = String::from_utf8(lines).unwrap();
        told.push(lines.lines().map(str::to_string).collect());
        if actions[0].account == "act_1" {
            api.release.notify_one();
        }
    });
    // On a paused clock, time passes only when every task waits: an execution that told no
    // account before all were settled would wait here for ever, and this hour passes at once.
    let report = tokio::time::timeout(std::time::Duration::from_secs(3600), run)
        .await
        .expect("act_2's writes waited for act_1 to be told, and it never was");
    assert_eq!(
        told,
        [
            vec![
                "act_1: + create \"A1\": created, id 101",
                "act_1: + create \"A2\": created, id 102",
                "act_1: + create \"A3\": created, id 103",
            ],
            vec![
                "act_2: + create \"B1\": created, id 104",
                "act_2: + create \"B2\": created, id 105",
            ],
        ]
    );
    let accounts: Vec<&str> = report.actions.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(accounts, ["act_2", "act_2", "act_1", "act_1", "act_1"]);
    assert!(report.is_complete(), "{}", report.render());
}

/// Counts the ticks of an execution, failing at once on a tick past `total`.
fn counter(total: usize) -> (Progress, Arc<AtomicUsize>) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = ticks.clone();
    let progress: Progress = Arc::new(move || {
        let now = counted.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(now <= total, "tick {now} of {total} writes");
    });
    (progress, ticks)
}

/// A refused delete is answered (counted), then retired by a rename the plan did not count:
/// that rename is not counted again. Writes never sent (the create of a replacement whose
/// delete failed or was refused) are counted once the account is settled.
#[tokio::test]
async fn progress_counts_each_write_of_the_plan_once() {
    let removals = || {
        doc(vec![
            Action::Delete {
                id: id("4"),
                name: "D".into(),
                set: None,
                set_entry: None,
                reason: DeleteReason::Absent,
                before: Some(state("D")),
                frees_rule_for: None,
                flagged: false,
            },
            replace("3", "C", ReplaceOrder::CreateBeforeDelete),
        ])
    };
    let fakes = || {
        [
            Fake::default(),
            Fake {
                refuse_deletes: true,
                ..Default::default()
            },
            Fake {
                fail: vec!["create C".into(), "delete 5".into(), "update 2".into()],
                ..Default::default()
            },
        ]
    };
    for (plan, total) in [(every_kind as fn() -> PlanDocument, 7), (removals, 3)] {
        for fake in fakes() {
            let plan = plan();
            assert_eq!(
                plan.accounts.iter().map(AccountPlan::writes).sum::<usize>(),
                total
            );
            let (progress, ticks) = counter(total);
            let report = execute(&fake, plan, progress, day()).await;
            let sent = fake.log.lock().unwrap().clone();
            assert_eq!(
                ticks.load(Ordering::SeqCst),
                total,
                "{}\n{sent:?}",
                report.render()
            );
        }
    }
    // Where Meta refused the deletes, more writes were sent than the plan has (the renames).
    let fake = Fake {
        refuse_deletes: true,
        ..Default::default()
    };
    let report = execute(&fake, removals(), Arc::new(|| {}), day()).await;
    let sent = fake.log.lock().unwrap().join(", ");
    assert_eq!(
        sent,
        "create C, delete 4, delete 3, update 4, update 3",
        "{}",
        report.render()
    );
}
