//! An address (a URL) as shown to people: in an error, a log line, the trace. Whoever gave it
//! may have put a credential in it (`https://user:pass@host`, `?access_token=...`, a signed
//! query), and a message that repeats it puts that credential in CI logs and bug reports.
//!
//! [`for_people`] is the one way convctl writes an address for a person: the user name and
//! password become `[redacted]`, and so does the value of every query parameter except the
//! Graph API's own reading parameters (`fields`, `limit`, paging cursors, `ids`...), which
//! carry no secret and make a trace useful; a fragment is dropped. Text that is not a URL is
//! treated the same way by its shape, so a refused address is redacted too.

/// Query parameters whose values are shown: what convctl itself puts in a Graph API request's
/// query, none of them a secret.
const SHOWN_PARAMETERS: &[&str] = &[
    "fields",
    "limit",
    "after",
    "before",
    "ids",
    "summary",
    "aggregation",
    "start_time",
    "end_time",
    "method",
];

const REDACTED: &str = "[redacted]";

/// `text` with its credentials hidden (see the module documentation).
pub fn for_people(text: &str) -> String {
    let (before_fragment, _) = text.split_once('#').unwrap_or((text, ""));
    let (address, query) = match before_fragment.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (before_fragment, None),
    };
    let mut out = without_userinfo(address);
    if let Some(query) = query {
        out.push('?');
        let shown: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) if shown_parameter(key) => format!("{key}={value}"),
                Some((key, _)) if looks_like_a_name(key) => format!("{key}={REDACTED}"),
                // A bare value (`?EAAB...`) may be a pasted token.
                _ => REDACTED.to_string(),
            })
            .collect();
        out.push_str(&shown.join("&"));
    }
    out
}

/// The authority's `user:password@` replaced: from after `scheme://` (or the start) to the
/// last `@` before the path.
fn without_userinfo(address: &str) -> String {
    let (scheme, rest) = match address.find("://") {
        Some(at) => address.split_at(at + 3),
        None => ("", address),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{REDACTED}@{}{path}", &authority[at + 1..]),
        None => address.to_string(),
    }
}

fn shown_parameter(key: &str) -> bool {
    SHOWN_PARAMETERS.contains(&key)
}

/// A parameter name worth showing (`access_token`), not a value pasted without one.
fn looks_like_a_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::for_people;

    #[test]
    fn credentials_in_an_address_are_hidden() {
        for (given, shown) in [
            ("https://graph.facebook.com", "https://graph.facebook.com"),
            (
                "http://127.0.0.1:8080/v26.0/act_1/customconversions?fields=name,rule&limit=100&after=MTA",
                "http://127.0.0.1:8080/v26.0/act_1/customconversions?fields=name,rule&limit=100&after=MTA",
            ),
            (
                "https://alice:s3cret@graph.example/x",
                "https://[redacted]@graph.example/x",
            ),
            (
                "https://graph.example/?access_token=EAAB123",
                "https://graph.example/?access_token=[redacted]",
            ),
            (
                "http://h/?appsecret_proof=abc&fields=id#frag",
                "http://h/?appsecret_proof=[redacted]&fields=id",
            ),
            (
                "user:pw@host/path?EAABsecret",
                "[redacted]@host/path?[redacted]",
            ),
            ("ftp://u@x?k=v", "ftp://[redacted]@x?k=[redacted]"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(for_people(given), shown, "{given}");
        }
    }
}
