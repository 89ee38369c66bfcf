//! A tiny Graph API stand-in on 127.0.0.1:0 for the tests of answers the emulator never gives:
//! it records every request and answers what the test says.

use std::sync::{Arc, Mutex};

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

/// A 200 answer with a JSON body.
pub fn ok(body: serde_json::Value) -> Answer {
    (200, vec![], body.to_string())
}
