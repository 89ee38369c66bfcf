//! `import ACT... --use SET --from PATH`: an existing account moved onto a set. Each entry of
//! the set is matched against the live conversions by unification: the entry's strings with
//! `${param}` are patterns, and a live conversion that fits one (name, description, type,
//! value, rule, pixel) gives the parameters their values. Matched entries become the `use`
//! (params inferred, ids pinned with `ids:`), unmatched ones are excluded, and live conversions
//! no entry matched stay as the account's own entries (ids pinned).
//!
//! The result is checked as `plan` would check it: loaded with the set and diffed against the
//! same live conversions; an entry whose expansion would still change anything is moved to the
//! own entries, so that `plan` on the result shows no changes.

use super::import::{Imported, entry_for};
use crate::manifest::format::{
    self, ConversionEntry, DefaultsEntry, IdText, ManifestDocument, UseEntry,
};
use crate::manifest::set::{Piece, SetDef, Sets, pieces};
use crate::manifest::yaml::Node;
use crate::model::LiveConversion;
use crate::model::ids::AdAccountId;
use crate::plan::{live_json_value, live_rule_value};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

type Bindings = HashMap<String, Value>;

/// The manifest of `account` as a `use` of `set`, plus own entries for the rest.
pub(crate) fn manifest_for_set(
    account: &AdAccountId,
    live: &[LiveConversion],
    set: &SetDef,
    sets: &Sets,
) -> Imported {
    let mut warnings = Vec::new();
    let active = super::import::importable(account, live, &mut warnings);
    let mut forced_own: Vec<usize> = Vec::new();
    for _round in 0..3 {
        let matching = match_set(set, &active, &forced_own);
        let (yaml, _) = write(account, set, &active, &matching, &mut Vec::new());
        // Checked as `plan` would: loaded with the set, diffed against the same live state.
        let loaded =
            crate::manifest::load_str_with_sets(Path::new(&format!("{account}.yaml")), &yaml, sets);
        let changed: Vec<String> = match &loaded {
            Ok(m) => match crate::diff::diff_account(&m.accounts[0], live, &Default::default()) {
                Ok(plan) => plan.actions.iter().map(|a| a.name().to_string()).collect(),
                Err(_) => vec![String::new()],
            },
            Err(_) => vec![String::new()],
        };
        let culprits: Vec<usize> = matching
            .matched
            .iter()
            .filter(|(_, l)| {
                changed
                    .iter()
                    .any(|n| n.is_empty() || active[*l].name.as_ref() == Some(n))
            })
            .map(|(_, l)| *l)
            .collect();
        if changed.is_empty() || culprits.is_empty() {
            if !changed.is_empty() {
                warnings.push(format!(
                    "{account}: `plan` on this manifest still shows changes ({}); review it",
                    changed.join(", ")
                ));
            }
            let mut notes = Vec::new();
            let (yaml, _) = write(account, set, &active, &matching, &mut notes);
            warnings.extend(notes);
            return Imported {
                yaml,
                conversions: active.len(),
                warnings,
            };
        }
        forced_own.extend(culprits);
    }
    // Could not settle: a plain import.
    let mut plain = super::import::manifest_for(account, live);
    plain.warnings.push(format!(
        "{account}: its live conversions do not fit set \"{}\"; imported without the set",
        set.name
    ));
    plain
}

/// Which set entry took which live conversion, and the parameters that made them fit.
struct Matching {
    /// (entry index, live index).
    matched: Vec<(usize, usize)>,
    bindings: Bindings,
    /// The pixel the matched entries take from the account's `defaults`.
    pixel: Option<String>,
}

fn match_set(set: &SetDef, active: &[&LiveConversion], forced_own: &[usize]) -> Matching {
    let mut m = Matching {
        matched: Vec::new(),
        bindings: Bindings::new(),
        pixel: None,
    };
    for (e, entry) in set.entries.iter().enumerate() {
        let template = entry.to_json();
        if template.get("ensure").and_then(Value::as_str) == Some("absent") {
            continue;
        }
        for (l, live) in active.iter().enumerate() {
            if forced_own.contains(&l) || m.matched.iter().any(|(_, x)| *x == l) {
                continue;
            }
            let mut b = m.bindings.clone();
            let mut pixel = m.pixel.clone();
            if fits(&template, live, &mut b, &mut pixel) {
                m.bindings = b;
                m.pixel = pixel;
                m.matched.push((e, l));
                break;
            }
        }
    }
    m
}

/// Whether `live` is `template` for some values of the parameters not bound yet.
fn fits(
    template: &Value,
    live: &LiveConversion,
    b: &mut Bindings,
    pixel: &mut Option<String>,
) -> bool {
    let field = |k: &str| template.get(k);
    let text = |v: &Option<String>| Value::String(v.clone().unwrap_or_default());
    let Some(name) = field("name") else {
        return false;
    };
    // A conversion the API reported without a name is never matched by name.
    let Some(live_name) = &live.name else {
        return false;
    };
    if !unify(name, &Value::String(live_name.clone()), b) {
        return false;
    }
    let description = field("description")
        .cloned()
        .unwrap_or(Value::String(String::new()));
    if !unify(&description, &text(&live.description), b) {
        return false;
    }
    match field("custom_event_type") {
        Some(t) => {
            if !unify(t, &text(&live.custom_event_type), b) {
                return false;
            }
        }
        None => return false,
    }
    let value = field("default_conversion_value")
        .cloned()
        .unwrap_or(Value::from(0));
    let live_value = live
        .default_conversion_value
        .map_or(Value::from(0), crate::rule::number_value);
    if !unify(&value, &live_value, b) {
        return false;
    }
    if let Some(a) = field("action_source_type")
        && !unify(a, &text(&live.action_source_type), b)
    {
        return false;
    }
    match field("event_source_id") {
        Some(p) => {
            let p = match p {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            };
            if !unify(&p, &text(&live.event_source_id), b) {
                return false;
            }
        }
        None => match (&*pixel, &live.event_source_id) {
            (Some(a), Some(l)) if a != l => return false,
            (None, Some(l)) => *pixel = Some(l.clone()),
            _ => {}
        },
    }
    let rule_template = |v: &Value| match v {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.clone())),
        other => other.clone(),
    };
    match (
        field("rule"),
        field("advanced_rule"),
        &live.rule,
        &live.advanced_rule,
    ) {
        (Some(r), _, Some(l), _) => {
            let t = rule_template(r);
            let raw: Option<Value> = serde_json::from_str(l).ok();
            let mut b2 = b.clone();
            if unify(&t, &live_rule_value(l), &mut b2) {
                *b = b2;
                true
            } else {
                raw.is_some_and(|raw| unify(&t, &raw, b))
            }
        }
        (None, Some(a), _, Some(l)) => unify(&rule_template(a), &live_json_value(l), b),
        _ => false,
    }
}

/// Unifies a template value (strings may hold `${param}`) with a live value.
fn unify(template: &Value, live: &Value, b: &mut Bindings) -> bool {
    match (template, live) {
        (Value::String(t), _) if t.contains("${") => {
            let Ok(parts) = pieces(t) else { return false };
            if let [Piece::Param(p)] = parts.as_slice()
                && !matches!(live, Value::String(_))
            {
                return match b.get(*p) {
                    Some(bound) => same_number(bound, live) || bound == live,
                    None => {
                        b.insert(p.to_string(), live.clone());
                        true
                    }
                };
            }
            match live {
                Value::String(l) => unify_text(&parts, l, b),
                _ => false,
            }
        }
        (Value::Number(_), Value::Number(_)) => same_number(template, live),
        (Value::Object(t), Value::Object(l)) => {
            t.len() == l.len()
                && t.iter()
                    .all(|(k, v)| l.get(k).is_some_and(|lv| unify(v, lv, b)))
        }
        (Value::Array(t), Value::Array(l)) => {
            t.len() == l.len() && t.iter().zip(l).all(|(tv, lv)| unify(tv, lv, b))
        }
        _ => template == live,
    }
}

fn same_number(a: &Value, b: &Value) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

/// The text a bound value stands for in a string.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Matches `text` against the pieces, binding unbound parameters to non-empty substrings
/// (backtracking; names and URLs are short).
fn unify_text(parts: &[Piece], text: &str, b: &mut Bindings) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    match first {
        Piece::Text(t) => text
            .strip_prefix(t)
            .is_some_and(|after| unify_text(rest, after, b)),
        Piece::Param(p) => {
            if let Some(bound) = b.get(*p).map(as_text) {
                return text
                    .strip_prefix(bound.as_str())
                    .is_some_and(|after| unify_text(rest, after, b));
            }
            let cuts: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([text.len()])
                .collect();
            for cut in cuts {
                b.insert(p.to_string(), Value::String(text[..cut].to_string()));
                if unify_text(rest, &text[cut..], b) {
                    return true;
                }
            }
            b.remove(*p);
            false
        }
    }
}

/// The manifest text for a matching (and notes about parameters that could not be inferred).
fn write(
    account: &AdAccountId,
    set: &SetDef,
    active: &[&LiveConversion],
    m: &Matching,
    notes: &mut Vec<String>,
) -> (String, ManifestDocument) {
    let raw = |e: usize| {
        SetDef::raw_name(&set.entries[e])
            .unwrap_or_default()
            .to_string()
    };
    let mut params = BTreeMap::new();
    for p in &set.params {
        match m.bindings.get(p) {
            Some(v) => {
                params.insert(p.clone(), v.clone());
            }
            None => {
                notes.push(format!(
                    "{account}: parameter `{p}` of set \"{}\" could not be inferred (no matched live conversion shows it); set its value in the manifest",
                    set.name
                ));
                params.insert(p.clone(), Value::String(format!("TODO-{p}")));
            }
        }
    }
    let present = |e: &Node| e.to_json().get("ensure").and_then(Value::as_str) != Some("absent");
    let exclude: Vec<String> = (0..set.entries.len())
        .filter(|e| present(&set.entries[*e]) && !m.matched.iter().any(|(x, _)| x == e))
        .map(raw)
        .collect();
    let ids: BTreeMap<String, IdText> = m
        .matched
        .iter()
        .map(|(e, l)| (raw(*e), IdText::Text(active[*l].id.to_string())))
        .collect();
    let mut own_warnings = Vec::new();
    let conversions: Vec<ConversionEntry> = (0..active.len())
        .filter(|l| !m.matched.iter().any(|(_, x)| x == l))
        .map(|l| entry_for(account, active[l], &mut own_warnings))
        .collect();
    notes.extend(own_warnings);
    let doc = ManifestDocument {
        version: Some(1),
        account: IdText::Text(account.to_string()),
        defaults: m.pixel.as_ref().map(|p| DefaultsEntry {
            event_source_id: Some(IdText::Text(p.clone())),
            ..DefaultsEntry::default()
        }),
        prune: None,
        deletion: None,
        token_env: None,
        safety: None,
        uses: vec![UseEntry {
            set: set.name.clone(),
            params,
            exclude,
            ids,
        }],
        conversions,
    };
    let body = format::to_yaml(&doc);
    let yaml = format!(
        "# Imported by `convctl import {account} --use {}`: what the set covers is a `use` of it\n# (parameters inferred, ids pinned), the rest the account's own entries (ids pinned).\n{body}",
        set.name
    );
    (yaml, doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_unify_with_parameters() {
        let mut b = Bindings::new();
        let parts = pieces("Lead (${domain})").unwrap();
        assert!(unify_text(&parts, "Lead (shop.example)", &mut b));
        assert_eq!(b["domain"], json!("shop.example"));
        let parts = pieces("https://${domain}/thank-you").unwrap();
        assert!(unify_text(&parts, "https://shop.example/thank-you", &mut b));
        assert!(!unify_text(
            &parts,
            "https://other.example/thank-you",
            &mut b
        ));
        // A whole parameter takes a number with its type.
        let mut b = Bindings::new();
        assert!(unify(&json!("${v}"), &json!(40), &mut b));
        assert_eq!(b["v"], json!(40));
        assert!(unify(&json!({"gt": "${v}"}), &json!({"gt": 40.0}), &mut b));
        assert!(!unify(&json!({"gt": "${v}"}), &json!({"gt": 41}), &mut b));
    }
}
