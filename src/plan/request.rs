//! The Graph requests a plan's actions stand for: a create from an `after` state, an update
//! from an action's changes. A plan made by convctl always converts; a hand-edited plan file
//! may not (`plan::check` refuses those before any write, and this is its last line).

use super::{ConversionState, Field, FieldChange};
use crate::model::event_types::UnknownValue;
use crate::model::ids::{IdError, ObjectId};
use crate::model::{ConversionUpdate, NewConversion};
use crate::plan::CompactJson;
use serde_json::Value;

/// An action that cannot be sent as it stands.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Vocabulary(#[from] UnknownValue),
    /// Only `name`, `description` and `default_conversion_value` can be updated in place.
    #[error("an update cannot set {field} to {value}")]
    NotUpdatable { field: Field, value: Value },
}

impl ConversionState {
    /// The create request for this state (an `after`). Fails only on a hand-edited plan file.
    pub fn to_new_conversion(&self) -> Result<NewConversion, RequestError> {
        self.clone().into_new_conversion()
    }

    /// The same, its strings moved rather than copied (what `apply` uses).
    pub(crate) fn into_new_conversion(self) -> Result<NewConversion, RequestError> {
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

/// The update request of an `update` action's changes.
pub(crate) fn update_request(changes: &[FieldChange]) -> Result<ConversionUpdate, RequestError> {
    let mut update = ConversionUpdate::default();
    for change in changes {
        match (change.field, &change.after) {
            (Field::Name, Value::String(s)) => update.name = Some(s.clone()),
            (Field::Description, Value::String(s)) => update.description = Some(s.clone()),
            (Field::DefaultConversionValue, Value::Number(n)) => {
                update.default_conversion_value = n.as_f64();
            }
            (field, value) => {
                return Err(RequestError::NotUpdatable {
                    field,
                    value: value.clone(),
                });
            }
        }
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            update_request(&bad).unwrap_err().to_string(),
            "an update cannot set rule to \"x\""
        );
    }
}
