//! The Conversions API (`POST /<pixel>/events`): events validated as Meta validates them, then
//! matched against the rules of the conversions on that pixel (their first and last fired times,
//! and the daily counts the `stats` edge serves).

use super::{Answer, Emulator, Outcome};
use crate::emulator::api_error::ApiError;
use crate::emulator::request::ApiRequest;
use crate::model::stats::utc_day;
use crate::rule::{self, Rule};
use serde_json::json;

impl Emulator {
    pub(super) fn events(&self, req: &ApiRequest, pixel: &str) -> Outcome {
        if !pixel.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::unknown_object("POST", pixel));
        }
        let data = req
            .param("data")
            .ok_or_else(|| ApiError::invalid_param("The parameter data is required"))?;
        let now = Self::now();
        let events = crate::events::parse_data(data)
            .and_then(|items| crate::events::validate_batch(&items, now))
            .map_err(|e| {
                let mut error =
                    ApiError::invalid_param("Invalid parameter").with_user(e.title, e.to_string());
                error.message = "Invalid parameter".to_string();
                if let Some(subcode) = e.subcode {
                    error = error.with_subcode(subcode);
                }
                error
            })?;
        let rule_events: Vec<(i64, rule::Event)> = events
            .iter()
            .map(|e| (e.event_time, e.rule_event()))
            .collect();
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        // Every rule is evaluated before anything is recorded: a rule that cannot be evaluated
        // (a regex PCRE gives up on) fails the request as a whole, never counts as "no match".
        let mut fired = Vec::new();
        for id in store.on_pixel(pixel) {
            let Some(rule) = store
                .get(&id)
                .filter(|c| !c.is_archived())
                .and_then(|c| c.rule())
            else {
                continue;
            };
            let Ok(rule) = Rule::from_json_str(&rule) else {
                continue;
            };
            let mut times = Vec::new();
            for (time, event) in &rule_events {
                match rule.matches(event) {
                    Ok(true) => times.push(*time),
                    Ok(false) => {}
                    Err(e) => {
                        return Err(ApiError::invalid_param(format!(
                            "the rule of custom conversion {id} cannot be evaluated: {e}"
                        )));
                    }
                }
            }
            if !times.is_empty() {
                fired.push((id, times));
            }
        }
        for (id, times) in fired {
            let (Some(first), Some(last)) =
                (times.iter().min().copied(), times.iter().max().copied())
            else {
                continue;
            };
            store.update(&id, |c| {
                c.first_fired_time = Some(c.first_fired_time.map_or(first, |t| t.min(first)));
                c.last_fired_time = Some(c.last_fired_time.map_or(last, |t| t.max(last)));
                // What the `stats` edge counts: matched events per day of their event_time.
                for time in &times {
                    *c.daily_counts
                        .entry(utc_day(*time).to_string())
                        .or_default() += 1;
                }
            });
        }
        drop(store);
        self.control.stats.events(events.len());
        let body = json!({"events_received": events.len(), "messages": [], "fbtrace_id": self.control.trace_id()});
        Ok(Answer::written(body.to_string()))
    }
}
