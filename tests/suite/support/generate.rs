//! Generated manifests and seeds: conversion `i` of an account has a distinct name and rule,
//! so that a seed and a manifest made with the same variant declare the same state. Used by
//! `benches/scale.rs` too (by path).

use serde_json::Value;

/// The name of conversion `i`.
pub fn conversion_name(i: usize) -> String {
    format!("Conversion {i:03}")
}

/// What the rule of conversion `i` matches (`url i_contains`); another variant is another rule.
pub fn conversion_needle(account: &str, i: usize, variant: u32) -> String {
    format!("/{account}/p{i}/v{variant}")
}

/// Seed documents for `count` conversions of `account` (as a manifest from
/// [`manifest_document`] with the same variant declares them).
pub fn seed_account(account: &str, count: usize, variant: u32) -> Vec<Value> {
    (0..count)
        .map(|i| {
            serde_json::json!({
                "account": account,
                "name": conversion_name(i),
                "custom_event_type": "PURCHASE",
                "default_conversion_value": (i % 7) as f64,
                "rule": {"url": {"i_contains": conversion_needle(account, i, variant)}},
            })
        })
        .collect()
}

/// A manifest document declaring `count` conversions of `account`.
pub fn manifest_document(account: &str, count: usize, variant: u32) -> String {
    let mut text = format!("account: {account}\nconversions:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  - name: {}\n    custom_event_type: PURCHASE\n    default_conversion_value: {}\n    rule: {{url: {{i_contains: \"{}\"}}}}\n",
            conversion_name(i),
            i % 7,
            conversion_needle(account, i, variant)
        ));
    }
    text
}
