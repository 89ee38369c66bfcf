//! The manifest file format (`convctl/v1`) as serde types: one [`ManifestDocument`] per YAML
//! document. `schema.json` is generated from these types (see `crate::manifest::schema`), and `import`
//! serialises them to write manifests that load back unchanged.
//!
//! The loader does not deserialise through these types: it walks a positioned YAML tree so that
//! it can report every error with its line and column (serde stops at the first). A test keeps
//! the two in step: every example manifest deserialises into these types, passes the schema and
//! passes the loader.

use super::model::Ensure;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One YAML document: the custom conversions of one ad account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "convctl manifest (convctl/v1)")]
pub struct ManifestDocument {
    /// Format version; only 1 exists. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "version_schema")]
    pub version: Option<u32>,
    /// The ad account: `act_` followed by digits (bare digits are accepted and normalised).
    #[schemars(schema_with = "account_schema")]
    pub account: IdText,
    /// Applied to every conversion below that does not set the field itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<Defaults>,
    /// `true`: delete live conversions that no entry declares. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// The environment variable holding this account's token (a name, never the token): for
    /// client accounts in other Business Managers. Without it, the global token is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub token_env: Option<String>,
    /// This account's mass-delete thresholds (default: more than 10 and more than 30%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<SafetyEntry>,
    /// Sets this account uses, each with its parameter values.
    #[serde(default, rename = "use", skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<UseEntry>,
    /// The custom conversions (at most 100 present ones per account, sets' entries included).
    #[serde(default)]
    pub conversions: Vec<ConversionEntry>,
}

/// A set: conversions declared once, with parameters, for the accounts that `use` it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "convctl set (convctl/v1)")]
pub struct SetDocument {
    /// Format version; only 1 exists. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "version_schema")]
    pub version: Option<u32>,
    /// The set's name, unique across the paths given.
    #[schemars(length(min = 1))]
    pub set: String,
    /// Parameters every using account gives (`${name}` in any string of the entries; a
    /// string that is exactly `${name}` takes the value with its type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// The set's entries: as an account's, without `id` (a `use` pins ids with `ids:`).
    #[serde(default)]
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
    pub max_deletes: Option<u32>,
    /// ...and more than this percentage of the live ones is refused without
    /// `--allow-mass-delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub max_delete_pct: Option<u32>,
}

/// One item of `use:`: a set and this account's values for its parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseEntry {
    /// The set's name (`set: ecommerce` in its document).
    pub set: String,
    /// A value (string, number or boolean) for every parameter of the set.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(schema_with = "params_schema")]
    pub params: std::collections::BTreeMap<String, Value>,
    /// Entries of the set this account does not take (by name as the set writes it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Pins of the set's entries in this account: entry name (as the set writes it) → id.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(schema_with = "ids_schema")]
    pub ids: std::collections::BTreeMap<String, IdText>,
}

/// Settings applied to every conversion of the document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Pixel / dataset id (a string of digits, or an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_source_type: Option<ActionSourceType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_event_type: Option<CustomEventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub default_conversion_value: Option<f64>,
}

/// One custom conversion. A present entry needs `name`, `custom_event_type` (here or in
/// `defaults`) and `rule` or `advanced_rule`; a tombstone (`ensure: absent`) needs only a
/// `name` or an `id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionEntry {
    /// Unique within the account, 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// Pin to a live conversion id: makes renames safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub id: Option<IdText>,
    /// `present` (default) or `absent` (a tombstone: delete it if it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensure: Option<Ensure>,
    /// Never deleted or replaced; a plan that needs to fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_event_type: Option<CustomEventType>,
    /// Number >= 0, default 0. Whole numbers avoid perpetual changes (the API may round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub default_conversion_value: Option<f64>,
    /// What counts: a mapping, or the rule as a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleText>,
    /// Opaque JSON rule (a mapping or a JSON string), instead of `rule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "advanced_rule_schema")]
    pub advanced_rule: Option<Value>,
    /// Pixel / dataset id (a string of digits, or an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_schema")]
    pub event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_source_type: Option<ActionSourceType>,
    /// Example events that `convctl test` checks offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<RuleTestsEntry>,
    /// Earlier names: when no live conversion has `name`, the one with an earlier name is this
    /// entry, renamed in place (never a create and a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<Vec<String>>,
}

/// An entry of a set: as an account's entry, without `id`; any string may use `${param}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensure: Option<Ensure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A type, or `${param}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_event_type: Option<String>,
    /// A number >= 0, or `${param}` (then the value's number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "number_or_param_schema")]
    pub default_conversion_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "advanced_rule_schema")]
    pub advanced_rule: Option<Value>,
    /// An id, or `${param}`; usually left to the account's `defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "id_or_param_schema")]
    pub event_source_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<RuleTestsEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<Vec<String>>,
}

/// An id written as a string or an integer. Write strings: integers above 2^53 lose digits in
/// many tools (convctl itself keeps the digits as written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdText {
    Text(String),
    Number(u64),
}

impl IdText {
    pub fn as_text(&self) -> String {
        match self {
            IdText::Text(t) => t.clone(),
            IdText::Number(n) => n.to_string(),
        }
    }
}

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
    pub fn from_rule(rule: &crate::rule::Rule) -> Self {
        RuleText::Tree(rule.to_value())
    }
}

/// `tests:` of an entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleTestsEntry {
    /// Events the rule must match.
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<TestEvent>,
    /// Events the rule must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_match: Vec<TestEvent>,
}

/// An event as rules see it: `url`, `event` and custom parameters (`value`, `currency`, ...).
pub type TestEvent = Map<String, Value>;

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"description": "Format version; only 1 exists.", "enum": [1]})
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

fn number_or_param_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Number >= 0, or a parameter `${name}` whose value is one.",
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"}]
    })
}

fn account_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The ad account: act_ followed by digits (bare digits are normalised).",
        "anyOf": [
            {"type": "string", "pattern": "^\\s*(act_)?[0-9]{1,32}\\s*$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

fn id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "An id: a string of digits (or an integer).",
        "anyOf": [
            {"type": "string", "pattern": "^\\s*[0-9]{1,32}\\s*$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

fn advanced_rule_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Opaque JSON rule (a mapping or a JSON string); compared in canonical form.",
        "type": ["object", "string"]
    })
}

impl JsonSchema for RuleText {
    fn schema_name() -> Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let node = generator.subschema_for::<RuleNode>();
        json_schema!({
            "description": "A rule: a mapping such as {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}, or the same as a JSON string.",
            "anyOf": [
                {"type": "string", "description": "The rule as JSON text."},
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
        json_schema!({
            "description": "`and`/`or` over a list of rules, `not` over a rule, or `<field>: {<operator>: <value>}` where the field is `url`, `event` or a custom parameter.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "and": {"type": "array", "minItems": 1, "items": node},
                "or": {"type": "array", "minItems": 1, "items": node},
                "not": node
            },
            "additionalProperties": condition
        })
    }
}

/// Schema-only: `{<operator>: <value>}`.
struct Condition;

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let text = json!({"type": ["string", "number", "boolean"]});
        let number = json!({"type": "number", "description": "Numeric operators compare numbers: write the value unquoted."});
        json_schema!({
            "description": "Exactly one operator and its value.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "i_contains": text, "i_not_contains": text, "contains": text, "not_contains": text,
                "eq": text, "neq": text,
                "lt": number, "lte": number, "gt": number, "gte": number,
                "regex_match": {"type": "string", "description": "A PCRE pattern."}
            },
            "additionalProperties": false
        })
    }
}

use serde_json::json;
