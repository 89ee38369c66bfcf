//! Conversions API: `POST /{pixel}/events` with `data` (a JSON array of server events) and an
//! optional `test_event_code` (reference: Conversions API).
//!
//! Authentication, usage headers, throttling and backoff are the transport's. Sending events is
//! a write that the API does not deduplicate, so only a failure that proves nothing was
//! received (a 4xx error, a throttle, a refused connection) is retried; one whose answer was lost
//! (HTTP 5xx, a dropped connection, a timeout) is reported as [`ErrorKind::Uncertain`] and never
//! sent again blindly. The caller validates the events first (`crate::events`); this module only
//! moves them.

use super::client::GraphClient;
use super::error::{ErrorKind, GraphError, json_i64};
use super::transport::{Backoff, FailedAttempt, Request};
use crate::model::ids::ObjectId;
use reqwest::Method;
use serde_json::Value;

/// What the API answered: `{"events_received": N, "messages": [...], "fbtrace_id": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsReceipt {
    pub events_received: u64,
    pub(crate) messages: Vec<String>,
    pub fbtrace_id: Option<String>,
}

impl GraphClient {
    /// Sends `events` (already validated) to `pixel`; `test_event_code` shows them in Events
    /// Manager → Test Events. A blank code is refused before anything is sent: the API would
    /// take the events as real ones, which a caller passing a code never means.
    pub async fn send_events(
        &self,
        pixel: &ObjectId,
        events: &[Value],
        test_event_code: Option<&str>,
    ) -> Result<EventsReceipt, GraphError> {
        let transport = &self.inner.transport;
        let mut form = vec![("data".to_string(), Value::from(events.to_vec()).to_string())];
        if let Some(code) = test_event_code {
            let code = code.trim();
            if code.is_empty() {
                return Err(GraphError::config(
                    "the test event code is blank; nothing was sent (events without a code count as real conversions)",
                ));
            }
            form.push(("test_event_code".to_string(), code.to_string()));
        }
        let request = Request {
            method: Method::POST,
            url: transport.url(&format!("{pixel}/events")),
            form: Some(form),
            account: None,
            note: format!("{} events", events.len()),
            many_accounts: false,
            points: 0,
        };
        let mut backoff = Backoff::new(&transport.policy);
        loop {
            match transport.attempt(&request, true, backoff.deadline()).await {
                Ok(answer) => return Ok(receipt(&answer)),
                Err(FailedAttempt::Fatal(error)) => {
                    return Err(error.with_attempts(backoff.attempts + 1));
                }
                Err(FailedAttempt::Uncertain(error)) => {
                    return Err(GraphError::new(
                        ErrorKind::Uncertain,
                        format!(
                            "the answer to sending {} events was lost ({error}); they may have been \
                             received, so they were not sent again (server events are not \
                             deduplicated): check Events Manager → Test Events before resending",
                            events.len()
                        ),
                    ));
                }
                Err(failure @ (FailedAttempt::Retry { .. } | FailedAttempt::Unreachable(_))) => {
                    let (error, next) = match failure {
                        FailedAttempt::Retry { error, wait } => (error, backoff.next(wait)),
                        other => (other.into_error(), backoff.next_unreachable()),
                    };
                    match next {
                        Some(delay) => {
                            transport.log(|| {
                                format!(
                                    "retry of POST {} in {} ms after: {error}",
                                    request.url.path(),
                                    delay.as_millis()
                                )
                            });
                            tokio::time::sleep(delay).await;
                        }
                        None => return Err(backoff.exhausted(error)),
                    }
                }
            }
        }
    }
}

fn receipt(answer: &Value) -> EventsReceipt {
    EventsReceipt {
        events_received: json_i64(&answer["events_received"])
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        messages: answer["messages"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        fbtrace_id: answer["fbtrace_id"].as_str().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn receipts_tolerate_numbers_as_strings_and_missing_fields() {
        let r = receipt(
            &json!({"events_received": "2", "messages": ["m", {"x": 1}], "fbtrace_id": "Ab"}),
        );
        assert_eq!(r.events_received, 2);
        assert_eq!(r.messages, vec!["m".to_string(), "{\"x\":1}".to_string()]);
        assert_eq!(r.fbtrace_id.as_deref(), Some("Ab"));
        assert_eq!(receipt(&json!({})).events_received, 0);
    }
}
