//! The offline half of `convctl test`: every `tests.match` / `tests.no_match` example of the
//! manifests evaluated against its conversion's rule with the same evaluation the emulator
//! uses. Pure: it returns outcomes; `render::rule_tests` shows them.

use super::{Diagnostic, Location, Manifests, RuleSpec, Severity};
use crate::rule::{EvalError, Event, Rule};

/// The outcome of one example event.
pub(crate) struct ExampleOutcome<'a> {
    pub(crate) account: &'a str,
    pub(crate) conversion: &'a str,
    pub(crate) expect_match: bool,
    pub(crate) index: usize,
    pub(crate) event: &'a Event,
    pub(crate) location: Option<&'a Location>,
    pub(crate) passed: bool,
    /// For failures: the conditions that decided the outcome.
    pub(crate) why: Vec<String>,
    /// The rule could not be evaluated against the event (a `regex_match` too expensive for
    /// PCRE): a failure, never a guessed outcome.
    pub(crate) error: Option<EvalError>,
}

/// Every example's outcome, and how many conversions have no example at all.
pub(crate) struct RuleTestRun<'a> {
    pub(crate) outcomes: Vec<ExampleOutcome<'a>>,
    pub(crate) untested: usize,
}

impl RuleTestRun<'_> {
    /// How many examples failed.
    pub(crate) fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count()
    }
}

/// Runs every rule test of the manifests.
pub(crate) fn run(manifests: &Manifests) -> RuleTestRun<'_> {
    let mut outcomes = Vec::new();
    let mut untested = 0usize;
    for account in &manifests.accounts {
        for c in &account.conversions {
            let Some(RuleSpec::Rule(rule)) = &c.rule else {
                continue;
            };
            let cases = c
                .tests
                .matches
                .iter()
                .map(|e| (true, e))
                .enumerate()
                .chain(c.tests.no_match.iter().map(|e| (false, e)).enumerate());
            let mut any = false;
            for (index, (expect_match, event)) in cases {
                any = true;
                let locations = if expect_match {
                    &c.tests.match_locations
                } else {
                    &c.tests.no_match_locations
                };
                let (passed, error) = match rule.matches(event) {
                    Ok(matched) => (matched == expect_match, None),
                    Err(e) => (false, Some(e)),
                };
                outcomes.push(ExampleOutcome {
                    account: account.account.as_str(),
                    conversion: &c.name,
                    expect_match,
                    index,
                    event,
                    location: locations.get(index),
                    passed,
                    why: if passed || error.is_some() {
                        Vec::new()
                    } else {
                        explain(rule, event, expect_match)
                    },
                    error,
                });
            }
            if !any {
                untested += 1;
            }
        }
    }
    RuleTestRun { outcomes, untested }
}

impl ExampleOutcome<'_> {
    /// `match` or `no_match`: which list the example is in.
    pub(crate) fn expect(&self) -> &'static str {
        if self.expect_match {
            "match"
        } else {
            "no_match"
        }
    }

    /// A failed example as a finding at the example's location.
    pub(crate) fn diagnostic(&self) -> Diagnostic {
        let event = serde_json::to_string(self.event).unwrap_or_default();
        if let Some(e) = &self.error {
            return Diagnostic {
                severity: Severity::Error,
                location: self.location.cloned(),
                message: format!(
                    "{} \"{}\": the rule cannot be evaluated against this event ({}[{}]): {event}: {e}",
                    self.account,
                    self.conversion,
                    self.expect(),
                    self.index
                ),
                hint: Some(if matches!(e, EvalError::TooExpensive { .. }) {
                    "PCRE gave up rather than answer: convctl counts that as an error, never as a match or a miss; simplify the pattern".into()
                } else {
                    "fix the pattern".into()
                }),
            };
        }
        let verdict = if self.expect_match {
            "should match this event, but does not"
        } else {
            "should not match this event, but does"
        };
        let why = if self.why.is_empty() {
            String::new()
        } else if self.expect_match {
            format!("; false: {}", self.why.join(", "))
        } else {
            format!("; true: {}", self.why.join(", "))
        };
        Diagnostic {
            severity: Severity::Error,
            location: self.location.cloned(),
            message: format!(
                "{} \"{}\": the rule {verdict} ({}[{}]): {event}{why}",
                self.account,
                self.conversion,
                self.expect(),
                self.index
            ),
            hint: Some("fix the rule, or the example event if the rule is right".into()),
        }
    }
}

/// The conditions that made a rule miss (false ones) or match (true ones) an event.
fn explain(rule: &Rule, event: &Event, expect_match: bool) -> Vec<String> {
    rule.conditions()
        .into_iter()
        .filter(|c| {
            Rule::Leaf((*c).clone())
                .matches(event)
                .is_ok_and(|m| m != expect_match)
        })
        .map(|c| Rule::Leaf(c.clone()).to_api_string())
        .collect()
}
