//! The emulator's state: custom conversions per ad account, in memory, with the JSON document
//! it is saved to and loaded from (`--state`, written atomically: temp file + rename).
//!
//! The store applies changes it is given and keeps every conversion's answer pre-rendered
//! (`fields::Rendered`); it does not validate parameters or know about HTTP — `api` does that.

use super::error::StateError;
use super::fields::{self, Field, FieldSelection, Rendered};
use crate::file_io::{
    AtomicWriteError, Existing, InputError, LimitedRead, read_input, write_atomically,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The first id handed out in a fresh state (ids look like the real API's).
const FIRST_ID: u64 = 23_850_000_000_000_001;
/// State files larger than this are refused on load: 500 accounts of 100 conversions with
/// long rules are some 100 MB.
const MAX_STATE_BYTES: u64 = 1 << 30;

/// One custom conversion, as saved in the state document. Times are unix seconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Conversion {
    pub(crate) id: String,
    /// Digits of the ad account (the API's `account_id` has no `act_` prefix).
    pub(crate) account_id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) advanced_rule: Option<String>,
    pub(crate) custom_event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event_source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) action_source_type: Option<String>,
    #[serde(default)]
    pub(crate) default_conversion_value: f64,
    pub(crate) creation_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_fired_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_fired_time: Option<i64>,
    #[serde(default)]
    pub(crate) is_archived: bool,
    #[serde(default)]
    pub(crate) is_unavailable: bool,
    /// Conversions API events matched per UTC day (`2026-12-01` → count): what the `stats`
    /// edge serves.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) daily_counts: BTreeMap<String, u64>,
}

impl Conversion {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(id: String, account_id: String, name: String, creation_time: i64) -> Self {
        Conversion {
            id,
            account_id,
            name,
            description: String::new(),
            rule: None,
            advanced_rule: None,
            custom_event_type: "OTHER".to_string(),
            event_source_id: None,
            action_source_type: None,
            default_conversion_value: 0.0,
            creation_time,
            first_fired_time: None,
            last_fired_time: None,
            is_archived: false,
            is_unavailable: false,
            daily_counts: BTreeMap::new(),
        }
    }

    /// The answer fragments of every field.
    fn render(&self) -> Rendered {
        let mut values: Vec<(Field, Value)> = vec![
            (Field::Id, json!(self.id)),
            (Field::AccountId, json!(self.account_id)),
            (Field::Name, json!(self.name)),
            (Field::Description, json!(self.description)),
            (Field::CustomEventType, json!(self.custom_event_type)),
            (
                Field::DefaultConversionValue,
                fields::number(self.default_conversion_value),
            ),
            (
                Field::CreationTime,
                json!(fields::graph_datetime(self.creation_time)),
            ),
            (Field::IsArchived, json!(self.is_archived)),
            (Field::IsUnavailable, json!(self.is_unavailable)),
            (Field::RetentionDays, json!(0)),
        ];
        if let Some(rule) = &self.rule {
            values.push((Field::Rule, json!(rule)));
        }
        if let Some(rule) = &self.advanced_rule {
            values.push((Field::AdvancedRule, json!(rule)));
        }
        match &self.event_source_id {
            Some(pixel) => {
                values.push((Field::EventSourceType, json!("pixel")));
                values.push((
                    Field::DataSources,
                    json!([{"id": pixel, "source_type": "PIXEL", "name": format!("Pixel {pixel}")}]),
                ));
                values.push((Field::Pixel, json!({"id": pixel})));
                values.push((Field::EventSourceId, json!(pixel)));
            }
            None => values.push((Field::DataSources, json!([]))),
        }
        if let Some(source) = &self.action_source_type {
            values.push((Field::ActionSourceType, json!(source)));
        }
        if let Some(t) = self.first_fired_time {
            values.push((Field::FirstFiredTime, json!(fields::graph_datetime(t))));
        }
        if let Some(t) = self.last_fired_time {
            values.push((Field::LastFiredTime, json!(fields::graph_datetime(t))));
        }
        Rendered::new(&values)
    }

    fn numeric_id(&self) -> Option<u64> {
        self.id.parse().ok()
    }
}

/// A conversion as the store keeps it: the rendered answer is the source of truth for the
/// text fields (name, description, rules, types), which are read back from it on the rare
/// paths that need them (update, save, Conversions API). Only what indexes and lists need is
/// kept beside it. This halves memory per conversion compared to keeping both.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    id: u64,
    account_id: Box<str>,
    event_source_id: Option<Box<str>>,
    creation_time: i64,
    first_fired_time: Option<i64>,
    last_fired_time: Option<i64>,
    is_archived: bool,
    /// Matched events per day (`stats` edge): `(UTC day, count)`, days ascending; most
    /// conversions have none, so it takes no room then.
    daily_counts: Option<Box<[(jiff::civil::Date, u64)]>>,
    rendered: Rendered,
}

impl Stored {
    fn new(id: u64, conversion: &Conversion) -> Self {
        Stored {
            id,
            account_id: conversion.account_id.as_str().into(),
            event_source_id: conversion.event_source_id.as_deref().map(Into::into),
            creation_time: conversion.creation_time,
            first_fired_time: conversion.first_fired_time,
            last_fired_time: conversion.last_fired_time,
            is_archived: conversion.is_archived,
            daily_counts: (!conversion.daily_counts.is_empty()).then(|| {
                conversion
                    .daily_counts
                    .iter()
                    .filter_map(|(day, n)| Some((day.parse().ok()?, *n)))
                    .collect()
            }),
            rendered: conversion.render(),
        }
    }

    pub(crate) fn write_object(&self, selection: &FieldSelection, out: &mut String) {
        self.rendered.write_object(selection, out);
    }

    pub(crate) fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn is_archived(&self) -> bool {
        self.is_archived
    }

    /// Matched events per UTC day, days ascending.
    pub(crate) fn daily_counts(&self) -> &[(jiff::civil::Date, u64)] {
        self.daily_counts.as_deref().unwrap_or_default()
    }

    /// The rule's JSON text, as stored.
    pub(crate) fn rule(&self) -> Option<String> {
        self.rendered.value(Field::Rule)
    }

    /// The full data, read back from the rendered answer.
    pub(crate) fn to_conversion(&self) -> Conversion {
        Conversion {
            id: self.id.to_string(),
            account_id: self.account_id.to_string(),
            name: self.rendered.value(Field::Name).unwrap_or_default(),
            description: self.rendered.value(Field::Description).unwrap_or_default(),
            rule: self.rendered.value(Field::Rule),
            advanced_rule: self.rendered.value(Field::AdvancedRule),
            custom_event_type: self
                .rendered
                .value(Field::CustomEventType)
                .unwrap_or_else(|| "OTHER".to_string()),
            event_source_id: self.event_source_id.as_deref().map(str::to_string),
            action_source_type: self.rendered.value(Field::ActionSourceType),
            default_conversion_value: self
                .rendered
                .value(Field::DefaultConversionValue)
                .unwrap_or(0.0),
            creation_time: self.creation_time,
            first_fired_time: self.first_fired_time,
            last_fired_time: self.last_fired_time,
            is_archived: self.is_archived,
            is_unavailable: self.rendered.value(Field::IsUnavailable).unwrap_or(false),
            daily_counts: self
                .daily_counts()
                .iter()
                .map(|(day, n)| (day.to_string(), *n))
                .collect(),
        }
    }
}

/// The saved document (`--state`, `GET /_emulator/state`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StateDocument {
    pub(crate) format: u32,
    pub(crate) next_id: String,
    pub(crate) conversions: Vec<Conversion>,
}

#[derive(Serialize)]
struct StateDocumentRef {
    format: u32,
    next_id: String,
    conversions: Vec<Conversion>,
}

/// One page of a list.
pub(crate) struct Page {
    pub(crate) first: Option<u64>,
    pub(crate) last: Option<u64>,
    pub(crate) has_more_after: bool,
    pub(crate) has_more_before: bool,
}

/// All conversions, indexed by id and by account (ids ascending = creation order).
#[derive(Debug, Default)]
pub(crate) struct Store {
    next_id: u64,
    conversions: HashMap<u64, Box<Stored>>,
    by_account: HashMap<String, BTreeSet<u64>>,
}

impl Store {
    pub(crate) fn new() -> Self {
        Store {
            next_id: FIRST_ID,
            ..Store::default()
        }
    }

    /// Loads a saved document; the error says what is wrong with the file.
    pub(crate) fn load(path: &Path) -> Result<Self, StateError> {
        let bytes = match read_input(path, MAX_STATE_BYTES, true) {
            Ok(bytes) => bytes,
            Err(InputError::Read(LimitedRead::Io(error))) => {
                return Err(StateError::Read {
                    path: path.to_path_buf(),
                    error,
                });
            }
            Err(e) => {
                return Err(StateError::NotReadable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| StateError::NotReadable {
            path: path.to_path_buf(),
            reason: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        let doc: StateDocument =
            serde_json::from_str(&text).map_err(|error| StateError::Invalid {
                path: path.to_path_buf(),
                error,
            })?;
        if doc.format != 1 {
            return Err(StateError::Format {
                path: path.to_path_buf(),
                format: doc.format,
            });
        }
        let mut store = Store::new();
        store.next_id = doc.next_id.parse().unwrap_or(FIRST_ID);
        for conversion in doc.conversions {
            let id = conversion
                .numeric_id()
                .ok_or_else(|| StateError::ConversionId {
                    path: path.to_path_buf(),
                    id: conversion.id.clone(),
                })?;
            store.next_id = store.next_id.max(id + 1);
            store.insert(conversion);
        }
        Ok(store)
    }

    /// The state document as JSON text.
    pub(crate) fn to_json(&self) -> String {
        let mut ids: Vec<&u64> = self.conversions.keys().collect();
        ids.sort();
        let doc = StateDocumentRef {
            format: 1,
            next_id: self.next_id.to_string(),
            conversions: ids
                .into_iter()
                .map(|id| self.conversions[id].to_conversion())
                .collect(),
        };
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Saves atomically: a temp file next to `path`, flushed, then renamed over it.
    #[cfg(test)]
    pub(crate) fn save(&self, path: &Path) -> Result<(), StateError> {
        save_atomically(path, self.to_json().as_bytes())
    }

    pub(crate) fn allocate_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    /// Adds (or replaces) a conversion and renders it.
    pub(crate) fn insert(&mut self, conversion: Conversion) {
        let Some(id) = conversion.numeric_id() else {
            return;
        };
        match self.by_account.get_mut(conversion.account_id.as_str()) {
            Some(ids) => {
                ids.insert(id);
            }
            None => {
                self.by_account
                    .insert(conversion.account_id.clone(), BTreeSet::from([id]));
            }
        }
        self.conversions
            .insert(id, Box::new(Stored::new(id, &conversion)));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Stored> {
        self.conversions.get(&id.parse::<u64>().ok()?).map(|c| &**c)
    }

    /// Changes a conversion in place and re-renders it.
    pub(crate) fn update(&mut self, id: &str, change: impl FnOnce(&mut Conversion)) -> bool {
        let Some(conversion) = id
            .parse::<u64>()
            .ok()
            .and_then(|n| self.conversions.get_mut(&n))
        else {
            return false;
        };
        let mut data = conversion.to_conversion();
        change(&mut data);
        **conversion = Stored::new(conversion.id, &data);
        true
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Conversion> {
        let n = id.parse::<u64>().ok()?;
        let conversion = self.conversions.remove(&n)?;
        if let Some(ids) = self.by_account.get_mut(&*conversion.account_id) {
            ids.remove(&n);
        }
        Some(conversion.to_conversion())
    }

    /// Conversions of an account, archived ones included (they count toward the cap).
    pub(crate) fn count(&self, account_digits: &str) -> usize {
        self.by_account.get(account_digits).map_or(0, BTreeSet::len)
    }

    #[allow(clippy::len_without_is_empty)]
    pub(crate) fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Every conversion whose event source is `pixel`.
    pub(crate) fn on_pixel(&self, pixel: &str) -> Vec<String> {
        self.conversions
            .values()
            .filter(|c| c.event_source_id.as_deref() == Some(pixel))
            .map(|c| c.id.to_string())
            .collect()
    }

    /// Renders one page: `limit` items after the `after` id, or the last `limit` before `before`.
    pub(crate) fn page(
        &self,
        account_digits: &str,
        selection: &FieldSelection,
        limit: usize,
        after: Option<u64>,
        before: Option<u64>,
        out: &mut String,
    ) -> Page {
        let empty = BTreeSet::new();
        let ids = self.by_account.get(account_digits).unwrap_or(&empty);
        let chosen: Vec<u64> = match (after, before) {
            (_, Some(b)) => {
                let mut v: Vec<u64> = ids.range(..b).rev().take(limit).copied().collect();
                v.reverse();
                v
            }
            (Some(a), None) => ids.range(a + 1..).take(limit).copied().collect(),
            (None, None) => ids.iter().take(limit).copied().collect(),
        };
        let first = chosen.first().copied();
        let last = chosen.last().copied();
        let has_more_after = match (last, after, before) {
            (Some(l), _, _) => ids.range(l + 1..).next().is_some(),
            (None, _, Some(b)) => ids.range(b..).next().is_some(),
            (None, _, None) => false,
        };
        let has_more_before = first.is_some_and(|f| ids.range(..f).next().is_some());
        out.reserve(chosen.len() * 256);
        for (i, id) in chosen.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.conversions[id].write_object(selection, out);
        }
        Page {
            first,
            last,
            has_more_after,
            has_more_before,
        }
    }
}

/// Writes `bytes` to `path` so that a reader sees the old or the new file, never a torn one
/// (the debounced saver and the final save at shutdown may overlap: each has its own
/// temporary file).
pub(crate) fn save_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    write_atomically(path, Existing::Replace, |w| w.write_all(bytes)).map_err(|e| match e {
        AtomicWriteError::CreateDir { dir, error } => StateError::CreateDir { dir, error },
        other => StateError::Save {
            path: path.to_path_buf(),
            error: other.into_io(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_saves_of_one_file_all_succeed() {
        // The saver task and shutdown may save at the same moment (a fuzz test met this).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::thread::scope(|scope| {
            let saves: Vec<_> = (0..8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || {
                        for _ in 0..50 {
                            save_atomically(path, format!("{{\"n\": {i}}}").as_bytes())?;
                        }
                        Ok::<(), StateError>(())
                    })
                })
                .collect();
            for save in saves {
                save.join().unwrap().unwrap();
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "temporary files left behind");
    }

    fn store_with(n: usize) -> Store {
        let mut s = Store::new();
        for i in 0..n {
            let id = s.allocate_id();
            s.insert(Conversion::new(id, "1".into(), format!("c{i}"), 0));
        }
        s
    }

    #[test]
    fn pages_forward_and_backward() {
        let s = store_with(5);
        let sel = FieldSelection::parse("name").unwrap();
        let page = |after, before| {
            let mut out = String::new();
            let p = s.page("1", &sel, 2, after, before, &mut out);
            (p, out)
        };
        let (p, out) = page(None, None);
        assert_eq!(out.matches("\"name\"").count(), 2);
        assert!(p.has_more_after && !p.has_more_before);
        let (p2, _) = page(p.last, None);
        assert!(p2.has_more_after && p2.has_more_before);
        let (p3, out) = page(p2.last, None);
        assert_eq!(out.matches("\"name\"").count(), 1);
        assert!(!p3.has_more_after);
        let (back, out) = page(None, p3.first);
        assert_eq!(back.first, p2.first);
        assert!(out.contains("\"name\":\"c2\""), "{out}");
    }

    #[test]
    fn stored_form_reads_back_every_field() {
        let mut c = Conversion::new(
            "23850000000000009".into(),
            "42".into(),
            "Café \"quoted\" \\ name".into(),
            1_700_000_000,
        );
        c.description = "line\nbreak".into();
        c.rule = Some(r#"{"url":{"i_contains":"a/b"}}"#.into());
        c.advanced_rule = Some(r#"{"a":1}"#.into());
        c.custom_event_type = "LEAD".into();
        c.event_source_id = Some("55".into());
        c.action_source_type = Some("website".into());
        c.default_conversion_value = 12.5;
        c.first_fired_time = Some(1);
        c.last_fired_time = Some(2);
        c.is_archived = true;
        c.is_unavailable = true;
        c.daily_counts =
            BTreeMap::from([("2026-12-01".to_string(), 3), ("2026-12-02".to_string(), 1)]);
        let back = Stored::new(23850000000000009, &c).to_conversion();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&c).unwrap()
        );
    }

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let s = store_with(3);
        s.save(&path).unwrap();
        let loaded = Store::load(&path).unwrap();
        assert_eq!(loaded.count("1"), 3);
        assert_eq!(loaded.next_id, s.next_id);
        std::fs::write(&path, "{nope").unwrap();
        let e = Store::load(&path).unwrap_err().to_string();
        assert!(e.contains("not a valid state document"), "{e}");
    }
}
