//! Creates whose answers were lost (see `write`): what fresh listings of their account say
//! about each, and so whether it is adopted, sent again, or reported uncertain.
//!
//! A listing shows that such a create was made when it holds a conversion that matches it
//! exactly, that no listing showed before the create was first sent and that this client has
//! not claimed: that one is adopted. Showing that the create was *not* made asks more, since
//! sending it again when it was made makes a second copy. The listing must be:
//! - **whole**: it holds every conversion this client knows to be in the account (listed before
//!   the check began, or made or adopted by this client), except those it sent a delete for. An
//!   answer that lacks one (`"data": []` from a damaged or lagging answer) cannot show that the
//!   create is absent either;
//! - **without a likeness**: no conversion that appeared since the create was first sent, and
//!   that this client has not claimed, has the create's name or its rule (by meaning). Such a
//!   conversion is most likely this create as the API stored or listed it (a field rewritten or
//!   damaged on the way); the real API refuses a second conversion with the same rule anyway.
//!
//! The account is listed twice, a short pause apart (a create may show up in lists a moment
//! late). When the second listing fails either test, the create is reported
//! [`ErrorKind::Uncertain`], saying what the listing lacked or which conversion is like it,
//! and never sent again. Only a listing that passes both lets it be sent again, and its result
//! is then [`WriteOutcome::Resent`]: a listing that leaves out exactly the conversion the first
//! attempt made, and nothing else this client knows of, cannot be told from the truth
//! (docs/api-fidelity.md), so the caller says that the create was sent twice.

use super::client::{Inner, Ledger};
use super::error::{ErrorKind, GraphError};
use super::list::Listed;
use super::write::{Job, WriteResult};
use crate::model::ids::{AdAccountId, ConversionId};
use crate::model::names::stored;
use crate::model::{LiveConversion, NewConversion, WriteOp, WriteOutcome};
use crate::rule::Rule;
use serde_json::Value;
use std::collections::HashSet;

/// At most this many ids are named when a listing lacks known conversions.
const NAMED_IDS: usize = 5;

/// Why a listing cannot show that a lost create was not made.
#[derive(Clone, Debug, PartialEq)]
enum Doubt {
    /// Conversions known to be in the account that the listing lacks.
    NotWhole(Vec<ConversionId>),
    /// A conversion that appeared since the create was first sent, with its name or its rule,
    /// and the fields in which it differs.
    Likeness {
        id: ConversionId,
        differs: Vec<&'static str>,
    },
}

impl Doubt {
    /// The create's result: uncertain, with why it was not sent again. `lost` says how its
    /// answer was lost.
    fn into_error(self, lost: &GraphError) -> GraphError {
        let why = match self {
            Doubt::NotWhole(ids) => {
                let mut named: Vec<String> = ids
                    .iter()
                    .take(NAMED_IDS)
                    .map(ToString::to_string)
                    .collect();
                if ids.len() > NAMED_IDS {
                    named.push(format!("and {} more", ids.len() - NAMED_IDS));
                }
                let count = match ids.len() {
                    1 => "a conversion".to_string(),
                    n => format!("{n} conversions"),
                };
                format!(
                    "the account's listing lacks {count} known to be there ({}), so it cannot show that the create was not made",
                    named.join(", ")
                )
            }
            Doubt::Likeness { id, differs } => format!(
                "the account's listing shows conversion {id}, new since the create was sent, like it but for its {}: it may be this create as the API stored or listed it",
                differs.join(", ")
            ),
        };
        GraphError::new(
            ErrorKind::Uncertain,
            format!(
                "the answer to this create was lost ({}) and {why}; it was not sent again: check the account (convctl plan) before applying again",
                lost.message()
            ),
        )
    }
}

impl Inner {
    /// Creates of `acc` whose answers were lost, after every request of their round has
    /// settled: adopted, reported uncertain (`finish`), or pushed onto `again` to be sent once
    /// more (see the module documentation). If listing fails, the create is reported
    /// uncertain, never repeated.
    pub(super) async fn resolve_lost_creates(
        &self,
        acc: &AdAccountId,
        lost: Vec<(Job, GraphError)>,
        finish: &mut impl FnMut(Job, WriteResult),
        again: &mut Vec<Job>,
    ) {
        // What the account holds as far as this client knows, before any check is listed (a
        // damaged check must not widen it).
        let known = self.known_in(acc);
        let mut open: Vec<(Job, GraphError, Option<Doubt>)> =
            lost.into_iter().map(|(job, e)| (job, e, None)).collect();
        for check in 0..2 {
            if check > 0 {
                if open.is_empty() {
                    return;
                }
                tokio::time::sleep(self.transport.policy.base_delay).await;
            }
            let listed = match self.fetch_all(acc).await {
                Ok(listed) => listed,
                Err(e) => {
                    for (job, error, _) in open {
                        let error = GraphError::new(
                            ErrorKind::Uncertain,
                            format!(
                                "the answer to this create was lost ({}) and listing the account to check it failed ({}); \
                                 it may exist now: check the account (convctl plan) before applying again",
                                error.message(),
                                e.message()
                            ),
                        );
                        finish(job, Err(error));
                    }
                    return;
                }
            };
            let shown: HashSet<&ConversionId> = listed.iter().map(|(c, _)| &c.id).collect();
            let mut lacking: Vec<ConversionId> = known
                .iter()
                .filter(|id| !shown.contains(id))
                .cloned()
                .collect();
            lacking.sort();
            // Exact matches first, for every lost create, so that a create never takes
            // another one's conversion for a likeness of its own.
            let mut unmatched = Vec::new();
            for (job, error, _) in open {
                match self.adopt(acc, &job, &listed) {
                    Some(id) => {
                        self.transport.log(|| {
                            format!("{acc}: adopted conversion {id} as the result of a create whose answer was lost")
                        });
                        finish(job, Ok(WriteOutcome::Adopted(id)));
                    }
                    None => unmatched.push((job, error)),
                }
            }
            open = unmatched
                .into_iter()
                .map(|(job, error)| {
                    let doubt = self.likeness(acc, &job, &listed).or_else(|| {
                        (!lacking.is_empty()).then(|| Doubt::NotWhole(lacking.clone()))
                    });
                    (job, error, doubt)
                })
                .collect();
            self.remember(acc, &listed);
        }
        for (mut job, error, doubt) in open {
            if let Some(doubt) = doubt {
                let error = doubt.into_error(&error);
                self.transport.log(|| format!("{acc}: {error}"));
                finish(job, Err(error));
                continue;
            }
            // Not made after all, as far as a whole listing can tell: safe to send again.
            match job.backoff.next(None) {
                Some(d) => {
                    job.wait = d;
                    job.resent = true;
                    again.push(job);
                }
                None => {
                    let error = job.backoff.exhausted(error);
                    finish(job, Err(error));
                }
            }
        }
    }

    /// The ids this client knows to be in `account`: listed, or made or adopted by this
    /// client, and not sent a delete.
    fn known_in(&self, account: &AdAccountId) -> HashSet<ConversionId> {
        let ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let listed = ledger.seen.get(account).into_iter().flat_map(|s| s.keys());
        let claimed = ledger.claimed.get(account).into_iter().flatten();
        listed
            .chain(claimed)
            .filter(|id| !ledger.deleting.contains(*id))
            .cloned()
            .collect()
    }

    /// A conversion of a fresh listing that is exactly what `job` would have created, new
    /// since it was first sent and not already claimed. Claims it.
    fn adopt(&self, account: &AdAccountId, job: &Job, listed: &Listed) -> Option<ConversionId> {
        let WriteOp::Create { conversion, .. } = &job.op else {
            return None;
        };
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let found = new_since(&ledger, account, job, listed)
            .find(|c| matches_exactly(conversion, c))
            .map(|c| c.id.clone())?;
        ledger
            .claimed
            .entry(account.clone())
            .or_default()
            .insert(found.clone());
        ledger.owner.insert(found.clone(), account.clone());
        Some(found)
    }

    /// A conversion new since `job` was first sent, not claimed, that has its name or its
    /// rule but is not an exact match.
    fn likeness(&self, account: &AdAccountId, job: &Job, listed: &Listed) -> Option<Doubt> {
        let WriteOp::Create { conversion, .. } = &job.op else {
            return None;
        };
        let ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        new_since(&ledger, account, job, listed)
            .find(|c| resembles(conversion, c))
            .map(|c| Doubt::Likeness {
                id: c.id.clone(),
                differs: differences(conversion, c),
            })
    }
}

/// The conversions of `listed` that no listing showed before `job` was first sent and that
/// this client has not claimed: those that may be its result.
fn new_since<'l>(
    ledger: &'l Ledger,
    account: &AdAccountId,
    job: &'l Job,
    listed: &'l Listed,
) -> impl Iterator<Item = &'l LiveConversion> {
    let seen = ledger.seen.get(account);
    let claimed = ledger.claimed.get(account);
    listed.iter().map(|(c, _)| c).filter(move |c| {
        let seen_before = seen
            .and_then(|s| s.get(&c.id))
            .is_some_and(|at| job.first_try.is_none_or(|first| *at < first));
        !seen_before && !claimed.is_some_and(|ids| ids.contains(&c.id))
    })
}

/// Would creating `want` have produced `live`? Fields the listing does not carry are unknown
/// and do not count against a match; rules compare by meaning.
fn matches_exactly(want: &NewConversion, live: &LiveConversion) -> bool {
    differences(want, live).is_empty()
}

/// Has `live` the name or the rule (by meaning) of `want`? A field the listing does not carry
/// shows no likeness.
fn resembles(want: &NewConversion, live: &LiveConversion) -> bool {
    let same_known_rule = |w: &Option<String>, l: &Option<String>| {
        w.is_some() && l.is_some() && same_json_rule(w.as_deref(), l.as_deref())
    };
    live.name.as_deref().map(stored) == Some(stored(&want.name))
        || same_known_rule(&want.rule, &live.rule)
        || same_known_rule(&want.advanced_rule, &live.advanced_rule)
}

/// The fields in which `live` is not what creating `want` would have made; a field the
/// listing does not carry is unknown and never a difference, except the name (a conversion
/// whose name is unknown is never taken for one that has a name).
fn differences(want: &NewConversion, live: &LiveConversion) -> Vec<&'static str> {
    fn same_text(want: Option<&str>, live: Option<&str>) -> bool {
        match (want, live) {
            (Some(w), Some(l)) => w == l,
            _ => true,
        }
    }
    let value_matches = match live.default_conversion_value {
        Some(v) => {
            (v - want.default_conversion_value).abs() < 1e-9
                || v == want.default_conversion_value.round()
                || v == want.default_conversion_value.trunc()
        }
        None => true,
    };
    let checks = [
        ("archived state", !live.is_archived),
        ("name", live.name.as_deref() == Some(want.name.as_str())),
        (
            "description",
            live.description
                .as_deref()
                .is_none_or(|d| d == want.description),
        ),
        (
            "rule",
            same_json_rule(want.rule.as_deref(), live.rule.as_deref()),
        ),
        (
            "advanced rule",
            same_json_rule(want.advanced_rule.as_deref(), live.advanced_rule.as_deref()),
        ),
        (
            "event type",
            same_text(
                want.custom_event_type.map(|t| t.as_str()),
                live.custom_event_type.as_deref(),
            ),
        ),
        (
            "event source",
            same_text(
                want.event_source_id.as_ref().map(|i| i.as_str()),
                live.event_source_id.as_deref(),
            ),
        ),
        (
            "action source",
            same_text(
                want.action_source_type.map(|t| t.as_str()),
                live.action_source_type.as_deref(),
            ),
        ),
        ("value", value_matches),
    ];
    checks
        .iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| *field)
        .collect()
}

/// The same rule by meaning (or, for text that is not a rule, as JSON). A rule `want` does
/// not have never matches one the listing shows; one the listing does not carry is unknown.
fn same_json_rule(want: Option<&str>, live: Option<&str>) -> bool {
    match (want, live) {
        (Some(w), Some(l)) => match (Rule::from_json_str(w), Rule::from_json_str(l)) {
            (Ok(a), Ok(b)) => a == b,
            _ => serde_json::from_str::<Value>(w)
                .ok()
                .zip(serde_json::from_str::<Value>(l).ok())
                .is_some_and(|(a, b)| a == b),
        },
        (None, Some(_)) => false,
        (_, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> NewConversion {
        NewConversion {
            name: "n".into(),
            description: "d".into(),
            rule: Some(r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":1}}]}"#.into()),
            advanced_rule: None,
            custom_event_type: Some("PURCHASE".parse().unwrap()),
            event_source_id: None,
            action_source_type: None,
            default_conversion_value: 12.0,
        }
    }

    /// `want()` as the API lists it once made: its own serialisation, fields it leaves out.
    fn listed() -> LiveConversion {
        LiveConversion {
            id: ConversionId::parse("501").unwrap(),
            name: Some("n".into()),
            description: Some("d".into()),
            rule: Some(
                r#"{"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 1.0}}]}"#.into(),
            ),
            advanced_rule: None,
            custom_event_type: None,
            event_source_id: Some("5550001".into()),
            action_source_type: None,
            default_conversion_value: Some(12.0),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        }
    }

    /// Rules by meaning, fields the listing leaves out unknown, but never an unknown name.
    #[test]
    fn an_exact_match_is_by_meaning_and_unknown_fields_do_not_count() {
        assert!(matches_exactly(&want(), &listed()));
        let nameless = LiveConversion {
            name: None,
            ..listed()
        };
        assert_eq!(differences(&want(), &nameless), ["name"]);
        let other = LiveConversion {
            rule: Some(r#"{"url":{"i_contains":"x"}}"#.into()),
            description: Some("e".into()),
            is_archived: true,
            ..listed()
        };
        assert_eq!(
            differences(&want(), &other),
            ["archived state", "description", "rule"]
        );
    }

    /// A likeness is the name or the rule (by meaning); a field the listing leaves out shows
    /// none.
    #[test]
    fn a_likeness_is_the_name_or_the_rule() {
        let renamed = LiveConversion {
            name: Some("other".into()),
            ..listed()
        };
        assert!(resembles(&want(), &renamed), "the rule");
        let ruled = LiveConversion {
            rule: Some("garbage".into()),
            ..listed()
        };
        assert!(resembles(&want(), &ruled), "the name");
        let spaced = LiveConversion {
            name: Some(" n ".into()),
            rule: None,
            ..listed()
        };
        assert!(resembles(&want(), &spaced), "the name as the API stores it");
        let unrelated = LiveConversion {
            name: None,
            rule: None,
            ..listed()
        };
        assert!(!resembles(&want(), &unrelated), "unknown is no likeness");
        let someone_elses = LiveConversion {
            name: Some("other".into()),
            rule: Some(r#"{"url":{"i_contains":"x"}}"#.into()),
            ..listed()
        };
        assert!(!resembles(&want(), &someone_elses));
    }

    #[test]
    fn a_listing_that_is_not_whole_names_what_it_lacks() {
        let lost = GraphError::new(ErrorKind::Network, "the connection failed");
        let ids: Vec<ConversionId> = (1..=7)
            .map(|i| ConversionId::parse(&i.to_string()).unwrap())
            .collect();
        let error = Doubt::NotWhole(ids).into_error(&lost);
        assert_eq!(error.kind, ErrorKind::Uncertain);
        assert_eq!(
            error.message(),
            "the answer to this create was lost (the connection failed) and the account's listing lacks 7 conversions \
             known to be there (1, 2, 3, 4, 5, and 2 more), so it cannot show that the create was not made; it was not \
             sent again: check the account (convctl plan) before applying again"
        );
    }
}
