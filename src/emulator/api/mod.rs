//! The Graph API itself: versions, authentication, and the routes of custom conversions
//! (edge and node) and of the Conversions API, applied to the store.
//!
//! `Emulator::handle` answers one request (from HTTP or from inside a batch) synchronously
//! under the store's lock; it knows nothing about sockets, latency or injected faults, which
//! `http` adds around it. Every failure is an [`ApiError`] (reference: Errors).
//!
//! One file per part of the API: [`access`] (tokens, scopes, `appsecret_proof`, each account's
//! limits), [`versions`] (which versions are served), [`read`] (lists, nodes, `?ids=`),
//! [`write`] (create, update, delete), [`events`] (the Conversions API), [`stats`] (daily
//! counts of a conversion).

mod access;
mod events;
mod read;
mod stats;
#[cfg(test)]
mod tests;
mod versions;
mod write;

pub(crate) use access::parse_token_scope;

use super::EmulatorConfig;
use super::api_error::ApiError;
use super::control::{AuthSource, Control, Route};
use super::request::{ApiRequest, Method};
use super::store::Store;
use crate::model::Secret;
use crate::model::access_tier::{READ_POINTS, WRITE_POINTS};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use versions::is_version;

/// Parameters every request may carry that are not fields of the object.
const META_PARAMS: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "appsecret_time",
    "method",
    "format",
    "pretty",
    "suppress_http_code",
    "locale",
    "include_headers",
    "debug",
    "fields",
    "transport",
];

/// What one request produced.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// The ad account (digits) the request was about, for usage headers.
    pub(crate) account: Option<String>,
    /// A write that changed state: `--drop-after-commit` may lose its answer.
    pub(crate) committed: bool,
}

/// The shared emulator: configuration, state and controls.
#[derive(Debug)]
pub(crate) struct Emulator {
    pub(crate) config: EmulatorConfig,
    pub(crate) store: RwLock<Store>,
    pub(crate) control: Control,
    pub(crate) dirty: AtomicBool,
    pub(crate) save_wanted: Notify,
    /// Accepted tokens, each with the account digits it may see (`None`: every account).
    tokens: HashMap<String, Option<HashSet<String>>>,
    accounts: HashSet<String>,
}

/// What a route produced: the answer's body, and whether the request changed state (a write
/// that `--drop-after-commit` may lose the answer of).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: String,
    pub(crate) committed: bool,
}

impl Answer {
    /// An answer that changed nothing.
    pub(crate) fn read(body: String) -> Answer {
        Answer {
            body,
            committed: false,
        }
    }

    /// An answer to a write that was committed.
    pub(crate) fn written(body: String) -> Answer {
        Answer {
            body,
            committed: true,
        }
    }
}

type Outcome = Result<Answer, ApiError>;

impl Emulator {
    pub(crate) fn new(config: EmulatorConfig, store: Store, control: Control) -> Self {
        let tokens = config
            .tokens
            .iter()
            .filter_map(|t| parse_token_scope(t).ok())
            .collect();
        let accounts = config
            .accounts
            .iter()
            .map(|a| a.digits().to_string())
            .collect();
        Emulator {
            config,
            store: RwLock::new(store),
            control,
            dirty: AtomicBool::new(false),
            save_wanted: Notify::new(),
            tokens,
            accounts,
        }
    }

    pub(crate) fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        self.save_wanted.notify_one();
    }

    /// An error answer with a fresh trace id.
    pub(crate) fn error_response(&self, error: ApiError, account: Option<String>) -> ApiResponse {
        ApiResponse {
            status: error.status,
            body: error.to_body(&self.control.trace_id()),
            account,
            committed: false,
        }
    }

    /// Answers one request. `auth` is the token the caller found (header, query or form).
    pub(crate) fn handle(
        &self,
        req: &ApiRequest,
        auth: Option<&(Secret, AuthSource)>,
    ) -> ApiResponse {
        let method = req.effective_method();
        let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
        let (version, rest) = match segments.first() {
            Some(first) if is_version(first) => (Some(first.to_string()), &segments[1..]),
            _ => (None, &segments[..]),
        };
        let route = classify(method, rest);
        self.control.stats.request(route);
        // Known before any check, so that every answer about an account carries its usage
        // headers, errors included (a call that fails a check is not counted).
        let mut account = self.account_of(rest);
        let outcome = self
            .check_version(version.as_deref(), route == Route::Events, rest)
            .and_then(|()| self.check_auth(auth))
            .and_then(|()| self.check_proof(req, auth))
            .and_then(|()| self.dispatch(req, auth, method, rest, route, &mut account));
        match outcome {
            Ok(Answer { body, committed }) => {
                if committed {
                    if route != Route::Events {
                        self.control.stats.write();
                    }
                    self.mark_dirty();
                }
                ApiResponse {
                    status: 200,
                    body,
                    account,
                    committed,
                }
            }
            Err(error) => self.error_response(error, account),
        }
    }

    fn dispatch(
        &self,
        req: &ApiRequest,
        auth: Option<&(Secret, AuthSource)>,
        method: Method,
        rest: &[&str],
        route: Route,
        account: &mut Option<String>,
    ) -> Outcome {
        match (route, rest) {
            (Route::ListConversions | Route::CreateConversion, [act, _])
            | (Route::GetAccount, [act]) => {
                let digits = self.account_digits(act, method)?;
                *account = Some(digits.clone());
                self.check_scope(auth, &digits)?;
                self.admit(&digits, route_points(route))?;
                match route {
                    Route::ListConversions => self.list(req, &digits),
                    Route::CreateConversion => self.create(req, &digits),
                    _ => Ok(Answer::read(
                        json!({"id": format!("act_{digits}"), "account_id": digits}).to_string(),
                    )),
                }
            }
            (
                Route::GetConversion
                | Route::UpdateConversion
                | Route::DeleteConversion
                | Route::ConversionStats,
                [id, ..],
            ) => {
                let owner = self
                    .store
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(id)
                    .map(|c| c.account_id().to_string());
                let Some(owner) = owner else {
                    return Err(ApiError::unknown_object(method.as_str(), id));
                };
                *account = Some(owner.clone());
                self.check_scope(auth, &owner)?;
                self.admit(&owner, route_points(route))?;
                match route {
                    Route::GetConversion => self.read_node(req, id),
                    Route::ConversionStats => self.stats(req, id),
                    Route::UpdateConversion => self.update(req, id),
                    _ => self.delete(req, id),
                }
            }
            (Route::Events, [pixel, _]) => self.events(req, pixel),
            (Route::ReadMany, []) => self.read_many(req, auth, account),
            _ => match rest.first() {
                Some(id) if rest.len() == 1 => Err(ApiError::unknown_object(method.as_str(), id)),
                _ => Err(ApiError::unknown_path(&format!("/{}", rest.join("/")))),
            },
        }
    }
}

/// What a call on `route` costs in the ad-account score: writes 3 points, reads 1.
fn route_points(route: Route) -> u32 {
    match route {
        Route::CreateConversion | Route::UpdateConversion | Route::DeleteConversion => WRITE_POINTS,
        _ => READ_POINTS,
    }
}

impl Emulator {
    /// The account (digits) a whole path (`/v26.0/act_1/customconversions`) is about.
    pub(crate) fn account_of_path(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.first() {
            Some(first) if is_version(first) => self.account_of(&segments[1..]),
            _ => self.account_of(&segments),
        }
    }

    /// The account (digits) a path is about: `act_<digits>/...`, or a conversion's owner;
    /// `None` for anything else (the Conversions API, `?ids=`, an unknown object).
    pub(crate) fn account_of(&self, rest: &[&str]) -> Option<String> {
        let first = rest.first()?;
        if first.starts_with("act_") {
            return self.account_digits(first, Method::Get).ok();
        }
        if rest.len() != 1 {
            return None;
        }
        self.store
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(first)
            .map(|c| c.account_id().to_string())
    }
}

fn classify(method: Method, rest: &[&str]) -> Route {
    match (method, rest) {
        (Method::Get, [act, "customconversions"]) if act.starts_with("act_") => {
            Route::ListConversions
        }
        (Method::Post, [act, "customconversions"]) if act.starts_with("act_") => {
            Route::CreateConversion
        }
        (Method::Get, [act]) if act.starts_with("act_") => Route::GetAccount,
        (Method::Get, []) => Route::ReadMany,
        (Method::Get, [id]) if !id.starts_with("act_") => Route::GetConversion,
        (Method::Get, [id, "stats"]) if !id.starts_with("act_") => Route::ConversionStats,
        (Method::Post, [id]) if !id.starts_with("act_") => Route::UpdateConversion,
        (Method::Delete, [id]) if !id.starts_with("act_") => Route::DeleteConversion,
        (Method::Post, [_, "events"]) => Route::Events,
        _ => Route::Other,
    }
}
