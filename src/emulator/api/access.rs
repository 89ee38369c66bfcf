//! Who may call: tokens (and the accounts each may see), `appsecret_proof`, and each account's
//! limits (`limits`).

use super::Emulator;
use crate::emulator::api_error::ApiError;
use crate::emulator::control::AuthSource;
use crate::emulator::error::TokenScopeError;
use crate::emulator::request::{ApiRequest, Method};
use crate::model::Secret;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashSet;

/// `T` (every account) or `T:act_1,act_2` (those accounts only): the token, and the digits of
/// the accounts it may see. The error never repeats the token.
pub(crate) fn parse_token_scope(
    entry: &str,
) -> Result<(String, Option<HashSet<String>>), TokenScopeError> {
    if entry.is_empty() {
        return Err(TokenScopeError::Empty);
    }
    let Some((token, scope)) = entry.split_once(':') else {
        return Ok((entry.to_string(), None));
    };
    if token.is_empty() {
        return Err(TokenScopeError::EmptyBeforeScope);
    }
    let mut digits = HashSet::new();
    for account in scope.split(',') {
        let id = crate::model::ids::AdAccountId::parse(account.trim()).map_err(|error| {
            TokenScopeError::NotAnAccount {
                account: account.trim().to_string(),
                error,
            }
        })?;
        digits.insert(id.digits().to_string());
    }
    Ok((token.to_string(), Some(digits)))
}

impl Emulator {
    pub(crate) fn check_auth(&self, auth: Option<&(Secret, AuthSource)>) -> Result<(), ApiError> {
        let Some((token, _)) = auth else {
            return Err(ApiError::token_required());
        };
        if token.is_empty()
            || (!self.tokens.is_empty() && !self.tokens.contains_key(token.expose()))
        {
            return Err(ApiError::invalid_token());
        }
        Ok(())
    }

    /// A token scoped to some accounts (`--token T:act_1,act_2`) may not see the others.
    pub(super) fn check_scope(
        &self,
        auth: Option<&(Secret, AuthSource)>,
        digits: &str,
    ) -> Result<(), ApiError> {
        let Some((token, _)) = auth else {
            return Ok(());
        };
        match self.tokens.get(token.expose()) {
            Some(Some(scope)) if !scope.contains(digits) => {
                Err(ApiError::no_permission(&format!("act_{digits}")))
            }
            _ => Ok(()),
        }
    }

    /// Checks `appsecret_proof` when `--app-secret` is set.
    pub(crate) fn check_proof(
        &self,
        req: &ApiRequest,
        auth: Option<&(Secret, AuthSource)>,
    ) -> Result<(), ApiError> {
        let (Some(secret), Some((token, _))) = (&self.config.app_secret, auth) else {
            return Ok(());
        };
        let Some(proof) = req.param("appsecret_proof") else {
            return Err(ApiError::proof_missing());
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| ApiError::proof_invalid())?;
        mac.update(token.expose().as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        if proof.eq_ignore_ascii_case(&expected) {
            Ok(())
        } else {
            Err(ApiError::proof_invalid())
        }
    }

    /// Counts a call of `points` against the account (digits); a limit's refusal is its
    /// throttling error (the score: 17/2446079; the Business Use Case budget: 80004).
    pub(super) fn admit(&self, account: &str, points: u32) -> Result<(), ApiError> {
        self.control
            .admit(account, points)
            .map_err(ApiError::throttled)
    }

    pub(super) fn account_digits(&self, act: &str, method: Method) -> Result<String, ApiError> {
        let digits = act
            .strip_prefix("act_")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        match digits {
            Some(d) if self.accounts.is_empty() || self.accounts.contains(d) => Ok(d.to_string()),
            _ => Err(ApiError::unknown_object(method.as_str(), act)),
        }
    }
}
