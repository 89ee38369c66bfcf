use super::*;
use crate::graph::usage::Usage;
use reqwest::Method;
use signing::check_token;

#[test]
fn appsecret_proof_matches_a_known_vector() {
    // RFC 4231-style check computed independently: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
    let proof = appsecret_proof(
        &Secret::new("The quick brown fox jumps over the lazy dog"),
        &Secret::new("key"),
    );
    assert_eq!(
        proof.expose(),
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

#[test]
fn backoff_is_bounded_by_attempts_and_time() {
    let policy = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(25),
        ..RetryPolicy::fast()
    };
    let mut b = Backoff::new(&Arc::new(policy.clone()));
    let waits: Vec<_> = std::iter::from_fn(|| b.next(None)).collect();
    assert_eq!(waits.len(), 3);
    assert!(waits.iter().all(|w| *w <= Duration::from_millis(25)));
    let mut b = Backoff::new(&Arc::new(policy.clone()));
    assert_eq!(
        b.next(Some(Duration::from_millis(300))),
        Some(Duration::from_millis(300)),
        "the API's wait wins"
    );
    let tight = RetryPolicy {
        max_total: Duration::from_millis(100),
        ..policy
    };
    let mut b = Backoff::new(&Arc::new(tight));
    assert_eq!(
        b.next(Some(Duration::from_secs(60))),
        None,
        "a wait beyond the budget gives up at once"
    );
}

#[test]
fn urls_and_origins() {
    let mut config = GraphConfig::new("http://127.0.0.1:8080", Secret::new("tok"));
    config.api_version = "v26.0".into();
    let t = Transport::new(&config, None).unwrap();
    assert_eq!(
        t.url("act_1/customconversions").as_str(),
        "http://127.0.0.1:8080/v26.0/act_1/customconversions"
    );
    assert_eq!(t.url("").as_str(), "http://127.0.0.1:8080/v26.0/");
    assert!(t.same_origin(&Url::parse("http://127.0.0.1:8080/v26.0/x?after=1").unwrap()));
    assert!(!t.same_origin(&Url::parse("http://127.0.0.1:8081/v26.0/x").unwrap()));
    assert!(!t.same_origin(&Url::parse("https://127.0.0.1:8080/v26.0/x").unwrap()));
    assert!(!t.same_origin(&Url::parse("http://evil.example:8080/v26.0/x").unwrap()));
}

/// A pasted line break in a token is refused before any call; the hint says where the
/// global token comes from (as the caller names it), never the token itself.
#[test]
fn tokens_with_spaces_are_refused_with_their_source() {
    let bad = Secret::new("abc\ndef");
    let account = AdAccountId::parse("act_1").unwrap();
    let (flags, neutral) = (crate::graph::FLAG_NAMES, SettingNames::default());
    let said = |account, names| check_token(&bad, account, names).unwrap_err().to_string();
    assert_eq!(
        said(None, &flags),
        "the access token contains spaces or control characters (a pasted line break?); check --access-token-file or META_ACCESS_TOKEN"
    );
    assert_eq!(
        said(None, &neutral),
        "the access token contains spaces or control characters (a pasted line break?); check the token given to the client"
    );
    assert_eq!(
        said(Some(&account), &flags),
        "the access token of act_1 contains spaces or control characters (a pasted line break?); check where it is read from"
    );
    assert_eq!(
        check_token(&Secret::new(""), None, &flags)
            .unwrap_err()
            .to_string(),
        "the access token is empty"
    );
}

/// Every message of the transport that names a setting, as a person reads it: a non-Graph
/// answer, a 429, a wait beyond the budget, a refused connection.
async fn messages(names: SettingNames) -> Vec<String> {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = GraphConfig::new(&base, Secret::new("tok"));
    config.retry = RetryPolicy::fast();
    config.names = names;
    let t = Transport::new(&config, None).unwrap();
    let usage = Usage::default();
    let error = |failure: FailedAttempt| failure.into_error().to_string();
    let request = Request {
        method: Method::GET,
        url: t.url("act_1/customconversions"),
        form: None,
        account: None,
        note: String::new(),
        many_accounts: false,
        points: 1,
    };
    let unreachable = t.call(&request).await.unwrap_err().to_string();
    vec![
        error(
            t.interpret(404, b"<html>", &usage, None, false)
                .unwrap_err(),
        ),
        error(t.interpret(429, b"", &usage, None, false).unwrap_err()),
        error(
            t.admission(Err(Duration::from_secs(30)), None, Instant::now())
                .err()
                .unwrap(),
        ),
        unreachable.replace(&base, "http://{base}"),
    ]
}

#[tokio::test]
async fn messages_name_the_settings_as_the_caller_does() {
    let neutral = messages(SettingNames::default()).await;
    assert_eq!(
        neutral[..3],
        [
            "the API answered HTTP 404 without a Graph error body; check the API base address and API version [HTTP 404]",
            "the API answered HTTP 429 (too many requests) [HTTP 429]\nhelp: the API asks to slow down: try again later or lower the parallelism",
            "the API asked to stop calling the app for another 30 s, beyond the retry budget; not sent\nhelp: the API asks to slow down: try again later or lower the parallelism",
        ]
    );
    assert!(
        neutral[3].starts_with(
            "cannot connect to http://{base} (check the API base address and the network): "
        ),
        "{}",
        neutral[3]
    );
    let flags = messages(crate::graph::FLAG_NAMES).await;
    assert_eq!(
        flags[..3],
        [
            "the API answered HTTP 404 without a Graph error body; check --api-base and --api-version [HTTP 404]",
            "the API answered HTTP 429 (too many requests) [HTTP 429]\nhelp: the API asks to slow down: try again later or lower --parallelism",
            "the API asked to stop calling the app for another 30 s, beyond the retry budget; not sent\nhelp: the API asks to slow down: try again later or lower --parallelism",
        ]
    );
    assert!(
        flags[3]
            .starts_with("cannot connect to http://{base} (check --api-base and the network): "),
        "{}",
        flags[3]
    );
}
