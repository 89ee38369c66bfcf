//! A set's parameters are values, never JSON text: in a rule written as a JSON string they are
//! substituted into its parsed strings, so a backslash stays a backslash and a quote cannot
//! close the string and add a condition.

use crate::support::Harness as Env;
use serde_json::{Value, json};

/// `\bthank\b` became backspace characters (while the plan showed `"\bthank\b"`), and
/// a value containing `"}},{` added a whole condition.
#[test]
fn set_parameters_are_substituted_into_parsed_strings_not_json_text() {
    let env = Env::new();
    env.write(
        "conversions/sets.yaml",
        r#"set: shop
params: [word, path, min]
conversions:
  - name: Thanks
    custom_event_type: PURCHASE
    rule: '{"and":[{"url":{"regex_match":"${word}"}},{"url":{"i_contains":"/${path}"}},{"value":{"gt":"${min}"}}]}'
---
account: act_1
use:
  - set: shop
    params:
      word: '\bthank\b'
      path: 'done"}},{"event":{"eq":"Lead'
      min: 40
"#,
    );
    let validate = env.run(&["validate"]);
    assert_eq!(validate.code, 0, "{validate}");
    let plan = env.run(&["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{plan}");
    let doc: Value = serde_json::from_str(&plan.stdout).unwrap();
    let rule = &doc["accounts"][0]["actions"][0]["after"]["rule"];
    assert_eq!(
        *rule,
        json!({"and": [
            {"url": {"regex_match": "\\bthank\\b"}},
            {"url": {"i_contains": "/done\"}},{\"event\":{\"eq\":\"Lead"}},
            {"value": {"gt": 40}},
        ]}),
        "{}",
        plan.stdout
    );
    // What is created is what the plan showed.
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    let live = env.live("act_1");
    let stored: Value = serde_json::from_str(live[0]["rule"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored["and"][0]["url"]["regex_match"], "\\bthank\\b",
        "{stored}"
    );
    assert_eq!(stored["and"].as_array().unwrap().len(), 3, "{stored}");
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");

    // A parameter outside a JSON string cannot be substituted as a value: an error that says
    // how to write it.
    env.write(
        "conversions/sets.yaml",
        r#"set: shop
params: [min]
conversions:
  - name: Thanks
    custom_event_type: PURCHASE
    rule: '{"value":{"gt":${min}}}'
---
account: act_1
use:
  - set: shop
    params: {min: 40}
"#,
    );
    let validate = env.run(&["validate"]);
    assert_eq!(validate.code, 1, "{validate}");
    assert!(
        validate.stderr.contains("conversions/sets.yaml:6:11")
            && validate.stderr.contains("\"${min}\""),
        "{validate}"
    );
}
