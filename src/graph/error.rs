//! The one error type of the Graph API client, and how an API error is classified.
//!
//! Owns the mapping from Meta's error body (`code`, `error_subcode`, `is_transient`, HTTP
//! status) to an [`ErrorKind`] callers branch on, and the message a person reads: Meta's own
//! message, code, subcode, user message and `fbtrace_id` (users quote it to Meta), plus the
//! account and conversion concerned. It must never hold the token, the app secret, the
//! `appsecret_proof` or a `next` URL: every text that comes from outside passes through
//! [`Redactor`] before it is stored here.

use super::config::SettingNames;
use crate::model::ids::{AdAccountId, ConversionId};
use serde_json::Value;
use std::fmt;

/// What went wrong, in the terms a caller acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Bad settings (no token, unreadable token file, bad base URL or version): fix the command.
    Config,
    /// Code 190 / 102: the token is invalid, expired or revoked. Renew it.
    Auth,
    /// Code 200 / 10: the token (or its app) lacks a permission.
    Permission,
    /// Code 100 about `appsecret_proof`: the app requires the proof on calls from a server
    /// (none was sent: no app secret given) or the one sent is wrong (another app's secret).
    AppSecretProof,
    /// Code 100 subcode 33: the object does not exist (or cannot be seen with this token).
    NotFound,
    /// The account holds its maximum number of custom conversions.
    CapReached,
    /// Code 100 subcode 1760002: the account already holds a conversion with this rule
    /// (renamed and archived ones too). Never retried.
    DuplicateRule,
    /// Code 2700000 (subcode 2460004): Meta flagged the conversion and refuses every edit.
    Flagged,
    /// Code 100 otherwise: the request was refused as invalid.
    InvalidRequest,
    /// Code 368: the action is deemed abusive or is disallowed.
    Blocked,
    /// Code 2635: the API version is retired.
    DeprecatedVersion,
    /// A throttling code (4, 17, 32, 341, 613, 80000–80014) still refused after waiting.
    Throttled,
    /// A transient API failure (codes 1, 2, `is_transient`, HTTP 5xx) that outlived the retries.
    Transient,
    /// Connection refused/reset or timed out.
    Network,
    /// A write whose outcome could not be established (its answer was lost and checking failed).
    Uncertain,
    /// A paging `next` URL pointed away from the configured API host; not followed.
    UnsafeRedirect,
    /// An answer that is not what the Graph API sends (not JSON, missing fields).
    Protocol,
    /// Not sent: the client's [`Halt`](super::Halt) was pulled (the command is stopping).
    Halted,
    /// Any other API error.
    Api,
}

impl ErrorKind {
    /// Worth trying again (after a wait): transient failures, throttling, lost connections.
    pub(crate) fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled | ErrorKind::Transient | ErrorKind::Network
        )
    }

    /// What the user can do about it, when there is something to say; a setting to change is
    /// named as `names` says (the client knows no command line).
    fn hint(self, names: &SettingNames) -> Option<String> {
        let hint = match self {
            ErrorKind::Auth => format!("renew the access token ({})", names.access_token),
            ErrorKind::Permission => {
                "grant the token's app ads_management on this ad account".to_string()
            }
            ErrorKind::AppSecretProof => format!(
                "the app requires appsecret_proof on calls from a server: set {} to the secret of the token's app (App Dashboard, Settings, Basic)",
                names.app_secret
            ),
            ErrorKind::CapReached => {
                "an ad account holds at most 100 custom conversions: delete unused ones first"
                    .to_string()
            }
            ErrorKind::DuplicateRule => DUPLICATE_RULE_HINT.to_string(),
            ErrorKind::Flagged => {
                "Meta flagged this conversion (is_unavailable): it stopped counting events and refuses every edit; see Meta's flagged custom conversions help".to_string()
            }
            ErrorKind::DeprecatedVersion => format!(
                "pass a current {} (the newest this convctl knows is {}), or upgrade convctl",
                names.api_version,
                crate::model::api_versions::newest().name
            ),
            ErrorKind::Throttled => format!(
                "the API asks to slow down: try again later or lower {}",
                names.parallelism
            ),
            ErrorKind::Blocked => {
                "Meta refused this action as disallowed; see the user message".to_string()
            }
            _ => return None,
        };
        Some(hint)
    }
}

/// Throttling codes besides the Business Use Case range (reference: Errors).
pub(crate) const THROTTLE_CODES: &[i64] = &[4, 17, 32, 341, 613];

/// Business Use Case rate limits, one code per use case (80000 ads insights ... 80004
/// ads_management ... 80014): the whole range is throttling. Airbyte's connector
/// (`streams/common.py`, `FACEBOOK_RATE_LIMIT_ERROR_CODES`) retries 80000-80006 and 80008;
/// the reference names 80000-80014.
pub(crate) const BUC_THROTTLE_CODES: std::ops::RangeInclusive<i64> = 80_000..=80_014;
/// The subcode the emulator (and, by convention, the client) uses for "account at its cap".
pub(crate) const CAP_SUBCODE: i64 = 1_760_005;
/// "Duplicate Custom Conversion Rule" (reference: Custom conversions).
pub(crate) const DUPLICATE_RULE_SUBCODE: i64 = 1_760_002;
/// A flagged conversion's refusal of an edit (reference: Custom conversions).
pub(crate) const FLAGGED_CODE: i64 = 2_700_000;

/// What to do about a create refused as a duplicate rule.
const DUPLICATE_RULE_HINT: &str = "the ad account already holds a conversion with this rule (renaming or archiving one does not free its rule): change the rule, or remove the other one in Events Manager";
/// What a refused delete of a custom conversion means.
pub(crate) const DELETE_REFUSED_HINT: &str = "Meta lets few apps delete custom conversions, whatever the token's permissions: retire it instead (rename it) and archive it in Events Manager";

/// An error of the Graph API client. `Display` is written for a person; the fields and
/// accessors are for code (branch on `kind`, `code`, `subcode`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct GraphError {
    pub kind: ErrorKind,
    pub code: Option<i64>,
    pub(crate) subcode: Option<i64>,
    /// HTTP status of the answer (or of the batch sub-answer), when there was one.
    pub(crate) http_status: Option<u16>,
    /// How many attempts were made before giving up (1 = no retry).
    pub attempts: u32,
    /// The texts, boxed so that `Result<_, GraphError>` stays small.
    details: Box<Details>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Details {
    message: String,
    error_type: Option<String>,
    user_title: Option<String>,
    user_message: Option<String>,
    fbtrace_id: Option<String>,
    account: Option<AdAccountId>,
    conversion: Option<ConversionId>,
    conversion_name: Option<String>,
    /// What the user can do about it ([`ErrorKind::hint`]), worded when the error is built:
    /// only there are the caller's [`SettingNames`] known.
    hint: Option<String>,
}

impl GraphError {
    /// A failure that is not an API error (configuration, network, protocol), without a hint
    /// (see [`with_hint`](Self::with_hint)).
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        GraphError {
            kind,
            code: None,
            subcode: None,
            http_status: None,
            attempts: 1,
            details: Box::new(Details {
                message: message.into(),
                ..Details::default()
            }),
        }
    }

    /// The same error with an API error code (tests build refusals with it).
    #[cfg(test)]
    pub(crate) fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        GraphError::new(ErrorKind::Config, message)
    }

    /// Builds an error from an answer's status and body, with the hint of its kind (naming
    /// settings as `names` says); `None` when the body carries no `error` object (then the
    /// caller decides from the status). Texts are redacted.
    pub(crate) fn from_api_body(
        status: u16,
        body: &Value,
        redactor: &Redactor,
        names: &SettingNames,
    ) -> Option<Self> {
        let err = body.get("error")?;
        if !err.is_object() {
            return None;
        }
        let text = |key: &str| {
            err.get(key).and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(redactor.scrub(s)),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let number = |key: &str| err.get(key).and_then(json_i64);
        let code = number("code");
        let subcode = number("error_subcode");
        let transient = match err.get("is_transient") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let message = text("message")
            .unwrap_or_else(|| format!("the API answered HTTP {status} without a message"));
        let kind = classify(status, code, subcode, transient, &message);
        Some(GraphError {
            kind,
            code,
            subcode,
            http_status: Some(status),
            attempts: 1,
            details: Box::new(Details {
                message,
                error_type: text("type"),
                user_title: text("error_user_title"),
                user_message: text("error_user_msg"),
                fbtrace_id: text("fbtrace_id"),
                account: None,
                conversion: None,
                conversion_name: None,
                hint: kind.hint(names),
            }),
        })
    }

    /// The same error without its hint, for a caller that says what to do itself (an error
    /// quoted inside another sentence).
    pub(crate) fn without_hint(mut self) -> Self {
        self.details.hint = None;
        self
    }

    /// Replaces the hint with one the caller knows better (what a refused delete means).
    pub(crate) fn with_hint_text(mut self, hint: &str) -> Self {
        self.details.hint = Some(hint.to_string());
        self
    }

    /// Adds what the user can do about an error of this kind, if anything, naming the
    /// settings to change as `names` says.
    pub(crate) fn with_hint(mut self, names: &SettingNames) -> Self {
        self.details.hint = self.kind.hint(names);
        self
    }

    /// Meta's `message`, or ours for failures that are not API errors.
    pub fn message(&self) -> &str {
        &self.details.message
    }

    /// The ad account concerned, when known.
    pub fn account(&self) -> Option<&AdAccountId> {
        self.details.account.as_ref()
    }

    /// The conversion concerned, when it has an id.
    pub fn conversion(&self) -> Option<&ConversionId> {
        self.details.conversion.as_ref()
    }

    /// The conversion's name (creates have no id yet).
    pub fn conversion_name(&self) -> Option<&str> {
        self.details.conversion_name.as_deref()
    }

    /// Attaches the account concerned (kept when already set).
    pub(crate) fn with_account(mut self, account: Option<&AdAccountId>) -> Self {
        if self.details.account.is_none() {
            self.details.account = account.cloned();
        }
        self
    }

    /// The error without its account, for a line that names the account already.
    pub fn without_account(mut self) -> Self {
        self.details.account = None;
        self
    }

    /// Attaches the conversion concerned (kept when already set).
    pub(crate) fn with_conversion(mut self, id: Option<&ConversionId>, name: Option<&str>) -> Self {
        if self.details.conversion.is_none() {
            self.details.conversion = id.cloned();
        }
        if self.details.conversion_name.is_none() {
            self.details.conversion_name = name.map(str::to_string);
        }
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Refused for permission (codes 200-299 or 10): what Meta answers an app that may not
    /// delete custom conversions. (A refused `appsecret_proof` is not one:
    /// [`ErrorKind::AppSecretProof`].)
    pub(crate) fn is_permission_refusal(&self) -> bool {
        matches!(self.code, Some(200..=299 | 10))
    }

    /// Code 100 subcode 33: unknown object (or no permission to see it).
    pub(crate) fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.details;
        let mut subject = Vec::new();
        if let Some(account) = &d.account {
            subject.push(account.to_string());
        }
        match (&d.conversion, &d.conversion_name) {
            (Some(id), Some(name)) => subject.push(format!("conversion {id} ({name:?})")),
            (Some(id), None) => subject.push(format!("conversion {id}")),
            (None, Some(name)) => subject.push(format!("conversion {name:?}")),
            (None, None) => {}
        }
        if !subject.is_empty() {
            write!(f, "{}: ", subject.join(", "))?;
        }
        f.write_str(&d.message)?;
        let mut details = Vec::new();
        if let Some(code) = self.code {
            details.push(format!("code {code}"));
        }
        if let Some(subcode) = self.subcode {
            details.push(format!("subcode {subcode}"));
        }
        if let (None, Some(status)) = (self.code, self.http_status) {
            details.push(format!("HTTP {status}"));
        }
        if let Some(trace) = &d.fbtrace_id {
            details.push(format!("fbtrace_id {trace}"));
        }
        if self.attempts > 1 {
            details.push(format!("after {} attempts", self.attempts));
        }
        if !details.is_empty() {
            write!(f, " [{}]", details.join(", "))?;
        }
        match (&d.user_title, &d.user_message) {
            (Some(title), Some(msg)) => write!(f, "; Meta says: {title}: {msg}")?,
            (None, Some(msg)) | (Some(msg), None) => write!(f, "; Meta says: {msg}")?,
            (None, None) => {}
        }
        if let Some(hint) = &d.hint {
            write!(f, "\nhelp: {hint}")?;
        }
        Ok(())
    }
}

/// Maps an API error to its kind (reference: Errors).
fn classify(
    status: u16,
    code: Option<i64>,
    subcode: Option<i64>,
    transient: bool,
    message: &str,
) -> ErrorKind {
    match code {
        Some(190 | 102) => ErrorKind::Auth,
        Some(200..=299 | 10) => ErrorKind::Permission,
        Some(368) => ErrorKind::Blocked,
        Some(2635) => ErrorKind::DeprecatedVersion,
        Some(100) if subcode == Some(33) => ErrorKind::NotFound,
        Some(100) if subcode == Some(CAP_SUBCODE) => ErrorKind::CapReached,
        Some(100) if subcode == Some(DUPLICATE_RULE_SUBCODE) => ErrorKind::DuplicateRule,
        Some(FLAGGED_CODE) => ErrorKind::Flagged,
        Some(100) if message.contains("appsecret_proof") => ErrorKind::AppSecretProof,
        Some(100) => ErrorKind::InvalidRequest,
        Some(c) if THROTTLE_CODES.contains(&c) || BUC_THROTTLE_CODES.contains(&c) => {
            ErrorKind::Throttled
        }
        Some(1 | 2) => ErrorKind::Transient,
        _ if transient || status >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Api,
    }
}

/// An integer from a JSON number or a numeric string (the API sends both).
pub(crate) fn json_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Removes secrets from any text that came from outside before it is stored or printed:
/// the token, the app secret and the proof wherever they appear, and the value of any
/// `access_token=` / `appsecret_proof=` parameter (the real API copies them into `next` URLs).
/// Secrets shorter than 8 characters are not searched for (real tokens and app secrets are far
/// longer; the sandbox's dummy token `sandbox` must not turn every `--sandbox` into a blank).
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<crate::model::Secret>,
}

impl Redactor {
    pub(crate) fn new(secrets: Vec<crate::model::Secret>) -> Self {
        Redactor {
            secrets: secrets
                .into_iter()
                .filter(|s| s.expose().len() >= 8)
                .collect(),
        }
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "[redacted]");
            }
        }
        for key in ["access_token=", "appsecret_proof="] {
            out = scrub_parameter(&out, key);
        }
        out
    }
}

fn scrub_parameter(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let value_start = at + key.len();
        out.push_str(&rest[..value_start]);
        let value_len = rest[value_start..]
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(rest.len() - value_start);
        if value_len > 0 && !rest[value_start..].starts_with("[redacted]") {
            out.push_str("[redacted]");
        } else {
            out.push_str(&rest[value_start..value_start + value_len]);
        }
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::FLAG_NAMES;
    use crate::model::Secret;
    use serde_json::json;

    fn parse(status: u16, body: Value) -> GraphError {
        parse_named(status, body, &SettingNames::default())
    }

    fn parse_named(status: u16, body: Value, names: &SettingNames) -> GraphError {
        GraphError::from_api_body(status, &body, &Redactor::default(), names).unwrap()
    }

    #[test]
    fn classifies_reference_codes() {
        let kind = |code: i64, sub: Option<i64>| {
            let mut e = json!({"error": {"message": "m", "code": code}});
            if let Some(s) = sub {
                e["error"]["error_subcode"] = json!(s);
            }
            parse(400, e).kind
        };
        assert_eq!(kind(190, Some(463)), ErrorKind::Auth);
        assert_eq!(kind(200, None), ErrorKind::Permission);
        assert_eq!(kind(10, None), ErrorKind::Permission);
        assert_eq!(kind(100, Some(33)), ErrorKind::NotFound);
        assert_eq!(kind(100, Some(CAP_SUBCODE)), ErrorKind::CapReached);
        assert_eq!(kind(100, Some(1_760_002)), ErrorKind::DuplicateRule);
        assert_eq!(kind(2_700_000, Some(2_460_004)), ErrorKind::Flagged);
        assert_eq!(kind(100, None), ErrorKind::InvalidRequest);
        assert_eq!(kind(368, None), ErrorKind::Blocked);
        assert_eq!(kind(2635, None), ErrorKind::DeprecatedVersion);
        // Meta's two appsecret_proof refusals (reference: Authentication) are not a missing
        // permission: the advice is the app secret, never ads_management.
        for message in [
            "API calls from the server require an appsecret_proof argument",
            "Invalid appsecret_proof provided in the API argument",
        ] {
            let e = parse(
                400,
                json!({"error": {"message": message, "code": 100, "type": "GraphMethodException"}}),
            );
            assert_eq!(e.kind, ErrorKind::AppSecretProof, "{message}");
            assert!(!e.is_permission_refusal(), "never retired for: {message}");
        }
        for code in [
            4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009,
            80014,
        ] {
            assert_eq!(kind(code, None), ErrorKind::Throttled, "code {code}");
        }
        assert_eq!(kind(1, None), ErrorKind::Transient);
        assert_eq!(kind(2, None), ErrorKind::Transient);
        assert_eq!(kind(12345, None), ErrorKind::Api);
        assert_eq!(kind(80015, None), ErrorKind::Api);
        let transient = parse(
            400,
            json!({"error": {"message": "m", "code": 999, "is_transient": true}}),
        );
        assert_eq!(transient.kind, ErrorKind::Transient);
        assert!(!ErrorKind::DuplicateRule.is_retryable());
        assert!(!ErrorKind::Flagged.is_retryable());
        for never in [100, 190, 200, 10, 368, 2_700_000] {
            assert!(
                !kind(never, None).is_retryable(),
                "code {never} must never be retried"
            );
        }
    }

    #[test]
    fn numbers_as_strings_and_missing_fields_are_tolerated() {
        let e = parse(
            400,
            json!({"error": {"message": "m", "code": "100", "error_subcode": "33"}}),
        );
        assert_eq!(
            (e.code, e.subcode, e.kind),
            (Some(100), Some(33), ErrorKind::NotFound)
        );
        let bare = parse(500, json!({"error": {}}));
        assert_eq!(bare.kind, ErrorKind::Transient);
        assert!(bare.message().contains("500"));
        assert!(
            GraphError::from_api_body(
                400,
                &json!({"data": []}),
                &Redactor::default(),
                &SettingNames::default()
            )
            .is_none()
        );
    }

    #[test]
    fn display_carries_everything_a_person_needs() {
        let e = parse(
            400,
            json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100,
                   "error_subcode": 1234567, "error_user_title": "Bad rule", "error_user_msg": "Fix the rule",
                   "fbtrace_id": "AbC123"}}),
        )
        .with_account(Some(&AdAccountId::parse("act_1").unwrap()))
        .with_conversion(Some(&ConversionId::parse("42").unwrap()), Some("Purchase"));
        let text = e.to_string();
        for part in [
            "act_1",
            "conversion 42",
            "Purchase",
            "(#100) Invalid parameter",
            "code 100",
            "subcode 1234567",
            "fbtrace_id AbC123",
            "Fix the rule",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }

    #[test]
    fn redactor_removes_secrets_and_token_parameters() {
        let r = Redactor::new(vec![Secret::new("EAAB-canary")]);
        let scrubbed = r
            .scrub("bad EAAB-canary at https://h/x?access_token=OTHER&after=1&appsecret_proof=abc");
        assert_eq!(
            scrubbed,
            "bad [redacted] at https://h/x?access_token=[redacted]&after=1&appsecret_proof=[redacted]"
        );
        let e = parse(
            400,
            json!({"error": {"message": "token EAAB-canary is bad", "code": 190}}),
        );
        assert!(
            e.message().contains("EAAB-canary"),
            "default redactor knows no secret"
        );
        let e = GraphError::from_api_body(
            400,
            &json!({"error": {"message": "token EAAB-canary is bad", "code": 190}}),
            &r,
            &SettingNames::default(),
        )
        .unwrap();
        assert!(!format!("{e} {e:?}").contains("canary"));
    }

    /// The hint of every kind that has one, as a person reads it after the API's error.
    fn hints(names: &SettingNames) -> Vec<String> {
        [
            (190, None),
            (200, None),
            (100, Some(CAP_SUBCODE)),
            (2635, None),
            (17, None),
            (368, None),
        ]
        .into_iter()
        .map(|(code, subcode)| {
            let body = json!({"error": {"message": "m", "code": code, "error_subcode": subcode}});
            let text = parse_named(400, body, names).to_string();
            let (_, hint) = text.split_once("\nhelp: ").expect("a hint");
            hint.to_string()
        })
        .collect()
    }

    #[test]
    fn hints_name_the_settings_as_the_caller_does() {
        assert_eq!(
            hints(&SettingNames::default()),
            [
                "renew the access token (the token given to the client)",
                "grant the token's app ads_management on this ad account",
                "an ad account holds at most 100 custom conversions: delete unused ones first",
                "pass a current API version (the newest this convctl knows is v27.0), or upgrade convctl",
                "the API asks to slow down: try again later or lower the parallelism",
                "Meta refused this action as disallowed; see the user message",
            ]
        );
        assert_eq!(
            hints(&FLAG_NAMES),
            [
                "renew the access token (--access-token-file or META_ACCESS_TOKEN)",
                "grant the token's app ads_management on this ad account",
                "an ad account holds at most 100 custom conversions: delete unused ones first",
                "pass a current --api-version (the newest this convctl knows is v27.0), or upgrade convctl",
                "the API asks to slow down: try again later or lower --parallelism",
                "Meta refused this action as disallowed; see the user message",
            ]
        );
        let plain = GraphError::new(ErrorKind::Throttled, "m");
        assert_eq!(plain.to_string(), "m", "no hint unless asked for");
        assert!(
            plain
                .with_hint(&SettingNames::default())
                .to_string()
                .ends_with(
                    "\nhelp: the API asks to slow down: try again later or lower the parallelism"
                )
        );
    }
}
