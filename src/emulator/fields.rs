//! The fields of a `CustomConversion` node and their pre-serialised JSON fragments.
//!
//! Lists are the hot path of the emulator (tens of thousands per second), so each conversion
//! keeps every field already rendered as a `"key":value` fragment, computed once per write;
//! answering a list is then string concatenation. This module never parses rules or touches
//! the store: it only knows field names and how each is written on the wire.

use super::api_error::ApiError;
use serde_json::{Value, json};

macro_rules! fields {
    ($($variant:ident = $text:literal),+ $(,)?) => {
        /// A readable field of the node (reference: Custom conversions).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Field { $($variant),+ }

        impl Field {
            pub(crate) const ALL: &'static [Field] = &[$(Field::$variant),+];

            pub(crate) fn as_str(self) -> &'static str {
                match self { $(Field::$variant => $text),+ }
            }

            pub(crate) fn parse(name: &str) -> Option<Field> {
                match name { $($text => Some(Field::$variant),)+ _ => None }
            }
        }
    };
}

fields! {
    Id = "id",
    AccountId = "account_id",
    Name = "name",
    Description = "description",
    Rule = "rule",
    CustomEventType = "custom_event_type",
    EventSourceType = "event_source_type",
    DefaultConversionValue = "default_conversion_value",
    DataSources = "data_sources",
    Pixel = "pixel",
    CreationTime = "creation_time",
    FirstFiredTime = "first_fired_time",
    LastFiredTime = "last_fired_time",
    IsArchived = "is_archived",
    IsUnavailable = "is_unavailable",
    RetentionDays = "retention_days",
    Business = "business",
    OfflineConversionDataSet = "offline_conversion_data_set",
    AggregationRule = "aggregation_rule",
    AdvancedRule = "advanced_rule",
    ActionSourceType = "action_source_type",
    EventSourceId = "event_source_id",
}

pub(crate) const FIELD_COUNT: usize = Field::ALL.len();

/// The fields an answer should carry, in the order asked (`id` always comes last when not asked,
/// as on the real API).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldSelection(pub Vec<Field>);

impl FieldSelection {
    /// Without `fields` only `id` comes back (reference: Custom conversions, List).
    pub(crate) fn default_id_only() -> Self {
        FieldSelection(vec![Field::Id])
    }

    /// Parses `fields` as a comma list (`name,rule`) or a JSON array (`["pixel","rule"]`).
    /// Sub-field selections (`data_sources{id}`) select the whole field.
    /// A wrong one is refused as the API refuses it (code 100, its wording).
    pub(crate) fn parse(text: &str) -> Result<Self, ApiError> {
        let trimmed = text.trim();
        let owned: Vec<String>;
        let names: Vec<&str> = if trimmed.starts_with('[') {
            owned = serde_json::from_str::<Vec<String>>(trimmed).map_err(|_| {
                ApiError::invalid_param(format!(
                    "Param fields must be a comma-separated list or a JSON array of strings, found {trimmed}"
                ))
            })?;
            owned.iter().map(String::as_str).collect()
        } else {
            split_top_level(trimmed)
        };
        let mut out: Vec<Field> = Vec::new();
        for raw in names {
            let name = raw.split('{').next().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let field = Field::parse(name).ok_or_else(|| {
                ApiError::invalid_param(format!(
                    "Tried accessing nonexisting field ({name}) on node type (CustomConversion)"
                ))
            })?;
            if !out.contains(&field) {
                out.push(field);
            }
        }
        if !out.contains(&Field::Id) {
            out.push(Field::Id);
        }
        Ok(FieldSelection(out))
    }
}

/// Splits on commas that are not inside `{...}`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// Every present field of one conversion, rendered once: `text` holds the `"key":value`
/// fragments back to back in `Field` order, and `ends[field]` where each one ends (a field
/// that is absent ends where the previous one did). 88 bytes of offsets per conversion keep
/// 50,000 conversions well under 100 MB.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rendered {
    text: Box<str>,
    ends: [u32; FIELD_COUNT],
}

impl Rendered {
    /// Renders `(field, value)` pairs; a field not given is absent from answers.
    pub(crate) fn new(values: &[(Field, Value)]) -> Self {
        let mut slots: [Option<&Value>; FIELD_COUNT] = [None; FIELD_COUNT];
        for (field, value) in values {
            slots[*field as usize] = Some(value);
        }
        let mut text = String::with_capacity(768);
        let mut ends = [0u32; FIELD_COUNT];
        for (i, slot) in slots.iter().enumerate() {
            if let Some(value) = slot {
                text.push('"');
                text.push_str(Field::ALL[i].as_str());
                text.push_str("\":");
                text.push_str(&value.to_string());
            }
            ends[i] = text.len() as u32;
        }
        Rendered {
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// The `"key":value` fragment of a field; empty when absent.
    fn fragment(&self, field: Field) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// A field's value read back from its fragment (the rare paths that need the data).
    pub(crate) fn value<T: serde::de::DeserializeOwned>(&self, field: Field) -> Option<T> {
        let fragment = self.fragment(field);
        let value = fragment.get(field.as_str().len() + 3..)?;
        serde_json::from_str(value).ok()
    }

    /// Appends `{"k":v,...}` for the selection to `out`.
    pub(crate) fn write_object(&self, selection: &FieldSelection, out: &mut String) {
        out.push('{');
        let mut first = true;
        for field in &selection.0 {
            let fragment = self.fragment(*field);
            if fragment.is_empty() {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(fragment);
        }
        out.push('}');
    }
}

/// Graph's datetime format: `2026-11-25T14:10:14+0000`.
pub fn graph_datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A JSON value for a conversion value: integral values as integers (`12`, not `12.0`).
pub(crate) fn number(n: f64) -> Value {
    let v = crate::rule::number_value(n);
    if v.is_null() { json!(0) } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_format() {
        assert_eq!(graph_datetime(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_datetime(1_795_529_414), "2026-11-24T14:10:14+0000");
        assert_eq!(graph_datetime(951_782_400), "2000-02-29T00:00:00+0000");
    }

    #[test]
    fn fields_both_forms() {
        let a = FieldSelection::parse("name,rule").unwrap();
        let b = FieldSelection::parse(r#"["name","rule"]"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0, vec![Field::Name, Field::Rule, Field::Id]);
        assert_eq!(
            FieldSelection::parse("data_sources{id,name},id").unwrap().0,
            vec![Field::DataSources, Field::Id]
        );
        let e = FieldSelection::parse("name,colour").unwrap_err();
        assert!(e.message.contains("nonexisting field (colour)"), "{e:?}");
    }

    #[test]
    fn renders_selected_fields_in_order() {
        let r = Rendered::new(&[
            (Field::Id, json!("1")),
            (Field::Name, json!("a\"b")),
            (Field::IsArchived, json!(false)),
        ]);
        let mut out = String::new();
        r.write_object(
            &FieldSelection::parse("is_archived,name,pixel").unwrap(),
            &mut out,
        );
        assert_eq!(out, r#"{"is_archived":false,"name":"a\"b","id":"1"}"#);
    }
}
