//! Never delete what is not ours, never run an edited plan, end to
//! end: the real binary against the in-process emulator.

use crate::assert_run;
use crate::support::Harness as Env;
use serde_json::{Value, json};

fn conversion(account: &str, name: &str, needle: &str) -> Value {
    json!({"account": account, "name": name, "custom_event_type": "PURCHASE",
           "rule": {"url": {"i_contains": needle}}})
}

fn entry(name: &str, needle: &str) -> String {
    format!(
        "  - name: {name}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: \"{needle}\"}}}}\n"
    )
}

fn manifest(account: &str, entries: &[String]) -> String {
    format!("account: {account}\nconversions:\n{}", entries.concat())
}

fn writes(env: &Env) -> u64 {
    env.stats()["writes"].as_u64().expect("writes stat")
}

/// A person makes a second `Purchase` by hand a moment after
/// convctl made its own. It is newer and has another rule, so it is not the old half of an
/// interrupted replacement: convctl deletes nothing and asks for a pin.
#[test]
fn a_conversion_made_by_hand_with_our_name_is_never_deleted() {
    let env = Env::new();
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("Purchase", "/thanks")]),
    );
    assert_run!(env.run(&["apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Purchase" will be created
      + conversion "Purchase" {
          + name                     = "Purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Purchase": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    let ours = env.id_of("act_1", "Purchase");
    // A second later (creation times are whole seconds), by hand over the API.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let by_hand = env.graph(
        reqwest::Method::POST,
        "act_1/customconversions",
        &[
            ("name", "Purchase"),
            ("custom_event_type", "PURCHASE"),
            ("rule", r#"{"url":{"i_contains":"/thanks-v2"}}"#),
        ],
    );
    let by_hand = by_hand["id"].as_str().expect("created").to_string();
    let before = writes(&env);
    let again = env.run(&["apply", "--auto-approve"]);
    assert_run!(again, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: 2 live conversions in act_1 are named "Purchase" (ids 23850000000000001, 23850000000000002): convctl cannot tell which one this entry means; 23850000000000002 differ(s) from the manifest in fields that force a replacement; 23850000000000002 differs from the manifest and is not older than 23850000000000001, so it is not the old half of an interrupted replacement (made by hand?)
      |
    3 |   - name: Purchase
      |     ^^^^
    help: pin the one to manage with `id: "23850000000000001"` on this entry (and delete or rename the others)
    conversions/a.yaml:3:5: error: act_1: "Purchase" would be created with the rule of "Purchase" (23850000000000001) in act_1, which is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first): Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)
      |
    3 |   - name: Purchase
      |     ^^^^
    help: change this entry's rule, or remove "Purchase" (23850000000000001) in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)
    error: no plan: fix the 2 problem(s) above
    "#);

    assert!(
        again.stderr.contains(&format!("ids {ours}, {by_hand}"))
            || again.stderr.contains(&format!("ids {by_hand}, {ours}")),
        "{again}"
    );

    assert_eq!(writes(&env), before, "nothing written");
    assert_eq!(env.live("act_1").len(), 2);
}

/// The same conversion twice (two applies that met) is repaired: the oldest is kept,
/// the other deleted with reason `duplicate`, shown in every rendering of the plan.
#[test]
fn duplicates_are_shown_for_review_and_repaired_keeping_the_oldest() {
    let env = Env::new();
    let ids = env.seed(json!([
        conversion("act_1", "A", "a"),
        conversion("act_1", "A", "a"),
        conversion("act_1", "B", "b"),
    ]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("A", "a"), entry("B", "b")]),
    );
    let text = env.run(&["plan", "--detailed-exitcode"]);
    assert_run!(text, @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000002) will be deleted (a duplicate: the oldest with this name is kept)
      - conversion "A" {
          - id                       = "23850000000000002"
          - name                     = "A"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "a"}}
        }

      Warning: "A": 2 live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer): keeping the oldest, 23850000000000001, and deleting 23850000000000002 as duplicate(s)

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    ----- stderr -----
    "#);

    assert!(
        text.stdout.contains(&format!(
            "\"A\" (id {}) will be deleted (a duplicate: the oldest with this name is kept)",
            ids[1]
        )),
        "{text}"
    );
    assert!(
        text.stdout
            .contains(&format!("keeping the oldest, {}", ids[0])),
        "{text}"
    );

    let json = env.run(&["plan", "--format", "json"]);
    assert_run!(json, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "format_version": 1,
      "convctl_version": "[version]",
      "api_version": "v27.0",
      "accounts": [
        {
          "account": "act_1",
          "source": "conversions/a.yaml",
          "live_fingerprint": "a8aab77e62bd532e59ef15e2db1523d2dcbf59995db062c58014ad29d5742d61",
          "digest": "77617f149186f9c70815a71c3c42637179adefec50e421a41601310b80e24a27",
          "actions": [
            {
              "action": "delete",
              "id": "23850000000000002",
              "name": "A",
              "reason": "duplicate",
              "before": {
                "name": "A",
                "description": "",
                "custom_event_type": "PURCHASE",
                "default_conversion_value": 0,
                "rule": {
                  "url": {
                    "i_contains": "a"
                  }
                }
              }
            }
          ],
          "unmanaged": [],
          "warnings": [
            "\"A\": 2 live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer): keeping the oldest, 23850000000000001, and deleting 23850000000000002 as duplicate(s)"
          ]
        }
      ],
      "summary": {
        "create": 0,
        "update": 0,
        "replace": 0,
        "delete": 1,
        "retire": 0,
        "unmanaged": 0
      }
    }
    ----- stderr -----
    "#);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let action = &doc["accounts"][0]["actions"][0];
    assert_eq!(action["action"], "delete", "{doc}");
    assert_eq!(action["reason"], "duplicate", "{doc}");
    assert_eq!(action["id"], ids[1].as_str(), "{doc}");
    let markdown = env.run(&["plan", "--format", "markdown"]);
    assert_run!(markdown, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ### convctl plan

    **Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.**

    > [!WARNING]
    > **1 warning** (1 account):
    > - `act_1`: "A"&#58; 2 live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer)&#58; keeping the oldest, 23850000000000001, and deleting 23850000000000002 as duplicate(s)

    | Account | Manifest | Create | Update | Replace | Delete | Unmanaged | Review |
    | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
    | `act_1` | <code>conversions/a.yaml</code> | 0 | 0 | 0 | 1 | 0 | ⚠️ 1 warning |

    #### `act_1` (<code>conversions/a.yaml</code>)

    <details><summary><code>-</code> delete <b><code>A</code></b> (duplicate)</summary>

    ````diff
    # "A" (id 23850000000000002) will be deleted (a duplicate: the oldest with this name is kept)
    - conversion "A" {
    -     id                       = "23850000000000002"
    -     name                     = "A"
    -     custom_event_type        = "PURCHASE"
    -     default_conversion_value = 0
    -     rule                     = {"url": {"i_contains": "a"}}
    - }
    ````

    </details>

    ----- stderr -----
    "#);
    assert!(
        markdown
            .stdout
            .contains("a duplicate: the oldest with this name is kept"),
        "{markdown}"
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" (id 23850000000000002) will be deleted (a duplicate: the oldest with this name is kept)
      - conversion "A" {
          - id                       = "23850000000000002"
          - name                     = "A"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "a"}}
        }

      Warning: "A": 2 live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer): keeping the oldest, 23850000000000001, and deleting 23850000000000002 as duplicate(s)

    Plan: 0 to create, 0 to update, 0 to replace, 1 to delete.
    act_1: - delete "A" (id 23850000000000002, duplicate): deleted
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);

    assert!(
        apply.stdout.contains(&format!(
            "- delete \"A\" (id {}, duplicate): deleted",
            ids[1]
        )),
        "{apply}"
    );
    assert_eq!(env.id_of("act_1", "A"), ids[0]);
    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}

/// Every edit of a saved plan that could once be executed is refused before any write.
#[test]
fn edited_saved_plans_are_refused_before_any_write() {
    let env = Env::new();
    let ids = env.seed(json!([
        conversion("act_1", "Keep", "k"),
        conversion("act_1", "Old", "o"),
        conversion("act_1", "Swap", "s"),
    ]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}  - name: Old\n    ensure: absent\n",
            manifest(
                "act_1",
                &[entry("Keep", "k"), entry("Swap", "s2"), entry("New", "n")]
            )
        ),
    );
    let saved = env.run(&["plan", "--out", "plan.json"]);
    assert_run!(saved, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Swap" (id 23850000000000003) must be replaced: create the new one, then delete the old one
    -/+ conversion "Swap" {
            id   = "23850000000000003"
          ~ rule = {"url": {"i_contains": "s"}} -> {"url": {"i_contains": "s2"}} # forces replacement
        }

      # "New" will be created
      + conversion "New" {
          + name                     = "New"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "n"}}
        }

      # "Old" (id 23850000000000002) will be deleted (ensure: absent)
      - conversion "Old" {
          - id                       = "23850000000000002"
          - name                     = "Old"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "o"}}
        }

    Plan: 1 to create, 0 to update, 1 to replace, 1 to delete.
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.
    "#);

    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("plan.json")).unwrap()).unwrap();
    let actions = |doc: &mut Value| -> Vec<Value> {
        doc["accounts"][0]["actions"].as_array().unwrap().clone()
    };
    let find = |doc: &Value, kind: &str| -> usize {
        doc["accounts"][0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .position(|a| a["action"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {doc}"))
    };
    type Edit = Box<dyn Fn(&mut Value)>;
    let (keep, old) = (ids[0].clone(), ids[1].clone());
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "tombstone pointed at a kept conversion",
            Box::new(move |doc| {
                let i = find(doc, "delete");
                doc["accounts"][0]["actions"][i]["id"] = json!(keep);
            }),
            "is named \"Keep\", not \"Old\"",
        ),
        (
            "replacement switched to delete_before_create off the cap",
            Box::new(move |doc| {
                let i = find(doc, "replace");
                doc["accounts"][0]["actions"][i]["order"] = json!("delete_before_create");
            }),
            "delete first",
        ),
        (
            "a duplicate create",
            Box::new(move |doc| {
                let i = find(doc, "create");
                let mut all = actions(doc);
                all.push(all[i].clone());
                doc["accounts"][0]["actions"] = json!(all);
                doc["summary"]["create"] = json!(2);
            }),
            "creates \"New\" 2 times",
        ),
        (
            "a 500-character name",
            Box::new(move |doc| {
                let i = find(doc, "create");
                let long = "x".repeat(500);
                doc["accounts"][0]["actions"][i]["name"] = json!(long);
                doc["accounts"][0]["actions"][i]["after"]["name"] = json!(long);
            }),
            "its name is 500 characters long",
        ),
        (
            "an invalid rule",
            Box::new(move |doc| {
                let i = find(doc, "create");
                doc["accounts"][0]["actions"][i]["after"]["rule"] =
                    json!({"url": {"regex_match": "(unclosed"}});
            }),
            "its rule is invalid",
        ),
        (
            "a tombstone whose `before` was edited",
            Box::new(move |doc| {
                let i = find(doc, "delete");
                doc["accounts"][0]["actions"][i]["before"]["description"] = json!("x");
            }),
            "`before` differs",
        ),
    ];
    let before = writes(&env);
    for (what, edit, expected) in edits {
        let mut doc = original.clone();
        edit(&mut doc);
        std::fs::write(env.path("edited.json"), doc.to_string()).unwrap();
        let run = env.run(&["apply", "--plan", "edited.json", "--auto-approve"]);
        assert_eq!(run.code, 1, "{what}: {run}");
        assert!(
            run.stderr.contains(
                "does not match the live conversions it names (edited?), nothing was done"
            ),
            "{what}: {run}"
        );
        assert!(run.stderr.contains(expected), "{what}: {run}");
        assert_eq!(writes(&env), before, "{what}: nothing may be written");
    }
    assert_eq!(env.id_of("act_1", "Old"), old, "still there");
    // The plan as saved runs.
    let run = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Swap" (id 23850000000000003) must be replaced: create the new one, then delete the old one
    -/+ conversion "Swap" {
            id   = "23850000000000003"
          ~ rule = {"url": {"i_contains": "s"}} -> {"url": {"i_contains": "s2"}} # forces replacement
        }

      # "New" will be created
      + conversion "New" {
          + name                     = "New"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "n"}}
        }

      # "Old" (id 23850000000000002) will be deleted (ensure: absent)
      - conversion "Old" {
          - id                       = "23850000000000002"
          - name                     = "Old"
          - custom_event_type        = "PURCHASE"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "o"}}
        }

    Plan: 1 to create, 0 to update, 1 to replace, 1 to delete.
    act_1: -/+ replace "Swap" (id 23850000000000003): new id 23850000000000004, old id 23850000000000003 deleted
    act_1: + create "New": created, id 23850000000000005
    act_1: - delete "Old" (id 23850000000000002, ensure: absent): deleted
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    "#);

    assert_run!(env.run(&["plan"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
}
