//! Reading: the custom conversions edge of an account (pages and cursors), one node, and
//! Graph's multi-object read (`?ids=`).

use super::{Answer, Emulator, Outcome};
use crate::emulator::api_error::ApiError;
use crate::emulator::control::AuthSource;
use crate::emulator::fields::{Field, FieldSelection};
use crate::emulator::request::{ApiRequest, Method};
use crate::model::Secret;
use crate::model::access_tier::READ_POINTS;
use serde_json::{Value, json};

/// Page size without `limit` (reference: Paging).
const DEFAULT_LIMIT: usize = 25;
/// The largest page the emulator gives (convention).
const MAX_LIMIT: usize = 100;
/// The largest page under `--strict`: the default page size, whatever `limit` asks.
const STRICT_MAX_LIMIT: usize = 25;
/// Fields whose readability is undocumented: `--strict` refuses to read them.
const STRICT_UNREADABLE: &[Field] = &[
    Field::EventSourceId,
    Field::ActionSourceType,
    Field::AdvancedRule,
];

impl Emulator {
    /// The fields asked for (`id` only without `fields`). Under `--strict` reading a field
    /// whose readability is undocumented is refused as the Graph API refuses a field a node
    /// does not have.
    pub(super) fn selection(&self, req: &ApiRequest) -> Result<FieldSelection, ApiError> {
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

    /// A page's size: `limit` when asked (at least 1, at most the API's maximum), else
    /// `default`.
    pub(super) fn page_limit(&self, req: &ApiRequest, default: usize) -> Result<usize, ApiError> {
        match req.param("limit") {
            Some(text) => Ok(text
                .trim()
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_param("Param limit must be a non-negative integer"))?
                .clamp(1, self.max_limit())),
            None => Ok(default),
        }
    }

    pub(super) fn list(&self, req: &ApiRequest, digits: &str) -> Outcome {
        let selection = self.selection(req)?;
        let limit = self.page_limit(req, DEFAULT_LIMIT)?;
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
        Ok(Answer::read(body))
    }

    pub(super) fn max_limit(&self) -> usize {
        if self.config.strict {
            STRICT_MAX_LIMIT
        } else {
            MAX_LIMIT
        }
    }

    pub(super) fn read_node(&self, req: &ApiRequest, id: &str) -> Outcome {
        let selection = self.selection(req)?;
        let store = self.store.read().unwrap_or_else(|e| e.into_inner());
        let conversion = store
            .get(id)
            .ok_or_else(|| ApiError::unknown_object("GET", id))?;
        let mut body = String::with_capacity(256);
        conversion.write_object(&selection, &mut body);
        Ok(Answer::read(body))
    }

    /// `GET /?ids=a,b&fields=...` (Graph's multi-object read): an object keyed by id, each
    /// entry the node as a read of it alone would give. Any unknown id fails the whole read
    /// (code 803), as the Graph API does; any id of an account the token may not see fails it
    /// with code 200, as reading that node alone does; each object counts against its account.
    pub(super) fn read_many(
        &self,
        req: &ApiRequest,
        auth: Option<&(Secret, AuthSource)>,
        account: &mut Option<String>,
    ) -> Outcome {
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
        for owner in &owners {
            self.check_scope(auth, owner)?;
        }
        // Each id counts as one call against its account.
        for owner in &owners {
            self.admit(owner, READ_POINTS)?;
        }
        owners.dedup();
        if let [only] = owners.as_slice() {
            *account = Some(only.clone());
        }
        Ok(Answer::read(Value::Object(body).to_string()))
    }
}

/// Cursors are opaque to clients; here they are the hex of the item's id.
pub(super) fn encode_cursor(id: u64) -> String {
    hex::encode(id.to_string())
}

pub(super) fn decode_cursor(text: &str) -> Result<u64, ApiError> {
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
