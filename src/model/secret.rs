//! Secrets (access token, app secret) in a type that cannot print itself.
//!
//! `Debug` and `Display` both write `[redacted]`; the only way to the text is `expose()`, which
//! is called where the secret is put on the wire (an HTTP header, the appsecret_proof HMAC).

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret text. Call only to put it on the wire, never to format a message.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("EAAB-canary-token");
        assert!(!format!("{s:?} {s} {:#?}", s).contains("canary"));
        assert_eq!(s.expose(), "EAAB-canary-token");
    }
}
