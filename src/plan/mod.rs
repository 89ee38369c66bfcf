//! The plan document (docs/reconcile.md, "The plan document"): what `plan` shows, `plan --out`
//! saves, `apply --plan` executes and `drift --format json` reports.
//!
//! Owns the document types, the live fingerprint (so that a saved plan can be refused once live
//! state moved), the summary, and saving (atomically) and loading (with errors that say what is
//! wrong with the file). It never decides what to change (that is `diff`) and never holds a
//! token: nothing in it comes from the client's configuration.

use crate::model::LiveConversion;
use crate::model::ids::{AdAccountId, ConversionId};
use crate::rule::{Rule, canonical_json, number_value};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

pub(crate) mod check;
mod combine;
mod compact;
mod file;
mod fingerprint;
mod request;
pub use combine::CombineError;
pub(crate) use compact::CompactJson;
pub use file::{PlanFileError, PlanTextError, check_save_target};
pub(crate) use fingerprint::{Unsealed, check_seal, seal};
pub use request::RequestError;
pub(crate) use request::update_request;

/// The version of the document's shape; a file with another one is refused on load.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The whole plan, over every account concerned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub(crate) format_version: u32,
    pub(crate) convctl_version: String,
    pub(crate) api_version: String,
    /// What convctl had to say about the whole plan when it made it (the API version about to
    /// expire, the time Meta's limits need for the writes), for every rendering that shows
    /// it (markdown: a note under the totals).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) notices: Vec<String>,
    pub(crate) accounts: Vec<AccountPlan>,
    pub(crate) summary: Summary,
}

/// What every warning about a flagged conversion (`is_unavailable`) says after its name and id
/// (reference: Custom conversions).
const FLAGGED: &str = "flagged by Meta: it stopped counting events; edits are refused; see Meta's flagged custom conversions help";

/// The warning a plan gives about a flagged conversion, `"Name" (id) is flagged by Meta: …`, by
/// its name as shown (quoted) and its id. A plan puts its entry's place before it, and what
/// convctl does not send after it. The health report's page, whose row of the conversion says it
/// is flagged, leaves out a warning that says no more than this.
pub fn flagged_warning(shown_name: &str, id: &ConversionId) -> String {
    format!("{shown_name} ({id}) is {FLAGGED}")
}

/// What to do to one ad account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    pub account: AdAccountId,
    /// The manifest file that declares the account.
    pub source: String,
    /// sha256 of the account, [`digest`](Self::digest) and its live conversions when the plan
    /// was made ([`seal`]): `apply --plan` refuses the plan when it no longer holds.
    pub live_fingerprint: String,
    /// sha256 of the account's actions, `safety` and `token_env` as saved ([`seal`]); `None`
    /// in a plan made by a convctl that did not seal its actions (refused by `apply --plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub actions: Vec<Action>,
    pub unmanaged: Vec<Unmanaged>,
    /// Conversions convctl retired earlier (renamed `[retired YYYY-MM-DD] ...`), still listed
    /// and still counting toward the account's limit: for a person to archive in Events
    /// Manager. Never matched, updated, pruned or deleted again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<Unmanaged>,
    pub warnings: Vec<String>,
    /// What `apply` refuses in this account as planned (a mass delete without
    /// `--allow-mass-delete`; in a drift report, what a plan would refuse): shown first by
    /// every rendering, apart from the warnings, because it decides whether the plan can be
    /// applied at all. Absent in plans that have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
    /// What the user should know that asks nothing of the plan: an archived conversion that
    /// holds a declared name or rule, deletes known to be refused in the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<String>,
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
        /// Why the old one goes first (`order: delete_before_create`); absent: the account's
        /// limit (plans made before there was another reason).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delete_first: Option<DeleteFirst>,
        /// The old one is retired (renamed, left for Events Manager) instead of deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retire_old: Option<Box<Retirement>>,
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
        /// The name of the conversion this plan creates with the same rule: Meta refuses a
        /// second conversion with a rule an account holds, so this delete runs before the
        /// creates and the create only after it succeeded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frees_rule_for: Option<String>,
        /// Meta flagged the conversion (`is_unavailable`): edits are refused, so when the
        /// delete is refused it cannot be retired either.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        flagged: bool,
    },
    /// What a delete becomes where this app may not delete: the conversion is renamed and its
    /// description says when and why, nothing else touched, for a person to archive in Events
    /// Manager. It keeps counting events until then.
    Retire {
        id: ConversionId,
        name: String,
        /// The set the entry comes from (`use:` of the account), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set: Option<String>,
        /// The set's entry as the set names it, for grouping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        set_entry: Option<String>,
        reason: DeleteReason,
        /// The new name and description, and why it is retired rather than deleted.
        retirement: Box<Retirement>,
        /// What is retired, as the API reported it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Box<ConversionState>>,
    },
}

/// How a conversion is retired: exactly what the update sends (`name`, `description`), and why
/// it is not deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retirement {
    pub(crate) because: RetireWhy,
    pub(crate) name: String,
    pub(crate) description: String,
}

impl Retirement {
    /// The retirement of a conversion named `name` described `description`, dated `on`.
    pub(crate) fn new(
        because: RetireWhy,
        on: jiff::civil::Date,
        name: &str,
        description: &str,
    ) -> Retirement {
        use crate::model::retired::{retired_description, retired_name};
        Retirement {
            because,
            name: retired_name(on, name),
            description: retired_description(on, because.text(), description),
        }
    }
}

/// Why a conversion is retired rather than deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetireWhy {
    /// The account's manifest says `deletion: retire`.
    Setting,
    /// Meta refused a delete in this account before (a conversion convctl retired after a
    /// refused delete is listed) or during this apply.
    Refused,
}

impl RetireWhy {
    /// What the retired conversion's description says (see [`crate::model::retired`]).
    pub(crate) fn text(self) -> &'static str {
        match self {
            RetireWhy::Setting => crate::model::retired::WHY_SETTING,
            RetireWhy::Refused => crate::model::retired::WHY_REFUSED,
        }
    }
}

/// Why a replacement deletes its old conversion before creating the new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteFirst {
    /// The account is at its limit: no room for the new one first.
    Cap,
    /// The new one keeps the old one's rule, and Meta refuses a second conversion with a rule
    /// the account holds.
    SameRule,
}

impl Action {
    /// The conversion's name (the new one for renames).
    pub(crate) fn name(&self) -> &str {
        match self {
            Action::Create { name, .. }
            | Action::Update { name, .. }
            | Action::Replace { name, .. }
            | Action::Delete { name, .. }
            | Action::Retire { name, .. } => name,
        }
    }

    /// The set the action's entry comes from, if any.
    pub(crate) fn set(&self) -> Option<&str> {
        match self {
            Action::Create { set, .. }
            | Action::Update { set, .. }
            | Action::Replace { set, .. }
            | Action::Delete { set, .. }
            | Action::Retire { set, .. } => set.as_deref(),
        }
    }

    /// The set's entry the action comes from, as the set names it (`Lead (${domain})`).
    pub(crate) fn set_entry(&self) -> Option<&str> {
        match self {
            Action::Create { set_entry, .. }
            | Action::Update { set_entry, .. }
            | Action::Replace { set_entry, .. }
            | Action::Delete { set_entry, .. }
            | Action::Retire { set_entry, .. } => set_entry.as_deref(),
        }
    }

    /// The live id the action concerns (`None` for a create).
    pub(crate) fn id(&self) -> Option<&ConversionId> {
        match self {
            Action::Create { .. } => None,
            Action::Update { id, .. }
            | Action::Replace { id, .. }
            | Action::Delete { id, .. }
            | Action::Retire { id, .. } => Some(id),
        }
    }

    /// Deletes, retirements and replaces: what `protect` and the mass-delete guard count (a
    /// retired conversion is gone from the manifests' view, though it still counts events
    /// until it is archived).
    pub(crate) fn is_destructive(&self) -> bool {
        matches!(
            self,
            Action::Replace { .. } | Action::Delete { .. } | Action::Retire { .. }
        )
    }

    /// A delete that runs before the creates: the old half of a `delete_before_create`
    /// replacement, or a delete that frees a rule a create needs.
    pub(crate) fn runs_before_creates(&self) -> bool {
        matches!(
            self,
            Action::Replace {
                order: ReplaceOrder::DeleteBeforeCreate,
                ..
            } | Action::Delete {
                frees_rule_for: Some(_),
                ..
            }
        )
    }

    /// The write requests it makes: a replacement two (a create, and a delete or a rename),
    /// any other action one.
    pub(crate) fn writes(&self) -> usize {
        match self {
            Action::Replace { .. } => 2,
            _ => 1,
        }
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
    /// Every field, in plan order.
    pub(crate) const ALL: [Field; 8] = [
        Field::Name,
        Field::Description,
        Field::CustomEventType,
        Field::DefaultConversionValue,
        Field::EventSourceId,
        Field::ActionSourceType,
        Field::Rule,
        Field::AdvancedRule,
    ];

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

    /// The fields whose values differ between two states, in plan order; a field known in
    /// one and unknown in the other differs (nothing shows it is the same).
    pub(crate) fn differing(&self, other: &ConversionState) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|f| self.get(*f) != other.get(*f))
            .collect()
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
    /// Conversions retired (renamed for Events Manager) instead of deleted.
    #[serde(default)]
    pub(crate) retire: usize,
    pub unmanaged: usize,
}

impl AccountPlan {
    /// The write requests its actions make (a replacement is two: a create and a delete).
    pub(crate) fn writes(&self) -> usize {
        self.actions.iter().map(Action::writes).sum()
    }
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
                    Action::Retire { .. } => s.retire += 1,
                }
            }
            s.unmanaged += account.unmanaged.len();
        }
        s
    }

    pub(crate) fn has_changes(&self) -> bool {
        self.create + self.update + self.replace + self.delete + self.retire > 0
    }
}

impl PlanDocument {
    /// A document over these accounts, with its summary.
    pub fn new(api_version: &str, accounts: Vec<AccountPlan>) -> PlanDocument {
        PlanDocument {
            format_version: FORMAT_VERSION,
            convctl_version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: api_version.to_string(),
            notices: Vec::new(),
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
    pub(crate) fn write_json(
        &self,
        out: &mut (impl std::io::Write + ?Sized),
    ) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}
