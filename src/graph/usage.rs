//! The rate-limit usage headers (reference: Rate-limit headers), read as Meta means them: the
//! app's and the ad account's usage in percent (pacing input), how long until the usage score
//! has decayed to 0 (`reset_time_duration`: **not** a block), and how long until a blocked
//! business or account regains access (`estimated_time_to_regain_access`, minutes, above 0 only
//! while blocked).
//!
//! Evidence (docs/api-fidelity.md): Meta's own sample `{"acc_id_util_pct": 9.67,
//! "reset_time_duration": 100, ...}` is 9.67% used with a non-zero reset time; Airbyte's
//! source-facebook-marketing (`api.py`, `_parse_call_rate_header` / `_handle_call_rate_limit`)
//! reads only the percentages and `estimated_time_to_regain_access`, and pauses only at high
//! usage. So a block comes only from usage at 100% ([`Usage::block`]) or from a throttling
//! error (the transport's business).
//!
//! Headers are absent until an app has made enough calls, and may be garbage: every parse
//! failure is "unknown", never an error. This module only reads; the limiter acts on it.

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
            usage.account_pct = max_opt(
                usage.account_pct,
                acc.get("acc_id_util_pct").and_then(number),
            );
            if let Some(secs) = acc.get("reset_time_duration").and_then(number) {
                usage.reset = longer(usage.reset, seconds(secs));
            }
        }
        if let Some(Value::Object(businesses)) = get(BUC_USAGE).and_then(parse_json) {
            for entries in businesses.values() {
                let entries: Vec<&Value> = match entries {
                    Value::Array(items) => items.iter().collect(),
                    Value::Object(_) => vec![entries],
                    _ => continue,
                };
                for entry in entries {
                    usage.account_pct = max_opt(
                        usage.account_pct,
                        max_of(entry, &["call_count", "total_time", "total_cputime"]),
                    );
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
    pub(crate) fn block(&self) -> Option<(Duration, bool, bool)> {
        let app_full = self.app_pct.is_some_and(|p| p >= FULL);
        let account_full = self.account_pct.is_some_and(|p| p >= FULL);
        if !(app_full || account_full) {
            return None;
        }
        self.wait().map(|w| (w, app_full, account_full))
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
        assert_eq!(u.block(), None, "95% is pacing input, not a block");
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
        assert_eq!(u.block(), None);
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
        assert_eq!(u.block(), Some((Duration::from_secs(120), false, true)));
        let only_reset = read(&[(
            "X-Ad-Account-Usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":45}"#,
        )]);
        assert_eq!(
            only_reset.block(),
            Some((Duration::from_secs(45), false, true))
        );
        let app = read(&[
            ("X-App-Usage", r#"{"call_count":100}"#),
            (
                "X-Business-Use-Case-Usage",
                r#"{"1":[{"call_count":10,"estimated_time_to_regain_access":1}]}"#,
            ),
        ]);
        assert_eq!(app.block(), Some((Duration::from_secs(60), true, false)));
        let no_figure = read(&[("X-App-Usage", r#"{"call_count":100}"#)]);
        assert_eq!(no_figure.block(), None);
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
                regain: None
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
