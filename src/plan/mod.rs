//! The plan document (spec section 4): what `plan` shows, `plan --out` saves, `apply --plan`
//! executes and `drift --format json` reports.
//!
//! Owns the document types, the live fingerprint (so that a saved plan can be refused once live
//! state moved), the summary, and saving (atomically) and loading (with errors that say what is
//! wrong with the file). It never decides what to change (that is `diff`) and never holds a
//! token: nothing in it comes from the client's configuration.

use crate::model::ids::{AdAccountId, ConversionId, ObjectId};
use crate::model::{ConversionUpdate, LiveConversion, NewConversion};
use crate::rule::{Rule, canonical_json, number_value};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) mod check;
mod compact;
pub(crate) use compact::CompactJson;

/// The version of the document's shape; a file with another one is refused on load.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Saved plans larger than this are refused on load: 500 accounts of 100 replacements each are
/// about 150 MB of JSON.
pub(crate) const MAX_PLAN_BYTES: u64 = 512 << 20;

/// The whole plan, over every account concerned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub(crate) format_version: u32,
    pub(crate) convctl_version: String,
    pub(crate) api_version: String,
    pub(crate) accounts: Vec<AccountPlan>,
    pub(crate) summary: Summary,
}

/// What to do to one ad account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    pub account: AdAccountId,
    /// The manifest file that declares the account.
    pub source: String,
    /// sha256 of the live conversions when the plan was made (see [`live_fingerprint`]).
    pub live_fingerprint: String,
    pub actions: Vec<Action>,
    pub unmanaged: Vec<Unmanaged>,
    pub warnings: Vec<String>,
    /// The account's own mass-delete thresholds (`safety:` in its manifest), saved with the
    /// plan so that `apply --plan` applies the same guard; `None`: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<crate::manifest::Safety>,
    /// The environment variable that holds this account's token (`token_env:` in its
    /// manifest; a name, never a token), so that `apply --plan` uses the same token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Verbose-only remarks (e.g. fields the live answer did not report); not saved.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// One change to one conversion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create {
        name: String,
        /// The set the entry comes from (`use:` of the account), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<String>,
        /// The set's entry as the set names it (`Lead (${domain})`): what is the same change
        /// in every account, for grouping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set_entry: Option<String>,
        after: ConversionState,
    },
    Update {
        id: ConversionId,
        name: String,
        /// The set the entry comes from (`use:` of the account), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<String>,
        /// The set's entry as the set names it (`Lead (${domain})`): what is the same change
        /// in every account, for grouping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set_entry: Option<String>,
        changes: Vec<FieldChange>,
    },
    Replace {
        id: ConversionId,
        name: String,
        /// The set the entry comes from (`use:` of the account), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<String>,
        /// The set's entry as the set names it (`Lead (${domain})`): what is the same change
        /// in every account, for grouping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set_entry: Option<String>,
        /// The immutable fields whose change forces the replacement.
        forced_by: Vec<Field>,
        order: ReplaceOrder,
        /// Every field that differs, forcing or not (for field-level rendering).
        changes: Vec<FieldChange>,
        /// Boxed: a replace is much larger than the other actions.
        before: Box<ConversionState>,
        after: Box<ConversionState>,
        /// Where the manifest pins the old id (`file:line:col`): apply then prints the new id
        /// to pin there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pinned_at: Option<String>,
    },
    Delete {
        id: ConversionId,
        name: String,
        /// The set the entry comes from (`use:` of the account), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<String>,
        /// The set's entry as the set names it (`Lead (${domain})`): what is the same change
        /// in every account, for grouping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set_entry: Option<String>,
        reason: DeleteReason,
        /// What is deleted, as the API reported it (for review; not needed to execute).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Box<ConversionState>>,
    },
}

impl Action {
    /// The conversion's name (the new one for renames).
    pub(crate) fn name(&self) -> &str {
        match self {
            Action::Create { name, .. }
            | Action::Update { name, .. }
            | Action::Replace { name, .. }
            | Action::Delete { name, .. } => name,
        }
    }

    /// The set the action's entry comes from, if any.
    pub(crate) fn set(&self) -> Option<&str> {
        match self {
            Action::Create { set, .. }
            | Action::Update { set, .. }
            | Action::Replace { set, .. }
            | Action::Delete { set, .. } => set.as_deref(),
        }
    }

    /// The set's entry the action comes from, as the set names it (`Lead (${domain})`).
    pub(crate) fn set_entry(&self) -> Option<&str> {
        match self {
            Action::Create { set_entry, .. }
            | Action::Update { set_entry, .. }
            | Action::Replace { set_entry, .. }
            | Action::Delete { set_entry, .. } => set_entry.as_deref(),
        }
    }

    /// The live id the action concerns (`None` for a create).
    pub(crate) fn id(&self) -> Option<&ConversionId> {
        match self {
            Action::Create { .. } => None,
            Action::Update { id, .. } | Action::Replace { id, .. } | Action::Delete { id, .. } => {
                Some(id)
            }
        }
    }

    /// Deletes and replaces: what `protect` and the mass-delete guard count.
    pub(crate) fn is_destructive(&self) -> bool {
        matches!(self, Action::Replace { .. } | Action::Delete { .. })
    }
}

/// The fields of a custom conversion convctl manages, in the order plans show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Description,
    CustomEventType,
    DefaultConversionValue,
    EventSourceId,
    ActionSourceType,
    Rule,
    AdvancedRule,
}

impl Field {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::CustomEventType => "custom_event_type",
            Field::DefaultConversionValue => "default_conversion_value",
            Field::EventSourceId => "event_source_id",
            Field::ActionSourceType => "action_source_type",
            Field::Rule => "rule",
            Field::AdvancedRule => "advanced_rule",
        }
    }

    /// Updatable in place (`POST /<ID>` takes only these); any other change is a replacement.
    pub(crate) fn is_mutable(self) -> bool {
        matches!(
            self,
            Field::Name | Field::Description | Field::DefaultConversionValue
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `field` goes from `before` to `after` (JSON values: strings, numbers, rule objects).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub(crate) field: Field,
    pub(crate) before: Value,
    pub(crate) after: Value,
}

/// When the old conversion of a replacement is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    /// The default: no moment without the conversion.
    CreateBeforeDelete,
    /// Only when the account is at its cap and there is no room for the new one first.
    DeleteBeforeCreate,
}

/// Why a conversion is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteReason {
    /// `ensure: absent` (a tombstone).
    Absent,
    /// Not declared, and the account has `prune: true`.
    Prune,
    /// The old half of a replacement that was cut off after its create: finishing it.
    Replaced,
    /// A second live conversion with a declared one's name and immutable fields (two applies
    /// that met, a lost answer): the oldest is kept, the others deleted.
    Duplicate,
}

impl DeleteReason {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            DeleteReason::Absent => "ensure: absent",
            DeleteReason::Prune => "not declared, prune: true",
            DeleteReason::Replaced => "finishes an interrupted replacement",
            DeleteReason::Duplicate => "a duplicate: the oldest with this name is kept",
        }
    }
}

/// A conversion's managed fields as the plan shows them. `None` is "not declared" in an `after`
/// and "not reported by the API" (unknown) in a `before`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversionState {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) custom_event_type: Option<String>,
    /// Written as an integer when it is one (`100`, not `100.0`), as the API documents it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "whole_number"
    )]
    pub(crate) default_conversion_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event_source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) action_source_type: Option<String>,
    /// The rule as a JSON value in canonical form (a string when the live one does not parse),
    /// held as compact text: a plan of many creates holds many rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rule: Option<CompactJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) advanced_rule: Option<CompactJson>,
}

impl ConversionState {
    /// What the API reported, rules in canonical form so that plans show meaning, not bytes.
    pub(crate) fn from_live(live: &LiveConversion) -> ConversionState {
        ConversionState {
            // Unknown (not reported) shows as empty; identity never relies on it.
            name: live.name.clone().unwrap_or_default(),
            description: live.description.clone(),
            custom_event_type: live.custom_event_type.clone(),
            default_conversion_value: live.default_conversion_value,
            event_source_id: live.event_source_id.clone(),
            action_source_type: live.action_source_type.clone(),
            rule: live.rule.as_deref().map(|r| live_rule_value(r).into()),
            advanced_rule: live
                .advanced_rule
                .as_deref()
                .map(|r| live_json_value(r).into()),
        }
    }

    /// The value of one field, `None` when unknown / not declared.
    pub(crate) fn get(&self, field: Field) -> Option<Value> {
        match field {
            Field::Name => Some(Value::String(self.name.clone())),
            Field::Description => self.description.clone().map(Value::String),
            Field::CustomEventType => self.custom_event_type.clone().map(Value::String),
            Field::DefaultConversionValue => self.default_conversion_value.map(number_value),
            Field::EventSourceId => self.event_source_id.clone().map(Value::String),
            Field::ActionSourceType => self.action_source_type.clone().map(Value::String),
            Field::Rule => self.rule.as_ref().map(CompactJson::to_value),
            Field::AdvancedRule => self.advanced_rule.as_ref().map(CompactJson::to_value),
        }
    }

    /// The create request for this state (an `after`). Fails only on a hand-edited plan file.
    pub fn to_new_conversion(&self) -> Result<NewConversion, String> {
        self.clone().into_new_conversion()
    }

    /// The same, its strings moved rather than copied (what `apply` uses).
    pub(crate) fn into_new_conversion(self) -> Result<NewConversion, String> {
        let event_source_id = self
            .event_source_id
            .as_deref()
            .map(ObjectId::parse)
            .transpose()?;
        Ok(NewConversion {
            name: self.name,
            description: self.description.unwrap_or_default(),
            rule: self.rule.map(CompactJson::into_api_string),
            advanced_rule: self.advanced_rule.map(CompactJson::into_api_string),
            custom_event_type: self
                .custom_event_type
                .as_deref()
                .map(str::parse)
                .transpose()?,
            event_source_id,
            action_source_type: self
                .action_source_type
                .as_deref()
                .map(str::parse)
                .transpose()?,
            default_conversion_value: self.default_conversion_value.unwrap_or(0.0),
        })
    }
}

fn whole_number<S: serde::Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    value.map(number_value).serialize(s)
}

/// A live rule string in canonical form; the raw string when it does not parse.
pub(crate) fn live_rule_value(text: &str) -> Value {
    match Rule::from_json_str(text) {
        Ok(rule) => rule.to_value(),
        Err(_) => live_json_value(text),
    }
}

/// A live JSON string in canonical form; the raw string when it is not JSON.
pub(crate) fn live_json_value(text: &str) -> Value {
    serde_json::from_str::<Value>(text)
        .map(|v| canonical_json(&v))
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The update request of an `update` action's changes.
pub(crate) fn update_request(changes: &[FieldChange]) -> Result<ConversionUpdate, String> {
    let mut update = ConversionUpdate::default();
    for change in changes {
        match (change.field, &change.after) {
            (Field::Name, Value::String(s)) => update.name = Some(s.clone()),
            (Field::Description, Value::String(s)) => update.description = Some(s.clone()),
            (Field::DefaultConversionValue, Value::Number(n)) => {
                update.default_conversion_value = n.as_f64()
            }
            (field, value) => {
                return Err(format!("an update cannot set {field} to {value}"));
            }
        }
    }
    Ok(update)
}

/// A live conversion no entry declares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unmanaged {
    pub(crate) id: ConversionId,
    pub(crate) name: String,
}

/// Counts over every account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Summary {
    pub(crate) create: usize,
    pub(crate) update: usize,
    pub(crate) replace: usize,
    pub(crate) delete: usize,
    pub unmanaged: usize,
}

impl Summary {
    pub(crate) fn of<'a>(accounts: impl IntoIterator<Item = &'a AccountPlan>) -> Summary {
        let mut s = Summary::default();
        for account in accounts {
            for action in &account.actions {
                match action {
                    Action::Create { .. } => s.create += 1,
                    Action::Update { .. } => s.update += 1,
                    Action::Replace { .. } => s.replace += 1,
                    Action::Delete { .. } => s.delete += 1,
                }
            }
            s.unmanaged += account.unmanaged.len();
        }
        s
    }

    pub(crate) fn has_changes(&self) -> bool {
        self.create + self.update + self.replace + self.delete > 0
    }
}

impl PlanDocument {
    /// A document over these accounts, with its summary.
    pub fn new(api_version: &str, accounts: Vec<AccountPlan>) -> PlanDocument {
        PlanDocument {
            format_version: FORMAT_VERSION,
            convctl_version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: api_version.to_string(),
            summary: Summary::of(&accounts),
            accounts,
        }
    }

    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// Pretty JSON, newline-terminated: what `--format json` prints and `--out` saves.
    pub(crate) fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out)
            .expect("a plan always serialises, and writing to memory cannot fail");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// The same JSON written to `out` as it is serialised, never whole in memory (a plan of
    /// 50,000 creates is some 25 MB of JSON).
    pub(crate) fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Writes the document to `path` atomically (a temporary file next to the target, then a
    /// rename), so that a crash never leaves half a plan for `apply --plan` to execute.
    ///
    /// The target is `path`, or what a symlink at `path` points to (followed: the link stays,
    /// the file it names is replaced). It must be a regular file or not exist yet: a directory,
    /// a device (`/dev/full`, `/dev/null`), a FIFO or a socket is refused, never replaced by a
    /// plain file. A replaced file keeps its permissions.
    pub(crate) fn save(&self, path: &Path) -> Result<(), PlanFileError> {
        let err = |source: std::io::Error| PlanFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let target = save_target(path)?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(err)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
        if let Ok(meta) = std::fs::metadata(&target) {
            tmp.as_file()
                .set_permissions(meta.permissions())
                .map_err(err)?;
        }
        let mut file = std::io::BufWriter::new(tmp.as_file_mut());
        self.write_json(&mut file).map_err(err)?;
        file.flush().map_err(err)?;
        drop(file);
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(&target).map_err(|e| err(e.error))?;
        Ok(())
    }

    /// Reads a saved plan, refusing files that are not plans or come from another format.
    /// Reading is bounded by what is read ([`MAX_PLAN_BYTES`]; `/dev/zero` fails at once).
    pub fn load(path: &Path) -> Result<PlanDocument, PlanFileError> {
        use crate::manifest::files::{LimitedRead, read_limited};
        let io = |source| PlanFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |reason: String| PlanFileError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let bytes = match read_limited(file, MAX_PLAN_BYTES, true) {
            Ok(bytes) => bytes,
            Err(LimitedRead::Io(e)) => return Err(io(e)),
            Err(e @ (LimitedRead::TooLarge { .. } | LimitedRead::Nul { .. })) => {
                return Err(invalid(format!(
                    "{e}; a plan is JSON text saved with `convctl plan --out`"
                )));
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            invalid(format!(
                "not UTF-8 text (invalid byte at offset {}); was it saved with `convctl plan --out`?",
                e.utf8_error().valid_up_to()
            ))
        })?;
        PlanDocument::from_json_str(&text).map_err(|reason| PlanFileError::Invalid {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a plan document, checking its version first so that a foreign file gets a clear
    /// answer rather than a serde error about some field.
    ///
    /// The text is read three times rather than once into a `serde_json::Value`: as a `Value`, a
    /// saved plan of 50,000 creates would take some ten times its size in memory.
    pub(crate) fn from_json_str(text: &str) -> Result<PlanDocument, String> {
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|e| format!("not JSON ({e}); was it saved with `convctl plan --out`?"))?;
        /// Only the version, every other field skipped (anything but an object has none).
        #[derive(Deserialize)]
        struct Version {
            /// `None` only when absent (`null` is a version this convctl does not read).
            #[serde(default, deserialize_with = "present")]
            format_version: Option<Value>,
        }
        fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
            Value::deserialize(d).map(Some)
        }
        // An object only: serde would also read a struct from an array (`[1]`).
        let version = match text.trim_start().starts_with('{') {
            true => serde_json::from_str::<Version>(text)
                .ok()
                .and_then(|v| v.format_version),
            false => None,
        };
        match version {
            None => {
                return Err("no `format_version`: not a convctl plan (save one with `convctl plan --out FILE`)".into());
            }
            Some(v) if v.as_u64() != Some(u64::from(FORMAT_VERSION)) => {
                return Err(format!(
                    "format_version {v} is not supported (this convctl reads {FORMAT_VERSION}); make the plan again with this convctl"
                ));
            }
            Some(_) => {}
        }
        let doc: PlanDocument = serde_json::from_str(text)
            .map_err(|e| format!("damaged plan ({e}); make the plan again"))?;
        if doc.summary != Summary::of(&doc.accounts) {
            return Err(
                "its summary does not match its actions (edited by hand?); make the plan again"
                    .into(),
            );
        }
        Ok(doc)
    }
}

/// Where `save` writes for `path`: `path` itself when it is a regular file or does not exist,
/// the file a symlink points to (followed to the end) when that is one; anything else refused.
fn save_target(path: &Path) -> Result<PathBuf, PlanFileError> {
    let refuse = |reason: String| PlanFileError::Refused {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(source) => {
            return Err(PlanFileError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(meta) => meta,
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|e| {
            refuse(format!(
                "it is a symlink that leads nowhere ({e}); --out follows symlinks to a regular file only"
            ))
        })?;
        return match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => Ok(target),
            Ok(m) => Err(refuse(format!(
                "it is a symlink to {}, which is {}; --out follows symlinks to a regular file only",
                target.display(),
                kind_of(&m.file_type())
            ))),
            Err(source) => Err(PlanFileError::Io {
                path: path.to_path_buf(),
                source,
            }),
        };
    }
    if meta.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(refuse(format!(
            "it is {}; --out writes a plan only to a regular file (replaced atomically) or a new path",
            kind_of(&meta.file_type())
        )))
    }
}

fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_block_device() {
            return "a device, not a regular file";
        }
        if kind.is_fifo() {
            return "a FIFO, not a regular file";
        }
        if kind.is_socket() {
            return "a socket, not a regular file";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// A plan file that cannot be saved or used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot access plan file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a usable plan: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("will not write the plan to {}: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
}

/// sha256 (hex) over a canonical serialisation of an account's live conversions: sorted by id,
/// rules in canonical form (so the API re-serialising a rule does not count as a change), and
/// without `first_fired_time`/`last_fired_time`/`creation_time`, which move by themselves and
/// say nothing about what a plan would do.
///
/// Saved plans carry it, so its bytes never change (a test pins one): each item is
/// `{"id", "is_archived", "is_unavailable", "state"}`, the state being the [`ConversionState`]
/// of the live conversion, keys sorted, numbers and rules canonical.
pub(crate) fn live_fingerprint(live: &[LiveConversion]) -> String {
    let mut sorted: Vec<&LiveConversion> = live.iter().collect();
    sorted.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let items: Vec<Value> = sorted.into_iter().map(fingerprint_item).collect();
    let canonical = Value::Array(items).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// One conversion of [`live_fingerprint`], built in canonical form directly: keys inserted in
/// sorted order (canonical whatever serde_json's map keeps), numbers through `number_value`,
/// rules through `live_rule_value` / `live_json_value` (already canonical). Plan (read-only)
/// of 50,000 live conversions spent a quarter of its CPU here when this went through
/// `ConversionState` and a second canonicalising copy.
fn fingerprint_item(c: &LiveConversion) -> Value {
    fn text(state: &mut serde_json::Map<String, Value>, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            state.insert(key.to_string(), Value::String(v.clone()));
        }
    }
    let mut state = serde_json::Map::new();
    text(&mut state, "action_source_type", &c.action_source_type);
    if let Some(r) = &c.advanced_rule {
        state.insert("advanced_rule".into(), live_json_value(r));
    }
    text(&mut state, "custom_event_type", &c.custom_event_type);
    if let Some(v) = c.default_conversion_value {
        state.insert("default_conversion_value".into(), number_value(v));
    }
    text(&mut state, "description", &c.description);
    text(&mut state, "event_source_id", &c.event_source_id);
    // Omitted when the API did not report it (a reported name gives the same bytes as ever).
    if let Some(name) = &c.name {
        state.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(r) = &c.rule {
        state.insert("rule".into(), live_rule_value(r));
    }
    let mut item = serde_json::Map::new();
    item.insert("id".into(), Value::String(c.id.as_str().to_string()));
    item.insert("is_archived".into(), Value::Bool(c.is_archived));
    item.insert("is_unavailable".into(), Value::Bool(c.is_unavailable));
    item.insert("state".into(), Value::Object(state));
    Value::Object(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn live(id: &str, name: &str, rule: &str) -> LiveConversion {
        LiveConversion {
            id: ObjectId::parse(id).unwrap(),
            name: Some(name.into()),
            description: Some(String::new()),
            rule: Some(rule.into()),
            advanced_rule: None,
            custom_event_type: Some("PURCHASE".into()),
            event_source_id: Some("55".into()),
            action_source_type: None,
            default_conversion_value: Some(0.0),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        }
    }

    #[test]
    fn fingerprint_ignores_order_serialisation_and_firing() {
        let a = live("1", "A", r#"{"url":{"i_contains":"x"}}"#);
        let b = live("2", "B", r#"{"and":[{"value":{"gt":100}}]}"#);
        let mut b2 = b.clone();
        b2.rule = Some(r#"{ "and" : [ {"value": {"gt": 100.0}} ] }"#.into());
        b2.last_fired_time = Some("2026-11-01T00:00:00+0000".into());
        assert_eq!(
            live_fingerprint(&[a.clone(), b]),
            live_fingerprint(&[b2, a.clone()])
        );
        let mut a2 = a.clone();
        a2.description = Some("changed".into());
        assert_ne!(live_fingerprint(&[a]), live_fingerprint(&[a2]));
    }

    /// Saved plans carry fingerprints: how the live state is held in memory must never change
    /// them (a plan saved by an earlier convctl would otherwise be refused as stale).
    #[test]
    fn fingerprint_is_stable_across_versions() {
        let mut odd = live("9", "Odd \"one\"", "not json {");
        odd.advanced_rule = Some(r#"{"b": [1, 2.5, {"z": true, "a": null}], "a": "x"}"#.into());
        odd.default_conversion_value = Some(12.5);
        let listed = [
            live(
                "10",
                "A",
                r#"{"and":[{"url":{"i_contains":"/a"}},{"value":{"gt":100.0}}]}"#,
            ),
            live("2", "B", r#"{"event":{"eq":"Purchase"}}"#),
            odd,
        ];
        assert_eq!(
            live_fingerprint(&listed),
            "7040142124af342ca1b5ca375fb70c1806d996c9714b36e981d9a31e9ac81044"
        );
    }

    /// The fingerprint as it was first written (through `ConversionState` and
    /// `canonical_json`): the reference the direct construction must match.
    fn reference_fingerprint(live: &[LiveConversion]) -> String {
        let mut items: Vec<Value> = live
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id.as_str(),
                    "state": ConversionState::from_live(c),
                    "is_archived": c.is_archived,
                    "is_unavailable": c.is_unavailable,
                })
            })
            .collect();
        items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        let canonical = canonical_json(&Value::Array(items)).to_string();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    fn any_live() -> impl proptest::strategy::Strategy<Value = LiveConversion> {
        use proptest::prelude::*;
        const RULES: &[&str] = &[
            r#"{"url":{"i_contains":"/a"}}"#,
            r#"{ "and" : [ {"value": {"gt": 100.0}}, {"event": {"eq": "Purchase"}} ] }"#,
            r#"{"or":[{"url":{"eq":"\/x"}},{"not":{"value":{"lt":1e3}}}]}"#,
            r#"{"b": [1, 2.5, {"z": true, "a": null}], "a": "x"}"#,
            "not json {",
            "[3, 1.0]",
        ];
        let text = proptest::option::of("[a-zA-Z0-9 \"\\\\é\\[]{0,12}");
        (
            (
                1u64..40,
                "[a-zA-Z0-9 \"\\\\é]{0,12}",
                text.clone(),
                text.clone(),
                text,
            ),
            (
                proptest::option::of(0..RULES.len()),
                proptest::option::of(0..RULES.len()),
                proptest::option::of(prop_oneof![
                    Just(0.0),
                    Just(12.0),
                    Just(12.5),
                    Just(-0.0),
                    Just(1e20),
                    any::<f64>().prop_filter("finite", |v| v.is_finite()),
                ]),
                any::<bool>(),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (id, name, description, event_type, source),
                    (rule, advanced, value, archived, unavailable),
                )| {
                    LiveConversion {
                        id: ObjectId::parse(&id.to_string()).unwrap(),
                        name: Some(name),
                        description,
                        rule: rule.map(|i| RULES[i].to_string()),
                        advanced_rule: advanced.map(|i| RULES[i].to_string()),
                        custom_event_type: event_type,
                        event_source_id: source,
                        action_source_type: Some("website".into()).filter(|_| archived),
                        default_conversion_value: value,
                        is_archived: archived,
                        is_unavailable: unavailable,
                        creation_time: None,
                        first_fired_time: None,
                        last_fired_time: None,
                    }
                },
            )
    }

    proptest::proptest! {
        #[test]
        fn fingerprints_are_what_they_always_were(
            live in proptest::collection::vec(any_live(), 0..6)
        ) {
            proptest::prop_assert_eq!(live_fingerprint(&live), reference_fingerprint(&live));
        }
    }

    #[test]
    fn documents_round_trip_and_refuse_foreign_files() {
        let account = AccountPlan {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/a.yaml".into(),
            live_fingerprint: live_fingerprint(&[]),
            actions: vec![Action::Delete {
                id: ObjectId::parse("3").unwrap(),
                name: "D".into(),
                set: Some("ecommerce".into()),
                set_entry: Some("Purchase".into()),
                reason: DeleteReason::Absent,
                before: None,
            }],
            unmanaged: vec![],
            warnings: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
        };
        let doc = PlanDocument::new("v26.0", vec![account]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/plan.json");
        doc.save(&path).unwrap();
        assert_eq!(PlanDocument::load(&path).unwrap(), doc);

        let foreign = doc
            .to_json()
            .replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(
            PlanDocument::from_json_str(&foreign)
                .unwrap_err()
                .contains("format_version 9")
        );
        assert!(
            PlanDocument::from_json_str("{\"a\":1}")
                .unwrap_err()
                .contains("not a convctl plan")
        );
        for not_an_object in ["[1]", "7", "\"plan\"", "null"] {
            assert!(
                PlanDocument::from_json_str(not_an_object)
                    .unwrap_err()
                    .contains("not a convctl plan"),
                "{not_an_object}"
            );
        }
        assert!(
            PlanDocument::from_json_str("{\"format_version\": null}")
                .unwrap_err()
                .contains("format_version null is not supported")
        );
        let damaged =
            PlanDocument::from_json_str("{\"format_version\": 1, \"accounts\": 7}").unwrap_err();
        assert!(damaged.starts_with("damaged plan ("), "{damaged}");
        assert!(
            PlanDocument::from_json_str("{trunc")
                .unwrap_err()
                .contains("not JSON")
        );
        let tampered = doc.to_json().replace("\"delete\": 1", "\"delete\": 0");
        assert!(
            PlanDocument::from_json_str(&tampered)
                .unwrap_err()
                .contains("summary")
        );
        let err = PlanDocument::load(&dir.path().join("missing.json")).unwrap_err();
        assert!(err.to_string().contains("missing.json"));
    }

    #[test]
    fn update_requests_take_only_mutable_fields() {
        let changes = vec![
            FieldChange {
                field: Field::Name,
                before: "a".into(),
                after: "b".into(),
            },
            FieldChange {
                field: Field::DefaultConversionValue,
                before: 1.into(),
                after: 12.into(),
            },
        ];
        let u = update_request(&changes).unwrap();
        assert_eq!(u.name.as_deref(), Some("b"));
        assert_eq!(u.default_conversion_value, Some(12.0));
        let bad = vec![FieldChange {
            field: Field::Rule,
            before: Value::Null,
            after: "x".into(),
        }];
        assert!(update_request(&bad).is_err());
    }
}
