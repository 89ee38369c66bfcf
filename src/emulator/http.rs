//! The HTTP face of the emulator (axum): turns requests into `ApiRequest`s, adds latency,
//! injected faults, lost answers and usage headers around `Emulator::handle`, serves the test
//! routes under `/_emulator/`, and can really drop a TCP connection.
//!
//! Dropping works through the connection's kill switch (see `connections`), which the handler
//! receives as `ConnectInfo`; once set, every read and write on that socket fails, so hyper
//! abandons the connection without sending a byte of the answer.

use super::api::Emulator;
use super::api_error::ApiError;
use super::batch;
use super::connections::ConnHandle;
use super::control::{AfterCommit, InjectedFault, Route};
use super::error::SeedError;
use super::limits::Throttle;
use super::request::{ApiRequest, Method, Params, token_from_header};
use super::store::Conversion;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Bodies up to this size (1,000 CAPI events fit easily).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub(crate) fn router(emulator: Arc<Emulator>) -> Router {
    Router::new()
        .fallback(entry)
        .with_state(emulator)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The Graph error an injected fault answers with.
pub(crate) fn fault_error(fault: InjectedFault) -> ApiError {
    match fault {
        InjectedFault::Code1 | InjectedFault::Http500 => ApiError::unknown_error(),
        InjectedFault::Code2 => ApiError::service_unavailable(),
        InjectedFault::Code17 => ApiError::ad_account_score_limit(),
        InjectedFault::Code80004 => ApiError::account_throttled(),
    }
}

/// The usage headers of an injected fault's answer about `account`: a throttling fault's are
/// those of an account its limit has just blocked (as real throttling answers carry them), the
/// others' the account's own.
pub(crate) fn fault_headers(
    emulator: &Emulator,
    fault: InjectedFault,
    account: Option<&str>,
) -> Vec<(&'static str, String)> {
    match fault {
        InjectedFault::Code17 => emulator.control.injected_headers(account, Throttle::Score),
        InjectedFault::Code80004 => emulator
            .control
            .injected_headers(account, Throttle::BusinessUseCase),
        InjectedFault::Code1 | InjectedFault::Code2 | InjectedFault::Http500 => {
            emulator.control.usage_headers(account)
        }
    }
}

fn respond(emulator: &Emulator, status: u16, body: String, account: Option<&str>) -> Response {
    respond_with(status, body, emulator.control.usage_headers(account))
}

fn respond_with(status: u16, body: String, usage: Vec<(&'static str, String)>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    for (name, value) in usage {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

async fn entry(
    State(emulator): State<Arc<Emulator>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    request: axum::extract::Request,
) -> Response {
    // The request is taken apart by value: no copies of headers or URI on the hot path.
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::invalid_param("The request body is too large or was cut off");
            let response = emulator.error_response(e, None);
            return respond(&emulator, response.status, response.body, None);
        }
    };
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let path = uri.path();
    if let Some(control) = path.strip_prefix("/_emulator/") {
        return control_route(&emulator, &method, control, &body);
    }
    emulator.control.stats.http_request();
    let latency = emulator.control.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = emulator.control.roll_fault() {
        emulator.control.stats.request(Route::Faulted);
        if fault == InjectedFault::Http500 {
            let mut response = Response::new(Body::from("Internal Server Error"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
        let account = emulator.account_of_path(path);
        let response = emulator.error_response(fault_error(fault), None);
        let usage = fault_headers(&emulator, fault, account.as_deref());
        return respond_with(response.status, response.body, usage);
    }
    let multipart = match multipart_params(&headers, &body).await {
        Ok(m) => m,
        Err(error) => {
            let response = emulator.error_response(error, None);
            return respond(&emulator, response.status, response.body, None);
        }
    };
    let request = match build_request(&method, &uri, &headers, &body, path, multipart) {
        Ok(r) => r,
        Err(error) => {
            let response = emulator.error_response(error, None);
            return respond(&emulator, response.status, response.body, None);
        }
    };
    let auth = request.token();
    if let Some((_, source)) = &auth {
        emulator.control.stats.auth(*source);
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_root = segments.is_empty() || (segments.len() == 1 && segments[0].starts_with('v'));
    let (status, body, account, committed) =
        if is_root && request.effective_method() == Method::Post {
            emulator.control.stats.request(Route::Batch);
            emulator.control.stats.batch();
            match batch::run(
                &emulator,
                &request,
                segments.first().copied(),
                auth.as_ref(),
            ) {
                Ok(answer) => {
                    if answer.committed {
                        emulator.dirty.store(true, Ordering::Release);
                        emulator.save_wanted.notify_one();
                    }
                    (200, answer.body, None, answer.committed)
                }
                Err(error) => {
                    let r = emulator.error_response(error, None);
                    (r.status, r.body, None, false)
                }
            }
        } else {
            let r = emulator.handle(&request, auth.as_ref());
            (r.status, r.body, r.account, r.committed)
        };
    if committed {
        match emulator.control.roll_after_commit() {
            AfterCommit::Answer => {}
            AfterCommit::Http500 => {
                let r = emulator.error_response(ApiError::unknown_error(), None);
                return respond(&emulator, 500, r.body, account.as_deref());
            }
            AfterCommit::DropConnection => {
                conn.kill();
                return Response::new(Body::empty());
            }
        }
    }
    respond(&emulator, status, body, account.as_deref())
}

/// The fields of a `multipart/form-data` body (what `curl -F`, as in Meta's documentation,
/// sends); `None` for any other body.
async fn multipart_params(headers: &HeaderMap, body: &Bytes) -> Result<Option<Params>, ApiError> {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    if !content_type.starts_with("multipart/form-data") {
        return Ok(None);
    }
    let bad = |e: multer::Error| {
        ApiError::invalid_param(format!("The multipart body cannot be read: {e}"))
    };
    let boundary = multer::parse_boundary(content_type).map_err(bad)?;
    let body = body.clone();
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut params = Params::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        let text = field.text().await.map_err(bad)?;
        params.0.push((name, text));
    }
    Ok(Some(params))
}

fn build_request(
    method: &axum::http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    path: &str,
    multipart: Option<Params>,
) -> Result<ApiRequest, ApiError> {
    let method = Method::parse(method.as_str())
        .ok_or_else(|| ApiError::invalid_param(format!("Unsupported method {method}")))?;
    let query = Params::from_urlencoded(uri.query().unwrap_or("").as_bytes());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_body =
        multipart.is_none() && !body.is_empty() && content_type.starts_with("application/json");
    let body = if let Some(params) = multipart {
        params
    } else if body.is_empty() {
        Params::default()
    } else if json_body {
        Params::from_json(body)?
    } else {
        Params::from_urlencoded(body)
    };
    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_header);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    Ok(ApiRequest {
        method,
        path: path.to_string(),
        query,
        body,
        header_token,
        base_url: format!("http://{host}"),
        json_body,
    })
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A conversion to put straight into the state (tests: "someone changed the account by hand"
/// in bulk). Bypasses authentication, `--cap`, rate limits and faults.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConversion {
    /// `act_<digits>` or digits.
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A rule object or its JSON text; stored in the API's serialisation.
    #[serde(default)]
    pub rule: Option<Value>,
    #[serde(default)]
    pub advanced_rule: Option<Value>,
    #[serde(default)]
    pub custom_event_type: Option<String>,
    #[serde(default)]
    pub event_source_id: Option<String>,
    #[serde(default)]
    pub action_source_type: Option<String>,
    #[serde(default)]
    pub default_conversion_value: f64,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub is_unavailable: bool,
    /// Unix seconds; now when absent.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(default)]
    pub first_fired_time: Option<i64>,
    #[serde(default)]
    pub last_fired_time: Option<i64>,
    /// Matched events per UTC day (`{"2026-12-01": 3}`): what the `stats` edge serves.
    #[serde(default)]
    pub daily_counts: std::collections::BTreeMap<String, u64>,
}

/// Inserts seeded conversions; returns their ids.
pub(crate) fn seed(
    emulator: &Emulator,
    seeds: Vec<SeedConversion>,
) -> Result<Vec<String>, SeedError> {
    let mut prepared = Vec::with_capacity(seeds.len());
    for s in seeds {
        let account = crate::model::ids::AdAccountId::parse(&s.account)?;
        let rule = match &s.rule {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(crate::rule::Rule::from_json_str(text)?),
            Some(v) => Some(crate::rule::Rule::from_value(v)?),
        };
        let advanced_rule = match &s.advanced_rule {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => {
                let v: Value = serde_json::from_str(text).map_err(SeedError::AdvancedRule)?;
                Some(crate::rule::canonical_json(&v).to_string())
            }
            Some(v) => Some(crate::rule::canonical_json(v).to_string()),
        };
        if let Some(t) = &s.custom_event_type {
            t.parse::<crate::model::event_types::CustomEventType>()?;
        }
        if let Some(a) = &s.action_source_type {
            a.parse::<crate::model::event_types::ActionSourceType>()?;
        }
        if let Some(p) = &s.event_source_id {
            crate::model::ids::ObjectId::parse(p)?;
        }
        if let Some(bad) = s
            .daily_counts
            .keys()
            .find(|d| d.parse::<jiff::civil::Date>().is_err())
        {
            return Err(SeedError::Day(bad.clone()));
        }
        prepared.push((account, rule, advanced_rule, s));
    }
    let mut store = emulator.store.write().unwrap_or_else(|e| e.into_inner());
    let mut ids = Vec::with_capacity(prepared.len());
    for (account, rule, advanced_rule, s) in prepared {
        let id = store.allocate_id();
        let mut c = Conversion::new(
            id.clone(),
            account.digits().to_string(),
            s.name,
            s.creation_time.unwrap_or_else(Emulator::now),
        );
        c.description = s.description;
        c.rule = rule.map(|r| r.to_api_string());
        c.advanced_rule = advanced_rule;
        c.custom_event_type = s.custom_event_type.unwrap_or_else(|| "OTHER".to_string());
        c.event_source_id = s.event_source_id;
        c.action_source_type = s.action_source_type;
        c.default_conversion_value = s.default_conversion_value;
        c.is_archived = s.is_archived;
        c.is_unavailable = s.is_unavailable;
        c.first_fired_time = s.first_fired_time;
        c.last_fired_time = s.last_fired_time;
        c.daily_counts = s.daily_counts;
        store.insert(c);
        ids.push(id);
    }
    drop(store);
    emulator.dirty.store(true, Ordering::Release);
    emulator.save_wanted.notify_one();
    Ok(ids)
}

/// What Meta or a person in Events Manager does to a conversion, outside the API
/// (`POST /_emulator/conversions/<ID>`): archive it, flag it; absent fields keep their value.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionMarks {
    /// Archived in Events Manager (still listed, frozen).
    pub is_archived: Option<bool>,
    /// Flagged by Meta (stops matching events; edits refused).
    pub is_unavailable: Option<bool>,
}

/// Sets a conversion's marks; `false` when no conversion has this id.
pub(crate) fn mark(emulator: &Emulator, id: &str, marks: ConversionMarks) -> bool {
    let mut store = emulator.store.write().unwrap_or_else(|e| e.into_inner());
    let found = store.update(id, |c| {
        if let Some(archived) = marks.is_archived {
            c.is_archived = archived;
        }
        if let Some(flagged) = marks.is_unavailable {
            c.is_unavailable = flagged;
        }
    });
    drop(store);
    if found {
        emulator.dirty.store(true, Ordering::Release);
        emulator.save_wanted.notify_one();
    }
    found
}

/// Changes to faults at run time (`POST /_emulator/faults`); absent fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsPatch {
    latency_ms: Option<u64>,
    fault_rate: Option<f64>,
    drop_after_commit: Option<f64>,
    /// 0: back to the tier's Business Use Case budget.
    rate_limit: Option<u32>,
}

fn control_route(
    emulator: &Emulator,
    method: &axum::http::Method,
    route: &str,
    body: &Bytes,
) -> Response {
    let bad = |message: String| {
        json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": message}).to_string(),
        )
    };
    match (method.as_str(), route.trim_end_matches('/')) {
        ("GET", "stats") => json_response(StatusCode::OK, super::stats_json(emulator).to_string()),
        ("GET", "state") => {
            let text = emulator.store.read().unwrap_or_else(|e| e.into_inner()).to_json();
            json_response(StatusCode::OK, text)
        }
        ("POST", "conversions") => {
            let seeds: Vec<SeedConversion> = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(items)) => {
                    match items.into_iter().map(serde_json::from_value).collect::<Result<Vec<_>, _>>() {
                        Ok(s) => s,
                        Err(e) => return bad(format!("not a list of conversions: {e}")),
                    }
                }
                Ok(v) => match serde_json::from_value(v) {
                    Ok(s) => vec![s],
                    Err(e) => return bad(format!("not a conversion: {e}")),
                },
                Err(e) => return bad(format!("the body is not JSON: {e}")),
            };
            match seed(emulator, seeds) {
                Ok(ids) => json_response(StatusCode::OK, json!({"ids": ids}).to_string()),
                Err(e) => bad(e.to_string()),
            }
        }
        ("POST", marked) if marked.starts_with("conversions/") => {
            let id = &marked["conversions/".len()..];
            let marks: ConversionMarks = match serde_json::from_slice(body) {
                Ok(m) => m,
                Err(e) => return bad(format!("expected {{is_archived, is_unavailable}}: {e}")),
            };
            if mark(emulator, id, marks) {
                json_response(StatusCode::OK, json!({"success": true}).to_string())
            } else {
                json_response(
                    StatusCode::NOT_FOUND,
                    json!({"error": format!("no conversion has id {id}")}).to_string(),
                )
            }
        }
        ("POST", "faults") => {
            let patch: FaultsPatch = match serde_json::from_slice(body) {
                Ok(p) => p,
                Err(e) => return bad(format!("expected {{latency_ms, fault_rate, drop_after_commit, rate_limit}}: {e}")),
            };
            let mut faults = emulator.control.faults();
            if let Some(v) = patch.latency_ms {
                faults.latency_ms = v;
            }
            for (value, slot) in
                [(patch.fault_rate, &mut faults.fault_rate), (patch.drop_after_commit, &mut faults.drop_after_commit)]
            {
                if let Some(v) = value {
                    if !(0.0..=1.0).contains(&v) {
                        return bad(format!("{v} is not a fraction between 0 and 1"));
                    }
                    *slot = v;
                }
            }
            if let Some(v) = patch.rate_limit {
                faults.rate_limit = (v > 0).then_some(v);
            }
            emulator.control.set_faults(faults);
            json_response(StatusCode::OK, json!({"success": true}).to_string())
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": "unknown emulator route: GET stats, GET state, POST conversions, POST conversions/<ID>, POST faults"}).to_string(),
        ),
    }
}
