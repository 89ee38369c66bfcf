//! Each edit of a saved plan that was once executed is refused, and a plan as convctl
//! made it (also once saved and loaded) passes.

use super::*;
use crate::diff::tests::{entry, live};
use crate::diff::{DiffOptions, diff_account};
use crate::manifest::{DesiredAccount, Ensure, Location};
use crate::model::ids::AdAccountId;
use crate::plan::PlanDocument;

const R1: &str = r#"{"url":{"i_contains":"thankyou"}}"#;
const R2: &str = r#"{"url":{"i_contains":"confirmation"}}"#;

fn account(conversions: Vec<crate::manifest::DesiredConversion>) -> DesiredAccount {
    DesiredAccount {
        account: AdAccountId::parse("act_1").unwrap(),
        location: Location {
            file: "conversions/a.yaml".into(),
            line: 1,
            column: 1,
        },
        prune: false,
        conversions,
        safety: None,
        token_env: None,
        deletion: Default::default(),
    }
}

/// Live: Keep (1), Old (2, a tombstone's target), Swap (3, to replace), Upd (4, to update).
fn scene() -> (Vec<LiveConversion>, AccountPlan) {
    let live = vec![
        live("1", "Keep", R1),
        live("2", "Old", R1),
        live("3", "Swap", R1),
        live("4", "Upd", R1),
    ];
    let mut tomb = entry("Old", R1);
    tomb.ensure = Ensure::Absent;
    let mut upd = entry("Upd", R1);
    upd.description = "new".into();
    let desired = account(vec![
        entry("Keep", R1),
        tomb,
        entry("Swap", R2),
        upd,
        entry("New", R2),
    ]);
    let opts = DiffOptions {
        now: "2026-11-25T12:00:00Z".parse().unwrap(),
        cap: 100,
        report_only: false,
    };
    let plan = diff_account(&desired, &live, &opts).unwrap();
    assert_eq!(plan.actions.len(), 4, "{:?}", plan.actions);
    (live, plan)
}

fn problems(plan: &AccountPlan, live: &[LiveConversion]) -> String {
    check_account(plan, live, 100).join("\n")
}

#[test]
fn a_plan_as_convctl_made_it_passes_also_once_saved() {
    let (live, plan) = scene();
    assert_eq!(problems(&plan, &live), "");
    let doc = PlanDocument::new("v26.0", vec![plan]);
    let again = PlanDocument::from_json_str(&doc.to_json()).unwrap();
    assert_eq!(problems(&again.accounts[0], &live), "");
}

#[test]
fn a_tombstone_pointed_at_a_kept_conversion_is_refused() {
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Delete { id, .. } = action {
            *id = ObjectId::parse("1").unwrap();
        }
    }
    let text = problems(&plan, &live);
    assert!(
        text.contains(
            "delete \"Old\" (id 1): the live conversion 1 is named \"Keep\", not \"Old\""
        ),
        "{text}"
    );
    assert!(text.contains("`before` differs"), "{text}");
}

#[test]
fn a_delete_first_replacement_below_the_cap_is_refused() {
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Replace { order, .. } = action {
            *order = ReplaceOrder::DeleteBeforeCreate;
        }
    }
    let text = problems(&plan, &live);
    assert!(
        text.contains("1 replacement(s) delete first") && text.contains("0 must"),
        "{text}"
    );
    // At the cap, the one the diff switched is what the cap requires.
    let mut full: Vec<LiveConversion> = (10..106)
        .map(|i| crate::diff::tests::live(&i.to_string(), &format!("c{i}"), R1))
        .collect();
    full.extend(live);
    let text = check_account(&plan, &full, 100).join("\n");
    assert!(
        text.contains("must") && text.contains("has 100 of its 100"),
        "2 are needed: {text}"
    );
}

#[test]
fn duplicate_creates_are_refused() {
    let (live, mut plan) = scene();
    let create = plan
        .actions
        .iter()
        .find(|a| matches!(a, Action::Create { .. }))
        .cloned()
        .unwrap();
    plan.actions.push(create);
    assert!(problems(&plan, &live).contains("creates \"New\" 2 times"));
}

#[test]
fn an_after_that_fails_offline_validation_is_refused() {
    let (live, plan) = scene();
    let edit = |f: &dyn Fn(&mut ConversionState)| {
        let mut plan = plan.clone();
        for action in &mut plan.actions {
            if let Action::Create { after, name, .. } = action {
                f(after);
                *name = after.name.clone();
            }
        }
        problems(&plan, &live)
    };
    let long = edit(&|a| a.name = "x".repeat(500));
    assert!(long.contains("its name is 500 characters long"), "{long}");
    let rule =
        edit(&|a| a.rule = Some(serde_json::json!({"url": {"regex_match": "(unclosed"}}).into()));
    assert!(
        rule.contains("its rule is invalid") && rule.contains("PCRE"),
        "{rule}"
    );
    let op = edit(&|a| a.rule = Some(serde_json::json!({"url": {"like": "x"}}).into()));
    assert!(op.contains("its rule is invalid"), "{op}");
    let kind = edit(&|a| a.custom_event_type = Some("BUY_NOW".into()));
    assert!(kind.contains("custom_event_type"), "{kind}");
    let source = edit(&|a| a.action_source_type = Some("carrier_pigeon".into()));
    assert!(source.contains("action_source_type"), "{source}");
    let pixel = edit(&|a| a.event_source_id = Some("12ab".into()));
    assert!(pixel.contains("event_source_id"), "{pixel}");
    let value = edit(&|a| a.default_conversion_value = Some(-5.0));
    assert!(value.contains("not a number >= 0"), "{value}");
    let none = edit(&|a| a.rule = None);
    assert!(none.contains("no rule"), "{none}");
}

#[test]
fn an_update_whose_before_or_target_was_edited_is_refused() {
    let (live, plan) = scene();
    let mut edited = plan.clone();
    for action in &mut edited.actions {
        if let Action::Update { changes, id, .. } = action {
            changes[0].before = "something else".into();
            *id = ObjectId::parse("4").unwrap();
        }
    }
    assert!(
        problems(&edited, &live)
            .contains("its description is \"\" live, the plan says \"something else\"")
    );
    let mut retargeted = plan.clone();
    for action in &mut retargeted.actions {
        if let Action::Update { id, .. } = action {
            *id = ObjectId::parse("1").unwrap();
        }
    }
    assert!(problems(&retargeted, &live).contains("is named \"Keep\", not \"Upd\""));
    // An update that sets an immutable field.
    let mut immutable = plan;
    for action in &mut immutable.actions {
        if let Action::Update { changes, .. } = action {
            changes[0].field = Field::Rule;
        }
    }
    assert!(problems(&immutable, &live).contains("an update cannot set rule"));
}

#[test]
fn ids_that_are_not_the_accounts_or_named_twice_are_refused() {
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Delete { id, .. } = action {
            *id = ObjectId::parse("777").unwrap();
        }
    }
    assert!(problems(&plan, &live).contains("id 777 is not one of act_1's conversions"));
    let (live, mut plan) = scene();
    let update = plan
        .actions
        .iter()
        .find(|a| matches!(a, Action::Update { .. }))
        .cloned()
        .unwrap();
    plan.actions.push(update);
    assert!(problems(&plan, &live).contains("id 4 is named by another action"));
    // A replacement whose `before` was edited.
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Replace { before, .. } = action {
            before.default_conversion_value = Some(9.0);
        }
    }
    assert!(
        problems(&plan, &live)
            .contains("differs from the live conversion 3 in default_conversion_value")
    );
}

#[test]
fn a_duplicate_delete_needs_a_kept_copy() {
    let live = vec![live("1", "A", R1), live("2", "A", R1)];
    let desired = account(vec![entry("A", R1)]);
    let plan = diff_account(&desired, &live, &DiffOptions::default()).unwrap();
    assert_eq!(problems(&plan, &live), "");
    // Edited to delete both copies "as duplicates": the second has nothing left to duplicate.
    let mut both = plan;
    let mut second = both.actions[0].clone();
    if let Action::Delete { id, before, .. } = &mut second {
        *id = ObjectId::parse("1").unwrap();
        *before = Some(Box::new(ConversionState::from_live(&live[0])));
    }
    both.actions.push(second);
    assert!(
        problems(&both, &live).contains("so it is not a duplicate"),
        "{}",
        problems(&both, &live)
    );
}

/// Plans the diff makes for a pinned conversion the API returned without a name pass.
#[test]
fn plans_for_a_nameless_pinned_conversion_pass() {
    let mut nameless = live("1", "A", R1);
    nameless.name = None;
    let mut e = entry("A", R1);
    e.id = Some(ObjectId::parse("1").unwrap());
    e.description = "new".into();
    let mut tomb = entry("B", R1);
    tomb.ensure = Ensure::Absent;
    tomb.id = Some(ObjectId::parse("2").unwrap());
    let mut other = live("2", "B", R1);
    other.name = None;
    let lives = vec![nameless, other];
    let plan = diff_account(&account(vec![e, tomb]), &lives, &DiffOptions::default()).unwrap();
    assert_eq!(plan.actions.len(), 2, "{:?}", plan.actions);
    assert_eq!(problems(&plan, &lives), "");
}

/// A plan that retires (`deletion: retire`) passes, saved and loaded; a retirement edited to
/// another name, or a conversion retired twice, is refused.
#[test]
fn retirements_are_checked() {
    let (live, _) = scene();
    let mut tomb = entry("Old", R1);
    tomb.ensure = Ensure::Absent;
    let desired = DesiredAccount {
        deletion: crate::manifest::Deletion::Retire,
        ..account(vec![entry("Keep", R1), tomb, entry("Swap", R2)])
    };
    let opts = DiffOptions {
        now: "2026-11-25T12:00:00Z".parse().unwrap(),
        cap: 100,
        report_only: false,
    };
    let plan = diff_account(&desired, &live, &opts).unwrap();
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::Retire { .. })),
        "{:?}",
        plan.actions
    );
    let doc = PlanDocument::new("v26.0", vec![plan.clone()]);
    let again = PlanDocument::from_json_str(&doc.to_json()).unwrap();
    assert_eq!(problems(&again.accounts[0], &live), "");

    let mut edited = plan.clone();
    for action in &mut edited.actions {
        if let Action::Retire { retirement, .. } = action {
            retirement.name = "Old (gone)".into();
        }
    }
    let text = problems(&edited, &live);
    assert!(
        text.contains("retire \"Old\" (id 2): it retires under the name \"Old (gone)\", which is not a retired name"),
        "{text}"
    );
    let mut retired_live = live;
    retired_live[1].name = Some("[retired 2026-11-20] Old".into());
    let text = problems(&plan, &retired_live);
    assert!(
        text.contains("the live conversion is retired already"),
        "{text}"
    );
}

/// A delete first to free a rule needs a create of the plan with that rule; a same-rule
/// replacement needs its rule kept (or another create's).
#[test]
fn deletes_first_for_a_rule_need_a_create_with_it() {
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Delete { frees_rule_for, .. } = action {
            *frees_rule_for = Some("Nobody".into());
        }
    }
    let text = problems(&plan, &live);
    assert!(
        text.contains("delete \"Old\" (id 2): it deletes first to free a rule, but no create of the plan needs that rule"),
        "{text}"
    );
    let (live, mut plan) = scene();
    for action in &mut plan.actions {
        if let Action::Replace {
            order,
            delete_first,
            ..
        } = action
        {
            *order = ReplaceOrder::DeleteBeforeCreate;
            *delete_first = Some(DeleteFirst::SameRule);
        }
    }
    let text = problems(&plan, &live);
    assert!(
        text.contains("replace \"Swap\" (id 3): it deletes first to free a rule, but no create of the plan needs that rule"),
        "{text}"
    );
}
