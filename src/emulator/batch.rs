//! Batch requests at the graph root (reference: Batch requests): `POST /` or `POST /v26.0/`
//! with `batch` = a JSON array of at most 50 sub-requests, each answered in order as
//! `{"code","headers","body"}`, or `null` when it was not run.
//!
//! Dependencies: a request may be `name`d and later ones may use `{result=NAME:$.path}` in
//! their `relative_url` or `body`; a request whose dependency did not succeed is not run
//! (`null`). Each sub-request goes through `Emulator::handle`, so it is authenticated, counted
//! and rate-limited on its own. `--fault-rate` applies per sub-request too: a faulted one
//! answers a transient error or, like a sub-request that timed out, `null`. Under `--strict`
//! the entries past the [`STRICT_RUN_BUDGET`]th are `null` (not run).

use super::api::Emulator;
use super::api_error::ApiError;
use super::control::{AuthSource, InjectedFault};
use super::http::{fault_error, fault_headers};
use super::request::{ApiRequest, Method, Params};
use crate::model::Secret;
use serde_json::{Value, json};
use std::collections::HashMap;

/// At most this many requests in one batch.
pub(crate) const MAX_BATCH: usize = 50;

/// Under `--strict`, the sub-requests a batch runs before its time budget runs out; the ones
/// after come back `null` (not run), as the real API answers entries that timed out. The real
/// budget is time, not a count (convention: a deterministic stand-in, so that tests repeat).
pub(crate) const STRICT_RUN_BUDGET: usize = 40;

/// The answer to a whole batch.
pub(crate) struct BatchAnswer {
    pub(crate) body: String,
    /// Some sub-request committed a write.
    pub(crate) committed: bool,
}

/// Runs a batch. Errors are about the batch as a whole (bad `batch`, bad version or token).
pub(crate) fn run(
    emulator: &Emulator,
    outer: &ApiRequest,
    version: Option<&str>,
    auth: Option<&(Secret, AuthSource)>,
) -> Result<BatchAnswer, ApiError> {
    emulator.check_version(version, false, &[])?;
    if auth.is_some() {
        emulator.check_auth(auth)?;
        emulator.check_proof(outer, auth)?;
    }
    let text = outer
        .param("batch")
        .ok_or_else(|| ApiError::invalid_param("The parameter batch is required"))?;
    let items: Vec<Value> = serde_json::from_str(text).map_err(|e| {
        ApiError::invalid_param(format!("Param batch must be a JSON array of requests: {e}"))
    })?;
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            "Param batch must contain at least one request",
        ));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid_param(format!(
            "Too many requests in batch message. Maximum batch size is {MAX_BATCH}"
        )));
    }
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut answers: Vec<Value> = Vec::with_capacity(items.len());
    let mut committed = false;
    for (index, item) in items.iter().enumerate() {
        if emulator.config.strict && index >= STRICT_RUN_BUDGET {
            // Under --strict the batch's time budget runs out: the rest is not run.
            answers.push(Value::Null);
            continue;
        }
        let answer = run_one(emulator, outer, auth, item, &mut results, &mut committed);
        answers.push(answer);
    }
    Ok(BatchAnswer {
        body: Value::Array(answers).to_string(),
        committed,
    })
}

fn entry(emulator: &Emulator, status: u16, body: String, account: Option<&str>) -> Value {
    entry_with(status, body, emulator.control.usage_headers(account))
}

fn entry_with(status: u16, body: String, usage: Vec<(&'static str, String)>) -> Value {
    let mut headers =
        vec![json!({"name": "Content-Type", "value": "text/javascript; charset=UTF-8"})];
    for (name, value) in usage {
        headers.push(json!({"name": name, "value": value}));
    }
    json!({"code": status, "headers": headers, "body": body})
}

fn error_entry(emulator: &Emulator, error: ApiError) -> Value {
    let body = error.to_body(&emulator.control.trace_id());
    entry(emulator, error.status, body, None)
}

fn run_one(
    emulator: &Emulator,
    outer: &ApiRequest,
    outer_auth: Option<&(Secret, AuthSource)>,
    item: &Value,
    results: &mut HashMap<String, Value>,
    committed: &mut bool,
) -> Value {
    let (object, sub) = match sub_request(outer, item, results) {
        Ok(read) => read,
        Err(NotRun::Refused(e)) => return error_entry(emulator, e),
        Err(NotRun::Waiting) => return Value::Null, // a dependency did not succeed: not run
    };
    if let Some(fault) = emulator.control.roll_fault() {
        if fault == InjectedFault::Http500 {
            return Value::Null; // timed out inside the batch: not run
        }
        let account = emulator.account_of_path(&sub.path);
        let error = fault_error(fault);
        let body = error.to_body(&emulator.control.trace_id());
        return entry_with(
            error.status,
            body,
            fault_headers(emulator, fault, account.as_deref()),
        );
    }
    let own = sub.token();
    let auth = own.as_ref().or(outer_auth);
    let response = emulator.handle(&sub, auth);
    *committed |= response.committed;
    if response.status == 200
        && let Some(name) = object.get("name").and_then(Value::as_str)
    {
        results.insert(
            name.to_string(),
            serde_json::from_str(&response.body).unwrap_or(Value::Null),
        );
    }
    let omit = object
        .get("omit_response_on_success")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if omit && response.status == 200 {
        return Value::Null;
    }
    entry(
        emulator,
        response.status,
        response.body,
        response.account.as_deref(),
    )
}

/// Why an entry of a batch is not run.
enum NotRun {
    /// It is not a request: answered with this error.
    Refused(ApiError),
    /// It depends on a result that is missing: answered `null`.
    Waiting,
}

/// The request a batch entry stands for, its `{result=...}` references filled in from the
/// results so far; it inherits the outer request's base URL and `appsecret_proof`.
fn sub_request<'a>(
    outer: &ApiRequest,
    item: &'a Value,
    results: &HashMap<String, Value>,
) -> Result<(&'a serde_json::Map<String, Value>, ApiRequest), NotRun> {
    let refuse = |message: &str| NotRun::Refused(ApiError::invalid_param(message));
    let object = item
        .as_object()
        .ok_or_else(|| refuse("Each batch request must be a JSON object"))?;
    let method = match object
        .get("method")
        .and_then(Value::as_str)
        .map(Method::parse)
    {
        None => Method::Get,
        Some(Some(m)) => m,
        Some(None) => return Err(refuse("Unsupported method in batch request")),
    };
    let relative_url = object
        .get("relative_url")
        .and_then(Value::as_str)
        .ok_or_else(|| refuse("Each batch request needs a relative_url"))?;
    let body_text = match object.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let (Some(relative_url), Some(body_text)) = (
        substitute(relative_url, results),
        substitute(&body_text, results),
    ) else {
        return Err(NotRun::Waiting);
    };
    if let Some(dep) = object.get("depends_on").and_then(Value::as_str)
        && !results.contains_key(dep)
    {
        return Err(NotRun::Waiting);
    }
    let (path, query) = match relative_url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (relative_url.as_str(), ""),
    };
    let mut query = Params::from_urlencoded(query.as_bytes());
    let json_body = body_text.trim_start().starts_with('{');
    let body = if json_body {
        Params::from_json(body_text.as_bytes()).unwrap_or_default()
    } else {
        Params::from_urlencoded(body_text.as_bytes())
    };
    if query.get("appsecret_proof").is_none()
        && body.get("appsecret_proof").is_none()
        && let Some(proof) = outer.param("appsecret_proof")
    {
        query.0.push(("appsecret_proof".into(), proof.to_string()));
    }
    let sub = ApiRequest {
        method,
        path: format!("/{}", path.trim_start_matches('/')),
        query,
        body,
        header_token: None,
        base_url: outer.base_url.clone(),
        json_body,
    };
    Ok((object, sub))
}

/// Replaces every `{result=NAME:$.path}`; `None` when a named result is missing or the path
/// finds nothing (the dependency did not succeed).
fn substitute(text: &str, results: &HashMap<String, Value>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Bodies are form-encoded, so the braces may arrive percent-encoded.
    let decoded;
    if rest.contains("%7Bresult%3D") || rest.contains("%7bresult%3d") {
        decoded = rest
            .replace("%7Bresult%3D", "{result=")
            .replace("%7bresult%3d", "{result=");
        rest = &decoded;
    }
    while let Some(start) = rest.find("{result=") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{result=".len()..];
        let (expr, tail) = match (
            after.find('}'),
            after.find("%7D").or_else(|| after.find("%7d")),
        ) {
            (Some(a), Some(b)) if b < a => (&after[..b], &after[b + 3..]),
            (Some(a), _) => (&after[..a], &after[a + 1..]),
            (None, Some(b)) => (&after[..b], &after[b + 3..]),
            (None, None) => return Some(text.to_string()),
        };
        let expr = expr
            .replace("%3A", ":")
            .replace("%3a", ":")
            .replace("%24", "$");
        let (name, path) = expr.split_once(':')?;
        let value = results.get(name)?;
        out.push_str(&json_path(value, path)?);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// A small JSONPath: `$.id`, `$.data.0.id`, `$.data.*.id` (values joined with commas).
fn json_path(value: &Value, path: &str) -> Option<String> {
    let path = path.trim().strip_prefix('$')?;
    let mut current = vec![value];
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for v in current {
            match (part, v) {
                ("*", Value::Array(items)) => next.extend(items.iter()),
                (_, Value::Array(items)) => {
                    next.extend(part.parse::<usize>().ok().and_then(|i| items.get(i)));
                }
                (_, Value::Object(map)) => next.extend(map.get(part)),
                _ => {}
            }
        }
        current = next;
    }
    let texts: Vec<String> = current
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_results() {
        let mut results = HashMap::new();
        results.insert(
            "create".to_string(),
            json!({"id": "42", "data": [{"id": "1"}, {"id": "2"}]}),
        );
        assert_eq!(
            substitute("?ids={result=create:$.id}", &results).unwrap(),
            "?ids=42"
        );
        assert_eq!(
            substitute("{result=create:$.data.*.id}/", &results).unwrap(),
            "1,2/"
        );
        assert_eq!(
            substitute("x=%7Bresult%3Dcreate%3A%24.id%7D", &results).unwrap(),
            "x=42"
        );
        assert!(substitute("{result=missing:$.id}", &results).is_none());
        assert!(substitute("{result=create:$.nope}", &results).is_none());
        assert_eq!(substitute("plain", &results).unwrap(), "plain");
    }
}
