//! Credentials on a request: the token in the `Authorization` header (never in a URL), the
//! `appsecret_proof` in the form or the query; and the checks a token passes before any call.

use super::exchange::Recorder;
use super::{Request, Transport};
use crate::graph::config::SettingNames;
use crate::graph::error::GraphError;
use crate::model::Secret;
use crate::model::ids::AdAccountId;
use hmac::{KeyInit, Mac};
use tokio::time::Instant;

impl Transport {
    /// The token (and proof) of a request: its account's own, or the global one.
    fn credentials(&self, account: Option<&AdAccountId>) -> (&Secret, Option<&Secret>) {
        match account.and_then(|a| self.account_tokens.get(a)) {
            Some((token, proof)) => (token, proof.as_ref()),
            None => (&self.token, self.proof.as_ref()),
        }
    }

    /// The HTTP request for `request`, signed: the token in the `Authorization` header, the
    /// `appsecret_proof` in the form (or the query of a GET), the form encoded; and the
    /// recorder that writes the exchange to the trace, if one is on.
    pub(super) fn signed<'r>(
        &'r self,
        request: &'r Request,
    ) -> (reqwest::RequestBuilder, Recorder<'r>) {
        let mut url = request.url.clone();
        let mut form = request.form.clone();
        let (token, proof) = self.credentials(request.account.as_ref());
        if let Some(proof) = proof {
            match &mut form {
                Some(fields) => fields.push(("appsecret_proof".into(), proof.expose().to_string())),
                None => {
                    url.query_pairs_mut()
                        .append_pair("appsecret_proof", proof.expose());
                }
            }
        }
        let trace = self
            .trace
            .get()
            .map(|t| (t, url.to_string(), &self.redactor));
        let body = form.as_ref().map(|fields| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish()
        });
        let mut builder = self.http.request(request.method.clone(), url).header(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
        // A copy of the body only for the trace: write batches are large.
        let traced_body = body.as_ref().filter(|_| trace.is_some()).cloned();
        if let Some(body) = body {
            builder = builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body);
        }
        let recorder = Recorder {
            body: traced_body,
            trace,
            method: request.method.as_str(),
            started: Instant::now(),
        };
        (builder, recorder)
    }
}

/// A token must be non-empty and free of spaces and control characters (a pasted line
/// break); `account` names whose token it is. The global token's hint names where it comes
/// from as the caller does; an account's own token comes from wherever the caller read it.
pub(super) fn check_token(
    token: &Secret,
    account: Option<&AdAccountId>,
    names: &SettingNames,
) -> Result<(), GraphError> {
    let (whose, source) = match account {
        None => (
            "the access token".to_string(),
            names.access_token.to_string(),
        ),
        Some(a) => (
            format!("the access token of {a}"),
            "where it is read from".to_string(),
        ),
    };
    if token.is_empty() {
        return Err(GraphError::config(format!("{whose} is empty")));
    }
    if token.expose().chars().any(|c| c.is_control() || c == ' ') {
        return Err(GraphError::config(format!(
            "{whose} contains spaces or control characters (a pasted line break?); check {source}"
        )));
    }
    Ok(())
}

/// `appsecret_proof`: lowercase hex HMAC-SHA256 of the token keyed by the app secret.
pub(crate) fn appsecret_proof(token: &Secret, app_secret: &Secret) -> Secret {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(token.expose().as_bytes());
    Secret::new(hex::encode(mac.finalize().into_bytes()))
}
