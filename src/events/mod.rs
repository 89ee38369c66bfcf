//! Conversions API server events (Meta's Conversions API reference; reference/graph-api.md:
//! Conversions API): parsing the `data` parameter and validating each event, as
//! `POST /{pixel_id}/events` does.
//!
//! Pure: no clock (the caller passes `now`), no network, no state. The emulator uses it to
//! answer `/events`, and `convctl events send` uses it to check events offline before sending.
//! One invalid event rejects the whole batch, so validation returns the first error found.

use crate::model::event_types::ActionSourceType;
use serde_json::{Map, Value};

/// At most this many events in one request.
pub(crate) const MAX_EVENTS: usize = 1000;
/// `event_time` may be at most this old (7 days)...
pub(crate) const MAX_AGE_SECS: i64 = 7 * 86_400;
/// ...except for `physical_store` events (62 days).
pub(crate) const MAX_AGE_PHYSICAL_STORE_SECS: i64 = 62 * 86_400;
/// Subcode of a too-old `event_time` (the reference marks it uncertain).
pub(crate) const SUBCODE_TOO_OLD: u32 = 2_804_003;

/// A validated server event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServerEvent {
    pub(crate) event_name: String,
    pub(crate) event_time: i64,
    pub(crate) action_source: ActionSourceType,
    pub(crate) event_source_url: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) user_data: Map<String, Value>,
    pub(crate) custom_data: Map<String, Value>,
}

/// Why a request's events were refused. `index` is the event's position in `data`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{message}", index.map(|i| format!("event {i}: ")).unwrap_or_default())]
pub(crate) struct EventError {
    pub(crate) index: Option<usize>,
    /// A short title, like the API's `error_user_title`.
    pub(crate) title: &'static str,
    /// What is wrong and how to fix it, like the API's `error_user_msg`.
    pub(crate) message: String,
    pub(crate) subcode: Option<u32>,
}

impl EventError {
    fn new(index: Option<usize>, title: &'static str, message: impl Into<String>) -> Self {
        EventError {
            index,
            title,
            message: message.into(),
            subcode: None,
        }
    }
}

impl ServerEvent {
    /// The event as rules see it (reference: Rules): `event` = event_name,
    /// `url` = event_source_url, and every `custom_data` key as a parameter.
    pub(crate) fn rule_event(&self) -> crate::rule::Event {
        let mut event = Map::new();
        for (k, v) in &self.custom_data {
            event.insert(k.clone(), v.clone());
        }
        event.insert("event".into(), Value::String(self.event_name.clone()));
        if let Some(url) = &self.event_source_url {
            event.insert("url".into(), Value::String(url.clone()));
        }
        event
    }
}

/// Parses the `data` parameter: a JSON array whose items are event objects or JSON strings
/// holding one (the Python SDK sends strings).
pub(crate) fn parse_data(data: &str) -> Result<Vec<Value>, EventError> {
    let value: Value = serde_json::from_str(data).map_err(|e| {
        EventError::new(
            None,
            "Invalid data",
            format!("The parameter data must be a JSON array of events: {e}"),
        )
    })?;
    let Value::Array(items) = value else {
        return Err(EventError::new(
            None,
            "Invalid data",
            "The parameter data must be a JSON array of events",
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(text) => serde_json::from_str::<Value>(&text).map_err(|e| {
                EventError::new(
                    Some(i),
                    "Invalid event",
                    format!("the event is a string that is not valid JSON: {e}"),
                )
            }),
            other => Ok(other),
        })
        .collect()
}

/// Validates a whole request's events; the first invalid one rejects them all.
pub(crate) fn validate_batch(items: &[Value], now: i64) -> Result<Vec<ServerEvent>, EventError> {
    if items.is_empty() {
        return Err(EventError::new(
            None,
            "No events",
            "The parameter data must contain at least one event",
        ));
    }
    if items.len() > MAX_EVENTS {
        return Err(EventError::new(
            None,
            "Too many events",
            format!(
                "{} events sent; at most {MAX_EVENTS} events can be sent in one request: split them",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| validate_event(item, i, now))
        .collect()
}

/// Validates one event (position `index` in `data`). The checks run in the order the API
/// reports them, so the first error is the one it would give.
pub(crate) fn validate_event(
    item: &Value,
    index: usize,
    now: i64,
) -> Result<ServerEvent, EventError> {
    let Value::Object(map) = item else {
        return Err(EventError::new(
            Some(index),
            "Invalid event",
            "each event must be a JSON object",
        ));
    };
    let event = EventFields {
        map,
        at: Some(index),
    };
    let event_name = event.event_name()?;
    let event_time = event.event_time()?;
    let action_source = event.action_source()?;
    event.check_age(event_time, action_source, now)?;
    let user_data = event.user_data()?;
    let event_source_url = event.event_source_url()?;
    if action_source == ActionSourceType::Website {
        event.check_website(event_source_url.as_deref(), user_data)?;
    }
    Ok(ServerEvent {
        event_name,
        event_time,
        action_source,
        event_source_url,
        event_id: event.event_id(),
        custom_data: event.custom_data()?,
        user_data: user_data.clone(),
    })
}

/// One event's fields, read one named step at a time.
struct EventFields<'a> {
    map: &'a Map<String, Value>,
    at: Option<usize>,
}

impl<'a> EventFields<'a> {
    fn error(&self, title: &'static str, message: impl Into<String>) -> EventError {
        EventError::new(self.at, title, message)
    }

    fn missing(&self, field: &str) -> EventError {
        self.error(
            "Missing parameter",
            format!("the required parameter {field} is missing"),
        )
    }

    fn event_name(&self) -> Result<String, EventError> {
        match self.map.get("event_name") {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(_) => Err(self.error(
                "Invalid event_name",
                "event_name must be a non-empty string",
            )),
            None => Err(self.missing("event_name")),
        }
    }

    /// Seconds since the epoch, as a number or a string of digits.
    fn event_time(&self) -> Result<i64, EventError> {
        match self.map.get("event_time") {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
            None => return Err(self.missing("event_time")),
        }
        .ok_or_else(|| {
            self.error(
                "Invalid event_time",
                "event_time must be a unix timestamp in seconds",
            )
        })
    }

    fn action_source(&self) -> Result<ActionSourceType, EventError> {
        match self.map.get("action_source") {
            Some(Value::String(s)) => s
                .parse()
                .map_err(|e| self.error("Invalid action_source", format!("action_source {e}"))),
            Some(_) => Err(self.error("Invalid action_source", "action_source must be a string")),
            None => Err(self.missing("action_source")),
        }
    }

    /// Not older than 7 days (62 for `physical_store`), not in the future.
    fn check_age(
        &self,
        event_time: i64,
        action_source: ActionSourceType,
        now: i64,
    ) -> Result<(), EventError> {
        let max_age = if action_source == ActionSourceType::PhysicalStore {
            MAX_AGE_PHYSICAL_STORE_SECS
        } else {
            MAX_AGE_SECS
        };
        if event_time < now - max_age {
            let mut e = self.error(
                "Event Timestamp Too Old",
                format!(
                    "The timestamp for this event is too far in the past. Events need to be sent within {} days of when they occurred.",
                    max_age / 86_400
                ),
            );
            e.subcode = Some(SUBCODE_TOO_OLD);
            return Err(e);
        }
        if event_time > now {
            return Err(self.error(
                "Event Timestamp In Future",
                "The timestamp for this event is in the future: event_time must be the time the event happened",
            ));
        }
        Ok(())
    }

    fn user_data(&self) -> Result<&'a Map<String, Value>, EventError> {
        match self.map.get("user_data") {
            Some(Value::Object(u)) => Ok(u),
            Some(_) => Err(self.error("Invalid user_data", "user_data must be an object")),
            None => Err(self.missing("user_data")),
        }
    }

    fn event_source_url(&self) -> Result<Option<String>, EventError> {
        match self.map.get("event_source_url") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.error(
                "Invalid event_source_url",
                "event_source_url must be a string",
            )),
            None => Ok(None),
        }
    }

    /// Website events need the page and the browser's user agent.
    fn check_website(
        &self,
        event_source_url: Option<&str>,
        user_data: &Map<String, Value>,
    ) -> Result<(), EventError> {
        if event_source_url.is_none_or(str::is_empty) {
            return Err(self.error(
                "Missing parameter",
                "website events need event_source_url (the page the event happened on)",
            ));
        }
        if !matches!(user_data.get("client_user_agent"), Some(Value::String(s)) if !s.is_empty()) {
            return Err(self.error(
                "Missing parameter",
                "website events need user_data.client_user_agent (the browser's user agent)",
            ));
        }
        Ok(())
    }

    fn custom_data(&self) -> Result<Map<String, Value>, EventError> {
        match self.map.get("custom_data") {
            Some(Value::Object(c)) => Ok(c.clone()),
            Some(Value::Null) | None => Ok(Map::new()),
            Some(_) => Err(self.error("Invalid custom_data", "custom_data must be an object")),
        }
    }

    fn event_id(&self) -> Option<String> {
        match self.map.get("event_id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_795_000_000;

    fn purchase(time: i64) -> Value {
        json!({"event_name":"Purchase","event_time":time,"action_source":"website",
               "event_source_url":"https://shop.example/thankyou.html",
               "user_data":{"em":"309a0a5c","client_user_agent":"ua"},
               "custom_data":{"value":150,"currency":"USD"}})
    }

    #[test]
    fn accepts_objects_and_json_strings() {
        let data = json!([purchase(NOW - 10), purchase(NOW).to_string()]).to_string();
        let items = parse_data(&data).unwrap();
        let events = validate_batch(&items, NOW).unwrap();
        assert_eq!(events.len(), 2);
        let e = events[0].rule_event();
        assert_eq!(e["event"], "Purchase");
        assert_eq!(e["url"], "https://shop.example/thankyou.html");
        assert_eq!(e["value"], 150);
    }

    #[test]
    fn time_window() {
        let old = validate_batch(&[purchase(NOW - MAX_AGE_SECS - 1)], NOW).unwrap_err();
        assert_eq!(old.subcode, Some(SUBCODE_TOO_OLD));
        assert!(
            validate_batch(&[purchase(NOW + 5)], NOW)
                .unwrap_err()
                .title
                .contains("Future")
        );
        let mut store = purchase(NOW - 30 * 86_400);
        store["action_source"] = json!("physical_store");
        assert!(validate_batch(&[store], NOW).is_ok());
    }

    #[test]
    fn one_bad_event_rejects_the_batch() {
        let mut bad = purchase(NOW);
        bad.as_object_mut().unwrap().remove("event_source_url");
        let e = validate_batch(&[purchase(NOW), bad], NOW).unwrap_err();
        assert_eq!(e.index, Some(1));
        assert!(e.message.contains("event_source_url"));
        let mut no_ua = purchase(NOW);
        no_ua["user_data"] = json!({"em":"x"});
        assert!(
            validate_batch(&[no_ua], NOW)
                .unwrap_err()
                .message
                .contains("client_user_agent")
        );
        let mut no_source = purchase(NOW);
        no_source.as_object_mut().unwrap().remove("action_source");
        assert!(
            validate_batch(&[no_source], NOW)
                .unwrap_err()
                .message
                .contains("action_source")
        );
        let too_many: Vec<Value> = (0..=MAX_EVENTS).map(|_| purchase(NOW)).collect();
        assert!(
            validate_batch(&too_many, NOW)
                .unwrap_err()
                .message
                .contains("at most 1000")
        );
    }
}
