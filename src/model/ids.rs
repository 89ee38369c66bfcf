//! Identifiers of the domain: ad accounts and custom conversions.
//!
//! Ids are always strings of digits (JSON numbers above 2^53 lose precision), so they are kept
//! as validated strings, never as integers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A text that is not an id; `Display` says what was expected, with an example.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not an ad account id: write `act_` followed by digits, e.g. act_1234567890")]
    AdAccount(String),
    #[error("`{0}` is not an id: ids are strings of digits, e.g. \"23850000000000001\"")]
    Object(String),
}

impl From<IdError> for String {
    fn from(error: IdError) -> String {
        error.to_string()
    }
}

/// An ad account id, always written `act_<digits>`. Bare digits are normalised on parse.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AdAccountId(String);

impl AdAccountId {
    /// Parses `act_123` or `123`; anything else is an error that says what is expected.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let trimmed = text.trim();
        let digits = trimmed.strip_prefix("act_").unwrap_or(trimmed);
        if !digits.is_empty() && digits.len() <= 32 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AdAccountId(format!("act_{digits}")))
        } else {
            Err(IdError::AdAccount(trimmed.to_string()))
        }
    }

    /// `act_123`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `act_` prefix.
    pub fn digits(&self) -> &str {
        &self.0[4..]
    }
}

impl TryFrom<String> for AdAccountId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AdAccountId::parse(&value)
    }
}

impl From<AdAccountId> for String {
    fn from(value: AdAccountId) -> Self {
        value.0
    }
}

impl fmt::Display for AdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A numeric-string object id (custom conversion, pixel / dataset).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectId(String);

/// A custom conversion id.
pub type ConversionId = ObjectId;

impl ObjectId {
    /// Accepts a non-empty string of ASCII digits.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let t = text.trim();
        if !t.is_empty() && t.len() <= 32 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(ObjectId(t.to_string()))
        } else {
            Err(IdError::Object(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ObjectId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ObjectId::parse(&value)
    }
}

impl From<ObjectId> for String {
    fn from(value: ObjectId) -> Self {
        value.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_normalise_bare_digits() {
        assert_eq!(AdAccountId::parse("123").unwrap().as_str(), "act_123");
        assert_eq!(AdAccountId::parse("act_123").unwrap().digits(), "123");
        assert!(AdAccountId::parse("act_").is_err());
        assert!(AdAccountId::parse("acct_1").is_err());
        assert!(AdAccountId::parse("12a").is_err());
    }

    #[test]
    fn object_ids_are_digit_strings() {
        assert!(ObjectId::parse("23850000000000001").is_ok());
        assert!(ObjectId::parse("").is_err());
        assert!(ObjectId::parse("-1").is_err());
    }
}
