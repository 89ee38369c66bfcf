//! Exact twins: when a second live conversion with an entry's name is a duplicate convctl may
//! delete. Only the same conversion made twice (two applies that met, a create whose answer was
//! lost) is: equal to the kept one in every field the API reported for both, and reported in
//! every field the manifest declares (a field neither answer carries cannot show that they
//! are the same). Anything else (its own pixel, description or value, another action source)
//! was made by someone on purpose: not a duplicate, and nothing is deleted.

use super::fields::desired_state;
use crate::manifest::DesiredConversion;
use crate::model::LiveConversion;
use crate::plan::{ConversionState, Field};

/// Why a copy is not a twin of the kept one: a field where they differ, or one the manifest
/// declares that neither answer reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unproven {
    Differs(Field),
    NotReported(Field),
}

/// The copies among `candidates` (besides `kept`) when each is an exact twin of `kept`; else
/// every one that is not, with why.
#[allow(clippy::type_complexity)]
pub(super) fn twins_of<'a>(
    entry: &DesiredConversion,
    kept: &LiveConversion,
    candidates: &[&'a LiveConversion],
) -> Result<Vec<&'a LiveConversion>, Vec<(&'a LiveConversion, Vec<Unproven>)>> {
    let declared = desired_state(entry);
    let have = ConversionState::from_live(kept);
    let mut twins = Vec::new();
    let mut others = Vec::new();
    for copy in candidates.iter().copied().filter(|c| c.id != kept.id) {
        let unproven = unproven(&declared, &have, &ConversionState::from_live(copy));
        if unproven.is_empty() {
            twins.push(copy);
        } else {
            others.push((copy, unproven));
        }
    }
    if others.is_empty() {
        Ok(twins)
    } else {
        Err(others)
    }
}

fn unproven(declared: &ConversionState, a: &ConversionState, b: &ConversionState) -> Vec<Unproven> {
    Field::ALL
        .into_iter()
        .filter_map(|f| match (a.get(f), b.get(f)) {
            (Some(x), Some(y)) if x == y => None,
            (None, None) if declared.get(f).is_none() => None,
            (None, None) => Some(Unproven::NotReported(f)),
            _ => Some(Unproven::Differs(f)),
        })
        .collect()
}

/// `2 differs from 1 in description and event_source_id; 3 ... (not reported for either)`.
pub(super) fn not_twins(
    kept: &LiveConversion,
    others: &[(&LiveConversion, Vec<Unproven>)],
) -> String {
    others
        .iter()
        .map(|(copy, why)| {
            let differs: Vec<&str> = why
                .iter()
                .filter_map(|u| match u {
                    Unproven::Differs(f) => Some(f.as_str()),
                    Unproven::NotReported(_) => None,
                })
                .collect();
            let unknown: Vec<&str> = why
                .iter()
                .filter_map(|u| match u {
                    Unproven::NotReported(f) => Some(f.as_str()),
                    Unproven::Differs(_) => None,
                })
                .collect();
            let mut text = format!("{} is not a copy of {}:", copy.id, kept.id);
            if !differs.is_empty() {
                text.push_str(&format!(" it differs in {}", differs.join(", ")));
            }
            if !unknown.is_empty() {
                text.push_str(&format!(
                    "{} the API reported neither one's {}, which the manifest declares",
                    if differs.is_empty() { "" } else { ";" },
                    unknown.join(", ")
                ));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{entry, live};

    const RULE: &str = r#"{"url":{"i_contains":"x"}}"#;

    #[test]
    fn only_a_copy_equal_in_every_reported_field_is_a_twin() {
        let e = entry("A", RULE);
        let kept = live("1", "A", RULE);
        let twin = live("2", "A", RULE);
        assert_eq!(twins_of(&e, &kept, &[&kept, &twin]).unwrap().len(), 1);
        let mut own = live("3", "A", RULE);
        own.event_source_id = Some("99".into());
        own.description = Some("by hand".into());
        let err = twins_of(&e, &kept, &[&twin, &own]).unwrap_err();
        assert_eq!(
            err[0].1,
            [
                Unproven::Differs(Field::Description),
                Unproven::Differs(Field::EventSourceId)
            ]
        );
        assert_eq!(
            not_twins(&kept, &err),
            "3 is not a copy of 1: it differs in description, event_source_id"
        );
        // Reported for one only: not shown to be the same.
        let mut half = live("4", "A", RULE);
        half.action_source_type = None;
        assert!(twins_of(&e, &kept, &[&half]).is_err());
    }

    #[test]
    fn a_declared_field_neither_answer_reports_proves_nothing() {
        let mut e = entry("A", RULE);
        let mut kept = live("1", "A", RULE);
        let mut copy = live("2", "A", RULE);
        kept.action_source_type = None;
        copy.action_source_type = None;
        // Not declared: nothing to prove.
        assert!(twins_of(&e, &kept, &[&copy]).is_ok());
        e.action_source_type = Some("website".parse().unwrap());
        let err = twins_of(&e, &kept, &[&copy]).unwrap_err();
        assert_eq!(err[0].1, [Unproven::NotReported(Field::ActionSourceType)]);
        assert!(
            not_twins(&kept, &err).contains("reported neither one's action_source_type"),
            "{}",
            not_twins(&kept, &err)
        );
    }
}
