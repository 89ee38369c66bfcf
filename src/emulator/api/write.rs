//! Writing: create (with the account's cap, and with `--unique-rules` no second conversion with
//! an account's rule), update (only name, description and value; archived conversions frozen,
//! flagged ones refusing every edit) and delete (or archive, with `--delete-archives`; refused
//! with code 200 under `--refuse-deletes`).

use super::{Answer, Emulator, META_PARAMS, Outcome};
use crate::emulator::api_error::ApiError;
use crate::emulator::request::ApiRequest;
use crate::emulator::store::Conversion;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::rule::{self, Rule};
use serde_json::{Value, json};

/// Subcode of "account at its custom conversion limit" (convention).
const SUBCODE_CAP: u32 = 1_760_005;

impl Emulator {
    pub(super) fn create(&self, req: &ApiRequest, digits: &str) -> Outcome {
        let CreateParams {
            name,
            description,
            rule,
            advanced_rule,
            custom_event_type,
            action_source_type,
            event_source_id,
            value,
        } = CreateParams::read(req)?;
        let predicted = custom_event_type.is_none();
        let event_type = custom_event_type
            .unwrap_or_else(|| rule.as_ref().map_or(CustomEventType::Other, predict_type));

        if self.config.strict && rule.as_ref().is_some_and(Rule::only_on_event) {
            return Err(ApiError::event_only_rule());
        }
        // The duplicate-rule check compares rules as they were sent (by meaning), also when
        // `--rewrite-rules` stores them otherwise.
        let rule_key = match (&rule, &advanced_rule) {
            (Some(r), _) => Some(r.meaning_key()),
            (None, Some(text)) => rule::stored_rule_key(None, Some(text)),
            (None, None) => None,
        };
        let stored_rule = rule.map(|r| {
            if self.config.rewrite_rules {
                lowercase_eq_strings(&r.to_value()).to_string()
            } else {
                r.to_api_string()
            }
        });
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        if store.count(digits) >= self.config.cap {
            return Err(ApiError::invalid_param(format!(
                "This ad account has reached its limit of {} custom conversions: delete one before creating another",
                self.config.cap
            ))
            .with_subcode(SUBCODE_CAP)
            .with_user("Custom conversion limit reached", "Ad accounts are limited to 100 custom conversions."));
        }
        if self.config.refuses_duplicate_rules()
            && let Some(key) = &rule_key
            && store.holding_rule(digits, key).is_some()
        {
            return Err(ApiError::duplicate_rule());
        }
        let id = store.allocate_id();
        let mut conversion = Conversion::new(id.clone(), digits.to_string(), name, Self::now());
        conversion.description = description;
        conversion.rule = stored_rule;
        conversion.advanced_rule = advanced_rule;
        conversion.custom_event_type = event_type.as_str().to_string();
        conversion.event_source_id = event_source_id;
        conversion.action_source_type = action_source_type.map(|a| a.as_str().to_string());
        conversion.default_conversion_value = value;
        store.insert_created(conversion, rule_key);
        drop(store);
        let body = if predicted {
            json!({"id": id, "is_custom_event_type_predicted": "1"})
        } else if self.config.strict {
            // The return type documents the field (Meta's `customconversions` reference):
            // strict always sends it.
            json!({"id": id, "is_custom_event_type_predicted": "0"})
        } else {
            json!({"id": id})
        };
        Ok(Answer::written(body.to_string()))
    }

    /// Only `name`, `description` and `default_conversion_value` change; `is_archived` is
    /// accepted and ignored (the API answers success and changes nothing). A conversion Meta
    /// flagged refuses every edit (code 2700000), an archived one is frozen (code 100).
    pub(super) fn update(&self, req: &ApiRequest, id: &str) -> Outcome {
        same_id(req, id)?;
        let refused: Vec<&str> = req
            .body
            .names()
            .filter(|n| {
                !matches!(
                    *n,
                    "name" | "description" | "default_conversion_value" | "id" | "is_archived"
                ) && !META_PARAMS.contains(n)
            })
            .collect();
        if !refused.is_empty() {
            return Err(ApiError::invalid_param(format!(
                "Cannot update {} of a custom conversion: only name, description and default_conversion_value can be changed (create a new conversion to change anything else)",
                refused.join(", ")
            )));
        }
        let name = match req.param("name") {
            Some(n) if n.trim().is_empty() => {
                return Err(ApiError::invalid_param(
                    "Param name must be a non-empty string",
                ));
            }
            other => other.map(|n| n.trim().to_string()),
        };
        let description = req.param("description").map(str::to_string);
        let value = parse_value(req.param("default_conversion_value"))?;
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        let Some(stored) = store.get(id) else {
            return Err(ApiError::unknown_object("POST", id));
        };
        if name.is_none() && description.is_none() && value.is_none() {
            // Nothing but `is_archived` (or nothing at all): success, nothing changed.
            return Ok(Answer::read(json!({"success": true}).to_string()));
        }
        if stored.is_unavailable() {
            return Err(ApiError::flagged_blocked());
        }
        if stored.is_archived() {
            return Err(ApiError::archived_frozen());
        }
        store.update(id, |c| {
            if let Some(name) = name {
                c.name = name;
            }
            if let Some(description) = description {
                c.description = description;
            }
            if let Some(value) = value {
                c.default_conversion_value = value;
            }
        });
        Ok(Answer::written(json!({"success": true}).to_string()))
    }

    pub(super) fn delete(&self, req: &ApiRequest, id: &str) -> Outcome {
        same_id(req, id)?;
        if self.config.refuse_deletes {
            return Err(ApiError::delete_refused());
        }
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        let done = if self.config.delete_archives {
            store.update(id, |c| c.is_archived = true)
        } else {
            store.remove(id).is_some()
        };
        if !done {
            return Err(ApiError::unknown_object("DELETE", id));
        }
        Ok(Answer::written(json!({"success": true}).to_string()))
    }
}

/// An `id` parameter (body or query) must be the path's own id: the official SDKs send an
/// object's id back with its update and delete (node-sdk `exportData()`), which is not an
/// attempt to change it. Any other id is.
fn same_id(req: &ApiRequest, id: &str) -> Result<(), ApiError> {
    for sent in [req.body.get("id"), req.query.get("id")]
        .into_iter()
        .flatten()
    {
        if sent.trim() != id {
            return Err(ApiError::invalid_param(format!(
                "Param id must be the custom conversion's own id: the request is about {id} but carries id {sent}"
            )));
        }
    }
    Ok(())
}

/// `--rewrite-rules`: the rule with every `eq` string value lower-cased (keys sorted and
/// compact, as the emulator stores rules).
fn lowercase_eq_strings(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("eq", Value::String(text)) => Value::String(text.to_lowercase()),
                        _ => lowercase_eq_strings(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lowercase_eq_strings).collect()),
        other => other.clone(),
    }
}

/// `default_conversion_value`: a number >= 0.
fn parse_value(text: Option<&str>) -> Result<Option<f64>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(ApiError::invalid_param(format!(
            "Param default_conversion_value must be a number greater than or equal to 0, found `{text}`"
        ))),
    }
}

/// The type the API predicts when none is given: the standard event the rule names, else OTHER.
pub(super) fn predict_type(rule: &Rule) -> CustomEventType {
    rule.conditions()
        .iter()
        .filter(|c| c.field == "event" && c.operator == rule::Operator::Eq)
        .find_map(|c| match &c.operand {
            rule::Operand::Text(name) => crate::model::event_types::standard_event_type(name),
            _ => None,
        })
        .unwrap_or(CustomEventType::Other)
}

/// What a create asks for, read and checked as the API checks it (each refusal its code 100).
struct CreateParams {
    name: String,
    description: String,
    rule: Option<Rule>,
    advanced_rule: Option<String>,
    custom_event_type: Option<CustomEventType>,
    action_source_type: Option<ActionSourceType>,
    event_source_id: Option<String>,
    value: f64,
}

impl CreateParams {
    fn read(req: &ApiRequest) -> Result<CreateParams, ApiError> {
        let name = req.param("name").map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(ApiError::invalid_param("The parameter name is required"));
        }
        let rule_text = req.param("rule").filter(|r| !r.trim().is_empty());
        let advanced_text = req.param("advanced_rule").filter(|r| !r.trim().is_empty());
        if rule_text.is_none() && advanced_text.is_none() {
            return Err(
                ApiError::invalid_param("Either rule or advanced_rule is required").with_user(
                    "Missing rule",
                    "A custom conversion needs a rule (or an advanced_rule).",
                ),
            );
        }
        let rule = rule_text
            .map(|text| {
                Rule::from_json_str(text).map_err(|e| {
                    ApiError::invalid_param(format!("Param rule is not a valid rule: {e}"))
                        .with_user("Invalid rule", e.to_string())
                })
            })
            .transpose()?;
        let advanced_rule = advanced_text
            .map(|text| {
                serde_json::from_str::<Value>(text)
                    .map(|v| rule::canonical_json(&v).to_string())
                    .map_err(|e| {
                        ApiError::invalid_param(format!("Param advanced_rule must be JSON: {e}"))
                    })
            })
            .transpose()?;
        let custom_event_type = match req.param("custom_event_type") {
            Some(text) => Some(text.parse::<CustomEventType>().map_err(|e| {
                ApiError::invalid_param(format!(
                    "Param custom_event_type must be one of the custom event types: {e}"
                ))
            })?),
            None => None,
        };
        let action_source_type = match req.param("action_source_type") {
            Some(text) => Some(text.parse::<ActionSourceType>().map_err(|e| {
                ApiError::invalid_param(format!(
                    "Param action_source_type must be one of the action source types: {e}"
                ))
            })?),
            None => None,
        };
        let event_source_id = match req.param("event_source_id") {
            Some(text) => Some(
                crate::model::ids::ObjectId::parse(text)
                    .map_err(|_| {
                        ApiError::invalid_param(format!(
                            "Param event_source_id must be a valid ID, found `{text}`"
                        ))
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let value = parse_value(req.param("default_conversion_value"))?.unwrap_or(0.0);
        let description = req.param("description").unwrap_or("").to_string();
        Ok(CreateParams {
            name: name.to_string(),
            description,
            rule,
            advanced_rule,
            custom_event_type,
            action_source_type,
            event_source_id,
            value,
        })
    }
}
