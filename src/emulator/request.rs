//! A Graph request as the emulator's API layer sees it, whether it came over HTTP or inside a
//! batch: method, path, query and body parameters, and where the token came from.
//!
//! Parsing is forgiving in the ways the SDKs need (form bodies, JSON bodies, `method=`
//! overrides, trailing slashes); it never decides whether a request is allowed.

use super::api_error::ApiError;
use super::control::AuthSource;
use crate::model::Secret;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub(crate) fn parse(text: &str) -> Option<Method> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// Ordered `name=value` pairs; a later pair wins on lookup.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub(crate) fn from_urlencoded(text: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(text)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A JSON object body: strings as they are, anything else as its JSON text (as the real
    /// API reads `{"rule": {...}}` sent as JSON).
    pub(crate) fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_param(format!("the JSON body is not valid: {e}")))?;
        let Value::Object(map) = value else {
            return Err(ApiError::invalid_param(
                "a JSON body must be an object of parameters",
            ));
        };
        Ok(Params(
            map.into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect(),
        ))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// One Graph request.
#[derive(Clone, Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// The path without query string, e.g. `/v26.0/act_1/customconversions/`.
    pub(crate) path: String,
    pub(crate) query: Params,
    pub(crate) body: Params,
    /// `Authorization: Bearer|OAuth <token>`.
    pub(crate) header_token: Option<Secret>,
    /// `http://host:port`, for `next` links.
    pub(crate) base_url: String,
    /// The body was JSON (`application/json`, as the Node SDK sends), not a form.
    pub(crate) json_body: bool,
}

impl ApiRequest {
    /// A parameter from the body, else the query string.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.body.get(name).or_else(|| self.query.get(name))
    }

    /// The token and where it came from: header, then query, then the body (form or JSON).
    pub(crate) fn token(&self) -> Option<(Secret, AuthSource)> {
        if let Some(token) = &self.header_token {
            return Some((token.clone(), AuthSource::Header));
        }
        if let Some(token) = self.query.get("access_token") {
            return Some((Secret::new(token), AuthSource::Query));
        }
        let source = if self.json_body {
            AuthSource::Json
        } else {
            AuthSource::Form
        };
        self.body
            .get("access_token")
            .map(|t| (Secret::new(t), source))
    }

    /// The method after a `method=` override (Graph lets a POST say `method=delete`).
    pub(crate) fn effective_method(&self) -> Method {
        if self.method == Method::Post
            && let Some(m) = self.param("method").and_then(Method::parse)
        {
            return m;
        }
        self.method
    }
}

/// The token in an `Authorization` header value, if it is one Graph accepts.
pub(crate) fn token_from_header(value: &str) -> Option<Secret> {
    let value = value.trim();
    let (scheme, token) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth") {
        Some(Secret::new(token.trim()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_tokens() {
        let query = Params::from_urlencoded(b"access_token=q&fields=name%2Crule");
        let body = Params::from_urlencoded(b"name=x&rule=%7B%22url%22%3A+%7B%7D%7D&access_token=f");
        let req = ApiRequest {
            method: Method::Post,
            path: "/v26.0/1/".into(),
            query,
            body,
            header_token: None,
            base_url: "http://x".into(),
            json_body: false,
        };
        assert_eq!(req.param("fields"), Some("name,rule"));
        assert_eq!(req.param("rule"), Some(r#"{"url": {}}"#));
        let (token, source) = req.token().unwrap();
        assert_eq!((token.expose(), source), ("q", AuthSource::Query));
        assert_eq!(token_from_header("Bearer abc").unwrap().expose(), "abc");
        assert_eq!(token_from_header("OAuth abc").unwrap().expose(), "abc");
        assert!(token_from_header("Basic abc").is_none());
        let json = Params::from_json(br#"{"name":"a","default_conversion_value":12}"#).unwrap();
        assert_eq!(json.get("default_conversion_value"), Some("12"));
    }
}
