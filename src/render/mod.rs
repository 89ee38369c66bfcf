//! Renderers of a plan document: `text` (Terraform-style, for people at a terminal), `json`
//! (the document itself, docs/reconcile.md) and `markdown` (a pull-request comment); and of the
//! health report (`report`: text, markdown and a self-contained HTML page).
//!
//! They only present: they never decide anything, never read the network or the clock, and
//! never see a token (the document holds none). `plan` and `drift` share them; [`Mode`] changes
//! the wording only.

mod diff_block;
mod digest;
pub(crate) mod findings;
pub(crate) mod grouped;
pub mod json;
pub mod markdown;
pub mod report;
mod set_groups;
pub(crate) mod test_results;
pub mod text;

use crate::plan::{
    Action, DeleteFirst, Field, FieldChange, ReplaceOrder, RetireWhy, Retirement, Summary,
};
use serde_json::Value;

/// What the document is being shown as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `plan` / `apply`: what will be done.
    Plan,
    /// `drift`: how live state differs from the manifests.
    Drift,
}

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    pub mode: Mode,
    /// ANSI colours (only on a terminal or with `--color always`).
    pub color: bool,
}

impl RenderOptions {
    #[cfg(test)]
    pub(crate) fn plain(mode: Mode) -> RenderOptions {
        RenderOptions { mode, color: false }
    }
}

/// User text (a conversion name) in double quotes, escaped as a JSON string, and whatever a
/// reader would not see as it is made visible: a quote or a line break in a name cannot break
/// the line it is on, a terminal escape or a bidi control never reaches the terminal, and
/// names that differ only invisibly are shown apart ([`crate::model::names`]).
pub(crate) use crate::model::names::quoted;

/// The last line: `Plan: A to create, B to update, C to replace, D to delete.` or `No changes.`
/// (drift words it as drift).
pub(crate) fn summary_line(summary: &Summary, mode: Mode) -> String {
    // Retirements are counted apart from deletes, and only named when there are some.
    let retire = match summary.retire {
        0 => String::new(),
        n => format!(", {n} to retire"),
    };
    let counts = format!(
        "{} to create, {} to update, {} to replace, {} to delete{retire}.",
        summary.create, summary.update, summary.replace, summary.delete
    );
    match (mode, summary.has_changes()) {
        (Mode::Plan, true) => format!("Plan: {counts}"),
        (Mode::Plan, false) => "No changes.".to_string(),
        (Mode::Drift, true) => format!("Drift found; to converge: {counts}"),
        (Mode::Drift, false) => "No drift: live accounts match the manifests.".to_string(),
    }
}

/// One line of a line diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineChange {
    Same,
    Removed,
    Added,
}

/// The line diff of two pretty-printed values that the text and markdown renderings lay out:
/// lines are compared without their trailing comma, so that appending a condition is one added
/// line, not also the previous last line gaining its comma (unchanged lines show as after).
/// Within a change, removed lines come before added ones.
fn line_changes<'t>(before: &'t str, after: &'t str) -> Vec<(LineChange, &'t str)> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let ops = similar::capture_diff_slices_by_key(similar::Algorithm::Myers, &old, &new, |l| {
        l.strip_suffix(',').unwrap_or(l)
    });
    let mut out = Vec::with_capacity(old.len().max(new.len()));
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            out.extend(new[new_range].iter().map(|l| (LineChange::Same, *l)));
            continue;
        }
        out.extend(old[old_range].iter().map(|l| (LineChange::Removed, *l)));
        out.extend(new[new_range].iter().map(|l| (LineChange::Added, *l)));
    }
    out
}

/// What an action does, after its name, in the words every rendering uses (`will be created`,
/// `must be replaced: ...`, `will be retired: ...`), or how live state differs for drift.
pub(crate) fn what_happens(action: &Action, mode: Mode) -> String {
    match (action, mode) {
        (Action::Create { .. }, Mode::Plan) => "will be created".into(),
        (Action::Create { .. }, Mode::Drift) => "is declared but missing live".into(),
        (Action::Update { .. }, Mode::Plan) => "will be updated in place".into(),
        (Action::Update { .. }, Mode::Drift) => "differs (fixable in place)".into(),
        (Action::Replace { .. }, Mode::Plan) => {
            format!("must be replaced: {}", replace_how(action))
        }
        (Action::Replace { .. }, Mode::Drift) => "differs in fields that force replacement".into(),
        (
            Action::Delete {
                reason,
                frees_rule_for,
                ..
            },
            Mode::Plan,
        ) => match frees_rule_for {
            None => format!("will be deleted ({})", reason.describe()),
            Some(wanted_by) => format!(
                "will be deleted ({}) before the creates: {} needs its rule, which Meta refuses to hold twice; if that create then fails, this one is already gone",
                reason.describe(),
                quoted(wanted_by)
            ),
        },
        (Action::Delete { reason, .. } | Action::Retire { reason, .. }, Mode::Drift) => {
            format!("exists live but should not ({})", reason.describe())
        }
        (
            Action::Retire {
                reason, retirement, ..
            },
            Mode::Plan,
        ) => format!(
            "will be retired ({}): {}",
            reason.describe(),
            retirement_text(retirement)
        ),
    }
}

/// `renamed "[retired 2026-12-06] X" (this app may not delete ...); archive it in Events
/// Manager`.
fn retirement_text(retirement: &Retirement) -> String {
    let why = match retirement.because {
        RetireWhy::Setting => "deletion: retire",
        RetireWhy::Refused => "this app may not delete custom conversions here",
    };
    format!(
        "renamed {} ({why}), nothing else touched; it counts events until you archive it in Events Manager",
        quoted(&retirement.name)
    )
}

/// How a replacement is carried out.
fn replace_how(action: &Action) -> String {
    let Action::Replace {
        order,
        delete_first,
        retire_old,
        ..
    } = action
    else {
        return String::new();
    };
    match (order, delete_first, retire_old) {
        (ReplaceOrder::CreateBeforeDelete, _, None) => {
            "create the new one, then delete the old one".into()
        }
        (ReplaceOrder::CreateBeforeDelete, _, Some(retirement)) => format!(
            "create the new one, then retire the old one: {}",
            retirement_text(retirement)
        ),
        (ReplaceOrder::DeleteBeforeCreate, Some(DeleteFirst::SameRule), _) => {
            "delete the old one first (Meta refuses a second conversion with the rule it holds), then create the new one; if the create fails, the old one is already gone".into()
        }
        (ReplaceOrder::DeleteBeforeCreate, _, _) => {
            "delete the old one first (account at its limit), then create the new one".into()
        }
    }
}

/// The changes a retirement makes (name, description), for field-level rendering.
pub(crate) fn retirement_changes(action: &Action) -> Vec<FieldChange> {
    let Action::Retire {
        retirement, before, ..
    } = action
    else {
        return Vec::new();
    };
    let before = before.as_deref();
    vec![
        FieldChange {
            field: Field::Name,
            before: Value::String(before.map_or(action.name(), |b| &b.name).to_string()),
            after: Value::String(retirement.name.clone()),
        },
        FieldChange {
            field: Field::Description,
            before: Value::String(
                before
                    .and_then(|b| b.description.clone())
                    .unwrap_or_default(),
            ),
            after: Value::String(retirement.description.clone()),
        },
    ]
}

/// The line every rendering gives a conversion convctl retired earlier.
pub(crate) fn retired_line(name: &str, id: &crate::model::ids::ConversionId) -> String {
    format!(
        "{} (id {id}): retired: archive it in Events Manager",
        quoted(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{AdAccountId, ObjectId};
    use crate::plan::*;
    use serde_json::json;

    fn id(s: &str) -> ObjectId {
        ObjectId::parse(s).unwrap()
    }

    /// One of each action, an unmanaged conversion and a warning.
    pub(crate) fn sample() -> PlanDocument {
        let before = ConversionState {
            name: "Checkout".into(),
            description: Some(String::new()),
            custom_event_type: Some("LEAD".into()),
            default_conversion_value: Some(0.0),
            event_source_id: Some("55".into()),
            action_source_type: None,
            rule: Some(
                json!({"or": [{"url": {"i_contains": "/checkout"}}, {"url": {"i_contains": "/basket"}}]})
                    .into(),
            ),
            advanced_rule: None,
        };
        let after = ConversionState {
            custom_event_type: Some("INITIATED_CHECKOUT".into()),
            rule: Some(
                json!({"or": [{"url": {"i_contains": "/checkout"}}, {"url": {"i_contains": "/pay"}}]})
                    .into(),
            ),
            ..before.clone()
        };
        let account = AccountPlan {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/acme.yaml".into(),
            live_fingerprint: "ab12".into(),
            digest: None,
            actions: vec![
                Action::Create {
                    name: "High value purchase".into(),
                    set: None,
                    set_entry: None,
                    after: ConversionState {
                        name: "High value purchase".into(),
                        description: Some("Purchases over 100".into()),
                        custom_event_type: Some("PURCHASE".into()),
                        default_conversion_value: Some(100.0),
                        event_source_id: Some("55".into()),
                        action_source_type: Some("website".into()),
                        rule: Some(
                            json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]})
                                .into(),
                        ),
                        advanced_rule: None,
                    },
                },
                Action::Update {
                    id: id("2"),
                    name: "Thank you page".into(),
                    set: None,
                    set_entry: None,
                    changes: vec![FieldChange {
                        field: Field::Description,
                        before: json!(""),
                        after: json!("Thanks <3"),
                    }],
                },
                Action::Replace {
                    id: id("3"),
                    name: "Checkout".into(),
                    set: None,
                    set_entry: None,
                    forced_by: vec![Field::CustomEventType, Field::Rule],
                    order: ReplaceOrder::CreateBeforeDelete,
                    changes: vec![
                        FieldChange {
                            field: Field::CustomEventType,
                            before: json!("LEAD"),
                            after: json!("INITIATED_CHECKOUT"),
                        },
                        FieldChange {
                            field: Field::Rule,
                            before: before.rule.as_ref().unwrap().to_value(),
                            after: after.rule.as_ref().unwrap().to_value(),
                        },
                    ],
                    before: Box::new(before),
                    after: Box::new(after),
                    pinned_at: None,
                    delete_first: None,
                    retire_old: None,
                },
                Action::Retire {
                    id: id("6"),
                    name: "Autumn".into(),
                    set: None,
                    set_entry: None,
                    reason: DeleteReason::Prune,
                    retirement: Box::new(Retirement {
                        because: RetireWhy::Refused,
                        name: "[retired 2026-12-06] Autumn".into(),
                        description: "Retired by convctl on 2026-12-06: Meta refused to delete it (this app may not delete custom conversions). Archive it in Events Manager.".into(),
                    }),
                    before: Some(Box::new(ConversionState {
                        name: "Autumn".into(),
                        description: Some(String::new()),
                        custom_event_type: Some("LEAD".into()),
                        default_conversion_value: Some(0.0),
                        rule: Some(json!({"url": {"i_contains": "autumn"}}).into()),
                        ..Default::default()
                    })),
                },
                Action::Delete {
                    id: id("4"),
                    name: "Old spring campaign".into(),
                    set: None,
                    set_entry: None,
                    reason: DeleteReason::Absent,
                    before: Some(Box::new(ConversionState {
                        name: "Old spring campaign".into(),
                        description: Some(String::new()),
                        custom_event_type: Some("PURCHASE".into()),
                        default_conversion_value: Some(0.0),
                        rule: Some(json!({"url": {"i_contains": "spring"}}).into()),
                        ..Default::default()
                    })),
                    frees_rule_for: None,
                    flagged: false,
                },
            ],
            unmanaged: vec![Unmanaged {
                id: id("5"),
                name: "Legacy | lead".into(),
            }],
            retired: vec![Unmanaged {
                id: id("7"),
                name: "[retired 2026-11-20] Old summer campaign".into(),
            }],
            info: vec![
                "\"Winter\" (8) is archived: Meta keeps it listed and frozen (convctl never edits it); it holds the name of \"Winter\" (conversions/acme.yaml:30:5)".into(),
            ],
            warnings: vec![
                "\"Checkout\" (3) last fired 2 hours ago: replacing it loses its history".into(),
            ],
            refusals: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
        };
        let quiet = AccountPlan {
            account: AdAccountId::parse("act_2").unwrap(),
            source: "conversions/beta.yaml".into(),
            live_fingerprint: "cd34".into(),
            digest: None,
            actions: vec![],
            unmanaged: vec![],
            warnings: vec![],
            refusals: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
            retired: vec![],
            info: vec![],
        };
        PlanDocument::new("v26.0", vec![account, quiet])
    }

    #[test]
    fn text_plan() {
        insta::assert_snapshot!(text::render(&sample(), RenderOptions::plain(Mode::Plan)));
    }

    #[test]
    fn text_drift() {
        insta::assert_snapshot!(text::render(&sample(), RenderOptions::plain(Mode::Drift)));
    }

    #[test]
    fn markdown_plan() {
        insta::assert_snapshot!(markdown::render(&sample(), Mode::Plan));
    }

    #[test]
    fn json_plan() {
        insta::assert_snapshot!(json::render(&sample()));
    }

    #[test]
    fn colours_only_when_asked() {
        let plain = text::render(&sample(), RenderOptions::plain(Mode::Plan));
        assert!(!plain.contains('\x1b'));
        let coloured = text::render(
            &sample(),
            RenderOptions {
                mode: Mode::Plan,
                color: true,
            },
        );
        assert!(coloured.contains("\x1b["));
    }

    /// Records what is written, one `write` call at a time.
    #[derive(Default)]
    struct Chunks(Vec<Vec<u8>>);

    impl std::io::Write for Chunks {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Chunks {
        fn text(&self) -> String {
            String::from_utf8(self.0.concat()).unwrap()
        }
        fn largest(&self) -> usize {
            self.0.iter().map(Vec::len).max().unwrap_or(0)
        }
    }

    /// `plan`, `apply` and `drift` print through `render_to`: byte for byte the strings the
    /// snapshots pin, written a part at a time (never the whole document in one piece).
    #[test]
    fn streamed_renderings_are_the_snapshotted_strings() {
        let doc = sample();
        for mode in [Mode::Plan, Mode::Drift] {
            for color in [false, true] {
                let opts = RenderOptions { mode, color };
                let mut out = Chunks::default();
                text::render_to(&mut out, &doc, opts).unwrap();
                let whole = text::render(&doc, opts);
                assert_eq!(out.text(), whole);
                assert!(
                    out.largest() < whole.len(),
                    "{mode:?}: written in one piece"
                );
            }
            let mut out = Chunks::default();
            markdown::render_to(&mut out, &doc, mode).unwrap();
            let whole = markdown::render(&doc, mode);
            assert_eq!(out.text(), whole);
            assert!(
                out.largest() < whole.len(),
                "{mode:?}: written in one piece"
            );
        }
        let mut out = Chunks::default();
        json::render_to(&mut out, &doc).unwrap();
        assert_eq!(out.text(), json::render(&doc));
        assert!(out.largest() < json::render(&doc).len());
        assert_eq!(
            serde_json::from_str::<PlanDocument>(&out.text()).unwrap(),
            doc
        );
    }

    /// A closed stdout (`convctl plan | head -1`) is an error the command reports, not a panic.
    #[test]
    fn a_closed_output_is_an_error() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let doc = sample();
        assert!(text::render_to(&mut Closed, &doc, RenderOptions::plain(Mode::Plan)).is_err());
        assert!(markdown::render_to(&mut Closed, &doc, Mode::Plan).is_err());
        assert!(json::render_to(&mut Closed, &doc).is_err());
    }

    #[test]
    fn empty_plans_say_no_changes() {
        let doc = PlanDocument::new("v26.0", vec![]);
        assert_eq!(
            text::render(&doc, RenderOptions::plain(Mode::Plan)),
            "No changes.\n"
        );
    }
}
