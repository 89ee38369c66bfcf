//! The Graph API itself: versions, authentication, and the routes of custom conversions
//! (edge and node) and of the Conversions API, applied to the store.
//!
//! `Emulator::handle` answers one request (from HTTP or from inside a batch) synchronously
//! under the store's lock; it knows nothing about sockets, latency or injected faults, which
//! `http` adds around it. Every failure is a `ApiError` (reference: Errors).

use super::EmulatorConfig;
use super::control::{AuthSource, Control, Route};
use super::error::ApiError;
use super::failure::TokenScopeError;
use super::fields::{Field, FieldSelection};
use super::request::{ApiRequest, Method};
use super::store::{Conversion, Store};
use crate::model::Secret;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::rule::{self, Rule};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Page size without `limit` (reference: Paging).
pub(crate) const DEFAULT_LIMIT: usize = 25;
/// The largest page the emulator gives (convention).
pub(crate) const MAX_LIMIT: usize = 100;
/// The largest page under `--strict`: the default page size, whatever `limit` asks.
pub(crate) const STRICT_MAX_LIMIT: usize = 25;
/// Fields whose readability is undocumented: `--strict` refuses to read them.
pub(crate) const STRICT_UNREADABLE: &[Field] = &[
    Field::EventSourceId,
    Field::ActionSourceType,
    Field::AdvancedRule,
];
/// Subcode of "account at its custom conversion limit" (convention).
pub(crate) const SUBCODE_CAP: u32 = 1_760_005;

/// Known versions and their release dates (unix seconds), oldest first (reference: versions).
const VERSIONS: &[(&str, i64)] = &[
    ("v24.0", 1_759_881_600),
    ("v25.0", 1_771_372_800),
    ("v26.0", 1_785_283_200),
];
/// The Marketing API keeps a version ~90 days after its successor ships...
const ADS_GRACE_SECS: i64 = 90 * 86_400;
/// ...the Conversions API two years (seed 002).
const CAPI_GRACE_SECS: i64 = 2 * 365 * 86_400;

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

type Outcome = Result<(String, bool), ApiError>;

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
        let mut account = None;
        let outcome = self
            .check_version(version.as_deref(), route == Route::Events, rest)
            .and_then(|()| self.check_auth(auth))
            .and_then(|()| self.check_proof(req, auth))
            .and_then(|()| self.dispatch(req, auth, method, rest, route, &mut account));
        match outcome {
            Ok((body, committed)) => {
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

    pub(crate) fn check_version(
        &self,
        version: Option<&str>,
        capi: bool,
        rest: &[&str],
    ) -> Result<(), ApiError> {
        let Some(version) = version else {
            return Ok(());
        };
        let Some(pos) = VERSIONS.iter().position(|(v, _)| *v == version) else {
            let number: f64 = version[1..].parse().unwrap_or(0.0);
            return if number < 24.0 {
                Err(ApiError::deprecated_version())
            } else {
                Err(ApiError::unknown_path(&format!(
                    "/{version}/{}",
                    rest.join("/")
                )))
            };
        };
        let Some((_, successor_shipped)) = VERSIONS.get(pos + 1) else {
            return Ok(());
        };
        let grace = if capi {
            CAPI_GRACE_SECS
        } else {
            ADS_GRACE_SECS
        };
        if Self::now() > successor_shipped + grace {
            return Err(ApiError::deprecated_version());
        }
        Ok(())
    }

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
    fn check_scope(
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

    fn admit(&self, account: &str) -> Result<(), ApiError> {
        self.control
            .admit(Some(account))
            .map_err(|_| ApiError::account_throttled())
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
                self.admit(&digits)?;
                match route {
                    Route::ListConversions => self.list(req, &digits),
                    Route::CreateConversion => self.create(req, &digits),
                    _ => Ok((
                        json!({"id": format!("act_{digits}"), "account_id": digits}).to_string(),
                        false,
                    )),
                }
            }
            (Route::GetConversion | Route::UpdateConversion | Route::DeleteConversion, [id]) => {
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
                self.admit(&owner)?;
                match route {
                    Route::GetConversion => self.read_node(req, id),
                    Route::UpdateConversion => self.update(req, id),
                    _ => self.delete(req, id),
                }
            }
            (Route::Events, [pixel, _]) => {
                self.control.admit(None).ok();
                self.events(req, pixel)
            }
            (Route::ReadMany, []) => self.read_many(req, account),
            _ => match rest.first() {
                Some(id) if rest.len() == 1 => Err(ApiError::unknown_object(method.as_str(), id)),
                _ => Err(ApiError::unknown_path(&format!("/{}", rest.join("/")))),
            },
        }
    }

    fn account_digits(&self, act: &str, method: Method) -> Result<String, ApiError> {
        let digits = act
            .strip_prefix("act_")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        match digits {
            Some(d) if self.accounts.is_empty() || self.accounts.contains(d) => Ok(d.to_string()),
            _ => Err(ApiError::unknown_object(method.as_str(), act)),
        }
    }

    /// The fields asked for (`id` only without `fields`). Under `--strict` reading a field
    /// whose readability is undocumented is refused as the Graph API refuses a field a node
    /// does not have.
    fn selection(&self, req: &ApiRequest) -> Result<FieldSelection, ApiError> {
        let selection = match req.param("fields") {
            Some(f) => FieldSelection::parse(f)?,
            None => FieldSelection::default_id_only(),
        };
        if self.config.strict
            && let Some(field) = selection.0.iter().find(|f| STRICT_UNREADABLE.contains(f))
        {
            return Err(ApiError::invalid_param(format!(
                "Tried accessing nonexisting field ({}) on node type (CustomConversion)",
                field.as_str()
            )));
        }
        Ok(selection)
    }

    fn list(&self, req: &ApiRequest, digits: &str) -> Outcome {
        let selection = self.selection(req)?;
        let limit = match req.param("limit") {
            Some(text) => text
                .trim()
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_param("Param limit must be a non-negative integer"))?
                .clamp(1, self.max_limit()),
            None => DEFAULT_LIMIT,
        };
        let after = req.param("after").map(decode_cursor).transpose()?;
        let before = req.param("before").map(decode_cursor).transpose()?;
        let mut body = String::with_capacity(4096);
        body.push_str("{\"data\":[");
        let store = self.store.read().unwrap_or_else(|e| e.into_inner());
        let page = store.page(digits, &selection, limit, after, before, &mut body);
        let total = store.count(digits);
        drop(store);
        body.push(']');
        if let (Some(first), Some(last)) = (page.first, page.last) {
            let (before_cursor, after_cursor) = (encode_cursor(first), encode_cursor(last));
            body.push_str(",\"paging\":{\"cursors\":{\"before\":\"");
            body.push_str(&before_cursor);
            body.push_str("\",\"after\":\"");
            body.push_str(&after_cursor);
            body.push_str("\"}");
            if page.has_more_before {
                body.push_str(",\"previous\":");
                body.push_str(&json!(page_url(req, "before", &before_cursor, limit)).to_string());
            }
            if page.has_more_after {
                body.push_str(",\"next\":");
                body.push_str(&json!(page_url(req, "after", &after_cursor, limit)).to_string());
            }
            body.push('}');
        }
        // The SDKs' cursors ask for `summary=true`: answer with the total, as the real API does.
        if req
            .param("summary")
            .is_some_and(|s| matches!(s, "true" | "1" | "total_count"))
        {
            body.push_str(",\"summary\":{\"total_count\":");
            body.push_str(&total.to_string());
            body.push('}');
        }
        body.push('}');
        Ok((body, false))
    }

    fn max_limit(&self) -> usize {
        if self.config.strict {
            STRICT_MAX_LIMIT
        } else {
            MAX_LIMIT
        }
    }

    fn create(&self, req: &ApiRequest, digits: &str) -> Outcome {
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

        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        if store.count(digits) >= self.config.cap {
            return Err(ApiError::invalid_param(format!(
                "This ad account has reached its limit of {} custom conversions: delete one before creating another",
                self.config.cap
            ))
            .with_subcode(SUBCODE_CAP)
            .with_user("Custom conversion limit reached", "Ad accounts are limited to 100 custom conversions."));
        }
        let id = store.allocate_id();
        let mut conversion = Conversion::new(id.clone(), digits.to_string(), name, Self::now());
        conversion.description = description;
        conversion.rule = rule.map(|r| {
            if self.config.rewrite_rules {
                lowercase_eq_strings(&r.to_value()).to_string()
            } else {
                r.to_api_string()
            }
        });
        conversion.advanced_rule = advanced_rule;
        conversion.custom_event_type = event_type.as_str().to_string();
        conversion.event_source_id = event_source_id;
        conversion.action_source_type = action_source_type.map(|a| a.as_str().to_string());
        conversion.default_conversion_value = value;
        store.insert(conversion);
        drop(store);
        let body = if predicted {
            json!({"id": id, "is_custom_event_type_predicted": "1"})
        } else if self.config.strict {
            // The return type documents the field (seed 000): strict always sends it.
            json!({"id": id, "is_custom_event_type_predicted": "0"})
        } else {
            json!({"id": id})
        };
        Ok((body.to_string(), true))
    }

    fn read_node(&self, req: &ApiRequest, id: &str) -> Outcome {
        let selection = self.selection(req)?;
        let store = self.store.read().unwrap_or_else(|e| e.into_inner());
        let conversion = store
            .get(id)
            .ok_or_else(|| ApiError::unknown_object("GET", id))?;
        let mut body = String::with_capacity(256);
        conversion.write_object(&selection, &mut body);
        Ok((body, false))
    }

    /// `GET /?ids=a,b&fields=...` (Graph's multi-object read): an object keyed by id, each
    /// entry the node as a read of it alone would give. Any unknown id fails the whole read
    /// (code 803), as the Graph API does; each object counts against its account.
    fn read_many(&self, req: &ApiRequest, account: &mut Option<String>) -> Outcome {
        let Some(text) = req.param("ids") else {
            return Err(ApiError::unknown_path("/"));
        };
        let ids: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        if ids.is_empty() {
            return Err(ApiError::invalid_param(
                "Param ids must name at least one object",
            ));
        }
        if ids.len() > 50 {
            return Err(ApiError::invalid_param(
                "Param ids may name at most 50 objects",
            ));
        }
        let selection = self.selection(req)?;
        let mut owners: Vec<String> = Vec::new();
        let mut body = serde_json::Map::new();
        {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            let mut missing = Vec::new();
            for id in &ids {
                if let Some(digits) = id.strip_prefix("act_") {
                    if self.account_digits(id, Method::Get).is_err() {
                        missing.push(*id);
                        continue;
                    }
                    owners.push(digits.to_string());
                    body.insert(id.to_string(), json!({"id": id, "account_id": digits}));
                    continue;
                }
                let Some(conversion) = store.get(id) else {
                    missing.push(*id);
                    continue;
                };
                owners.push(conversion.account_id().to_string());
                let mut text = String::with_capacity(256);
                conversion.write_object(&selection, &mut text);
                body.insert(
                    id.to_string(),
                    serde_json::from_str(&text).unwrap_or(Value::Null),
                );
            }
            if !missing.is_empty() {
                return Err(ApiError::aliases_missing(&missing));
            }
        }
        owners.dedup();
        for owner in &owners {
            self.admit(owner)?;
        }
        if let [only] = owners.as_slice() {
            *account = Some(only.clone());
        }
        Ok((Value::Object(body).to_string(), false))
    }

    fn update(&self, req: &ApiRequest, id: &str) -> Outcome {
        same_id(req, id)?;
        let refused: Vec<&str> = req
            .body
            .names()
            .filter(|n| {
                !matches!(
                    *n,
                    "name" | "description" | "default_conversion_value" | "id"
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
        let found = store.update(id, |c| {
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
        if !found {
            return Err(ApiError::unknown_object("POST", id));
        }
        Ok((json!({"success": true}).to_string(), true))
    }

    fn delete(&self, req: &ApiRequest, id: &str) -> Outcome {
        same_id(req, id)?;
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        let done = if self.config.delete_archives {
            store.update(id, |c| c.is_archived = true)
        } else {
            store.remove(id).is_some()
        };
        if !done {
            return Err(ApiError::unknown_object("DELETE", id));
        }
        Ok((json!({"success": true}).to_string(), true))
    }

    fn events(&self, req: &ApiRequest, pixel: &str) -> Outcome {
        if !pixel.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::unknown_object("POST", pixel));
        }
        let data = req
            .param("data")
            .ok_or_else(|| ApiError::invalid_param("The parameter data is required"))?;
        let now = Self::now();
        let events = crate::events::parse_data(data)
            .and_then(|items| crate::events::validate_batch(&items, now))
            .map_err(|e| {
                let mut error =
                    ApiError::invalid_param("Invalid parameter").with_user(e.title, e.to_string());
                error.message = "Invalid parameter".to_string();
                if let Some(subcode) = e.subcode {
                    error = error.with_subcode(subcode);
                }
                error
            })?;
        let rule_events: Vec<(i64, rule::Event)> = events
            .iter()
            .map(|e| (e.event_time, e.rule_event()))
            .collect();
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        // Every rule is evaluated before anything is recorded: a rule that cannot be evaluated
        // (a regex PCRE gives up on) fails the request as a whole, never counts as "no match".
        let mut fired = Vec::new();
        for id in store.on_pixel(pixel) {
            let Some(rule) = store
                .get(&id)
                .filter(|c| !c.is_archived())
                .and_then(|c| c.rule())
            else {
                continue;
            };
            let Ok(rule) = Rule::from_json_str(&rule) else {
                continue;
            };
            let mut times = Vec::new();
            for (time, event) in &rule_events {
                match rule.matches(event) {
                    Ok(true) => times.push(*time),
                    Ok(false) => {}
                    Err(e) => {
                        return Err(ApiError::invalid_param(format!(
                            "the rule of custom conversion {id} cannot be evaluated: {e}"
                        )));
                    }
                }
            }
            if let (Some(first), Some(last)) =
                (times.iter().min().copied(), times.iter().max().copied())
            {
                fired.push((id, first, last));
            }
        }
        for (id, first, last) in fired {
            store.update(&id, |c| {
                c.first_fired_time = Some(c.first_fired_time.map_or(first, |t| t.min(first)));
                c.last_fired_time = Some(c.last_fired_time.map_or(last, |t| t.max(last)));
            });
        }
        drop(store);
        self.control.stats.events(events.len());
        let body = json!({"events_received": events.len(), "messages": [], "fbtrace_id": self.control.trace_id()});
        Ok((body.to_string(), true))
    }
}

fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.splitn(2, '.');
        matches!((parts.next(), parts.next()), (Some(a), Some(b))
            if !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()))
    })
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
        (Method::Post, [id]) if !id.starts_with("act_") => Route::UpdateConversion,
        (Method::Delete, [id]) if !id.starts_with("act_") => Route::DeleteConversion,
        (Method::Post, [_, "events"]) => Route::Events,
        _ => Route::Other,
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
                "Cannot update id of a custom conversion: the request is about {id} but carries id {sent}"
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
fn predict_type(rule: &Rule) -> CustomEventType {
    rule.conditions()
        .iter()
        .filter(|c| c.field == "event" && c.operator == rule::Operator::Eq)
        .find_map(|c| match &c.operand {
            rule::Operand::Text(name) => crate::model::event_types::standard_event_type(name),
            _ => None,
        })
        .unwrap_or(CustomEventType::Other)
}

/// Cursors are opaque to clients; here they are the hex of the item's id.
fn encode_cursor(id: u64) -> String {
    hex::encode(id.to_string())
}

fn decode_cursor(text: &str) -> Result<u64, ApiError> {
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid_param("Invalid cursor: pass back the cursor from a previous answer")
        })
}

/// A `next`/`previous` link: the same path and query (the real API copies every query
/// parameter, `access_token` included), with `limit` and the cursor set.
fn page_url(req: &ApiRequest, direction: &str, cursor: &str, limit: usize) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &req.query.0 {
        if !matches!(k.as_str(), "after" | "before" | "limit") {
            serializer.append_pair(k, v);
        }
    }
    if req.query.get("fields").is_none()
        && let Some(fields) = req.body.get("fields")
    {
        serializer.append_pair("fields", fields);
    }
    serializer.append_pair("limit", &limit.to_string());
    serializer.append_pair(direction, cursor);
    format!("{}{}?{}", req.base_url, req.path, serializer.finish())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `--token` entries: a plain token sees every account, `T:act_1,act_2` only those; an
    /// empty one, an empty token before `:` or a wrong account is refused, without the token.
    #[test]
    fn token_scopes_are_read_or_refused() {
        assert_eq!(parse_token_scope("tok"), Ok(("tok".to_string(), None)));
        let (token, scope) = parse_token_scope("tok:act_1, 2").unwrap();
        assert_eq!(token, "tok");
        assert_eq!(scope, Some(["1".to_string(), "2".to_string()].into()));
        assert_eq!(parse_token_scope(""), Err(TokenScopeError::Empty));
        assert_eq!(
            parse_token_scope(":act_1"),
            Err(TokenScopeError::EmptyBeforeScope)
        );
        let wrong = parse_token_scope("secret:acct_1").unwrap_err().to_string();
        assert!(wrong.contains("`acct_1` is not an ad account") && !wrong.contains("secret"));
    }

    #[test]
    fn versions_and_routes() {
        assert!(is_version("v26.0") && !is_version("v26") && !is_version("act_1"));
        assert_eq!(
            classify(Method::Get, &["act_1", "customconversions"]),
            Route::ListConversions
        );
        assert_eq!(classify(Method::Delete, &["123"]), Route::DeleteConversion);
        assert_eq!(classify(Method::Post, &["55", "events"]), Route::Events);
        assert_eq!(
            decode_cursor(&encode_cursor(23850000000000001)).unwrap(),
            23850000000000001
        );
        assert!(decode_cursor("zz").is_err());
    }

    #[test]
    fn predicted_type_from_rule() {
        let r =
            Rule::from_json_str(r#"{"and":[{"event":{"eq":"Lead"}},{"value":{"gt":1}}]}"#).unwrap();
        assert_eq!(predict_type(&r), CustomEventType::Lead);
        let u = Rule::from_json_str(r#"{"url":{"i_contains":"x"}}"#).unwrap();
        assert_eq!(predict_type(&u), CustomEventType::Other);
    }
}
