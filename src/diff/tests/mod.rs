//! Unit tests of the diff engine: one test per rule of docs/reconcile.md (identity, changes,
//! tombstones, prune, protect, duplicates, interrupted replacements, pins, the cap, warnings);
//! retiring where deletes are refused, flagged and archived conversions (`removal`), and one
//! rule per account (`rules`).

mod removal;
mod rules;

use super::*;
use crate::manifest::{Location, RuleSpec, RuleTests};
use crate::model::event_types::CustomEventType;
use crate::model::ids::{AdAccountId, ObjectId};
use crate::plan::Field;
use crate::rule::Rule;

fn loc(line: usize) -> Location {
    Location {
        file: "conversions/acme.yaml".into(),
        line,
        column: 5,
    }
}

pub(crate) fn entry(name: &str, rule: &str) -> DesiredConversion {
    DesiredConversion {
        name: name.into(),
        id: None,
        ensure: Ensure::Present,
        protect: false,
        description: String::new(),
        custom_event_type: Some(CustomEventType::Purchase),
        default_conversion_value: 0.0,
        rule: Some(RuleSpec::Rule(Rule::from_json_str(rule).unwrap())),
        event_source_id: Some(ObjectId::parse("55").unwrap()),
        action_source_type: None,
        expect_fire_within: None,
        tests: RuleTests::default(),
        renamed_from: Vec::new(),
        set: None,
        location: loc(7),
    }
}

/// A live conversion, created `id` seconds after a fixed moment (so higher ids are newer).
pub(crate) fn live(id: &str, name: &str, rule: &str) -> LiveConversion {
    let created = 1_767_225_600 + id.parse::<i64>().unwrap_or(0);
    LiveConversion {
        id: ObjectId::parse(id).unwrap(),
        name: Some(name.into()),
        description: Some(String::new()),
        rule: Some(rule.into()),
        advanced_rule: None,
        custom_event_type: Some("PURCHASE".into()),
        event_source_id: Some("55".into()),
        action_source_type: Some("website".into()),
        default_conversion_value: Some(0.0),
        is_archived: false,
        is_unavailable: false,
        creation_time: Some(created.to_string()),
        first_fired_time: None,
        last_fired_time: None,
    }
}

fn account(conversions: Vec<DesiredConversion>) -> DesiredAccount {
    DesiredAccount {
        account: AdAccountId::parse("act_1").unwrap(),
        location: loc(2),
        prune: false,
        token_env: None,
        safety: None,
        conversions,
        deletion: Default::default(),
    }
}

fn opts() -> DiffOptions {
    DiffOptions {
        now: "2026-11-25T12:00:00Z".parse().unwrap(),
        cap: 100,
        report_only: false,
    }
}

const R1: &str = r#"{"url":{"i_contains":"thankyou"}}"#;
const R2: &str = r#"{"url":{"i_contains":"confirmation"}}"#;
const R3: &str = r#"{"url":{"i_contains":"receipt"}}"#;

fn plan(d: Vec<DesiredConversion>, l: &[LiveConversion]) -> AccountPlan {
    diff_account(&account(d), l, &opts()).unwrap()
}

fn errors(d: DesiredAccount, l: &[LiveConversion]) -> String {
    diff_account(&d, l, &opts())
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn in_sync_even_when_the_api_reserialises_rules_and_numbers() {
    let mut e = entry(
        "A",
        r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
    );
    e.default_conversion_value = 12.0;
    let mut l = live(
        "1",
        "A",
        r#"{ "and": [ {"event": {"eq":"Purchase"}}, {"value":{"gt":100.0}} ] }"#,
    );
    l.default_conversion_value = Some(12.0);
    let p = plan(vec![e], &[l]);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(p.unmanaged.is_empty());
}

#[test]
fn creates_what_is_missing() {
    let p = plan(vec![entry("A", R1)], &[]);
    assert!(matches!(&p.actions[..], [Action::Create { name, .. }] if name == "A"));
}

#[test]
fn updates_mutable_fields_in_place() {
    let mut e = entry("A", R1);
    e.id = Some(ObjectId::parse("1").unwrap());
    e.name = "A renamed".into();
    e.description = "new".into();
    e.default_conversion_value = 12.5;
    let p = plan(vec![e], &[live("1", "A", R1)]);
    let [Action::Update { changes, .. }] = &p.actions[..] else {
        panic!("{:?}", p.actions)
    };
    let fields: Vec<Field> = changes.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        [
            Field::Name,
            Field::Description,
            Field::DefaultConversionValue
        ]
    );
}

#[test]
fn immutable_changes_replace_and_name_the_forcing_fields() {
    let mut e = entry("A", R2);
    e.custom_event_type = Some(CustomEventType::Lead);
    e.description = "x".into();
    let p = plan(vec![e], &[live("1", "A", R1)]);
    let [
        Action::Replace {
            forced_by,
            order,
            changes,
            ..
        },
    ] = &p.actions[..]
    else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(forced_by, &[Field::CustomEventType, Field::Rule]);
    assert_eq!(*order, ReplaceOrder::CreateBeforeDelete);
    assert_eq!(changes.len(), 3);
}

#[test]
fn unknown_live_fields_and_undeclared_fields_never_force_replacement() {
    let mut e = entry("A", R1);
    e.action_source_type = Some(crate::model::event_types::ActionSourceType::App);
    let mut l = live("1", "A", R1);
    l.action_source_type = None;
    l.event_source_id = None;
    let p = plan(vec![e.clone()], &[l]);
    assert!(p.actions.is_empty());
    assert!(p.notes[0].contains("action_source_type"), "{:?}", p.notes);
    // Not declared: live has one, the manifest says nothing.
    e.action_source_type = None;
    e.event_source_id = None;
    assert!(plan(vec![e], &[live("1", "A", R1)]).actions.is_empty());
}

#[test]
fn tombstones_prune_and_unmanaged() {
    let mut t = entry("Old", R1);
    t.ensure = Ensure::Absent;
    let mut archived = live("9", "Archived", R1);
    archived.is_archived = true;
    let lives = [live("1", "Old", R1), live("2", "Stray", R1), archived];
    let p = plan(vec![t.clone()], &lives);
    assert!(matches!(
        &p.actions[..],
        [Action::Delete {
            reason: DeleteReason::Absent,
            ..
        }]
    ));
    assert_eq!(
        p.unmanaged,
        vec![Unmanaged {
            id: ObjectId::parse("2").unwrap(),
            name: "Stray".into()
        }]
    );

    let mut d = account(vec![t]);
    d.prune = true;
    let p = diff_account(&d, &lives, &opts()).unwrap();
    let reasons: Vec<_> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::Delete { reason, .. } => *reason,
            _ => panic!(),
        })
        .collect();
    assert_eq!(reasons, [DeleteReason::Absent, DeleteReason::Prune]);
    assert!(p.unmanaged.is_empty());
    // A tombstone of something already gone does nothing.
    let mut gone = entry("Gone", R1);
    gone.ensure = Ensure::Absent;
    gone.id = Some(ObjectId::parse("77").unwrap());
    assert!(plan(vec![gone], &[]).actions.is_empty());
}

#[test]
fn protect_blocks_replace_and_delete() {
    let mut e = entry("Checkout", R2);
    e.protect = true;
    let msg = errors(account(vec![e.clone()]), &[live("1", "Checkout", R1)]);
    assert!(
        msg.contains("conversions/acme.yaml:7:5")
            && msg.contains("protected")
            && msg.contains("rule"),
        "{msg}"
    );
    e.ensure = Ensure::Absent;
    assert!(errors(account(vec![e]), &[live("1", "Checkout", R1)]).contains("ensure: absent"));
}

#[test]
fn duplicate_names_need_a_pin() {
    // Two that both differ from the entry in a field that forces replacement.
    let msg = errors(
        account(vec![entry("A", R1)]),
        &[live("1", "A", R2), live("2", "A", R2)],
    );
    assert!(
        msg.contains("ids 1, 2") && msg.contains("id: \"1\""),
        "{msg}"
    );
    // A tombstone cannot tell which one to delete either.
    let mut t = entry("A", R1);
    t.ensure = Ensure::Absent;
    let msg = errors(account(vec![t]), &[live("1", "A", R1), live("2", "A", R1)]);
    assert!(msg.contains("ids 1, 2"), "{msg}");
    // With a pin, the other one is unmanaged.
    let mut e = entry("A", R2);
    e.id = Some(ObjectId::parse("2").unwrap());
    let p = plan(vec![e], &[live("1", "A", R2), live("2", "A", R2)]);
    assert!(p.actions.is_empty());
    assert_eq!(p.unmanaged.len(), 1);
}

#[test]
fn an_interrupted_replacement_is_finished() {
    let p = plan(
        vec![entry("A", R2)],
        &[live("1", "A", R1), live("2", "A", R2)],
    );
    let [
        Action::Delete {
            id,
            reason: DeleteReason::Replaced,
            ..
        },
    ] = &p.actions[..]
    else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(id.as_str(), "1");
    assert!(p.warnings[0].contains("interrupted replacement"));
}

#[test]
fn a_replaced_pinned_conversion_is_found_by_name_with_a_warning() {
    let mut e = entry("A", R2);
    e.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(vec![e.clone()], &[live("2", "A", R2)]);
    assert!(p.actions.is_empty());
    assert!(p.warnings[0].contains("id: \"2\""), "{:?}", p.warnings);
    // Different declared fields: not the replacement, the pin is an error.
    assert!(errors(account(vec![e]), &[live("2", "A", R1)]).contains("does not exist"));
}

#[test]
fn replacements_delete_first_only_at_the_cap() {
    let mut lives: Vec<LiveConversion> = (1..=99)
        .map(|i| live(&i.to_string(), &format!("c{i}"), R1))
        .collect();
    let mut d: Vec<DesiredConversion> = (1..=99).map(|i| entry(&format!("c{i}"), R1)).collect();
    d[0] = entry("c1", R2);
    let p = plan(d.clone(), &lives);
    assert!(matches!(
        &p.actions[..],
        [Action::Replace {
            order: ReplaceOrder::CreateBeforeDelete,
            ..
        }]
    ));
    lives.push(live("100", "c100", R1));
    d.push(entry("c100", R1));
    let p = plan(d.clone(), &lives);
    assert!(matches!(
        &p.actions[..],
        [Action::Replace {
            order: ReplaceOrder::DeleteBeforeCreate,
            ..
        }]
    ));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("delete-before-create"))
    );
    // A create at the cap with nothing to delete first: the plan fails.
    d[0] = entry("c1", R1);
    d.push(entry("c101", R1));
    assert!(errors(account(d), &lives).contains("100 of its 100"));
}

#[test]
fn destroying_recently_fired_or_many_conversions_warns() {
    let mut t = entry("Old", R1);
    t.ensure = Ensure::Absent;
    let mut l = live("1", "Old", R1);
    l.last_fired_time = Some("2026-11-24T12:00:00+0000".into());
    l.is_unavailable = true;
    let p = plan(vec![t], &[l]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("last fired 24 hours ago")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings.iter().any(|w| w
            == "\"Old\" (1) is flagged by Meta: it stopped counting events; edits are refused; see Meta's flagged custom conversions help"),
        "{:?}",
        p.warnings
    );

    let lives: Vec<LiveConversion> = (1..=20)
        .map(|i| live(&i.to_string(), &format!("c{i}"), R1))
        .collect();
    let mut d = account(vec![]);
    d.prune = true;
    let p = diff_account(&d, &lives, &opts()).unwrap();
    assert!(p.refusals.iter().any(|w| w.contains("--allow-mass-delete")));
    assert_eq!(mass_delete(&p, 20).unwrap().destroyed, 20);
    assert!(mass_delete(&p, 100).is_none(), "20% is not a mass delete");
}

#[test]
fn an_interrupted_replacement_of_a_pinned_conversion_is_finished() {
    let mut e = entry("A", R2);
    e.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(vec![e], &[live("1", "A", R1), live("2", "A", R2)]);
    let [
        Action::Delete {
            id,
            reason: DeleteReason::Replaced,
            ..
        },
    ] = &p.actions[..]
    else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(id.as_str(), "1");
    assert!(p.warnings[0].contains("id: \"2\""), "{:?}", p.warnings);
}

/// Two applies that met (or a lost answer) leave the same conversion twice:
/// the oldest is kept (and updated), the others deleted with reason `duplicate`.
#[test]
fn duplicates_are_repaired_keeping_the_oldest() {
    let mut e = entry("A", R1);
    e.description = "new".into();
    // Listed newest first, ids out of order: age decides, not listing order.
    let mut newest = live("30", "A", R1);
    newest.creation_time = Some("2026-11-20T10:00:00+0000".into());
    let mut oldest = live("40", "A", R1);
    oldest.creation_time = Some("2026-11-01T10:00:00+0000".into());
    let mut middle = live("10", "A", R1);
    middle.creation_time = Some("2026-11-10T10:00:00+0000".into());
    let p = plan(vec![e], &[newest, middle, oldest]);
    let kinds: Vec<(&str, Option<&str>, Option<DeleteReason>)> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::Delete { id, reason, .. } => ("delete", Some(id.as_str()), Some(*reason)),
            Action::Update { id, .. } => ("update", Some(id.as_str()), None),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("delete", Some("30"), Some(DeleteReason::Duplicate)),
            ("delete", Some("10"), Some(DeleteReason::Duplicate)),
            ("update", Some("40"), None),
        ]
    );
    assert!(
        p.warnings[0].contains("keeping the oldest, 40") && p.warnings[0].contains("30 and 10"),
        "{:?}",
        p.warnings
    );
    assert!(p.unmanaged.is_empty());
    // Same creation second (or none reported): the lower id is the older.
    let mut a = live("7", "A", R1);
    let mut b = live("12", "A", R1);
    a.creation_time = None;
    b.creation_time = None;
    let p = plan(vec![entry("A", R1)], &[b, a]);
    assert!(
        matches!(&p.actions[..], [Action::Delete { id, reason: DeleteReason::Duplicate, .. }] if id.as_str() == "12"),
        "{:?}",
        p.actions
    );
}

#[test]
fn deleting_duplicates_respects_protect_and_the_mass_delete_guard() {
    let mut e = entry("A", R1);
    e.protect = true;
    let msg = errors(account(vec![e]), &[live("1", "A", R1), live("2", "A", R1)]);
    assert!(
        msg.contains("protected") && msg.contains("duplicate 2"),
        "{msg}"
    );
    // 12 copies of one conversion in an account of 13: the guard counts the 11 deletes.
    let copies: Vec<LiveConversion> = (1..=12).map(|i| live(&i.to_string(), "A", R1)).collect();
    let mut lives = copies;
    lives.push(live("99", "B", R2));
    let p = plan(vec![entry("A", R1), entry("B", R2)], &lives);
    assert_eq!(p.actions.len(), 11);
    assert!(
        p.refusals.iter().any(|w| w.contains("--allow-mass-delete")),
        "{:?}",
        p.refusals
    );
    assert!(mass_delete(&p, lives.len()).is_some());
}

/// A conversion someone made by hand with our name (and another rule),
/// *after* ours, is not the old half of an interrupted replacement: nothing is deleted.
#[test]
fn a_newer_conversion_with_our_name_is_never_taken_for_an_old_half() {
    // Ours (1) matches the manifest; the hand-made one (2) is newer, with another rule.
    let msg = errors(
        account(vec![entry("Purchase", R1)]),
        &[live("1", "Purchase", R1), live("2", "Purchase", R2)],
    );
    assert!(msg.contains("ids 1, 2") && msg.contains("pin"), "{msg}");
    assert!(msg.contains("not the old half"), "{msg}");
    // Unknown creation times prove nothing either.
    let mut old = live("1", "Purchase", R1);
    let mut new = live("2", "Purchase", R2);
    old.creation_time = None;
    new.creation_time = None;
    let msg = errors(account(vec![entry("Purchase", R2)]), &[old, new]);
    assert!(msg.contains("cannot tell"), "{msg}");
    // The kept one must match the manifest in every field, not only the immutable ones.
    let mut e = entry("Purchase", R2);
    e.description = "changed since".into();
    let msg = errors(
        account(vec![e]),
        &[live("1", "Purchase", R1), live("2", "Purchase", R2)],
    );
    assert!(msg.contains("cannot tell"), "{msg}");
    // Two old ones that differ: not one interrupted replacement.
    let msg = errors(
        account(vec![entry("Purchase", R2)]),
        &[
            live("1", "Purchase", R1),
            live("2", "Purchase", r#"{"url":{"eq":"z"}}"#),
            live("3", "Purchase", R2),
        ],
    );
    assert!(msg.contains("3 live conversions"), "{msg}");
    // The pinned form: an older hand-made one is not taken as the new half: it is left alone
    // (unmanaged), and since it holds the new rule, Meta would refuse the replacement's create.
    let mut pinned = entry("Purchase", R2);
    pinned.id = Some(ObjectId::parse("5").unwrap());
    let msg = errors(
        account(vec![pinned.clone()]),
        &[live("5", "Purchase", R1), live("3", "Purchase", R2)],
    );
    assert!(
        msg.contains("would be created with the rule of \"Purchase\" (3)")
            && msg.contains("not declared in the manifest"),
        "{msg}"
    );
    let p = plan(
        vec![pinned],
        &[live("5", "Purchase", R1), live("3", "Purchase", R3)],
    );
    assert!(
        matches!(&p.actions[..], [Action::Replace { id, .. }] if id.as_str() == "5"),
        "{:?}",
        p.actions
    );
    assert_eq!(
        p.unmanaged.len(),
        1,
        "the older same-named one is left alone"
    );
}

/// An interrupted replacement whose new half was made twice (two applies met): the old half
/// is finished off, the extra new half is a duplicate.
#[test]
fn an_interrupted_replacement_made_twice_is_finished_and_deduplicated() {
    let p = plan(
        vec![entry("A", R2)],
        &[live("1", "A", R1), live("2", "A", R2), live("3", "A", R2)],
    );
    let deleted: Vec<(&str, DeleteReason)> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::Delete { id, reason, .. } => (id.as_str(), *reason),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        deleted,
        vec![
            ("1", DeleteReason::Replaced),
            ("3", DeleteReason::Duplicate)
        ]
    );
    // The pinned form, pin on the old half.
    let mut e = entry("A", R2);
    e.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(
        vec![e],
        &[live("1", "A", R1), live("2", "A", R2), live("3", "A", R2)],
    );
    assert_eq!(p.actions.len(), 2, "{:?}", p.actions);
    assert!(
        p.warnings.iter().any(|w| w.contains("id: \"2\"")),
        "{:?}",
        p.warnings
    );
}

/// An answer without `name` is unknown, not `""`: never matched by name,
/// pruned or deleted by name; a pin still means it, and its name is then not a change.
#[test]
fn a_conversion_without_a_reported_name_is_never_matched_pruned_or_deleted_by_name() {
    let mut nameless = live("1", "A", R1);
    nameless.name = None;
    // (Another rule than the nameless one's: Meta refuses to hold one rule twice.)
    let mut d = account(vec![entry("A", R2)]);
    d.prune = true;
    let p = diff_account(&d, &[nameless.clone()], &opts()).unwrap();
    assert!(
        matches!(&p.actions[..], [Action::Create { name, .. }] if name == "A"),
        "not matched by name, not pruned: {:?}",
        p.actions
    );
    assert!(p.unmanaged.is_empty());
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("conversion 1") && w.contains("without a name")),
        "{:?}",
        p.warnings
    );
    // A tombstone of that name finds nothing to delete.
    let mut t = entry("A", R1);
    t.ensure = Ensure::Absent;
    let mut d = account(vec![t]);
    d.prune = true;
    let p = diff_account(&d, &[nameless.clone()], &opts()).unwrap();
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    // Pinned: matched by id; the unknown name is not a rename.
    let mut e = entry("A", R1);
    e.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(vec![e], &[nameless]);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(p.notes.iter().any(|n| n.contains("name")), "{:?}", p.notes);
}

/// A delete-first replacement deleted the pinned id, then its create failed.
/// The next plan creates the conversion (with a warning to update the pin) instead of failing
/// forever with "pinned to id ..., which does not exist".
#[test]
fn a_pin_whose_id_is_gone_and_whose_name_nobody_has_is_created() {
    let mut e = entry("A", R2);
    e.id = Some(ObjectId::parse("1").unwrap());
    let p = plan(vec![e.clone()], &[live("5", "B", R1)]);
    assert!(
        matches!(&p.actions[..], [Action::Create { name, .. }] if name == "A"),
        "{:?}",
        p.actions
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("pinned to id 1")
            && w.contains("will be created")
            && w.contains("conversions/acme.yaml:7:5")),
        "{:?}",
        p.warnings
    );
    // Two replacements that met: both new halves have the name: the oldest is taken.
    let p = plan(vec![e], &[live("3", "A", R2), live("4", "A", R2)]);
    assert!(
        matches!(&p.actions[..], [Action::Delete { id, reason: DeleteReason::Duplicate, .. }] if id.as_str() == "4"),
        "{:?}",
        p.actions
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("id: \"3\"")),
        "{:?}",
        p.warnings
    );
}

fn pinned(mut e: DesiredConversion, id: &str) -> DesiredConversion {
    e.id = Some(ObjectId::parse(id).unwrap());
    e
}

fn tombstone(name: &str) -> DesiredConversion {
    let mut t = entry(name, R1);
    t.ensure = Ensure::Absent;
    t
}

fn protected(name: &str, rule: &str) -> DesiredConversion {
    let mut e = entry(name, rule);
    e.protect = true;
    e.location = loc(3);
    e
}

/// A pinned id that reaches a conversion a protected entry matches by name: two entries claim
/// it, and the plan fails naming both, whether the pin is a tombstone's or a present entry's.
#[test]
fn a_pin_never_reaches_what_a_protected_entry_matches() {
    let lives = [live("1", "Checkout", R1), live("2", "Other", R2)];
    for other in [
        pinned(tombstone("Old spring"), "1"),
        pinned(entry("Checkout v2", R2), "1"),
    ] {
        let msg = errors(account(vec![protected("Checkout", R1), other]), &lives);
        assert!(
            msg.contains("conversions/acme.yaml:7:5")
                && msg.contains("at conversions/acme.yaml:3:5")
                && msg.contains("claimed by two entries")
                && msg.contains("protected"),
            "{msg}"
        );
    }
    // A name-less tombstone pinning it too.
    let mut anonymous = pinned(tombstone(""), "1");
    anonymous.name = String::new();
    let msg = errors(account(vec![protected("Checkout", R1), anonymous]), &lives);
    assert!(msg.contains("the tombstone pins id 1"), "{msg}");
    // By an earlier name, when the entry's own name is not live.
    let mut renamed = protected("Checkout (new)", R1);
    renamed.renamed_from = vec!["Checkout".into()];
    let msg = errors(
        account(vec![renamed, pinned(tombstone("Old spring"), "1")]),
        &lives,
    );
    assert!(msg.contains("by an earlier name"), "{msg}");
}

/// A pin whose conversion carries another entry's name is an error, protected or not.
#[test]
fn a_pin_onto_another_entrys_name_is_an_error() {
    let msg = errors(
        account(vec![pinned(entry("Sale", R1), "1"), entry("Checkout", R1)]),
        &[live("1", "Checkout", R1)],
    );
    assert!(
        msg.contains("\"Sale\" pins id 1, which is named \"Checkout\"")
            && msg.contains("conversions/acme.yaml:7:5"),
        "{msg}"
    );
    // A rename by pin with no other claimant is what pins are for.
    let p = plan(
        vec![pinned(entry("Sale", R1), "1")],
        &[live("1", "Checkout", R1)],
    );
    assert!(
        matches!(&p.actions[..], [Action::Update { .. }]),
        "{:?}",
        p.actions
    );
}

/// A tombstone deletes the conversion it names: a pasted id of another one is an error; a
/// retired one counts with the name it had; a tombstone without a name deletes its id.
#[test]
fn a_tombstone_pin_must_be_the_conversion_it_names() {
    let lives = [
        live("1", "Summer sale", R1),
        live("2", "[retired 2026-12-01] Old spring", R2),
    ];
    let msg = errors(account(vec![pinned(tombstone("Old spring"), "1")]), &lives);
    assert!(
        msg.contains("would delete \"Summer sale\", not \"Old spring\""),
        "{msg}"
    );
    let p = plan(vec![pinned(tombstone("Old spring"), "2")], &lives);
    assert!(matches!(&p.actions[..], [Action::Delete { id, .. }] if id.as_str() == "2"));
    let mut anonymous = pinned(tombstone(""), "1");
    anonymous.name = String::new();
    let p = plan(vec![anonymous], &lives);
    assert!(matches!(&p.actions[..], [Action::Delete { id, .. }] if id.as_str() == "1"));
}

/// A pin that would rename its conversion onto the name another live conversion has (which
/// would then be unmanaged, or pruned) is an error; finishing a pinned replacement that also
/// renamed is not.
#[test]
fn a_pin_never_renames_onto_a_live_name() {
    let mut d = account(vec![pinned(entry("Checkout", R1), "2")]);
    d.prune = true;
    let msg = errors(
        d,
        &[live("1", "Checkout", R1), live("2", "Checkout (old)", R1)],
    );
    assert!(
        msg.contains("would rename 2 to a name 1 already has"),
        "{msg}"
    );
    // The pinned old half (old name, old rule) and the newer new half (new name, new rule).
    let p = plan(
        vec![pinned(entry("B", R2), "1")],
        &[live("1", "A", R1), live("2", "B", R2)],
    );
    assert!(
        matches!(&p.actions[..], [Action::Delete { id, reason: DeleteReason::Replaced, .. }] if id.as_str() == "1"),
        "{:?}",
        p.actions
    );
}

/// Prune never deletes a copy named like a protected entry (its pin may be the wrong one).
#[test]
fn prune_never_deletes_a_conversion_named_like_a_protected_one() {
    let mut d = account(vec![pinned(protected("Checkout", R1), "2")]);
    d.prune = true;
    let msg = errors(d, &[live("1", "Checkout", R2), live("2", "Checkout", R1)]);
    assert!(
        msg.contains("prune would delete \"Checkout\" (1), which the protected entry \"Checkout\" at conversions/acme.yaml:3:5"),
        "{msg}"
    );
}
