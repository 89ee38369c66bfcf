//! The desired model: what the manifests declare, after defaults and normalisation.

use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::{AdAccountId, ConversionId, ObjectId};
use crate::model::names::{is_invisible, visible};
use crate::rule::{Event, Rule};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use unicode_width::UnicodeWidthChar;

/// Where something was declared: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub(crate) file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A path is user text: a line break or an escape sequence in it is shown, not obeyed.
        let file = self.file.display().to_string();
        write!(
            f,
            "{}:{}:{}",
            crate::model::names::escaped(&file),
            self.line,
            self.column
        )
    }
}

/// One ad account as declared by one YAML document.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredAccount {
    pub(crate) account: AdAccountId,
    /// The document that declares it (the `account:` key).
    pub location: Location,
    /// `prune: true`: delete live conversions that no entry declares.
    pub(crate) prune: bool,
    /// `deletion:` how a conversion goes: deleted (the default; retired when Meta refuses the
    /// delete) or always retired. The account's setting governs the sets' entries too.
    pub(crate) deletion: Deletion,
    /// `token_env`: the environment variable that holds this account's token (`None`: the
    /// global token).
    pub(crate) token_env: Option<String>,
    /// `safety`: this account's mass-delete thresholds (`None`: the defaults, 10 and 30%).
    pub(crate) safety: Option<Safety>,
    /// Own entries first, then the entries of each `use` in order (expanded once, here).
    pub(crate) conversions: Vec<DesiredConversion>,
}

/// `safety: {max_deletes, max_delete_pct}`: a plan that deletes or replaces more than
/// `max_deletes` conversions **and** more than `max_delete_pct` percent of the live ones is
/// refused without `--allow-mass-delete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Safety {
    pub(crate) max_deletes: usize,
    pub(crate) max_delete_pct: usize,
}

impl Default for Safety {
    /// The thresholds an account without `safety:` gets: more than 10 conversions and more
    /// than 30% of the live ones.
    fn default() -> Self {
        Safety {
            max_deletes: 10,
            max_delete_pct: 30,
        }
    }
}

/// Where an entry expanded from a set came from: the set, and the account's `use` of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetOrigin {
    /// The set's name (`set: ecommerce`).
    pub(crate) name: String,
    /// The entry's name as the set writes it (`Lead (${domain})`).
    pub(crate) entry: String,
    /// The `- set: ecommerce` item of the account's `use:` list.
    pub(crate) used_at: Location,
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

/// `deletion: delete` (the default) or `deletion: retire`: how convctl removes a conversion
/// (a tombstone, a prune, the old half of a replacement). Most apps may not delete custom
/// conversions (reference: Custom conversions): `delete` tries, and retires the conversion when
/// Meta refuses; `retire` never tries. To retire is to rename (`[retired YYYY-MM-DD] Name`) and
/// say when and why in the description, for a person to archive in Events Manager.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Deletion {
    #[default]
    Delete,
    Retire,
}

impl Deletion {
    pub(crate) const ALL: &'static [Deletion] = &[Deletion::Delete, Deletion::Retire];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Deletion::Delete => "delete",
            Deletion::Retire => "retire",
        }
    }
}

/// `expect_fire_within:` how long a conversion may go without an event (`2d`), or `off` (a
/// seasonal conversion: `report` never calls it dead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FireExpectation {
    Within(std::time::Duration),
    Off,
}

impl FireExpectation {
    /// `off`, or a duration of more than zero (`crate::model::duration`).
    pub fn parse(text: &str) -> Result<FireExpectation, crate::model::duration::DurationError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(FireExpectation::Off);
        }
        let d = crate::model::duration::parse_duration(text)?;
        if d.is_zero() {
            return Err(crate::model::duration::DurationError::Invalid {
                text: text.to_string(),
                why: "a conversion cannot be expected to fire within no time; write `off` to never check it".into(),
            });
        }
        Ok(FireExpectation::Within(d))
    }
}

impl fmt::Display for FireExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FireExpectation::Within(d) => f.write_str(&crate::model::duration::duration_text(*d)),
            FireExpectation::Off => f.write_str("off"),
        }
    }
}

/// What counts: a `rule` (the documented grammar) or an `advanced_rule` (opaque JSON, compared
/// in canonical form).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RuleSpec {
    Rule(Rule),
    Advanced(serde_json::Value),
}

/// One conversion entry, with `defaults` applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DesiredConversion {
    pub(crate) name: String,
    /// Optional pin to a live id.
    pub(crate) id: Option<ConversionId>,
    pub(crate) ensure: Ensure,
    /// Never deleted or replaced; a plan that needs to fails.
    pub(crate) protect: bool,
    /// Absent in the manifest means empty.
    pub(crate) description: String,
    /// Required for present entries (validated); `None` only on tombstones.
    pub(crate) custom_event_type: Option<CustomEventType>,
    /// Defaults to 0.
    pub(crate) default_conversion_value: f64,
    /// Required for present entries (validated); `None` only on tombstones.
    pub(crate) rule: Option<RuleSpec>,
    /// `None`: not declared, so not managed (never forces a replacement).
    pub(crate) event_source_id: Option<ObjectId>,
    /// `None`: not declared, so not managed (never forces a replacement).
    pub(crate) action_source_type: Option<ActionSourceType>,
    /// `expect_fire_within` (here or from `defaults`): how long the conversion may go without
    /// an event before `report` says so. `None`: the report's defaults.
    pub(crate) expect_fire_within: Option<FireExpectation>,
    pub(crate) tests: RuleTests,
    /// `renamed_from`: earlier names. When no live conversion has `name`, one with an earlier
    /// name is this entry (renamed in place).
    pub(crate) renamed_from: Vec<String>,
    /// `Some` for an entry that comes from a set the account uses.
    pub(crate) set: Option<SetOrigin>,
    /// The entry (`- name:` line); for a set's entry, in the set's file.
    pub location: Location,
}

impl DesiredConversion {
    /// Where the entry was declared, for messages: `file:line:col`, and for a set's entry
    /// also the set and the account's `use` (`(set ecommerce, used at a.yaml:7:5)`).
    pub(crate) fn place(&self) -> String {
        match &self.set {
            None => self.location.to_string(),
            Some(origin) => format!(
                "{} (set {}, used at {})",
                self.location,
                crate::model::names::escaped(&origin.name),
                origin.used_at
            ),
        }
    }
}

/// Example events for `convctl test`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RuleTests {
    pub(crate) matches: Vec<Event>,
    pub(crate) no_match: Vec<Event>,
    /// Where each of `matches` was written (same order; may be empty for hand-built values).
    pub(crate) match_locations: Vec<Location>,
    /// Where each of `no_match` was written (same order; may be empty for hand-built values).
    pub(crate) no_match_locations: Vec<Location>,
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// A finding about the manifests: what is wrong, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub(crate) severity: Severity,
    /// `None` only when no file is concerned (e.g. a path that does not exist is named in the
    /// message instead).
    pub location: Option<Location>,
    pub(crate) message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// The diagnostic as a person reads it, with `source_line` (the text of its line, when the
    /// caller has it) quoted under the header with a caret under the column:
    ///
    /// ```text
    /// conversions/acme.yaml:12:7: error: unknown key `nmae`
    ///    |
    /// 12 |   - nmae: Purchase
    ///    |     ^^^^
    /// help: did you mean `name`?
    /// ```
    pub fn with_source<'a>(&'a self, source_line: Option<&'a str>) -> WithSource<'a> {
        WithSource {
            diagnostic: self,
            source_line,
        }
    }
}

/// A [`Diagnostic`] shown with its source line (see [`Diagnostic::with_source`]).
pub struct WithSource<'a> {
    diagnostic: &'a Diagnostic,
    source_line: Option<&'a str>,
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if let Some(loc) = &d.location {
            write!(f, "{loc}: ")?;
        }
        // Messages quote names; whatever else came from a file cannot break the line either.
        write!(f, "{level}: {}", visible(&d.message))?;
        if let (Some(loc), Some(line)) = (&d.location, self.source_line) {
            write_snippet(f, loc, line)?;
        }
        if let Some(hint) = &d.hint {
            write!(f, "\nhelp: {}", visible(hint))?;
        }
        Ok(())
    }
}

/// The source line under a gutter of its line number, and a caret under the column that runs
/// to the end of the word there (a key, a value) so that the eye finds it at once. What a reader
/// would not see as it is (a control, a bidi override, a zero-width character) is shown as
/// U+FFFD, so that a line of a manifest can neither reach the terminal nor hide; the caret is
/// placed by display width (a combining accent takes no column, a wide character two).
fn write_snippet(f: &mut fmt::Formatter<'_>, loc: &Location, line: &str) -> fmt::Result {
    let line = line.trim_end_matches(['\r', '\n']);
    let number = loc.line.to_string();
    let gutter = " ".repeat(number.len());
    let shown: Vec<char> = line
        .chars()
        .map(|c| {
            if c != '\t' && is_invisible(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    let column = loc.column.saturating_sub(1);
    let width = |c: &char| c.width().unwrap_or(0);
    let before: String = shown
        .iter()
        .take(column)
        .map(|c| match c {
            '\t' => "\t".to_string(),
            c => " ".repeat(width(c)),
        })
        .collect();
    let word: usize = shown
        .iter()
        .skip(column)
        .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | ',' | ']' | '}' | '#'))
        .map(width)
        .sum();
    let shown: String = shown.into_iter().collect();
    write!(
        f,
        "\n{gutter} |\n{number} | {shown}\n{gutter} | {before}{}",
        "^".repeat(word.max(1))
    )
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_source(None).fmt(f)
    }
}

/// Everything the manifests declare, with the warnings (lints) found on the way.
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    /// In the order of the files (sorted) and documents.
    pub accounts: Vec<DesiredAccount>,
    pub(crate) warnings: Vec<Diagnostic>,
}
