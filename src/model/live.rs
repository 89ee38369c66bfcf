//! The live model: custom conversions as the API reports them, and the writes convctl makes.

use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::{AdAccountId, ConversionId, ObjectId};
use serde::{Deserialize, Serialize};

/// A custom conversion as read from the API. A field the answer did not carry is `None`: it is
/// *unknown*, never "changed" (reference: Custom conversions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveConversion {
    pub id: ConversionId,
    /// `None` when the answer did not carry it: such a conversion is never matched, pruned,
    /// or deleted by name (only an entry that pins its id can mean it).
    pub name: Option<String>,
    pub description: Option<String>,
    /// The rule exactly as the API serialised it; compare by meaning via `rule::Rule`.
    pub rule: Option<String>,
    pub advanced_rule: Option<String>,
    pub custom_event_type: Option<String>,
    /// From `event_source_id`, else `data_sources[0].id`, else `pixel.id`.
    pub event_source_id: Option<String>,
    pub action_source_type: Option<String>,
    pub default_conversion_value: Option<f64>,
    pub is_archived: bool,
    pub is_unavailable: bool,
    pub creation_time: Option<String>,
    pub first_fired_time: Option<String>,
    pub last_fired_time: Option<String>,
}

impl LiveConversion {
    /// The day convctl retired this conversion, when its name says so (see [`super::retired`]).
    pub fn retired_on(&self) -> Option<jiff::civil::Date> {
        self.name.as_deref().and_then(super::retired::retired_on)
    }
}

/// A time as the API writes it: RFC 3339, the Graph API's offsets without a colon
/// (`2026-11-20T10:00:00+0000`), or unix seconds.
pub fn parse_api_time(text: &str) -> Option<jiff::Timestamp> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return jiff::Timestamp::from_second(t.parse().ok()?).ok();
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", t)
        .ok()?
        .to_timestamp()
        .ok()
}

/// The fields of a create (`POST /act_<ID>/customconversions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewConversion {
    pub name: String,
    pub description: String,
    /// Compact JSON of the rule (exactly one of `rule` / `advanced_rule`).
    pub rule: Option<String>,
    pub advanced_rule: Option<String>,
    pub custom_event_type: Option<CustomEventType>,
    pub event_source_id: Option<ObjectId>,
    pub action_source_type: Option<ActionSourceType>,
    pub default_conversion_value: f64,
}

/// The fields of an in-place update (`POST /<ID>`): only these three may change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversionUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub default_conversion_value: Option<f64>,
}

/// One write. A list of them given to the client together is independent: the client may run
/// them in any order and in parallel (batched). Ordering between phases is the caller's job.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    Create {
        account: AdAccountId,
        conversion: NewConversion,
    },
    Update {
        id: ConversionId,
        update: ConversionUpdate,
    },
    Delete {
        id: ConversionId,
    },
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Created(ConversionId),
    /// A create whose answer was lost, found by re-listing: adopted instead of repeated.
    Adopted(ConversionId),
    /// A create whose first answer was lost, that no whole listing of the account showed, sent
    /// again and made as this id. Had the API's listing left out exactly the conversion the
    /// first attempt made, the account now holds two: callers say that it was sent twice.
    Resent(ConversionId),
    Updated,
    Deleted,
    /// A delete that found the object already gone (a lost answer to an earlier attempt).
    AlreadyGone,
}
