//! The safety thresholds (docs/reconcile.md, "Safety") at their exact boundaries: the mass-delete
//! guard (more than 10 AND more than 30% of an account's live conversions, deletes and replaces
//! counted together) and "fired in the last 7 days".

use convctl::diff::{fired_recently, mass_delete};
use convctl::model::ids::{AdAccountId, ObjectId};
use convctl::plan::{AccountPlan, Action, ConversionState, DeleteReason, Field, ReplaceOrder};

fn plan(deletes: usize, replaces: usize) -> AccountPlan {
    let id = |i: usize| ObjectId::parse(&(i + 1).to_string()).unwrap();
    let mut actions: Vec<Action> = (0..deletes)
        .map(|i| Action::Delete {
            id: id(i),
            name: format!("d{i}"),
            set: None,
            set_entry: None,
            reason: DeleteReason::Prune,
            before: None,
            frees_rule_for: None,
            flagged: false,
        })
        .collect();
    actions.extend((0..replaces).map(|i| Action::Replace {
        id: id(1000 + i),
        name: format!("r{i}"),
        set: None,
        set_entry: None,
        forced_by: vec![Field::Rule],
        order: ReplaceOrder::CreateBeforeDelete,
        changes: vec![],
        before: Box::default(),
        after: Box::new(ConversionState::default()),
        pinned_at: None,
        delete_first: None,
        retire_old: None,
    }));
    // Updates and creates never count.
    actions.push(Action::Create {
        name: "new".into(),
        set: None,
        set_entry: None,
        after: ConversionState::default(),
    });
    AccountPlan {
        account: AdAccountId::parse("act_1").unwrap(),
        source: "a.yaml".into(),
        live_fingerprint: String::new(),
        digest: None,
        actions,
        unmanaged: vec![],
        retired: vec![],
        warnings: vec![],
        refusals: vec![],
        info: vec![],
        safety: None,
        token_env: None,
        notes: vec![],
    }
}

#[test]
fn mass_delete_needs_more_than_10_and_more_than_30_percent() {
    assert!(
        mass_delete(&plan(10, 0), 10).is_none(),
        "10 is not more than 10"
    );
    assert!(mass_delete(&plan(11, 0), 11).is_some());
    assert!(mass_delete(&plan(11, 0), 36).is_some(), "30.6%");
    assert!(mass_delete(&plan(11, 0), 37).is_none(), "29.7%");
    assert!(
        mass_delete(&plan(12, 0), 40).is_none(),
        "exactly 30% is not more"
    );
    assert!(mass_delete(&plan(13, 0), 40).is_some(), "32.5%");
    let mixed = mass_delete(&plan(5, 6), 20).expect("replaces count with deletes");
    assert_eq!((mixed.destroyed, mixed.live), (11, 20));
}

#[test]
fn fired_recently_means_within_7_days() {
    let now: jiff::Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
    let seven_days = 7 * 86_400;
    let at = |ago: i64| (now.as_second() - ago).to_string();
    assert!(fired_recently(&at(seven_days - 1), now).is_some());
    assert!(fired_recently(&at(seven_days), now).is_some());
    assert!(fired_recently(&at(seven_days + 1), now).is_none());
    assert!(fired_recently("2026-11-18T12:00:01+0000", now).is_some());
    assert!(fired_recently("2026-11-18T11:59:59+0000", now).is_none());
}
