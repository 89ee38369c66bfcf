//! Hostile manifests and rules, offline and fast: the shipped example
//! manifests and a generated agency manifest, damaged by splicing (ranges deleted, duplicated,
//! swapped, tokens inserted). Whatever comes out, loading never panics and every error points
//! at a line and column inside the file; what does load goes all the way through the diff
//! (against no live conversions and against a live copy of itself), the three plan renderers and
//! the saved-plan round trip without a panic. Damaged rule JSON never panics the rule parser
//! or evaluation. (The loader's own token-level proptest is `manifest::properties`.)

use convctl::diff::{DiffOptions, diff_account};
use convctl::manifest::load_str;
use convctl::model::LiveConversion;
use convctl::plan::PlanDocument;
use convctl::render::{self, Mode, RenderOptions};
use convctl::rule::Rule;
use proptest::prelude::*;
use std::path::Path;

fn corpus() -> Vec<String> {
    let mut texts: Vec<String> = ["agency", "leadgen", "shop"]
        .iter()
        .map(|n| {
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("examples/conversions/{n}.yaml")),
            )
            .unwrap()
        })
        .collect();
    let mut agency = String::new();
    for a in 0..3 {
        agency.push_str(&format!(
            "---\naccount: act_{}\nprune: {}\nconversions:\n",
            900 + a,
            a == 1
        ));
        for i in 0..5 {
            agency.push_str(&format!(
                "  - name: C{i}\n    custom_event_type: PURCHASE\n    default_conversion_value: {i}.5\n    rule: '{{\"and\":[{{\"url\":{{\"i_contains\":\"/p{i}\"}}}},{{\"value\":{{\"gt\":{i}}}}}]}}'\n"
            ));
        }
    }
    texts.push(agency);
    texts
}

const TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "#",
    "&a ",
    "*a",
    "!!binary ",
    "---\n",
    "id: \"1\"\n",
    "ensure: absent\n",
    "protect: true\n",
    "name: A\n",
    "rule: {}\n",
    "advanced_rule: {}\n",
    "regex_match: '(a+)+$'",
    "1e309",
    "-1",
    "NaN",
    "\u{feff}",
    "\t",
    "\0",
];

#[derive(Clone, Debug)]
enum Splice {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
}

fn splice(text: &str, s: &Splice) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    let at = |k: usize| k % n;
    let s2: String = match s {
        Splice::Delete(a, len) => {
            let a = at(*a);
            let b = (a + len % 40).min(chars.len());
            chars[..a].iter().chain(&chars[b..]).collect()
        }
        Splice::Duplicate(a, len) => {
            let a = at(*a);
            let b = (a + len % 200).min(chars.len());
            chars[..b].iter().chain(&chars[a..]).collect()
        }
        Splice::Insert(a, t) => {
            let a = at(*a).min(chars.len());
            let mut out: String = chars[..a].iter().collect();
            out.push_str(TOKENS[t % TOKENS.len()]);
            out.extend(&chars[a..]);
            out
        }
        Splice::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.join("\n")
        }
    };
    s2
}

fn splices() -> impl Strategy<Value = Vec<Splice>> {
    let one = prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Splice::Delete(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Splice::Duplicate(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Splice::Insert(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Splice::SwapLines(a, b)),
    ];
    prop::collection::vec(one, 1..4)
}

/// A live copy of what the manifest declares (so the diff also takes its matching paths).
fn live_copy(plan: &convctl::plan::AccountPlan) -> Vec<LiveConversion> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            convctl::plan::Action::Create { after, .. } => after.to_new_conversion().ok(),
            _ => None,
        })
        .enumerate()
        .map(|(i, c)| LiveConversion {
            id: convctl::model::ids::ConversionId::parse(&format!("{}", 1000 + i)).unwrap(),
            name: Some(c.name),
            description: Some(c.description),
            rule: c.rule,
            advanced_rule: c.advanced_rule,
            custom_event_type: c.custom_event_type.map(|t| t.as_str().to_string()),
            event_source_id: c.event_source_id.map(|e| e.as_str().to_string()),
            action_source_type: c.action_source_type.map(|t| t.as_str().to_string()),
            default_conversion_value: Some(c.default_conversion_value),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_manifests_load_locate_diff_and_render(which in 0usize..4, edits in splices()) {
        let corpus = corpus();
        let mut text = corpus[which % corpus.len()].clone();
        for e in &edits {
            text = splice(&text, e);
        }
        let lines = text.lines().count() + 1;
        match load_str(Path::new("conversions/x.yaml"), &text) {
            Err(diags) => {
                prop_assert!(!diags.is_empty());
                for d in &diags {
                    let loc = d.location.as_ref();
                    prop_assert!(loc.is_some(), "unlocated: {d}");
                    let loc = loc.unwrap();
                    prop_assert!(loc.line >= 1 && loc.line <= lines + 1 && loc.column >= 1, "{d} (file has {lines} lines)");
                }
            }
            Ok(manifests) => {
                let opts = DiffOptions::default();
                let mut plans = Vec::new();
                for account in &manifests.accounts {
                    if let Ok(plan) = diff_account(account, &[], &opts) {
                        let live = live_copy(&plan);
                        if let Ok(again) = diff_account(account, &live, &opts) {
                            prop_assert!(
                                again.actions.is_empty(),
                                "a live copy of the manifest still needs changes: {:?}",
                                again.actions
                            );
                        }
                        plans.push(plan);
                    }
                }
                let doc = PlanDocument::new("v26.0", plans);
                let _ = render::text::render(&doc, RenderOptions { mode: Mode::Plan, color: true });
                let _ = render::markdown::render(&doc, Mode::Drift);
                let json = render::json::render(&doc);
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("plan.json");
                std::fs::write(&path, &json).unwrap();
                let back = PlanDocument::load(&path);
                prop_assert!(back.is_ok(), "own plan does not load: {:?}", back.err().map(|e| e.to_string()));
                prop_assert_eq!(back.unwrap(), doc);
            }
        }
    }

    #[test]
    fn damaged_rules_never_panic(edits in splices(), event in prop::collection::btree_map("[a-z_]{1,6}", ".{0,12}", 0..4)) {
        let rule = r#"{"and":[{"event":{"eq":"Purchase"}},{"or":[{"url":{"i_contains":"/checkout"}},{"value":{"gte":100}}]},{"url":{"regex_match":"^https://(www\\.)?shop\\.example/(a|b)+$"}}]}"#;
        let mut text = rule.to_string();
        for e in &edits {
            text = splice(&text, e);
        }
        if let Ok(parsed) = Rule::from_json_str(&text) {
            let again = Rule::from_json_str(&parsed.to_api_string());
            prop_assert!(again.is_ok());
            let event: serde_json::Map<String, serde_json::Value> = event
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let _ = parsed.matches(&event);
        }
    }
}
