//! `--trace FILE`: every HTTP exchange with the Graph API, one JSON line each, for bug reports
//! about the real API (docs/troubleshooting.md).
//!
//! A line holds the time, method, URL, the request's content type and body, the status, the
//! response headers that matter (usage, trace ids, content type, retry hints), the response body
//! and the duration; or, when no answer came, the network error. Everything that came from or
//! goes to the network passes through the client's [`Redactor`] first: the token, the app
//! secret, the `appsecret_proof` and any `access_token=`/`appsecret_proof=` parameter (the
//! real API copies them into `next` URLs) never reach the file. The `Authorization` header is
//! recorded as sent, with its value redacted.
//!
//! Lines are written whole and flushed one by one, so a run that is killed leaves a readable
//! file. A write failure (disk full) is said once on stderr and tracing stops; it never fails
//! the command.

use super::config::SettingNames;
use super::error::{GraphError, Redactor};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Response headers worth keeping (lower case): what a Graph bug report needs.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "x-app-usage",
    "x-ad-account-usage",
    "x-business-use-case-usage",
    "x-fb-trace-id",
    "x-fb-rev",
    "x-fb-request-id",
    "x-fb-debug",
    "facebook-api-version",
    "retry-after",
    "www-authenticate",
];

/// An open trace file.
pub(crate) struct Trace {
    path: PathBuf,
    out: Mutex<Option<std::io::LineWriter<std::fs::File>>>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("path", &self.path).finish()
    }
}

/// An answer as traced: status, the kept response headers, the body.
pub(crate) type Answer<'a> = (u16, Vec<(String, String)>, &'a [u8]);

/// One exchange, as the transport saw it.
pub(crate) struct Exchange<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    /// Content type and body as sent (`None`: no body).
    pub(crate) request_body: Option<(&'a str, &'a str)>,
    /// Status, kept response headers and body; `None` when no answer came.
    pub(crate) response: Option<Answer<'a>>,
    pub(crate) error: Option<String>,
    pub(crate) duration: Duration,
}

impl Trace {
    /// Creates (or truncates) `path`; a failure names the setting as `names` says.
    pub(crate) fn create(path: &Path, names: &SettingNames) -> Result<Trace, GraphError> {
        let file = std::fs::File::create(path).map_err(|e| {
            GraphError::config(format!(
                "cannot create the trace file {}: {e}; give {} a writable path",
                path.display(),
                names.trace_file
            ))
        })?;
        Ok(Trace {
            path: path.to_path_buf(),
            out: Mutex::new(Some(std::io::LineWriter::new(file))),
        })
    }

    /// Whether a response header is one the trace keeps.
    pub(crate) fn keeps(name: &str) -> bool {
        KEPT_HEADERS.iter().any(|k| k.eq_ignore_ascii_case(name))
    }

    pub(crate) fn record(&self, exchange: &Exchange<'_>, redactor: &Redactor) {
        let line = line(exchange, redactor);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(writer) = out.as_mut()
            && let Err(e) = writeln!(writer, "{line}")
        {
            eprintln!(
                "warning: cannot write the trace file {} ({e}); tracing stopped",
                self.path.display()
            );
            *out = None;
        }
    }
}

/// The JSON line of one exchange (redacted).
pub(crate) fn line(exchange: &Exchange<'_>, redactor: &Redactor) -> String {
    let scrub = |text: &str| redactor.scrub(text);
    let mut entry = Map::new();
    entry.insert(
        "time".into(),
        json!(
            jiff::Timestamp::now()
                .round(jiff::Unit::Millisecond)
                .map(|t| t.to_string())
                .unwrap_or_default()
        ),
    );
    entry.insert("method".into(), json!(exchange.method));
    entry.insert(
        "url".into(),
        json!(scrub(&crate::model::address::for_people(exchange.url))),
    );
    let mut request = Map::new();
    let mut request_headers = Map::new();
    request_headers.insert("authorization".into(), json!("Bearer [redacted]"));
    if let Some((content_type, body)) = exchange.request_body {
        request_headers.insert("content-type".into(), json!(content_type));
        request.insert("body".into(), json!(scrub(body)));
    }
    request.insert("headers".into(), Value::Object(request_headers));
    entry.insert("request".into(), Value::Object(request));
    match &exchange.response {
        Some((status, headers, body)) => {
            entry.insert("status".into(), json!(status));
            let headers: Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), json!(scrub(v))))
                .collect();
            entry.insert(
                "response".into(),
                json!({"headers": headers, "body": scrub(&String::from_utf8_lossy(body))}),
            );
        }
        None => {
            entry.insert("status".into(), Value::Null);
        }
    }
    if let Some(error) = &exchange.error {
        entry.insert("error".into(), json!(scrub(error)));
    }
    entry.insert(
        "duration_ms".into(),
        json!((exchange.duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0),
    );
    Value::Object(entry).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Secret;

    /// Every secret is redacted wherever it appears: the token and the app secret by value,
    /// the proof by value and as a parameter, and tokens inside `next` URLs of answers.
    #[test]
    fn a_line_holds_the_exchange_and_no_secret() {
        let token = "EAAB-trace-canary-token-0123456789";
        let secret = "app-secret-canary-abcdef";
        let proof = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
        let redactor = Redactor::new(vec![
            Secret::new(token),
            Secret::new(secret),
            Secret::new(proof),
        ]);
        let url = format!(
            "https://graph.example/v26.0/act_1/customconversions?fields=name&appsecret_proof={proof}"
        );
        let body = format!(
            r#"{{"data":[],"paging":{{"next":"https://graph.example/v26.0/act_1/customconversions?access_token=other-token-in-next&after=X"}},"echo":"{token} {secret}"}}"#
        );
        let exchange = Exchange {
            method: "GET",
            url: &url,
            request_body: Some((
                "application/x-www-form-urlencoded",
                "batch=%5B%5D&appsecret_proof=abc",
            )),
            response: Some((
                200,
                vec![(
                    "x-ad-account-usage".into(),
                    r#"{"acc_id_util_pct":9.67}"#.into(),
                )],
                body.as_bytes(),
            )),
            error: None,
            duration: Duration::from_millis(12),
        };
        let text = line(&exchange, &redactor);
        for leaked in [
            token,
            secret,
            proof,
            "other-token-in-next",
            "appsecret_proof=abc",
        ] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["method"], "GET");
        assert_eq!(v["status"], 200);
        assert_eq!(v["duration_ms"], 12.0);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(
            v["url"]
                .as_str()
                .unwrap()
                .contains("appsecret_proof=[redacted]")
        );
        assert_eq!(
            v["response"]["headers"]["x-ad-account-usage"],
            r#"{"acc_id_util_pct":9.67}"#
        );
        assert!(
            v["response"]["body"]
                .as_str()
                .unwrap()
                .contains("access_token=[redacted]")
        );
        assert_eq!(
            v["request"]["headers"]["authorization"],
            "Bearer [redacted]"
        );
        assert!(Trace::keeps("X-FB-Trace-ID") && !Trace::keeps("set-cookie"));
    }

    #[test]
    fn an_unwritable_path_names_the_trace_setting_as_the_caller_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("trace.jsonl");
        let refusal = |names| {
            let text = Trace::create(&path, &names).unwrap_err().to_string();
            let (_, remedy) = text.rsplit_once("; ").unwrap();
            remedy.to_string()
        };
        assert_eq!(
            refusal(SettingNames::default()),
            "give the trace file a writable path"
        );
        assert_eq!(
            refusal(crate::graph::FLAG_NAMES),
            "give --trace a writable path"
        );
    }
}
