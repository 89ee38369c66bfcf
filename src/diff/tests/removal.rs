//! How conversions go where this app may not delete (`deletion: retire`, or a refusal learnt
//! from a conversion convctl retired after one), and what is never edited: retired, archived
//! and flagged conversions.

use super::*;
use crate::manifest::Deletion;
use crate::model::retired::{WHY_REFUSED, retired_description, retired_name};
use crate::plan::{RetireWhy, Retirement};

/// The day the test plans are made (see `opts`).
fn day() -> jiff::civil::Date {
    "2026-11-25".parse().unwrap()
}

fn retiring(conversions: Vec<DesiredConversion>) -> DesiredAccount {
    DesiredAccount {
        deletion: Deletion::Retire,
        ..account(conversions)
    }
}

/// A conversion convctl retired after Meta refused to delete it.
fn retired_after_refusal(id: &str, name: &str, rule: &str) -> LiveConversion {
    let on = "2026-11-20".parse().unwrap();
    LiveConversion {
        name: Some(retired_name(on, name)),
        description: Some(retired_description(on, WHY_REFUSED, "")),
        ..live(id, name, rule)
    }
}

fn tombstone(name: &str) -> DesiredConversion {
    DesiredConversion {
        ensure: Ensure::Absent,
        ..entry(name, R1)
    }
}

#[test]
fn deletion_retire_retires_every_removal_and_counts_it_apart() {
    let mut d = retiring(vec![tombstone("Old"), entry("Checkout", R2)]);
    d.prune = true;
    let live = [
        live("1", "Old", R1),
        live("2", "Checkout", R1),
        live("3", "Legacy", R3),
    ];
    let p = diff_account(&d, &live, &opts()).unwrap();
    let retirement = |name: &str| Retirement {
        because: RetireWhy::Setting,
        name: retired_name(day(), name),
        description: retired_description(day(), crate::model::retired::WHY_SETTING, ""),
    };
    let kinds: Vec<String> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::Retire {
                id,
                reason,
                retirement: r,
                ..
            } => {
                assert_eq!(**r, retirement(a.name()));
                format!("retire {id} {reason:?}")
            }
            Action::Replace {
                id,
                retire_old: Some(r),
                order: ReplaceOrder::CreateBeforeDelete,
                ..
            } => {
                assert_eq!(**r, retirement("Checkout"));
                format!("replace {id}, retiring the old one")
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "retire 1 Absent",
            "replace 2, retiring the old one",
            "retire 3 Prune"
        ]
    );
    let summary = crate::plan::Summary::of([&p]);
    assert_eq!((summary.delete, summary.retire), (0, 2));
    assert!(
        p.info
            .iter()
            .any(|i| i.starts_with("act_1 retires instead of deleting (deletion: retire)")),
        "{:?}",
        p.info
    );
}

/// A conversion convctl retired after a refused delete is its own leftover: listed, never
/// matched (not even by the name it had), updated, pruned or deleted again; and it shows the
/// account refuses deletes, so the plan retires.
#[test]
fn a_refusal_is_learnt_from_a_conversion_retired_after_one() {
    let gone = retired_after_refusal("1", "Old", R1);
    let mut d = account(vec![tombstone("Older")]);
    d.prune = true;
    let p = diff_account(&d, &[gone.clone(), live("2", "Older", R2)], &opts()).unwrap();
    assert!(
        matches!(&p.actions[..], [Action::Retire { id, retirement, .. }]
            if id.as_str() == "2" && retirement.because == RetireWhy::Refused),
        "{:?}",
        p.actions
    );
    assert_eq!(p.retired.len(), 1);
    assert_eq!(p.retired[0].name, "[retired 2026-11-20] Old");
    assert!(p.unmanaged.is_empty(), "{:?}", p.unmanaged);
    assert!(
        p.info.iter().any(|i| i.contains(
            "Meta refused to delete one before: convctl retired \"[retired 2026-11-20] Old\" (1) after a refused delete"
        )),
        "{:?}",
        p.info
    );
    // One the manifest retires by choice teaches nothing: deletes are planned.
    let chosen = LiveConversion {
        description: Some(retired_description(
            day(),
            crate::model::retired::WHY_SETTING,
            "",
        )),
        ..gone
    };
    let p = diff_account(&d, &[chosen, live("2", "Older", R2)], &opts()).unwrap();
    assert!(
        matches!(&p.actions[..], [Action::Delete { .. }]),
        "{:?}",
        p.actions
    );
}

/// The loop this prevents: a replacement whose delete was refused left the old conversion
/// retired; the next plan sees the new one alone under the entry's name.
#[test]
fn after_a_retirement_the_next_plan_has_nothing_to_do() {
    let p = plan(
        vec![entry("Checkout", R2)],
        &[
            retired_after_refusal("1", "Checkout", R1),
            live("2", "Checkout", R2),
        ],
    );
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.retired.len(), 1);
}

/// A pin to a retired conversion says so (not "no longer exists"); archived likewise.
#[test]
fn a_pin_to_a_retired_or_archived_conversion_says_what_became_of_it() {
    let mut pinned = entry("Checkout", R2);
    pinned.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(
        vec![pinned.clone()],
        &[
            retired_after_refusal("1", "Checkout", R1),
            live("2", "Checkout", R2),
        ],
    );
    assert!(
        p.warnings.iter().any(|w| w.contains(
            "is pinned to id 1, which convctl retired (\"[retired 2026-11-20] Checkout\": never managed again); 2 (same name and declared fields) is taken as its replacement"
        )),
        "{:?}",
        p.warnings
    );
    let mut archived = live("1", "Checkout", R1);
    archived.is_archived = true;
    let p = plan(vec![pinned], &[archived, live("2", "Checkout", R2)]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("is pinned to id 1, which is archived;")),
        "{:?}",
        p.warnings
    );
}

/// Flagged: no update and no replacement (Meta refuses every edit), a warning on its entry;
/// deleted where deletes are allowed (marked, so apply never tries to rename it), left with a
/// warning where they are refused. Neither blocks the other entries.
#[test]
fn a_flagged_conversion_is_never_edited_and_warned_about_on_its_entry() {
    let mut flagged = live("1", "Health", R1);
    flagged.is_unavailable = true;
    let mut e = entry("Health", R2);
    e.description = "changed".into();
    let p = plan(vec![e, entry("Other", R3)], &[flagged.clone()]);
    assert!(
        matches!(&p.actions[..], [Action::Create { name, .. }] if name == "Other"),
        "{:?}",
        p.actions
    );
    assert_eq!(
        p.warnings,
        [
            "conversions/acme.yaml:7:5: \"Health\" (1) is flagged by Meta: it stopped counting events; edits are refused; see Meta's flagged custom conversions help; convctl sends it no change (its description and rule differ from the manifest): to count these events again, declare a new conversion with another name and rule"
        ]
    );
    let p = plan(vec![tombstone("Health")], &[flagged.clone()]);
    assert!(
        matches!(&p.actions[..], [Action::Delete { flagged: true, .. }]),
        "{:?}",
        p.actions
    );
    let p = diff_account(&retiring(vec![tombstone("Health")]), &[flagged], &opts()).unwrap();
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(
        p.warnings.iter().any(|w| w.contains(
            "\"Health\" (1) is flagged by Meta and this app may not delete (the manifest says `deletion: retire`), so convctl cannot remove it (ensure: absent): Meta refuses to rename a flagged conversion too; archive it in Events Manager"
        )),
        "{:?}",
        p.warnings
    );
}

/// An archived conversion holding a declared name or rule is information; it is never
/// matched or edited.
#[test]
fn an_archived_conversion_with_a_declared_name_is_information() {
    let mut archived = live("1", "Thanks", R1);
    archived.is_archived = true;
    let p = plan(vec![entry("Thanks", R2)], &[archived]);
    assert!(
        matches!(&p.actions[..], [Action::Create { .. }]),
        "{:?}",
        p.actions
    );
    assert_eq!(
        p.info,
        [
            "\"Thanks\" (1) is archived: Meta keeps it listed and frozen (convctl never edits it); it holds the name of \"Thanks\" (conversions/acme.yaml:7:5)"
        ]
    );
}

/// At the cap where deletes are refused, nothing makes room: a refusal that says so.
#[test]
fn at_the_cap_retiring_makes_no_room() {
    let live: Vec<LiveConversion> = (1..=3)
        .map(|i| {
            live(
                &i.to_string(),
                &format!("c{i}"),
                &format!(r#"{{"url":{{"eq":"{i}"}}}}"#),
            )
        })
        .collect();
    let mut d = retiring(vec![entry("c1", R2)]);
    d.prune = false;
    let opts = DiffOptions { cap: 3, ..opts() };
    let msg = diff_account(&d, &live, &opts)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        msg.contains("act_1 has 3 of its 3 custom conversions; this plan creates 0 and there is room for 0, and this app may not delete here: retiring a conversion frees no place")
            && msg.contains("help: retiring makes no room (the manifest says `deletion: retire`)"),
        "{msg}"
    );
}

/// A tombstone may pin a conversion convctl retired, to delete it; where deletes are refused it
/// is retired already, so nothing is sent (never a second rename).
#[test]
fn a_tombstone_pinned_to_a_retired_conversion_deletes_it_or_leaves_it() {
    let gone = retired_after_refusal("1", "Old", R1);
    let mut t = tombstone("Old");
    t.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(vec![t.clone()], std::slice::from_ref(&gone));
    assert!(p.actions.is_empty(), "learnt refusal: {:?}", p.actions);
    let chosen = LiveConversion {
        description: Some(String::new()),
        ..gone
    };
    let p = plan(vec![t.clone()], std::slice::from_ref(&chosen));
    assert!(
        matches!(&p.actions[..], [Action::Delete { id, .. }] if id.as_str() == "1"),
        "{:?}",
        p.actions
    );
    let p = diff_account(&retiring(vec![t]), &[chosen], &opts()).unwrap();
    assert!(p.actions.is_empty(), "{:?}", p.actions);
}
