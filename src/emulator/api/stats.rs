//! The `stats` edge of a custom conversion (`GET /<id>/stats?aggregation=count&start_time=…
//! &end_time=…`): how many Conversions API events it matched per day, from what `events`
//! recorded.
//!
//! The answer is a list of `CustomConversionStatsResult` as both official SDKs describe it
//! (`aggregation`, `timestamp`, `data`): one result per UTC day with at least one event, oldest
//! first, `timestamp` the day's start as a Graph datetime and `data` `[{"count": N}]`
//! (convention: the items of `data` are undocumented). Days without events are left out, the
//! less convenient reading for a client. Pages of 25 by default (`limit` up to 100; 25 under
//! `--strict`), with cursors and `next` as on the conversions edge. `start_time` and `end_time`
//! take unix seconds or a datetime; without them, the last 28 days (convention).

use super::read::{decode_cursor, encode_cursor};
use super::{Answer, Emulator, Outcome};
use crate::emulator::api_error::ApiError;
use crate::emulator::fields::graph_datetime;
use crate::emulator::request::ApiRequest;
use crate::model::stats::day_start;
use serde_json::{Value, json};

/// The aggregations the SDKs name (`CustomConversionStatsResult.Aggregation`).
const AGGREGATIONS: &[&str] = &[
    "count",
    "device_type",
    "host",
    "pixel_fire",
    "unmatched_count",
    "unmatched_usd_amount",
    "url",
    "usd_amount",
];

/// The window without `start_time`/`end_time` (convention).
const DEFAULT_DAYS: i64 = 28;

impl Emulator {
    pub(super) fn stats(&self, req: &ApiRequest, id: &str) -> Outcome {
        let aggregation = req.param("aggregation").unwrap_or("count").trim();
        if !AGGREGATIONS.contains(&aggregation) {
            return Err(ApiError::invalid_param(format!(
                "Param aggregation must be one of {{{}}}",
                AGGREGATIONS.join(", ")
            )));
        }
        if aggregation != "count" {
            return Err(ApiError::invalid_param(format!(
                "the emulator serves aggregation=count only, not {aggregation}"
            )));
        }
        let end = match req.param("end_time") {
            Some(text) => time_param(text, "end_time")?,
            None => Self::now(),
        };
        let start = match req.param("start_time") {
            Some(text) => time_param(text, "start_time")?,
            None => end - DEFAULT_DAYS * 86_400,
        };
        if start >= end {
            return Err(ApiError::invalid_param(
                "Param start_time must be before end_time",
            ));
        }
        let limit = self.page_limit(req, 25)?;
        let offset = match req.param("after") {
            Some(cursor) => decode_cursor(cursor)? as usize + 1,
            None => 0,
        };
        let days: Vec<(i64, u64)> = {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            let conversion = store
                .get(id)
                .ok_or_else(|| ApiError::unknown_object("GET", id))?;
            conversion
                .daily_counts()
                .iter()
                .map(|(day, n)| (day_start(*day), *n))
                // A day counts when its events can fall in [start, end).
                .filter(|(day, n)| *n > 0 && *day + 86_400 > start && *day < end)
                .collect()
        };
        let page: Vec<Value> = days
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(day, n)| {
                json!({"aggregation": "count", "timestamp": graph_datetime(*day), "data": [{"count": n}]})
            })
            .collect();
        let mut body = json!({"data": page});
        if !page.is_empty() {
            let last = offset + page.len() - 1;
            body["paging"] = json!({"cursors": {
                "before": encode_cursor(offset as u64),
                "after": encode_cursor(last as u64),
            }});
            if last + 1 < days.len() {
                body["paging"]["next"] = json!(next_url(req, &encode_cursor(last as u64), limit));
            }
        }
        Ok(Answer::read(body.to_string()))
    }
}

/// `start_time` / `end_time`: unix seconds, or a datetime (`2026-12-01T00:00:00+0000`, RFC
/// 3339, or a date).
fn time_param(text: &str, name: &str) -> Result<i64, ApiError> {
    let text = text.trim();
    if let Some(t) = crate::model::parse_api_time(text) {
        return Ok(t.as_second());
    }
    if let Ok(day) = text.parse::<jiff::civil::Date>() {
        return Ok(day_start(day));
    }
    Err(ApiError::invalid_param(format!(
        "Param {name} must be a unix time or a datetime"
    )))
}

/// The next page: the same path and query, with `limit` and the cursor set.
fn next_url(req: &ApiRequest, cursor: &str, limit: usize) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &req.query.0 {
        if !matches!(k.as_str(), "after" | "before" | "limit") {
            serializer.append_pair(k, v);
        }
    }
    serializer.append_pair("limit", &limit.to_string());
    serializer.append_pair("after", cursor);
    format!("{}{}?{}", req.base_url, req.path, serializer.finish())
}
