//! Scenarios shared by the reliability tests: live state to start from, manifests that need
//! every kind of change (in-place updates, replacements, deletes by tombstone and by prune,
//! creates, unchanged ones), and the exact check that live state ends as declared — no
//! duplicate, nothing extra deleted, nothing unmanaged touched.

use super::child::ChildEmulator;
use super::generate::{conversion_name, conversion_needle, seed_account};
use serde_json::Value;
use std::collections::BTreeMap;

/// Name of the hand-made conversion left in accounts without `prune`: it must survive.
pub const UNMANAGED: &str = "Made by hand";

/// Live conversions per account before the apply.
pub struct Scenario {
    pub accounts: Vec<String>,
    pub live: usize,
}

/// What a conversion of the scenario must look like after the apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub description: String,
    pub value: f64,
    pub rule_needle: String,
}

impl Scenario {
    /// Seeds `live` conversions (variant 0) into each account, plus one unmanaged conversion
    /// in each odd account (those do not prune).
    pub fn seed(emulator: &ChildEmulator, accounts: Vec<String>, live: usize) -> Scenario {
        let scenario = Scenario { accounts, live };
        emulator.seed(&scenario.seed_documents());
        scenario
    }

    /// What [`seed`](Self::seed) puts into the emulator, for one in this process.
    pub fn seed_documents(&self) -> Value {
        let mut docs = Vec::new();
        for (k, a) in self.accounts.iter().enumerate() {
            docs.extend(seed_account(a, self.live, 0));
            if k % 2 == 1 {
                docs.push(serde_json::json!({
                    "account": a, "name": UNMANAGED, "custom_event_type": "LEAD",
                    "rule": {"url": {"i_contains": "/by-hand"}}
                }));
            }
        }
        Value::Array(docs)
    }

    /// How many conversions the manifests remove (tombstones and prunes) and replace, over
    /// every account: what ends deleted, or retired where deletes are refused.
    pub fn removals(&self) -> usize {
        let per_account = (0..self.total())
            .filter(|&i| matches!(self.kind(i), Kind::Delete | Kind::Replace))
            .count();
        per_account * self.accounts.len()
    }

    /// Writes every account's manifest to `dir/conversions/ACCOUNT.yaml`.
    pub fn write_manifests(&self, dir: &std::path::Path) {
        let root = dir.join("conversions");
        std::fs::create_dir_all(&root).unwrap();
        for (k, account) in self.accounts.iter().enumerate() {
            std::fs::write(root.join(format!("{account}.yaml")), self.manifest(k)).unwrap();
        }
    }

    /// The kind of change conversion `i` gets (of `live` existing ones, plus `live / 2` new).
    fn kind(&self, i: usize) -> Kind {
        let band = self.live / 5;
        match i {
            i if i >= self.live => Kind::Create,
            i if i < band => Kind::Same,
            i if i < 2 * band => Kind::Update,
            i if i < 3 * band => Kind::Replace,
            i if i < 4 * band => Kind::Delete,
            _ => Kind::Same,
        }
    }

    fn total(&self) -> usize {
        self.live + self.live / 2
    }

    /// The manifest of account `k`: even accounts prune (their deletes are omissions), odd
    /// accounts use `ensure: absent` tombstones.
    pub fn manifest(&self, k: usize) -> String {
        let account = &self.accounts[k];
        let prune = k.is_multiple_of(2);
        let mut text = format!("account: {account}\nprune: {prune}\nconversions:\n");
        for i in 0..self.total() {
            let kind = self.kind(i);
            if kind == Kind::Delete {
                if !prune {
                    text.push_str(&format!(
                        "  - name: {}\n    ensure: absent\n",
                        conversion_name(i)
                    ));
                }
                continue;
            }
            let e = self.expected(k, i).expect("present");
            text.push_str(&format!(
                "  - name: {}\n    description: \"{}\"\n    custom_event_type: PURCHASE\n    default_conversion_value: {}\n    rule: {{url: {{i_contains: \"{}\"}}}}\n",
                conversion_name(i),
                e.description,
                e.value,
                e.rule_needle
            ));
        }
        text
    }

    fn expected(&self, k: usize, i: usize) -> Option<Expected> {
        let account = &self.accounts[k];
        let base = Expected {
            description: String::new(),
            value: (i % 7) as f64,
            rule_needle: conversion_needle(account, i, 0),
        };
        match self.kind(i) {
            Kind::Same | Kind::Create => Some(base),
            Kind::Update => Some(Expected {
                description: format!("updated {i}"),
                value: 100.0 + i as f64,
                ..base
            }),
            Kind::Replace => Some(Expected {
                rule_needle: conversion_needle(account, i, 1),
                ..base
            }),
            Kind::Delete => None,
        }
    }

    /// Every account's declared end state, by name.
    pub fn expected_state(&self) -> BTreeMap<String, BTreeMap<String, Expected>> {
        let mut out = BTreeMap::new();
        for (k, a) in self.accounts.iter().enumerate() {
            let mut names = BTreeMap::new();
            for i in 0..self.total() {
                if let Some(e) = self.expected(k, i) {
                    names.insert(conversion_name(i), e);
                }
            }
            if k % 2 == 1 {
                names.insert(
                    UNMANAGED.to_string(),
                    Expected {
                        description: String::new(),
                        value: 0.0,
                        rule_needle: "/by-hand".into(),
                    },
                );
            }
            out.insert(a.clone(), names);
        }
        out
    }

    /// Compares the emulator's whole state with the declared end state; `Err` lists every
    /// difference (duplicates, missing, extra, wrong fields).
    pub fn check(&self, state: &Value) -> Result<(), Vec<String>> {
        let expected = self.expected_state();
        let mut live: BTreeMap<String, BTreeMap<String, Vec<&Value>>> = BTreeMap::new();
        for c in state["conversions"].as_array().expect("state conversions") {
            // Archived ones are gone; retired ones (renamed `[retired ...]` where deletes are
            // refused) are convctl's leftovers for Events Manager, counted by `retired`.
            let retired = c["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("[retired "));
            if c["is_archived"] == Value::Bool(true) || retired {
                continue;
            }
            let account = format!("act_{}", c["account_id"].as_str().unwrap_or_default());
            if !expected.contains_key(&account) {
                continue;
            }
            live.entry(account)
                .or_default()
                .entry(c["name"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push(c);
        }
        let mut problems = Vec::new();
        for (account, want) in &expected {
            let empty = BTreeMap::new();
            let have = live.get(account).unwrap_or(&empty);
            for (name, e) in want {
                match have.get(name).map(Vec::as_slice) {
                    None | Some([]) => problems.push(format!("{account}: {name:?} is missing")),
                    Some([c]) => {
                        let description = c["description"].as_str().unwrap_or_default();
                        let value = c["default_conversion_value"].as_f64().unwrap_or(-1.0);
                        let rule = c["rule"].as_str().unwrap_or_default();
                        if description != e.description
                            || (value - e.value).abs() > 1e-9
                            || !rule.contains(&e.rule_needle)
                        {
                            problems.push(format!(
                                "{account}: {name:?} is {description:?}/{value}/{rule}, declared {e:?}"
                            ));
                        }
                    }
                    Some(many) => problems.push(format!(
                        "{account}: {name:?} is duplicated ({} live)",
                        many.len()
                    )),
                }
            }
            for name in have.keys() {
                if !want.contains_key(name) {
                    problems.push(format!("{account}: {name:?} should not exist"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The conversions convctl retired (renamed `[retired YYYY-MM-DD] ...`) in a state document.
pub fn retired(state: &Value) -> usize {
    state["conversions"]
        .as_array()
        .expect("state conversions")
        .iter()
        .filter(|c| {
            c["is_archived"] != Value::Bool(true)
                && c["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("[retired "))
        })
        .count()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Same,
    Update,
    Replace,
    Delete,
    Create,
}
