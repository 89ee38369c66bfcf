//! Where Meta refuses deletes (code 200): what is retired instead, what fails untouched (where
//! retiring would not do what the delete was for), and what the report says.

use super::*;
use crate::plan::{DeleteFirst, RetireWhy, Retirement};

fn refusing() -> Fake {
    Fake {
        refuse_deletes: true,
        ..Default::default()
    }
}

async fn run(fake: &Fake, actions: Vec<Action>) -> ApplyReport {
    execute(fake, doc(actions), std::sync::Arc::new(|| {}), day()).await
}

fn delete(old: &str, name: &str) -> Action {
    Action::Delete {
        id: id(old),
        name: name.into(),
        set: None,
        set_entry: None,
        reason: DeleteReason::Absent,
        before: Some(state(name)),
        frees_rule_for: None,
        flagged: false,
    }
}

fn renamed(fake: &Fake) -> Vec<(String, String, String)> {
    fake.renamed.lock().unwrap().clone()
}

/// A refused delete (a tombstone, the old half of a replacement) is retired: renamed with the
/// date, its description saying when and why; the report counts it apart from deletes.
#[tokio::test]
async fn a_refused_delete_is_retired_and_counted_apart() {
    let fake = refusing();
    let report = run(
        &fake,
        vec![
            delete("4", "D"),
            replace("3", "C", ReplaceOrder::CreateBeforeDelete),
        ],
    )
    .await;
    assert!(report.is_complete(), "{}", report.render());
    insta::assert_snapshot!(report.render());
    let why = crate::model::retired::WHY_REFUSED;
    assert_eq!(
        renamed(&fake),
        [
            (
                "4".to_string(),
                "[retired 2026-12-06] D".to_string(),
                format!("Retired by convctl on 2026-12-06: {why}. Archive it in Events Manager.")
            ),
            (
                "3".to_string(),
                "[retired 2026-12-06] C".to_string(),
                format!("Retired by convctl on 2026-12-06: {why}. Archive it in Events Manager.")
            ),
        ]
    );
    assert!(
        report
            .refused_deletes_warning()
            .is_some_and(|w| w.starts_with("Meta refused 2 delete(s) in act_1")),
        "{:?}",
        report.refused_deletes_warning()
    );
}

/// A refusal learnt in one phase: the account's later deletes are retired without trying.
#[tokio::test]
async fn a_refusal_is_learnt_for_the_rest_of_the_apply() {
    let fake = refusing();
    let mut probe = replace("5", "E", ReplaceOrder::DeleteBeforeCreate);
    if let Action::Replace {
        delete_first,
        after,
        ..
    } = &mut probe
    {
        // Deletes first to free its rule for another entry: retiring serves.
        *delete_first = Some(DeleteFirst::SameRule);
        after.rule = Some(serde_json::json!({"url": {"i_contains": "E2"}}).into());
    }
    let report = run(&fake, vec![probe, delete("4", "D")]).await;
    let log = fake.log.lock().unwrap().join(" | ");
    assert_eq!(log.matches("delete ").count(), 1, "one DELETE tried: {log}");
    assert!(report.is_complete(), "{}", report.render());
    assert_eq!(renamed(&fake).len(), 2);
}

/// Where retiring would not do what the delete was for, nothing is changed, and the report
/// says what to change: a replacement deleting first for room (a retired one still counts), or
/// to free its own rule (a retired one keeps it).
#[tokio::test]
async fn a_refused_delete_first_changes_nothing_and_says_what_to_do() {
    let fake = refusing();
    let report = run(
        &fake,
        vec![replace("5", "E", ReplaceOrder::DeleteBeforeCreate)],
    )
    .await;
    let text = report.render();
    assert!(
        text.contains("FAILED replace \"E\" (id 5): Meta refused to delete it ((#200) Permissions error [code 200]): nothing was changed. The account is at its limit")
            && text.contains("Change what the lines above ask, then run `convctl apply` again"),
        "{text}"
    );
    assert!(renamed(&fake).is_empty());
    assert!(!fake.log.lock().unwrap().join(" ").contains("create"));

    let fake = refusing();
    let mut same_rule = replace("5", "E", ReplaceOrder::DeleteBeforeCreate);
    if let Action::Replace { delete_first, .. } = &mut same_rule {
        *delete_first = Some(DeleteFirst::SameRule);
    }
    let text = run(&fake, vec![same_rule]).await.render();
    assert!(
        text.contains("nothing was changed. The new conversion keeps the old one's rule")
            && text.contains("Keep rule as live, or change the rule too"),
        "{text}"
    );
    assert!(renamed(&fake).is_empty());
}

/// A delete that frees a rule for a create is retired when refused (its own intent), but the
/// create is not tried: the retired one still holds the rule.
#[tokio::test]
async fn a_create_waiting_for_a_refused_delete_is_not_tried() {
    let fake = refusing();
    let mut first = delete("4", "Old");
    if let Action::Delete { frees_rule_for, .. } = &mut first {
        *frees_rule_for = Some("New".into());
    }
    let create = Action::Create {
        name: "New".into(),
        set: None,
        set_entry: None,
        after: ConversionState {
            name: "New".into(),
            ..*state("Old")
        },
    };
    let report = run(&fake, vec![first, create]).await;
    let text = report.render();
    assert!(
        text.contains("act_1: - delete \"Old\" (id 4, ensure: absent): retired: renamed")
            && text.contains("NOT DONE create \"New\": not tried: \"Old\" (id 4) holds its rule and was retired instead of deleted"),
        "{text}"
    );
    assert!(!fake.log.lock().unwrap().join(" ").contains("create New"));
}

/// Meta refuses to rename a flagged conversion: its refused delete is a failure, and no rename
/// is sent.
#[tokio::test]
async fn a_flagged_conversion_is_never_renamed() {
    let fake = refusing();
    let mut flagged = delete("4", "Health");
    if let Action::Delete { flagged: f, .. } = &mut flagged {
        *f = true;
    }
    let text = run(&fake, vec![flagged]).await.render();
    assert!(
        text.contains("FAILED delete \"Health\" (id 4, ensure: absent): Meta refused to delete it ((#200) Permissions error [code 200]): this app may not delete custom conversions, and Meta refuses to rename a flagged one"),
        "{text}"
    );
    assert!(renamed(&fake).is_empty());
}

/// A planned retirement (`deletion: retire`) sends the rename it shows, and never a DELETE.
#[tokio::test]
async fn a_planned_retirement_sends_exactly_its_rename() {
    let fake = Fake::default();
    let retirement = Retirement {
        because: RetireWhy::Setting,
        name: "[retired 2026-12-01] D".into(),
        description: "Retired by convctl on 2026-12-01: its manifest says deletion: retire. Archive it in Events Manager.".into(),
    };
    let report = run(
        &fake,
        vec![Action::Retire {
            id: id("4"),
            name: "D".into(),
            set: None,
            set_entry: None,
            reason: DeleteReason::Prune,
            retirement: Box::new(retirement.clone()),
            before: Some(state("D")),
        }],
    )
    .await;
    assert!(report.is_complete());
    assert_eq!(
        renamed(&fake),
        [("4".to_string(), retirement.name, retirement.description)]
    );
    assert!(!fake.log.lock().unwrap().join(" ").contains("delete"));
    assert_eq!(
        report.render(),
        "act_1: ~ retire \"D\" (id 4, prune): retired: renamed \"[retired 2026-12-01] D\"; archive it in Events Manager\nApply complete: 1 of 1 actions done (0 conversion(s) deleted, 1 retired instead of deleted: archive the retired ones in Events Manager).\n"
    );
}

/// A conversion retired already (a tombstone pinned it) is never renamed a second time when its
/// delete is refused.
#[tokio::test]
async fn a_retired_conversion_is_never_retired_twice() {
    let fake = refusing();
    let text = run(&fake, vec![delete("4", "[retired 2026-11-20] D")])
        .await
        .render();
    assert!(
        text.contains("FAILED delete \"[retired 2026-11-20] D\" (id 4, ensure: absent): Meta refused to delete it ((#200) Permissions error [code 200]): it is retired already"),
        "{text}"
    );
    assert!(renamed(&fake).is_empty());
}
