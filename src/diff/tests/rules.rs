//! One rule per account: a create whose rule a live conversion holds is made to work (the
//! holder deleted first) or refused before any write, naming the holder and what to do.

use super::*;
use crate::manifest::Deletion;
use crate::plan::DeleteFirst;

/// A replacement forced by the event type alone keeps its rule: the old one must go first.
#[test]
fn a_replacement_that_keeps_its_rule_deletes_first_and_says_so() {
    let mut e = entry("Checkout", R1);
    e.custom_event_type = Some(CustomEventType::InitiatedCheckout);
    let p = plan(vec![e.clone()], &[live("1", "Checkout", R1)]);
    assert!(
        matches!(
            &p.actions[..],
            [Action::Replace {
                order: ReplaceOrder::DeleteBeforeCreate,
                delete_first: Some(DeleteFirst::SameRule),
                ..
            }]
        ),
        "{:?}",
        p.actions
    );
    assert_eq!(
        p.warnings,
        [
            "\"Checkout\" is replaced delete-before-create: the new one keeps the rule of the old one (1), and Meta refuses a second conversion with a rule the account holds; if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)"
        ]
    );
    // Where this app may not delete, nothing convctl may do frees the rule: refused.
    let d = DesiredAccount {
        deletion: Deletion::Retire,
        ..account(vec![e])
    };
    let msg = errors(d, &[live("1", "Checkout", R1)]);
    assert_eq!(
        msg,
        "conversions/acme.yaml:7:5: error: \"Checkout\" would be created with the rule of \"Checkout\" (1) in act_1, which is its own old half: that one must go first, and this app may not delete it (the manifest says `deletion: retire`): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)\nhelp: keep the changed fields (custom_event_type, action_source_type, event_source_id) as they are live, or change the rule too: a replacement with a new rule creates the new conversion, then retires the old one"
    );
}

/// Renaming by a tombstone and a new entry with the same rule: the tombstone's delete frees
/// the rule, so it runs first (and the plan says so); a prune likewise.
#[test]
fn a_delete_that_frees_a_needed_rule_runs_first() {
    let mut old = entry("Purchase", R1);
    old.ensure = Ensure::Absent;
    let p = plan(
        vec![old, entry("Purchases", R1)],
        &[live("1", "Purchase", R1)],
    );
    assert!(
        matches!(
            &p.actions[..],
            [Action::Delete { frees_rule_for: Some(n), .. }, Action::Create { .. }] if n == "Purchases"
        ),
        "{:?}",
        p.actions
    );
    assert!(
        p.warnings.iter().any(|w| w.starts_with(
            "\"Purchase\" (1) is deleted before \"Purchases\" is created: it holds that rule"
        )),
        "{:?}",
        p.warnings
    );
    let mut d = account(vec![entry("Purchases", R1)]);
    d.prune = true;
    let p = diff_account(&d, &[live("1", "Purchase", R1)], &opts()).unwrap();
    assert!(
        p.actions.iter().any(|a| matches!(
            a,
            Action::Delete {
                reason: DeleteReason::Prune,
                frees_rule_for: Some(_),
                ..
            }
        )),
        "{:?}",
        p.actions
    );
}

/// A holder nothing convctl may do removes makes the entry an error naming it and the way out;
/// it does not stop at the first: each holder is named.
#[test]
fn a_rule_held_by_what_convctl_leaves_is_refused_before_any_write() {
    let mut archived = live("1", "Old", R1);
    archived.is_archived = true;
    let msg = errors(account(vec![entry("New", R1)]), &[archived]);
    assert!(
        msg.contains("\"New\" would be created with the rule of \"Old\" (1) in act_1, which is archived (Meta keeps archived conversions listed, and their rules held)")
            && msg.contains("help: change this entry's rule, or remove \"Old\" (1) in Events Manager"),
        "{msg}"
    );
    let msg = errors(account(vec![entry("New", R1)]), &[live("2", "Legacy", R1)]);
    assert!(
        msg.contains("which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first)"),
        "{msg}"
    );
    // Kept by another entry (a replacement's new rule is another entry's rule).
    let msg = errors(
        account(vec![entry("A", R1), entry("B", R1)]),
        &[live("1", "A", R1), live("2", "B", R2)],
    );
    assert!(
        msg.contains("\"B\" would be created with the rule of \"A\" (1) in act_1, which is \"A\"'s (declared at conversions/acme.yaml:7:5), which this plan keeps"),
        "{msg}"
    );
}

/// The holder counts another event source than the entry declares: Meta may accept it, so a
/// warning, not an error.
#[test]
fn another_event_source_makes_it_a_warning() {
    let mut other = live("2", "Legacy", R1);
    other.event_source_id = Some("77".into());
    let p = plan(vec![entry("New", R1)], &[other]);
    assert!(matches!(&p.actions[..], [Action::Create { .. }]));
    assert!(
        p.warnings
            .iter()
            .any(|w| w
                .contains("they count different event sources (55 and 77), which Meta may accept")),
        "{:?}",
        p.warnings
    );
}

/// Rules compare by meaning: another order of the same conditions is the same rule.
#[test]
fn rules_are_compared_by_meaning() {
    let live_rule = r#"{"or":[{"url":{"i_contains":"b"}},{"url":{"i_contains":"a"}}]}"#;
    let mut e = entry(
        "New",
        r#"{"or":[{"url":{"i_contains":"a"}},{"url":{"i_contains":"b"}}]}"#,
    );
    e.description = "x".into();
    let msg = errors(account(vec![e]), &[live("2", "Legacy", live_rule)]);
    assert!(
        msg.contains("would be created with the rule of \"Legacy\" (2)"),
        "{msg}"
    );
}

/// A refusal learnt from a conversion convctl retired after a refused delete makes a
/// replacement that keeps its rule an error too, saying how convctl knows.
#[test]
fn a_learnt_refusal_stops_a_replacement_that_keeps_its_rule() {
    let on = "2026-11-20".parse().unwrap();
    let retired = LiveConversion {
        name: Some(crate::model::retired::retired_name(on, "Gone")),
        description: Some(crate::model::retired::retired_description(
            on,
            crate::model::retired::WHY_REFUSED,
            "",
        )),
        ..live("9", "Gone", R3)
    };
    let mut e = entry("Checkout", R1);
    e.custom_event_type = Some(CustomEventType::InitiatedCheckout);
    let msg = errors(account(vec![e]), &[live("1", "Checkout", R1), retired]);
    assert!(
        msg.contains("that one must go first, and this app may not delete it (Meta refused to delete one before: convctl retired \"[retired 2026-11-20] Gone\" (9) after a refused delete)"),
        "{msg}"
    );
}
