//! The desired model: what the manifests declare, after defaults and normalisation.

use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::{AdAccountId, ConversionId, ObjectId};
use crate::rule::{Event, Rule};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// Where something was declared: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One ad account as declared by one YAML document.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredAccount {
    pub account: AdAccountId,
    /// The document that declares it (the `account:` key).
    pub location: Location,
    /// `prune: true`: delete live conversions that no entry declares.
    pub prune: bool,
    pub conversions: Vec<DesiredConversion>,
}

/// `ensure: present` (the default) or `ensure: absent` (a tombstone).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ensure {
    Present,
    Absent,
}

/// What counts: a `rule` (the documented grammar) or an `advanced_rule` (opaque JSON, compared
/// in canonical form).
#[derive(Clone, Debug, PartialEq)]
pub enum RuleSpec {
    Rule(Rule),
    Advanced(serde_json::Value),
}

/// One conversion entry, with `defaults` applied.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredConversion {
    pub name: String,
    /// Optional pin to a live id.
    pub id: Option<ConversionId>,
    pub ensure: Ensure,
    /// Never deleted or replaced; a plan that needs to fails.
    pub protect: bool,
    /// Absent in the manifest means empty.
    pub description: String,
    /// Required for present entries (validated); `None` only on tombstones.
    pub custom_event_type: Option<CustomEventType>,
    /// Defaults to 0.
    pub default_conversion_value: f64,
    /// Required for present entries (validated); `None` only on tombstones.
    pub rule: Option<RuleSpec>,
    /// `None`: not declared, so not managed (never forces a replacement).
    pub event_source_id: Option<ObjectId>,
    /// `None`: not declared, so not managed (never forces a replacement).
    pub action_source_type: Option<ActionSourceType>,
    pub tests: RuleTests,
    /// The entry (`- name:` line).
    pub location: Location,
}

/// Example events for `convctl test`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleTests {
    pub matches: Vec<Event>,
    pub no_match: Vec<Event>,
    /// Where each of `matches` was written (same order; may be empty for hand-built values).
    pub match_locations: Vec<Location>,
    /// Where each of `no_match` was written (same order; may be empty for hand-built values).
    pub no_match_locations: Vec<Location>,
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A finding about the manifests: what is wrong, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `None` only when no file is concerned (e.g. a path that does not exist is named in the
    /// message instead).
    pub location: Option<Location>,
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        write!(f, "{level}: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

/// Everything the manifests declare, with the warnings (lints) found on the way.
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    /// In the order of the files (sorted) and documents.
    pub accounts: Vec<DesiredAccount>,
    pub warnings: Vec<Diagnostic>,
}
