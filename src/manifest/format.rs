//! The manifest file format (`convctl/v1`) as serde types, its one definition: a document is a
//! [`ManifestDocument`] (an account) or a [`SetDocument`] (a set). From these types come
//! - `schema.json` ([`super::schema`], through schemars: titles, descriptions, constraints);
//! - the manifests `import` writes ([`to_yaml`]), which load back unchanged;
//! - the keys the loader accepts in each mapping ([`keys`]: serde's own field names).
//!
//! The loader does not deserialise through these types: it walks a positioned YAML tree so that
//! it can report every error of a run with its line and column (serde stops at the first), and
//! turns what it reads into the desired model ([`super::desired`]: defaults applied, rules
//! parsed, ids checked). It asks [`keys`] which keys a mapping takes, so only its reading code
//! is its own; the tests below fail when a key declared here is not read by the loader, or the
//! schema and serde disagree on the keys.
//!
//! A new key: a field on the type of its mapping here (with its schema title and descriptions),
//! its reading code in the loader (`document.rs` for a document's keys, `entry.rs` for an
//! entry's and `defaults`', `set/` for a set's and a `use`'s) with its place in the desired
//! model, an example value in the test's every-key manifest (the compiler asks for it), then
//! `UPDATE_SCHEMA=1 cargo test --test suite manifest::schema` and a row in docs/manifest.md.

use super::desired::Ensure;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// The keys a mapping of type `T` takes, in the order `T` declares them: serde's field names
/// (renames applied; what `deny_unknown_fields` accepts). serde-aux reads them from the list
/// serde's derive hands to a deserializer, so they cannot drift from the type.
pub(crate) fn keys<T: DeserializeOwned>() -> &'static [&'static str] {
    serde_aux::serde_introspection::serde_introspect::<T>()
}

/// `doc` as YAML text, the way `import` writes manifests: block style, keys in the order the
/// types declare them, fields left out when they hold their default, a string quoted (with
/// `"`, as the docs write ids) only where YAML would read it as something else, a text of
/// several lines as a `|` block. Long one-line texts stay on one line: folding them (`>`)
/// would make a rule's JSON text or a description hard to edit.
pub fn to_yaml(doc: &impl Serialize) -> String {
    let options = serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX };
    serde_saphyr::to_string_with_options(doc, options).expect("a manifest always serialises")
}

/// One YAML document: the custom conversions of one ad account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "convctl manifest (convctl/v1)",
    description = "The custom conversions of one Meta ad account. A file may hold several documents separated by ---, one per account.",
    transform = document_rules
)]
pub struct ManifestDocument {
    /// Format version; only 1 exists. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "version_schema",
        title = "Format version",
        description = "The manifest format version. Optional; only 1 exists.",
        extend("markdownDescription" = "The manifest format version. Optional; only `1` exists.")
    )]
    pub(crate) version: Option<u32>,
    /// The ad account: `act_` followed by digits (bare digits are accepted and normalised).
    #[schemars(
        schema_with = "account_schema",
        title = "Ad account",
        description = "The ad account these conversions belong to: act_ followed by its digits (the digits alone are accepted too). Required.",
        extend("markdownDescription" = "The ad account these conversions belong to: `act_` followed by its digits, e.g. `act_1234567890` (the digits alone are accepted too). **Required.**")
    )]
    pub(crate) account: IdText,
    /// Applied to every conversion below that does not set the field itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Defaults",
        description = "Values for every conversion of this account that does not set them itself.",
        extend("markdownDescription" = "Values for every conversion of this account that does not set them itself, e.g. the pixel (`event_source_id`) they all count.")
    )]
    pub(crate) defaults: Option<DefaultsEntry>,
    /// `true`: delete live conversions that no entry declares. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Delete undeclared conversions",
        description = "true: conversions of the account that no entry declares are deleted. Default false: they are only listed as unmanaged.",
        extend("markdownDescription" = "`true`: conversions of the account that no entry declares are **deleted**. Default `false`: they are only listed as unmanaged in plans.")
    )]
    pub(crate) prune: Option<bool>,
    /// The environment variable holding this account's token (a name, never the token): for
    /// client accounts in other Business Managers. Without it, the global token is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    #[schemars(
        title = "Token variable",
        description = "The name of the environment variable that holds this account's access token (never the token itself), for client accounts in other Business Managers. Without it, the global token is used.",
        extend("markdownDescription" = "The name of the environment variable that holds this account's access token (never the token itself), for client accounts in other Business Managers. Without it, the global token is used. `--sandbox` ignores it.")
    )]
    pub token_env: Option<String>,
    /// This account's mass-delete thresholds (default: more than 10 and more than 30%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Mass-delete thresholds",
        description = "This account's own mass-delete thresholds, instead of the defaults (more than 10 conversions and more than 30% of the live ones).",
        extend("markdownDescription" = "This account's own mass-delete thresholds, instead of the defaults (more than 10 conversions and more than 30% of the live ones).")
    )]
    pub safety: Option<SafetyEntry>,
    /// Sets this account uses, each with its parameter values.
    #[serde(default, rename = "use", skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        title = "Sets used",
        description = "Sets of conversions this account takes, each with this account's parameter values.",
        extend("markdownDescription" = "Sets of conversions this account takes, each with this account's values for the set's `params`.")
    )]
    pub uses: Vec<UseEntry>,
    /// The custom conversions (at most 100 present ones per account, sets' entries included).
    #[serde(default)]
    #[schemars(
        title = "Custom conversions",
        description = "The account's custom conversions: at most 100 present ones (tombstones do not count).",
        extend("markdownDescription" = "The account's custom conversions: at most 100 present ones (tombstones, `ensure: absent`, do not count).")
    )]
    pub(crate) conversions: Vec<ConversionEntry>,
}

/// A set: conversions declared once, with parameters, for the accounts that `use` it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "convctl set (convctl/v1)")]
pub struct SetDocument {
    /// Format version; only 1 exists. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "version_schema")]
    #[schemars(
        title = "Format version",
        description = "The manifest format version. Optional; only 1 exists.",
        extend("markdownDescription" = "The manifest format version. Optional; only `1` exists.")
    )]
    pub version: Option<u32>,
    /// The set's name, unique across the paths given.
    #[schemars(length(min = 1))]
    #[schemars(
        title = "Set name",
        description = "The set's name, unique across the manifests; accounts use it by this name. Required.",
        extend("markdownDescription" = "The set's name, unique across the manifests; accounts `use` it by this name. **Required.**")
    )]
    pub set: String,
    /// Parameters every using account gives (`${name}` in any string of the entries; a
    /// string that is exactly `${name}` takes the value with its type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        title = "Parameters",
        description = "The parameters every using account must give. Written ${name} in any string of the entries; a string that is exactly ${name} takes the value with its type.",
        extend("markdownDescription" = "The parameters every using account must give. Written `${name}` in any string of the entries; a string that is exactly `${name}` takes the value with its type.")
    )]
    pub params: Vec<String>,
    /// The set's entries: as an account's, without `id` (a `use` pins ids with `ids:`).
    #[serde(default)]
    #[schemars(
        title = "Custom conversions",
        description = "The set's conversions, as in an account but without id (an account pins ids under its use's ids).",
        extend("markdownDescription" = "The set's conversions, as in an account but without `id` (an account pins ids under its `use`'s `ids`).")
    )]
    pub conversions: Vec<SetEntry>,
}

/// One document: an account, or a set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "convctl manifest document (convctl/v1)")]
pub enum AnyDocument {
    Account(ManifestDocument),
    Set(SetDocument),
}

/// `safety:` of an account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyEntry {
    /// A plan deleting or replacing more than this many conversions...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Most deletes",
        description = "A plan that deletes or replaces more than this many of the account's conversions (and more than the percentage) is refused without --allow-mass-delete. Default 10.",
        extend("markdownDescription" = "A plan that deletes or replaces more than this many of the account's conversions (and more than `max_delete_pct`) is refused without `--allow-mass-delete`. Default `10`.")
    )]
    pub max_deletes: Option<u32>,
    /// ...and more than this percentage of the live ones is refused without
    /// `--allow-mass-delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    #[schemars(
        title = "Most deletes, in percent",
        description = "A plan that deletes or replaces more than this percentage of the account's live conversions (and more than the count) is refused without --allow-mass-delete. Default 30.",
        extend("markdownDescription" = "A plan that deletes or replaces more than this percentage of the account's live conversions (and more than `max_deletes`) is refused without `--allow-mass-delete`. Default `30`.")
    )]
    pub max_delete_pct: Option<u32>,
}

/// One item of `use:`: a set and this account's values for its parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseEntry {
    /// The set's name (`set: ecommerce` in its document).
    #[schemars(
        title = "Set",
        description = "The name of the set to use. Required.",
        extend("markdownDescription" = "The name of the set to use (its `set:`). **Required.**")
    )]
    pub set: String,
    /// A value (string, number or boolean) for every parameter of the set.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(schema_with = "params_schema")]
    #[schemars(
        title = "Parameter values",
        description = "A value (text, number or true/false) for every parameter of the set.",
        extend("markdownDescription" = "A value (text, number or true/false) for every parameter of the set.")
    )]
    pub params: std::collections::BTreeMap<String, Value>,
    /// Entries of the set this account does not take (by name as the set writes it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        title = "Excluded entries",
        description = "Entries of the set this account does not take, by name as the set writes them (quote names that contain ${...}).",
        extend("markdownDescription" = "Entries of the set this account does not take, by name as the set writes them (quote names that contain `${...}`).")
    )]
    pub exclude: Vec<String>,
    /// Pins of the set's entries in this account: entry name (as the set writes it) → id.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(schema_with = "ids_schema")]
    #[schemars(
        title = "Pinned ids",
        description = "Pins of the set's entries in this account: the entry's name, as the set writes it, to the live conversion's id.",
        extend("markdownDescription" = "Pins of the set's entries in this account: the entry's name, as the set writes it, to the live conversion's id.")
    )]
    pub ids: std::collections::BTreeMap<String, IdText>,
}

/// `defaults:` of an account, as written: settings applied to every conversion of the
/// document (and of the sets it uses) that does not set them itself. The schema keeps the name
/// `Defaults` that editors show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    rename = "Defaults",
    title = "Defaults",
    description = "Values for every conversion of this account that does not set them itself."
)]
pub(crate) struct DefaultsEntry {
    /// Pixel / dataset id (a string of digits, or an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "id_schema",
        title = "Pixel or dataset",
        description = "The pixel or dataset whose events the conversions count, by its id (digits).",
        extend("markdownDescription" = "The pixel or dataset whose events the conversions count, by its id (digits; quote it: `\"998877665544\"`).")
    )]
    pub(crate) event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "action_source_schema",
        title = "Action source",
        description = "Where the events happen: website, app, physical_store, ...",
        extend("markdownDescription" = "Where the events happen: `website`, `app`, `physical_store`, ...")
    )]
    pub(crate) action_source_type: Option<ActionSourceType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "event_type_schema",
        title = "Event type",
        description = "The standard event type the conversions report as, e.g. PURCHASE or LEAD.",
        extend("markdownDescription" = "The standard event type the conversions report as, e.g. `PURCHASE` or `LEAD`.")
    )]
    pub(crate) custom_event_type: Option<CustomEventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        range(min = 0),
        title = "Default value",
        description = "The value counted for a conversion whose event carries none: a number, 0 or more.",
        extend("markdownDescription" = "The value counted for a conversion whose event carries none: a number, `0` or more.")
    )]
    pub(crate) default_conversion_value: Option<f64>,
    /// How long the conversion may go without an event before `convctl report` says so
    /// (`2d`, `36h`, `1w`), or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "fire_within_schema")]
    #[schemars(
        title = "Expected to fire within",
        description = "The expect_fire_within of every conversion of this account that does not set its own: a duration such as 2d, or off.",
        extend("markdownDescription" = "The `expect_fire_within` of every conversion of this account that does not set its own: a duration such as `2d`, or `off`.")
    )]
    pub(crate) expect_fire_within: Option<String>,
}

/// One custom conversion. A present entry needs `name`, `custom_event_type` (here or in
/// `defaults`) and `rule` or `advanced_rule`; a tombstone (`ensure: absent`) needs only a
/// `name` or an `id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Custom conversion",
    description = "One custom conversion: a name, an event type and a rule. A tombstone (ensure: absent) needs only a name or an id.",
    transform = entry_rules
)]
pub(crate) struct ConversionEntry {
    /// Unique within the account, 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 100),
        title = "Name",
        description = "The conversion's name: unique within the account, 1 to 100 characters. Renaming without an id pin replaces the conversion.",
        extend("markdownDescription" = "The conversion's name: unique within the account, 1 to 100 characters. **Required.** Renaming it without an `id` pin replaces the conversion.")
    )]
    pub(crate) name: Option<String>,
    /// Pin to a live conversion id: makes renames safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "id_schema",
        title = "Live id",
        description = "Pins the entry to an existing conversion by its id (digits), so that renaming it updates it instead of replacing it.",
        extend("markdownDescription" = "Pins the entry to an existing conversion by its id (digits, quoted), so that renaming it updates it instead of replacing it. `convctl import` writes it.")
    )]
    pub(crate) id: Option<IdText>,
    /// `present` (default) or `absent` (a tombstone: delete it if it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "ensure_schema",
        title = "Present or absent",
        description = "present (the default) keeps the conversion; absent makes the entry a tombstone: the conversion is deleted if it exists.",
        extend("markdownDescription" = "`present` (the default) keeps the conversion; `absent` makes the entry a tombstone: the conversion is deleted if it exists. A tombstone needs only a `name` or an `id`.")
    )]
    pub(crate) ensure: Option<Ensure>,
    /// Never deleted or replaced; a plan that needs to fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Protect",
        description = "true: the conversion is never deleted or replaced; a plan that would do it fails instead.",
        extend("markdownDescription" = "`true`: the conversion is never deleted or replaced; a plan that would do it fails instead.")
    )]
    pub(crate) protect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Description",
        description = "Free text shown with the conversion in Events Manager.",
        extend("markdownDescription" = "Free text shown with the conversion in Events Manager.")
    )]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "event_type_schema",
        title = "Event type",
        description = "The standard event type this conversion reports as, e.g. PURCHASE or LEAD. Required here or under defaults; changing it replaces the conversion.",
        extend("markdownDescription" = "The standard event type this conversion reports as, e.g. `PURCHASE` or `LEAD`. **Required** here or under `defaults`; changing it replaces the conversion.")
    )]
    pub(crate) custom_event_type: Option<CustomEventType>,
    /// Number >= 0, default 0. Whole numbers avoid perpetual changes (the API may round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        range(min = 0),
        title = "Default value",
        description = "The value counted when the event carries none: a number, 0 or more (default 0). Whole numbers avoid changes that never settle.",
        extend("markdownDescription" = "The value counted when the event carries none: a number, `0` or more (default `0`). Whole numbers avoid changes that never settle.")
    )]
    pub(crate) default_conversion_value: Option<f64>,
    /// What counts: a mapping, or the rule as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Rule",
        description = "Which events count: and, or and not over conditions on a field, as a mapping or as a JSON string. Changing it replaces the conversion.",
        extend("markdownDescription" = "Which events count: `and`, `or` and `not` over conditions on a field, e.g.\n\n```yaml\nrule:\n  and:\n    - event: {eq: Purchase}\n    - value: {gt: 100}\n```\n\nas a mapping or as a JSON string. Changing it replaces the conversion.")
    )]
    pub(crate) rule: Option<RuleText>,
    /// Opaque JSON rule (a mapping or a JSON string), instead of `rule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "advanced_rule_schema",
        title = "Advanced rule",
        description = "A rule in a form convctl does not check, sent as written (a mapping or a JSON object as a string). Instead of rule, never with it; it cannot have tests.",
        extend("markdownDescription" = "A rule in a form convctl does not check, sent as written (a mapping or a JSON object as a string). Instead of `rule`, never with it; it cannot have `tests`.")
    )]
    pub(crate) advanced_rule: Option<Value>,
    /// Pixel / dataset id (a string of digits, or an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "id_schema",
        title = "Pixel or dataset",
        description = "The pixel or dataset whose events this conversion counts, by its id (digits).",
        extend("markdownDescription" = "The pixel or dataset whose events this conversion counts, by its id (digits; quote it: `\"998877665544\"`).")
    )]
    pub(crate) event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        schema_with = "action_source_schema",
        title = "Action source",
        description = "Where the events happen: website, app, physical_store, ...",
        extend("markdownDescription" = "Where the events happen: `website`, `app`, `physical_store`, ...")
    )]
    pub(crate) action_source_type: Option<ActionSourceType>,
    /// Example events that `convctl test` checks offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Rule tests",
        description = "Example events that convctl test checks offline: those under match must match the rule, those under no_match must not.",
        extend("markdownDescription" = "Example events that `convctl test` checks offline: those under `match` must match the rule, those under `no_match` must not.")
    )]
    pub(crate) tests: Option<RuleTestsEntry>,
    /// Earlier names: when no live conversion has `name`, the one with an earlier name is this
    /// entry, renamed in place (never a create and a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Earlier names",
        description = "Names this conversion had before: when no live conversion has the name, the one with an earlier name is this one and is renamed in place (never deleted and created again).",
        extend("markdownDescription" = "Names this conversion had before: when no live conversion has `name`, the one with an earlier name is this one and is renamed in place (never deleted and created again).")
    )]
    pub renamed_from: Option<Vec<String>>,
    /// How long the conversion may go without an event before `convctl report` says so
    /// (`2d`, `36h`, `1w`), or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "fire_within_schema")]
    #[schemars(
        title = "Expected to fire within",
        description = "How long this conversion may go without an event before convctl report calls it never_fired (counted from its creation) or stopped_firing (from its last event): a duration such as 2d, 36h or 1w, or off for a seasonal conversion. Default: 7 days before the first event, 30 days after the last.",
        extend("markdownDescription" = "How long this conversion may go without an event before `convctl report` calls it `never_fired` (counted from its creation) or `stopped_firing` (from its last event): a duration such as `2d`, `36h` or `1w`, or `off` for a seasonal conversion. Default: 7 days before the first event, 30 days after the last.")
    )]
    pub(crate) expect_fire_within: Option<String>,
}

/// An entry of a set: as an account's entry, without `id`; any string may use `${param}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Name",
        description = "The conversion's name, unique within each account that uses the set; parameters may appear in it. Required.",
        extend("markdownDescription" = "The conversion's name, unique within each account that uses the set; `${param}` may appear in it. **Required.**")
    )]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Present or absent",
        description = "absent: delete the conversion of this name in every using account. Default present.",
        extend("markdownDescription" = "`absent`: delete the conversion of this name in every using account. Default `present`.")
    )]
    pub ensure: Option<Ensure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Protect",
        description = "true: never deleted or replaced in any using account; a plan that needs to is refused.",
        extend("markdownDescription" = "`true`: never deleted or replaced in any using account; a plan that needs to is refused.")
    )]
    pub protect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Description",
        description = "A description shown in Events Manager; parameters may appear in it.",
        extend("markdownDescription" = "A description shown in Events Manager; `${param}` may appear in it.")
    )]
    pub description: Option<String>,
    /// A type, or `${param}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Event type",
        description = "The standard event the conversion counts as (for example PURCHASE or LEAD), or a parameter.",
        extend("markdownDescription" = "The standard event the conversion counts as (for example `PURCHASE` or `LEAD`), or `${param}`.")
    )]
    pub custom_event_type: Option<String>,
    /// A number >= 0, or `${param}` (then the value's number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "number_or_param_schema")]
    #[schemars(
        title = "Default value",
        description = "The value of one conversion when the event carries none: a number of at least 0, or a parameter that gives one.",
        extend("markdownDescription" = "The value of one conversion when the event carries none: a number of at least `0`, or `${param}` that gives one.")
    )]
    pub default_conversion_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Rule",
        description = "Which events count: a mapping of conditions, or the same as a JSON string; parameters may appear in values. Exactly one of rule and advanced_rule.",
        extend("markdownDescription" = "Which events count: a mapping of conditions, or the same as a JSON string; `${param}` may appear in values. Exactly one of `rule` and `advanced_rule`.")
    )]
    pub rule: Option<RuleText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "advanced_rule_schema")]
    #[schemars(
        title = "Advanced rule",
        description = "The advanced rule form of the Graph API, as it accepts it. Exactly one of rule and advanced_rule.",
        extend("markdownDescription" = "The advanced rule form of the Graph API, as it accepts it. Exactly one of `rule` and `advanced_rule`.")
    )]
    pub advanced_rule: Option<Value>,
    /// An id, or `${param}`; usually left to the account's `defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_or_param_schema")]
    #[schemars(
        title = "Event source",
        description = "The pixel or dataset id whose events count, or a parameter; usually left to each account's defaults.",
        extend("markdownDescription" = "The pixel or dataset id whose events count, or `${param}`; usually left to each account's `defaults`.")
    )]
    pub event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Action source",
        description = "Where the events happen (for example website or app).",
        extend("markdownDescription" = "Where the events happen (for example `website` or `app`).")
    )]
    pub action_source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Rule tests",
        description = "Example events convctl test checks for every using account, with that account's parameters: those under match must match, those under no_match must not.",
        extend("markdownDescription" = "Example events `convctl test` checks for every using account, with that account's parameters: those under `match` must match, those under `no_match` must not.")
    )]
    pub tests: Option<RuleTestsEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        title = "Earlier names",
        description = "Names this conversion had before: when no live conversion has the name, the one with an earlier name is this one and is renamed in place (never deleted and created again).",
        extend("markdownDescription" = "Names this conversion had before: when no live conversion has `name`, the one with an earlier name is this one and is renamed in place (never deleted and created again).")
    )]
    pub renamed_from: Option<Vec<String>>,
    /// How long the conversion may go without an event before `convctl report` says so
    /// (`2d`, `36h`, `1w`), or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "fire_within_or_param_schema")]
    #[schemars(
        title = "Expected to fire within",
        description = "How long this conversion may go without an event before convctl report calls it never_fired (counted from its creation) or stopped_firing (from its last event): a duration such as 2d, 36h or 1w, or off for a seasonal conversion. Default: 7 days before the first event, 30 days after the last. A parameter may give it.",
        extend("markdownDescription" = "How long this conversion may go without an event before `convctl report` calls it `never_fired` (counted from its creation) or `stopped_firing` (from its last event): a duration such as `2d`, `36h` or `1w`, or `off` for a seasonal conversion. Default: 7 days before the first event, 30 days after the last. `${param}` may give it.")
    )]
    pub expect_fire_within: Option<String>,
}

/// An id written as a string or an integer. Write strings: integers above 2^53 lose digits in
/// many tools (convctl itself keeps the digits as written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdText {
    Text(String),
    Number(u64),
}

impl IdText {}

impl From<&str> for IdText {
    fn from(value: &str) -> Self {
        IdText::Text(value.to_string())
    }
}

/// A rule: a mapping (`{and: [...]}`), or its JSON text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleText {
    Json(String),
    Tree(Value),
}

impl RuleText {
    /// The rule written as a YAML mapping (what `import` should emit: readable and diffable).
    pub(crate) fn from_rule(rule: &crate::rule::Rule) -> Self {
        RuleText::Tree(rule.to_value())
    }
}

/// `tests:` of an entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Rule tests",
    description = "Example events checked offline against the rule."
)]
pub struct RuleTestsEntry {
    /// Events the rule must match.
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        schema_with = "events_schema",
        title = "Must match",
        description = "Events the rule must match, e.g. {event: Purchase, value: 150}.",
        extend("markdownDescription" = "Events the rule must match, e.g. `{event: Purchase, value: 150}`.")
    )]
    pub(crate) matches: Vec<TestEvent>,
    /// Events the rule must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        schema_with = "events_schema",
        title = "Must not match",
        description = "Events the rule must not match, e.g. {event: Purchase, value: 50}.",
        extend("markdownDescription" = "Events the rule must not match, e.g. `{event: Purchase, value: 50}`.")
    )]
    pub(crate) no_match: Vec<TestEvent>,
}

/// An event as rules see it: `url`, `event` and custom parameters (`value`, `currency`, ...).
pub(crate) type TestEvent = Map<String, Value>;

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"enum": [1]})
}

fn params_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Parameter values: name → a string, number or boolean.",
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean"]}
    })
}

fn ids_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Entry name (as the set writes it) → live conversion id.",
        "type": "object",
        "additionalProperties": {"anyOf": [
            {"type": "string", "pattern": "^\\s*[0-9]{1,32}\\s*$"},
            {"type": "integer", "minimum": 0}
        ]}
    })
}

fn id_or_param_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "An id (a string of digits, or an integer), or a parameter `${name}`.",
        "anyOf": [
            {"type": "string", "pattern": "^\\s*([0-9]{1,32}|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})\\s*$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

/// `expect_fire_within`: `off`, or a duration as `crate::model::duration` reads it (friendly
/// units up to weeks, or ISO 8601); the loader gives the exact error.
const FIRE_WITHIN_PATTERN: &str = "^\\s*([Oo][Ff][Ff]|[0-9][0-9A-Za-z. ]*|[Pp][0-9A-Za-z.]+)\\s*$";

fn fire_within_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A duration such as 2d, 36h, 1w or 1h30m (ISO 8601 P2D too), or off.",
        "type": "string",
        "pattern": FIRE_WITHIN_PATTERN,
        "examples": ["2d", "36h", "1w", "off"]
    })
}

fn fire_within_or_param_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A duration such as 2d, 36h or 1w, off, or a parameter `${name}` that gives one.",
        "type": "string",
        "anyOf": [
            {"pattern": FIRE_WITHIN_PATTERN},
            {"pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"}
        ]
    })
}

fn number_or_param_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Number >= 0, or a parameter `${name}` whose value is one.",
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"}]
    })
}

fn account_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            {"type": "string", "pattern": "^\\s*(act_)?[0-9]{1,32}\\s*$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

fn id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            {"type": "string", "pattern": "^\\s*[0-9]{1,32}\\s*$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

fn event_type_schema(_: &mut SchemaGenerator) -> Schema {
    let values: Vec<&str> = CustomEventType::ALL.iter().map(|t| t.as_str()).collect();
    json_schema!({"type": "string", "enum": values})
}

fn action_source_schema(_: &mut SchemaGenerator) -> Schema {
    let values: Vec<&str> = ActionSourceType::ALL.iter().map(|t| t.as_str()).collect();
    json_schema!({"type": "string", "enum": values})
}

fn ensure_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": ["present", "absent"]})
}

fn events_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "title": "Event",
            "description": "An event as rules see it: url, event and custom parameters such as value or currency.",
            "markdownDescription": "An event as rules see it: `url`, `event` and custom parameters such as `value` or `currency`."
        }
    })
}

/// An `advanced_rule` written as a string must be a JSON object's text.
fn advanced_rule_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            {"type": "object"},
            {"type": "string", "pattern": JSON_OBJECT_TEXT}
        ]
    })
}

/// The text of a JSON object: `{`, then a quoted key or `}`, ... `}`. A pattern cannot check
/// that brackets balance (that is not a regular language), so this is as far as JSON Schema
/// can check JSON inside a string; `convctl validate` parses it.
const JSON_OBJECT_TEXT: &str = "^\\s*\\{\\s*(\"[\\s\\S]*)?\\}\\s*$";

/// A rule's JSON text: an object with one quoted key.
const RULE_TEXT: &str = "^\\s*\\{\\s*\"[\\s\\S]*\\}\\s*$";

/// What an editor says of a rule string that is not JSON text (instead of the pattern).
const RULE_TEXT_MESSAGE: &str = "A rule written as a string is the JSON text of an object, e.g. '{\"url\": {\"i_contains\": \"thankyou\"}}'. Or write it as YAML: {url: {i_contains: thankyou}}.";

/// The schema of an entry beyond its fields: a present entry needs a name and exactly one of
/// `rule` and `advanced_rule` (its event type is required by the document, which knows the
/// defaults); a tombstone needs a name or an id and cannot be protected. `rule` and
/// `advanced_rule` are never both given, and tests need a `rule`.
///
/// What an entry may not combine is said with `if`/`then` on the key that is one too many,
/// whose `const` is the explanation: editors show `errorMessage` (yaml-language-server honours
/// it on `const`; a `not` gives only the fixed "Matches a schema that is not allowed"), and
/// command-line validators quote the `const` ("... was expected").
fn entry_rules(schema: &mut Schema) {
    let refuse = |key: &str, message: &str| json!({"properties": {key: {"const": message, "errorMessage": message}}});
    let rules = json!([
        {
            "if": {"properties": {"ensure": {"const": "absent"}}, "required": ["ensure"]},
            "then": {
                "anyOf": [{"required": ["name"]}, {"required": ["id"]}]
            },
            "else": {
                "required": ["name"],
                "anyOf": [{"required": ["rule"]}, {"required": ["advanced_rule"]}]
            }
        },
        {
            "if": {
                "properties": {"ensure": {"const": "absent"}, "protect": {"const": true}},
                "required": ["ensure", "protect"]
            },
            "then": refuse("protect", TOMBSTONE_PROTECTED)
        },
        {
            "if": {"required": ["rule", "advanced_rule"]},
            "then": refuse("advanced_rule", RULE_AND_ADVANCED)
        },
        {
            "if": {"required": ["advanced_rule", "tests"]},
            "then": refuse("tests", TESTS_NEED_RULE)
        }
    ]);
    schema.insert("allOf".into(), rules);
}

const TOMBSTONE_PROTECTED: &str =
    "protect: true keeps a conversion; ensure: absent deletes it. Drop one of them.";
const RULE_AND_ADVANCED: &str =
    "Give rule or advanced_rule, not both: drop advanced_rule to keep convctl's rule.";
const TESTS_NEED_RULE: &str = "tests check a rule: they cannot check an advanced_rule. Write the rule as rule, or drop tests.";

/// The schema of a document beyond its fields: without `custom_event_type` under `defaults`,
/// every present entry needs its own.
fn document_rules(schema: &mut Schema) {
    let rules = json!([{
        "if": {
            "properties": {"defaults": {"required": ["custom_event_type"]}},
            "required": ["defaults"]
        },
        "else": {
            "properties": {
                "conversions": {
                    "items": {
                        "if": {"properties": {"ensure": {"const": "absent"}}, "required": ["ensure"]},
                        "else": {"required": ["custom_event_type"]}
                    }
                }
            }
        }
    }]);
    schema.insert("allOf".into(), rules);
}

impl JsonSchema for RuleText {
    fn schema_name() -> Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let node = generator.subschema_for::<RuleNode>();
        json_schema!({
            "anyOf": [
                {
                    "type": "string",
                    "pattern": RULE_TEXT,
                    "patternErrorMessage": RULE_TEXT_MESSAGE,
                    "title": "Rule as JSON",
                    "description": "The rule as JSON text, e.g. {\"url\": {\"i_contains\": \"thankyou\"}}.",
                    "markdownDescription": "The rule as JSON text, e.g. `'{\"url\": {\"i_contains\": \"thankyou\"}}'`."
                },
                node
            ]
        })
    }
}

/// Schema-only: one node of the rule grammar.
struct RuleNode;

impl JsonSchema for RuleNode {
    fn schema_name() -> Cow<'static, str> {
        "RuleNode".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let node = generator.subschema_for::<RuleNode>();
        let condition = generator.subschema_for::<Condition>();
        let list = |title: &str, plain: &str, markdown: &str| {
            json!({
                "type": "array", "minItems": 1, "items": node,
                "title": title, "description": plain, "markdownDescription": markdown
            })
        };
        json_schema!({
            "title": "Rule",
            "description": "One of: and, or (each over a list of rules), not (over one rule), or a condition on a field: url, event or a custom parameter, with one operator.",
            "markdownDescription": "One of: `and`, `or` (each over a list of rules), `not` (over one rule), or a condition on a field (`url`, `event` or a custom parameter such as `value`) with one operator: `url: {i_contains: thankyou}`.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "and": list(
                    "All of",
                    "Matches when every rule of the list matches.",
                    "Matches when **every** rule of the list matches."
                ),
                "or": list(
                    "Any of",
                    "Matches when at least one rule of the list matches.",
                    "Matches when **at least one** rule of the list matches."
                ),
                "not": {
                    "allOf": [node],
                    "title": "Not",
                    "description": "Matches when the rule under it does not.",
                    "markdownDescription": "Matches when the rule under it does **not**."
                }
            },
            "additionalProperties": condition
        })
    }
}

/// Schema-only: `{<operator>: <value>}`.
struct Condition;

/// Every operator: (name, title, what it checks, whether it compares numbers).
const OPERATORS: &[(&str, &str, &str, bool)] = &[
    (
        "i_contains",
        "Contains, any case",
        "The field contains this text, ignoring upper and lower case.",
        false,
    ),
    (
        "i_not_contains",
        "Does not contain, any case",
        "The field does not contain this text, ignoring upper and lower case.",
        false,
    ),
    (
        "contains",
        "Contains",
        "The field contains this text, case-sensitive.",
        false,
    ),
    (
        "not_contains",
        "Does not contain",
        "The field does not contain this text, case-sensitive.",
        false,
    ),
    (
        "eq",
        "Equals",
        "The field equals this value exactly.",
        false,
    ),
    (
        "neq",
        "Does not equal",
        "The field does not equal this value.",
        false,
    ),
    (
        "lt",
        "Less than",
        "The field is a number less than this one.",
        true,
    ),
    (
        "lte",
        "At most",
        "The field is a number less than or equal to this one.",
        true,
    ),
    (
        "gt",
        "Greater than",
        "The field is a number greater than this one.",
        true,
    ),
    (
        "gte",
        "At least",
        "The field is a number greater than or equal to this one.",
        true,
    ),
    (
        "regex_match",
        "Matches the pattern",
        "The field matches this regular expression (PCRE syntax; convctl validate checks it).",
        false,
    ),
];

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        for (name, title, plain, numeric) in OPERATORS {
            let (kind, note) = match (*name, *numeric) {
                (_, true) => (
                    json!("number"),
                    " Write the number unquoted: gt: 100, not gt: \"100\".",
                ),
                ("regex_match", _) => (json!("string"), ""),
                _ => (json!(["string", "number", "boolean"]), ""),
            };
            let markdown = format!(
                "`{name}`: {plain}{}",
                note.replace("gt: 100, not gt: \"100\"", "`gt: 100`, not `gt: \"100\"`")
            );
            properties.insert(
                name.to_string(),
                json!({
                    "type": kind,
                    "title": title,
                    "description": format!("{plain}{note}"),
                    "markdownDescription": markdown
                }),
            );
        }
        json_schema!({
            "title": "Condition",
            "description": "Exactly one operator and its value, e.g. i_contains: thankyou.",
            "markdownDescription": "Exactly one operator and its value, e.g. `i_contains: thankyou`.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": properties,
            "additionalProperties": false
        })
    }
}

#[cfg(test)]
mod tests;
