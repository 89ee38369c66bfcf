//! Shared pieces of the client tests: an in-process emulator, a client with a tight retry
//! policy whose verbose lines are captured, and conversion builders.

#![allow(dead_code)]

use convctl::emulator::{self, EmulatorConfig, RunningEmulator};
use convctl::graph::{GraphClient, GraphConfig, LogSink, RetryPolicy};
use convctl::model::NewConversion;
use convctl::model::Secret;
use convctl::model::event_types::CustomEventType;
use convctl::model::ids::{AdAccountId, ObjectId};
use std::sync::{Arc, Mutex};

/// A token that must never show up anywhere but the Authorization header.
pub const CANARY: &str = "EAAB-canary-7f3c9d1e-token";
pub const APP_SECRET: &str = "app-secret-canary-51a2";

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Verbose lines the client wrote.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn sink(&self) -> LogSink {
        let lines = self.0.clone();
        Arc::new(move |line: &str| lines.lock().unwrap().push(line.to_string()))
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

pub fn config(base: &str, token: &str) -> GraphConfig {
    let mut config = GraphConfig::new(base, Secret::new(token));
    config.retry = RetryPolicy::fast();
    config.verbose = true;
    config
}

pub fn client(config: GraphConfig) -> (GraphClient, Captured) {
    let captured = Captured::default();
    let client = GraphClient::with_log_sink(config, captured.sink()).unwrap();
    (client, captured)
}

pub fn account(n: u64) -> AdAccountId {
    AdAccountId::parse(&n.to_string()).unwrap()
}

pub fn new_conversion(name: &str, threshold: u32) -> NewConversion {
    NewConversion {
        name: name.to_string(),
        description: format!("{name} described"),
        rule: Some(format!(
            r#"{{"and":[{{"event":{{"eq":"Purchase"}}}},{{"value":{{"gt":{threshold}}}}}]}}"#
        )),
        advanced_rule: None,
        custom_event_type: Some(CustomEventType::Purchase),
        event_source_id: Some(ObjectId::parse("5550001").unwrap()),
        action_source_type: None,
        default_conversion_value: 12.0,
    }
}

/// A request as a stub server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// What a stub answers: status, headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// A tiny Graph API stand-in on 127.0.0.1:0 that records every request and answers with
/// `respond(request, index of this request)`; `delay` holds each answer (to observe concurrency).
pub struct Stub {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub peak_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl Stub {
    pub async fn start(respond: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Stub {
        Stub::start_with_delay(std::time::Duration::ZERO, respond).await
    }

    pub async fn start_with_delay(
        delay: std::time::Duration,
        respond: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Stub {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let respond = Arc::new(respond);
        let (seen2, peak2) = (seen.clone(), peak.clone());
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: String| {
                let (seen, respond, in_flight, peak) = (
                    seen2.clone(),
                    respond.clone(),
                    in_flight.clone(),
                    peak2.clone(),
                );
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let request = Seen {
                        method: method.to_string(),
                        target: uri.to_string(),
                        authorization: headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        body,
                    };
                    let index = {
                        let mut all = seen.lock().unwrap();
                        all.push(request.clone());
                        all.len() - 1
                    };
                    let (status, extra, body) = respond(&request, index);
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let mut response = axum::response::Response::new(axum::body::Body::from(body));
                    *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                    for (name, value) in extra {
                        response.headers_mut().insert(name, value.parse().unwrap());
                    }
                    response
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub {
            base,
            seen,
            peak_in_flight: peak,
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A Graph error body.
pub fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> String {
    let mut error = serde_json::json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "TRACE123"});
    if let Some(s) = subcode {
        error["error_subcode"] = serde_json::json!(s);
    }
    serde_json::json!({ "error": error }).to_string()
}

/// The form fields of a request body.
pub fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
