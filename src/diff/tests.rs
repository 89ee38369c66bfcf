//! Unit tests of the diff engine: one test per rule of spec section 2 (identity, changes,
//! tombstones, prune, protect, duplicates, interrupted replacements, pins, the cap, warnings).

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
        tests: RuleTests::default(),
        renamed_from: Vec::new(),
        set: None,
        location: loc(7),
    }
}

pub(crate) fn live(id: &str, name: &str, rule: &str) -> LiveConversion {
    LiveConversion {
        id: ObjectId::parse(id).unwrap(),
        name: name.into(),
        description: Some(String::new()),
        rule: Some(rule.into()),
        advanced_rule: None,
        custom_event_type: Some("PURCHASE".into()),
        event_source_id: Some("55".into()),
        action_source_type: Some("website".into()),
        default_conversion_value: Some(0.0),
        is_archived: false,
        is_unavailable: false,
        creation_time: None,
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
    let msg = errors(
        account(vec![entry("A", R1)]),
        &[live("1", "A", R2), live("2", "A", R2)],
    );
    assert!(
        msg.contains("ids 1, 2") && msg.contains("id: \"1\""),
        "{msg}"
    );
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
    assert!(p.warnings.iter().any(|w| w.contains("unavailable")));

    let lives: Vec<LiveConversion> = (1..=20)
        .map(|i| live(&i.to_string(), &format!("c{i}"), R1))
        .collect();
    let mut d = account(vec![]);
    d.prune = true;
    let p = diff_account(&d, &lives, &opts()).unwrap();
    assert!(p.warnings.iter().any(|w| w.contains("--allow-mass-delete")));
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
