use super::access::parse_token_scope;
use super::read::{decode_cursor, encode_cursor};
use super::versions::is_version;
use super::write::predict_type;
use super::*;
use crate::emulator::error::TokenScopeError;
use crate::model::event_types::CustomEventType;
use crate::rule::Rule;

/// `--token` entries: a plain token sees every account, `T:act_1,act_2` only those; an
/// empty one, an empty token before `:` or a wrong account is refused, without the token.
#[test]
fn token_scopes_are_read_or_refused() {
    assert_eq!(parse_token_scope("tok"), Ok(("tok".to_string(), None)));
    let (token, scope) = parse_token_scope("tok:act_1, 2").unwrap();
    assert_eq!(token, "tok");
    assert_eq!(scope, Some(["1".to_string(), "2".to_string()].into()));
    assert_eq!(parse_token_scope(""), Err(TokenScopeError::Empty));
    assert_eq!(
        parse_token_scope(":act_1"),
        Err(TokenScopeError::EmptyBeforeScope)
    );
    let wrong = parse_token_scope("secret:acct_1").unwrap_err().to_string();
    assert!(wrong.contains("`acct_1` is not an ad account") && !wrong.contains("secret"));
}

#[test]
fn versions_and_routes() {
    assert!(is_version("v26.0") && !is_version("v26") && !is_version("act_1"));
    assert_eq!(
        classify(Method::Get, &["act_1", "customconversions"]),
        Route::ListConversions
    );
    assert_eq!(classify(Method::Delete, &["123"]), Route::DeleteConversion);
    assert_eq!(classify(Method::Post, &["55", "events"]), Route::Events);
    assert_eq!(
        decode_cursor(&encode_cursor(23850000000000001)).unwrap(),
        23850000000000001
    );
    assert!(decode_cursor("zz").is_err());
}

#[test]
fn predicted_type_from_rule() {
    let r = Rule::from_json_str(r#"{"and":[{"event":{"eq":"Lead"}},{"value":{"gt":1}}]}"#).unwrap();
    assert_eq!(predict_type(&r), CustomEventType::Lead);
    let u = Rule::from_json_str(r#"{"url":{"i_contains":"x"}}"#).unwrap();
    assert_eq!(predict_type(&u), CustomEventType::Other);
}

/// An emulator whose version calendar is judged on `today`.
fn emulator_on(today: &str) -> Emulator {
    let config = EmulatorConfig {
        today: Some(today.parse().unwrap()),
        ..EmulatorConfig::default()
    };
    let limits =
        crate::emulator::limits::Limits::new(config.tier, config.score_window, config.rate_limit);
    let control = Control::new(config.faults(), Some(1), limits);
    Emulator::new(config, Store::new(), control)
}

/// Each version is retired on its published date (90 days after its successor only where none
/// is published): v25.0 is served until 2027-02-23 (it was refused from 2026-10-27), v27.0 is
/// served (it was an unknown path); the Conversions API keeps a version two years after its
/// successor; a version not released yet, or newer than the calendar, is an unknown path.
#[test]
fn versions_are_retired_on_their_published_dates() {
    let code = |today: &str, version: &str, capi: bool| {
        emulator_on(today)
            .check_version(Some(version), capi, &["act_1", "customconversions"])
            .err()
            .map(|e| e.code)
    };
    assert_eq!(code("2026-12-06", "v25.0", false), None);
    assert_eq!(code("2027-02-22", "v25.0", false), None);
    assert_eq!(code("2027-02-23", "v25.0", false), Some(2635));
    assert_eq!(
        code("2027-02-23", "v25.0", true),
        None,
        "events: two years more"
    );
    assert_eq!(code("2028-07-29", "v25.0", true), Some(2635));
    assert_eq!(code("2026-11-09", "v24.0", false), None);
    assert_eq!(code("2026-11-10", "v24.0", false), Some(2635));
    assert_eq!(code("2027-02-01", "v26.0", false), None);
    assert_eq!(code("2027-02-02", "v26.0", false), Some(2635));
    assert_eq!(code("2026-12-06", "v27.0", false), None);
    assert_eq!(code("2026-11-03", "v27.0", false), Some(2500));
    assert_eq!(code("2026-12-06", "v28.0", false), Some(2500));
    assert_eq!(code("2026-12-06", "v19.0", false), Some(2635));
    assert_eq!(code("2026-12-06", "v19.0", true), Some(2635));
}
