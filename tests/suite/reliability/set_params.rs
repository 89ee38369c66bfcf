//! A set's parameters are values, never JSON text: in a rule written as a JSON string they are
//! substituted into its parsed strings, so a backslash stays a backslash and a quote cannot
//! close the string and add a condition.

use crate::assert_run;
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
    assert_run!(env.run(&["validate"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    valid: 1 file, 1 account, 1 conversion
    ----- stderr -----
    ");
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
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/sets.yaml) will change:

      # "Thanks" (set shop) will be created
      + conversion "Thanks" {
          + name                     = "Thanks"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     =
                {
                  "and": [
                    {"url": {"regex_match": "\\bthank\\b"}},
                    {"url": {"i_contains": "/done\"}},{\"event\":{\"eq\":\"Lead"}},
                    {"value": {"gt": 40}}
                  ]
                }
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Thanks": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    let live = env.live("act_1");
    let stored: Value = serde_json::from_str(live[0]["rule"].as_str().unwrap()).unwrap();
    assert_eq!(
        stored["and"][0]["url"]["regex_match"], "\\bthank\\b",
        "{stored}"
    );
    assert_eq!(stored["and"].as_array().unwrap().len(), 3, "{stored}");
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/sets.yaml): no changes.

    No changes.
    ----- stderr -----
    ");

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
    assert_run!(env.run(&["validate"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/sets.yaml:6:11: error: invalid rule: the rule is not valid JSON: expected value at line 1 column 16; write it as a JSON object such as {"url":{"i_contains":"thankyou"}} (set shop, used by act_1 at conversions/sets.yaml:10:5)
      |
    6 |     rule: '{"value":{"gt":${min}}}'
      |           ^^^^^^^^^
    help: in a rule written as a JSON string, a set's parameter goes inside a JSON string: write "${min}" (a string that is exactly one parameter takes the value with its type, so a number stays a number), or write the rule as a YAML mapping
    "#);
}
