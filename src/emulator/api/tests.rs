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
