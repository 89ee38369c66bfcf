//! The rate-limit usage headers (reference: Rate-limit headers), read as Meta means them: the
//! app's and the ad account's usage in percent (pacing input), how long until the usage score
//! has decayed to 0 (`reset_time_duration`: **not** a block), and how long until a blocked
//! business or account regains access (`estimated_time_to_regain_access`, minutes, above 0 only
//! while blocked).
//!
//! Evidence (docs/api-fidelity.md): Meta's own sample `{"acc_id_util_pct": 9.67,
//! "reset_time_duration": 100, ...}` is 9.67% used with a non-zero reset time; Airbyte's
//! source-facebook-marketing 6.1.9 (`api.py`) takes the highest percentage of the three headers
//! and pauses only from 85% (at least 2 minutes; from 95% at least 10), stretched to
//! `reset_time_duration` or `estimated_time_to_regain_access` when longer. So a non-zero reset
//! is no reason to wait on its own: a block comes only from usage at 100% ([`Usage::block`]) or
//! from a throttling error (the transport's business).
//!
//! `X-Ad-Account-Usage` also tells the ad-account score exactly (`model::access_tier`):
//! `acc_id_util_pct` is the score in percent of the tier's maximum, `ads_api_access_tier` the
//! tier, and `reset_time_duration` the time the score takes to decay to 0, so how fast it
//! decays ([`Usage::score`]). The limiter paces each account by that.
//!
//! Headers are absent until an app has made enough calls, and may be garbage: every parse
//! failure is "unknown", never an error. This module only reads; the limiter acts on it.

use super::error::BUC_THROTTLE_CODES;
use crate::model::access_tier::AccessTier;
use serde_json::Value;
use std::time::Duration;

/// What one answer's headers say.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Usage {
    /// `X-App-Usage`: the highest of call_count, total_time, total_cputime.
    pub(crate) app_pct: Option<f64>,
    /// The account's highest usage from `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`.
    pub(crate) account_pct: Option<f64>,
    /// `reset_time_duration`: seconds until the account's usage score decays to 0. Never a
    /// block on its own: it is non-zero whenever usage is above 0.
    pub(crate) reset: Option<Duration>,
    /// `estimated_time_to_regain_access` (minutes; the longest of the entries): above 0 only
    /// while that business or account is blocked.
    pub(crate) regain: Option<Duration>,
    /// `X-Ad-Account-Usage`'s `acc_id_util_pct` alone: the ad-account score in percent of the
    /// tier's maximum (with `tier`, what the limiter paces each account by).
    pub(crate) score_pct: Option<f64>,
    /// The highest figure of `X-Business-Use-Case-Usage`.
    pub(crate) business_pct: Option<f64>,
    /// `ads_api_access_tier` (either header), when it names a tier convctl knows.
    pub(crate) tier: Option<AccessTier>,
}

pub(crate) const APP_USAGE: &str = "x-app-usage";
pub(crate) const AD_ACCOUNT_USAGE: &str = "x-ad-account-usage";
pub(crate) const BUC_USAGE: &str = "x-business-use-case-usage";

/// Usage at which a scope counts as blocked (percent).
const FULL: f64 = 100.0;

impl Usage {
    /// Reads the headers through a lookup (response headers, or a batch entry's header list).
    pub(crate) fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Usage {
        let mut usage = Usage::default();
        if let Some(app) = get(APP_USAGE).and_then(parse_json) {
            usage.app_pct = max_of(&app, &["call_count", "total_time", "total_cputime"]);
        }
        if let Some(acc) = get(AD_ACCOUNT_USAGE).and_then(parse_json) {
            usage.score_pct = acc.get("acc_id_util_pct").and_then(number);
            usage.account_pct = max_opt(usage.account_pct, usage.score_pct);
            if let Some(secs) = acc.get("reset_time_duration").and_then(number) {
                usage.reset = longer(usage.reset, seconds(secs));
            }
            usage.tier = tier_of(&acc);
        }
        if let Some(Value::Object(businesses)) = get(BUC_USAGE).and_then(parse_json) {
            for entries in businesses.values() {
                let entries: Vec<&Value> = match entries {
                    Value::Array(items) => items.iter().collect(),
                    Value::Object(_) => vec![entries],
                    _ => continue,
                };
                for entry in entries {
                    usage.business_pct = max_opt(
                        usage.business_pct,
                        max_of(entry, &["call_count", "total_time", "total_cputime"]),
                    );
                    usage.account_pct = max_opt(usage.account_pct, usage.business_pct);
                    usage.tier = usage.tier.or_else(|| tier_of(entry));
                    if let Some(minutes) = entry
                        .get("estimated_time_to_regain_access")
                        .and_then(number)
                    {
                        usage.regain = longer(usage.regain, seconds(minutes * 60.0));
                    }
                }
            }
        }
        usage
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.app_pct.is_none()
            && self.account_pct.is_none()
            && self.reset.is_none()
            && self.regain.is_none()
    }

    /// The ad-account score as the limiter paces by it: the tier, the score in percent, and
    /// the time it takes to decay to 0 (`None`: the header gave 0). Only when both the
    /// percentage and a known tier are given.
    pub(crate) fn score(&self) -> Option<(AccessTier, f64, Option<Duration>)> {
        Some((self.tier?, self.score_pct?, self.reset))
    }

    /// How long the API says to wait: the shorter of the two regain figures that are given
    /// (never more than the API says). `None` when it gives neither.
    pub(crate) fn wait(&self) -> Option<Duration> {
        match (self.reset, self.regain) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A block the headers themselves impose: only when a usage figure is at 100%, for
    /// [`wait`](Self::wait) (the pacing pause at 100% when they give no figure). `(app,
    /// account)`: which scope is full.
    /// `scored`: the ad-account score paces the account by itself (see [`score`](Self::score)),
    /// so only the Business Use Case figure can block it here, for its own
    /// `estimated_time_to_regain_access`.
    pub(crate) fn block(&self, scored: bool) -> Option<(Duration, bool, bool)> {
        let app_full = self.app_pct.is_some_and(|p| p >= FULL);
        let account = match scored {
            true => self.business_pct,
            false => self.account_pct,
        };
        let account_full = account.is_some_and(|p| p >= FULL);
        if !(app_full || account_full) {
            return None;
        }
        let wait = match scored && !app_full {
            true => self.regain,
            false => self.wait(),
        };
        wait.map(|w| (w, app_full, account_full))
    }

    /// How long a throttling error with `code` asks to wait: a Business Use Case code
    /// (80000–80014) its own `estimated_time_to_regain_access`; the others the shorter figure
    /// ([`wait`](Self::wait)).
    pub(crate) fn wait_after(&self, code: Option<i64>) -> Option<Duration> {
        match code {
            Some(c) if BUC_THROTTLE_CODES.contains(&c) => self.regain,
            _ => self.wait(),
        }
    }

    /// `usage app 28% account 9.7% reset in 100s`, for verbose output.
    pub(crate) fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.app_pct {
            parts.push(format!("app {p}%"));
        }
        if let Some(p) = self.account_pct {
            parts.push(format!("account {p}%"));
        }
        if let Some(r) = self.reset {
            parts.push(format!("reset in {}s", r.as_secs_f64().ceil()));
        }
        if let Some(r) = self.regain {
            parts.push(format!("regain access in {}s", r.as_secs_f64().ceil()));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("usage {}", parts.join(" "))
        }
    }
}

/// `ads_api_access_tier` of a header object, when it names a known tier.
fn tier_of(object: &Value) -> Option<AccessTier> {
    object
        .get("ads_api_access_tier")
        .and_then(Value::as_str)
        .and_then(AccessTier::from_header)
}

fn parse_json(text: &str) -> Option<Value> {
    serde_json::from_str(text.trim()).ok()
}

/// A finite, non-negative number from a JSON number or numeric string.
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn max_of(object: &Value, keys: &[&str]) -> Option<f64> {
    keys.iter()
        .filter_map(|k| object.get(*k).and_then(number))
        .reduce(f64::max)
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Zero means "nothing to wait for". Capped at a day so that garbage cannot park the client.
fn seconds(secs: f64) -> Option<Duration> {
    (secs > 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

fn longer(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(headers: &[(&str, &str)]) -> Usage {
        let owned: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Usage::from_lookup(|name| {
            owned
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }

    #[test]
    fn reads_the_three_reference_headers() {
        let u = read(&[
            (
                "X-App-Usage",
                r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
            ),
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":9.7,"reset_time_duration":0,"ads_api_access_tier":"standard_access"}"#,
            ),
            (
                "X-Business-Use-Case-Usage",
                r#"{"123":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":1}]}"#,
            ),
        ]);
        assert_eq!(u.app_pct, Some(28.0));
        assert_eq!(u.account_pct, Some(95.0));
        assert_eq!(u.reset, None);
        assert_eq!(u.regain, Some(Duration::from_secs(60)));
        assert!(u.summary().contains("account 95%"));
        assert_eq!(u.block(false), None, "95% is pacing input, not a block");
    }

    /// Meta's documented sample: 9.67% used, the score decays to 0 in 100 s. Not a block.
    #[test]
    fn the_documented_sample_is_not_a_block() {
        let u = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct": 9.67, "reset_time_duration": 100, "ads_api_access_tier": "standard_access"}"#,
        )]);
        assert_eq!(u.account_pct, Some(9.67));
        assert_eq!(u.reset, Some(Duration::from_secs(100)));
        assert_eq!(u.regain, None);
        assert_eq!(u.block(false), None);
        // Meta's page prints the tier in single quotes: not JSON, so ignored.
        let odd = read(&[(
            "X-Ad-Account-Usage",
            "{'acc_id_util_pct': 9.67, 'reset_time_duration': 100}",
        )]);
        assert!(odd.is_empty());
    }

    /// At 100% the wait is the shorter of the two figures given, never more than the API says.
    #[test]
    fn full_usage_blocks_for_the_shorter_figure() {
        let u = read(&[
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":100,"reset_time_duration":300}"#,
            ),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":2}]}"#,
            ),
        ]);
        assert_eq!(
            u.block(false),
            Some((Duration::from_secs(120), false, true))
        );
        let only_reset = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":45}"#,
        )]);
        assert_eq!(
            only_reset.block(false),
            Some((Duration::from_secs(45), false, true))
        );
        let app = read(&[
            ("X-App-Usage", r#"{"call_count":100}"#),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"call_count":10,"estimated_time_to_regain_access":1}]}"#,
            ),
        ]);
        assert_eq!(
            app.block(false),
            Some((Duration::from_secs(60), true, false))
        );
        let no_figure = read(&[("X-App-Usage", r#"{"call_count":100}"#)]);
        assert_eq!(no_figure.block(false), None);
    }

    /// The score, its tier and decay come from `X-Ad-Account-Usage` alone; the Business Use
    /// Case figure is kept apart (and may name the tier too).
    #[test]
    fn the_score_and_its_tier() {
        let u = read(&[
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":5,"reset_time_duration":15,"ads_api_access_tier":"development_access"}"#,
            ),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"type":"ads_management","call_count":30,"estimated_time_to_regain_access":0}]}"#,
            ),
        ]);
        assert_eq!(
            u.score(),
            Some((AccessTier::Development, 5.0, Some(Duration::from_secs(15))))
        );
        assert_eq!((u.business_pct, u.account_pct), (Some(30.0), Some(30.0)));
        let idle = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":0,"reset_time_duration":0,"ads_api_access_tier":"standard_access"}"#,
        )]);
        assert_eq!(idle.score(), Some((AccessTier::Standard, 0.0, None)));
        let from_buc = read(&[
            ("X-Ad-Account-Usage", r#"{"acc_id_util_pct":1.5}"#),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"call_count":1,"ads_api_access_tier":"development_access"}]}"#,
            ),
        ]);
        assert_eq!(from_buc.score(), Some((AccessTier::Development, 1.5, None)));
        let unknown_tier = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"limited_access"}"#,
        )]);
        assert_eq!(unknown_tier.score(), None, "no tier, no score model");
    }

    /// A Business Use Case throttle lasts its own regain time, not the score's decay; the
    /// other throttles the shorter figure. Beside a known score, only a full Business Use
    /// Case figure blocks, for its regain time.
    #[test]
    fn each_throttle_waits_its_own_figure() {
        let u = read(&[
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":3,"reset_time_duration":1,"ads_api_access_tier":"standard_access"}"#,
            ),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":2}]}"#,
            ),
        ]);
        assert_eq!(u.wait_after(Some(80004)), Some(Duration::from_secs(120)));
        assert_eq!(u.wait_after(Some(17)), Some(Duration::from_secs(1)));
        assert_eq!(
            u.block(true),
            Some((Duration::from_secs(120), false, true)),
            "the Business Use Case figure is full"
        );
        let score_full = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":300,"ads_api_access_tier":"development_access"}"#,
        )]);
        assert_eq!(score_full.block(true), None, "the score paces by itself");
        assert_eq!(
            score_full.block(false),
            Some((Duration::from_secs(300), false, true))
        );
    }

    #[test]
    fn absence_and_garbage_are_unknown() {
        assert!(read(&[]).is_empty());
        let u = read(&[
            ("X-App-Usage", "not json"),
            (
                "X-Ad-Account-Usage",
                r#"{"acc_id_util_pct":"12.5","reset_time_duration":"garbage"}"#,
            ),
            ("X-Business-Use-Case-Usage", r#"["unexpected"]"#),
        ]);
        assert_eq!(
            u,
            Usage {
                app_pct: None,
                account_pct: Some(12.5),
                reset: None,
                regain: None,
                score_pct: Some(12.5),
                business_pct: None,
                tier: None,
            }
        );
        let u = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":-5,"reset_time_duration":1e300}"#,
        )]);
        assert_eq!(u.account_pct, None);
        assert_eq!(u.reset, Some(Duration::from_secs(86_400)));
    }
}
