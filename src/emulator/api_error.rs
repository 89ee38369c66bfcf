//! Graph API errors in the exact shape the real API answers with (reference: Errors):
//! `{"error":{"message","type","code","error_subcode","is_transient","error_user_title",
//! "error_user_msg","fbtrace_id"}}`, plus the HTTP status that goes with them.
//!
//! Every failure the emulator produces is built here, so that messages, codes and types stay
//! consistent; this module never decides *when* an error happens.

use super::limits::Throttle;
use serde::Serialize;

/// Subcode of "Duplicate Custom Conversion Rule" (reference: Custom conversions).
pub(crate) const SUBCODE_DUPLICATE_RULE: u32 = 1_760_002;
/// A create whose rule is on `event` only (reference: Rules).
pub(crate) const SUBCODE_EVENT_ONLY_RULE: u32 = 1_760_020;

/// One Graph error. `fbtrace_id` is filled in when the answer is rendered.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) kind: &'static str,
    pub(crate) code: u32,
    pub(crate) subcode: Option<u32>,
    pub(crate) is_transient: bool,
    pub(crate) user_title: Option<String>,
    pub(crate) user_msg: Option<String>,
}

impl ApiError {
    fn new(status: u16, kind: &'static str, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            code,
            subcode: None,
            is_transient: false,
            user_title: None,
            user_msg: None,
        }
    }

    pub(crate) fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub(crate) fn with_user(mut self, title: impl Into<String>, msg: impl Into<String>) -> Self {
        self.user_title = Some(title.into());
        self.user_msg = Some(msg.into());
        self
    }

    pub(crate) fn transient(mut self) -> Self {
        self.is_transient = true;
        self
    }

    /// Code 100, "(#100) ..." — a bad parameter. Never retryable.
    pub(crate) fn invalid_param(detail: impl AsRef<str>) -> Self {
        ApiError::new(
            400,
            "OAuthException",
            100,
            format!("(#100) {}", detail.as_ref()),
        )
    }

    /// Code 100 subcode 33: the object does not exist (or cannot be seen: they look the same).
    pub(crate) fn unknown_object(method: &str, id: &str) -> Self {
        ApiError::new(
            400,
            "GraphMethodException",
            100,
            format!(
                "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .with_subcode(33)
    }

    /// Code 803: a multi-object read (`?ids=`) names objects that do not exist (the Graph
    /// API's answer; the exact wording is assumed).
    pub(crate) fn aliases_missing(ids: &[&str]) -> Self {
        ApiError::new(
            404,
            "OAuthException",
            803,
            format!(
                "(#803) Some of the aliases you requested do not exist: {}",
                ids.join(",")
            ),
        )
    }

    /// Code 2500: a path the API does not know.
    pub(crate) fn unknown_path(path: &str) -> Self {
        ApiError::new(
            400,
            "OAuthException",
            2500,
            format!("Unknown path components: {path}"),
        )
    }

    /// Code 200: the token may not manage this ad account (a scoped `--token T:act_1`).
    pub(crate) fn no_permission(account: &str) -> Self {
        ApiError::new(
            400,
            "OAuthException",
            200,
            format!(
                "(#200) Ad account owner has NOT grant ads_management or ads_read permission to this token for {account}"
            ),
        )
    }

    /// Code 200 on `DELETE` of a custom conversion (`--refuse-deletes`): the app may not delete
    /// one, whatever the token's permissions (reference: Custom conversions, Delete: the only
    /// documented errors are 200 "Permissions error" and 100).
    pub(crate) fn delete_refused() -> Self {
        ApiError::new(400, "OAuthException", 200, "(#200) Permissions error")
    }

    /// Code 100 subcode 1760002: the account already holds a conversion with this rule
    /// (`--unique-rules`; reference: Custom conversions).
    pub(crate) fn duplicate_rule() -> Self {
        ApiError::invalid_param("Invalid parameter")
            .with_subcode(SUBCODE_DUPLICATE_RULE)
            .with_user(
                "Duplicate Custom Conversion Rule",
                "A custom conversion with the same rule already exists in this ad account.",
            )
    }

    /// Code 100 subcode 1760020 on a create whose rule has conditions on `event` only (the
    /// strict profile: a report of Meta's answer, reference: Rules).
    pub(crate) fn event_only_rule() -> Self {
        ApiError::invalid_param("Invalid parameter")
            .with_subcode(SUBCODE_EVENT_ONLY_RULE)
            .with_user(
                "Missing rule",
                "A conversion rule is required at creation time.",
            )
    }

    /// Code 100 on an edit of an archived conversion: archived conversions are frozen, and the
    /// API says no more than "invalid parameter" (reference: Custom conversions).
    pub(crate) fn archived_frozen() -> Self {
        ApiError::invalid_param("Invalid parameter")
    }

    /// Code 2700000 subcode 2460004: an edit of a conversion Meta flagged (`is_unavailable`;
    /// reference: Custom conversions).
    pub(crate) fn flagged_blocked() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            2_700_000,
            "Your custom conversion is currently blocked",
        )
        .with_subcode(2_460_004)
    }

    /// Code 104: no token at all.
    pub(crate) fn token_required() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            104,
            "An access token is required to request this resource.",
        )
    }

    /// Code 190 subcode 467: a token the emulator does not accept.
    pub(crate) fn invalid_token() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            190,
            "Invalid OAuth access token - Cannot parse access token",
        )
        .with_subcode(467)
    }

    pub(crate) fn proof_missing() -> Self {
        ApiError::new(
            400,
            "GraphMethodException",
            100,
            "API calls from the server require an appsecret_proof argument",
        )
    }

    pub(crate) fn proof_invalid() -> Self {
        ApiError::new(
            400,
            "GraphMethodException",
            100,
            "Invalid appsecret_proof provided in the API argument",
        )
    }

    /// Code 2635: a retired Marketing API version.
    pub(crate) fn deprecated_version() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            2635,
            "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.",
        )
    }

    /// Code 80004: too many calls to this ad account (HTTP 400, like the real API).
    pub(crate) fn account_throttled() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            80004,
            "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        )
        .transient()
    }

    /// Code 1: unknown error (HTTP 500).
    pub(crate) fn unknown_error() -> Self {
        ApiError::new(500, "OAuthException", 1, "An unknown error occurred").transient()
    }

    /// Code 2: service temporarily unavailable (HTTP 503).
    pub(crate) fn service_unavailable() -> Self {
        ApiError::new(
            503,
            "OAuthException",
            2,
            "An unexpected error has occurred. Please retry your request later.",
        )
        .transient()
    }

    /// Code 17 subcode 2446079: the ad-account score is at its maximum (reference: Errors).
    /// As seen on v25.0: "Ad Account Has Too Many API Calls", with `is_transient` false (the
    /// flag is unreliable for throttling: clients classify by code).
    pub(crate) fn ad_account_score_limit() -> Self {
        ApiError::new(
            400,
            "OAuthException",
            17,
            "(#17) User request limit reached",
        )
        .with_subcode(2446079)
        .with_user(
            "Ad Account Has Too Many API Calls",
            "There have been too many calls from this ad-account. Please wait a bit and try again.",
        )
    }

    /// The refusal of a limit: the score's 17/2446079, the Business Use Case's 80004.
    pub(crate) fn throttled(throttle: Throttle) -> Self {
        match throttle {
            Throttle::Score => ApiError::ad_account_score_limit(),
            Throttle::BusinessUseCase => ApiError::account_throttled(),
        }
    }

    /// The JSON body, with the given trace id, keys in the real API's order.
    pub(crate) fn to_body(&self, fbtrace_id: &str) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            code: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_subcode: Option<u32>,
            is_transient: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_user_title: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_user_msg: Option<&'a str>,
            fbtrace_id: &'a str,
        }
        let body = Body {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                code: self.code,
                error_subcode: self.subcode,
                is_transient: self.is_transient,
                error_user_title: self.user_title.as_deref(),
                error_user_msg: self.user_msg.as_deref(),
                fbtrace_id,
            },
        };
        serde_json::to_string(&body).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn body_has_the_graph_shape() {
        let body = ApiError::unknown_object("GET", "123").to_body("AbC");
        let v: Value = serde_json::from_str(&body).unwrap();
        let e = &v["error"];
        assert_eq!(e["code"], 100);
        assert_eq!(e["error_subcode"], 33);
        assert_eq!(e["type"], "GraphMethodException");
        assert_eq!(e["is_transient"], false);
        assert_eq!(e["fbtrace_id"], "AbC");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("Unsupported get request. Object with ID '123'")
        );
        assert!(e.get("error_user_msg").is_none());
        assert!(body.starts_with(r#"{"error":{"message":"#), "{body}");
    }
}
