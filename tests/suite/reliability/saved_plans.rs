//! Saved plans do what was approved, to the accounts it was approved for: `apply --plan` with
//! `--shard` or `--account` applies only those accounts (and says which it leaves out), and a
//! plan edited after it was made (an added action, another account, other thresholds) or made
//! by an older convctl is refused before any write.

use crate::assert_run;
use crate::support::Harness as Env;
use crate::support::snapshot::{accounts_in_order, transcripts};
use serde_json::{Value, json};

fn writes(env: &Env) -> u64 {
    env.stats()["writes"].as_u64().expect("writes stat")
}

fn accounts(doc: &Value) -> Vec<String> {
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap().to_string())
        .collect()
}

fn read(env: &Env, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.path(file)).unwrap()).unwrap()
}

/// `--shard 2/2 apply --plan plan-1.json` applied shard 1's accounts. With `--plan`,
/// `--shard` and `--account` restrict to their accounts; a plan holding none of them, or an
/// `--account` the plan does not hold, is refused with nothing done.
#[test]
fn apply_plan_respects_shard_and_account() {
    let env = Env::new();
    let manifest: String = (1..=6)
        .map(|n| {
            format!(
                "account: act_{n}\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /a}}}}\n---\n"
            )
        })
        .collect();
    env.write("conversions/a.yaml", &manifest);
    for k in [1, 2] {
        let shard = format!("{k}/2");
        let out = format!("plan-{k}.json");
        let saved = env.run(&["--shard", &shard, "plan", "--out", &out]);
        assert_eq!(saved.code, 0, "{saved}");
    }
    let shard_1 = accounts(&read(&env, "plan-1.json"));
    let shard_2 = accounts(&read(&env, "plan-2.json"));
    assert!(
        !shard_1.is_empty() && !shard_2.is_empty(),
        "{shard_1:?} {shard_2:?}"
    );
    assert_eq!(env.run(&["plan", "--out", "all.json"]).code, 0);

    // The wrong shard's plan: none of its accounts is in shard 2.
    let before = writes(&env);
    let wrong = env.run(&[
        "--shard",
        "2/2",
        "apply",
        "--plan",
        "plan-1.json",
        "--auto-approve",
    ]);
    assert_run!(wrong, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: none of the 3 account(s) of the saved plan plan-1.json is in shard 2/2 (it holds act_2, act_4, act_6): is it the plan of another shard? nothing was done
    ");
    assert_eq!(writes(&env), before, "nothing written");

    // An --account the plan does not hold, even beside one it holds.
    let wrong = env.run(&[
        "apply",
        "--plan",
        "all.json",
        "--account",
        &shard_1[0],
        "--account",
        "act_99",
        "--auto-approve",
    ]);
    assert_run!(wrong, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --account act_99 is not in the saved plan all.json (it holds act_1, act_2, act_3, act_4, act_5, act_6); nothing was done
    ");
    assert_eq!(writes(&env), before, "nothing written");

    // The whole plan, shard 1 of it: only shard 1's accounts, and it says which it left out.
    // The accounts are applied side by side: which create the emulator numbers first, and
    // which account is told first, vary.
    let applied = accounts_in_order(
        (env.convctl())
            .filter(
                r"created, id 2385000000000000[1-3]\b",
                "created, id [new id]",
            )
            .args(&[
                "--shard",
                "1/2",
                "apply",
                "--plan",
                "all.json",
                "--auto-approve",
            ])
            .run(),
    );
    assert_run!(applied, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_2 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/a"}}
        }

    act_4 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/a"}}
        }

    act_6 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/a"}}
        }

    Plan: 3 to create, 0 to update, 0 to replace, 0 to delete.
    act_2: + create "A": created, id [new id]
    act_4: + create "A": created, id [new id]
    act_6: + create "A": created, id [new id]
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    note: applying 3 of the plan's 6 accounts (shard 1/2); the other 3 are left to their own runs
    "#);
    for account in &shard_1 {
        assert_eq!(env.live_names(account), ["A"], "{account}");
    }
    for account in &shard_2 {
        assert!(env.live(account).is_empty(), "{account} is shard 2's");
    }
    // --account within shard 2's own plan: that account only.
    let applied = env.run(&[
        "--shard",
        "2/2",
        "apply",
        "--plan",
        "plan-2.json",
        "--account",
        &shard_2[0],
        "--auto-approve",
    ]);
    assert_run!(applied, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "A": created, id 23850000000000004
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    note: applying 1 of the plan's 3 accounts (--account and shard 2/2); the other 2 are left to their own runs
    "#);
    assert_eq!(env.live_names(&shard_2[0]), ["A"]);
    for account in &shard_2[1..] {
        assert!(env.live(account).is_empty(), "{account} was not asked for");
    }
}

/// Every empty account had the same fingerprint, and the fingerprint did not cover the
/// actions: a saved plan with an added create, or moved to another account, was executed. The
/// fingerprint now covers the account and a digest of what apply does; a plan made before
/// that (no digest) is refused with "make the plan again".
#[test]
fn a_saved_plan_with_an_added_create_or_moved_account_is_refused() {
    let env = Env::new();
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /a}}\n---\naccount: act_2\nconversions: []\n",
    );
    assert_eq!(
        env.run(&["plan", "--account", "act_1", "--out", "plan.json"])
            .code,
        0
    );
    let original = read(&env, "plan.json");
    let account = &original["accounts"][0];
    assert!(account["digest"].is_string(), "{original}");
    // Two empty accounts have different fingerprints.
    let both = env.run(&["plan", "--format", "json"]);
    let both: Value = serde_json::from_str(&both.stdout).unwrap();
    assert_ne!(
        both["accounts"][0]["live_fingerprint"],
        both["accounts"][1]["live_fingerprint"]
    );

    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "an added create",
            Box::new(|doc| {
                let mut added = doc["accounts"][0]["actions"][0].clone();
                added["name"] = json!("B");
                added["after"]["name"] = json!("B");
                added["after"]["rule"] = json!({"url": {"i_contains": "/b"}});
                doc["accounts"][0]["actions"]
                    .as_array_mut()
                    .unwrap()
                    .push(added);
                doc["summary"]["create"] = json!(2);
            }),
        ),
        (
            "moved to another empty account",
            Box::new(|doc| doc["accounts"][0]["account"] = json!("act_2")),
        ),
        (
            "looser mass-delete thresholds",
            Box::new(|doc| {
                doc["accounts"][0]["safety"] = json!({"max_deletes": 1000, "max_delete_pct": 100});
            }),
        ),
        (
            "made by an older convctl",
            Box::new(|doc| {
                doc["accounts"][0].as_object_mut().unwrap().remove("digest");
            }),
        ),
    ];
    let before = writes(&env);
    let mut runs = Vec::new();
    for (what, edit) in edits {
        let mut doc = original.clone();
        edit(&mut doc);
        std::fs::write(env.path("edited.json"), doc.to_string()).unwrap();
        let run = env.run(&["apply", "--plan", "edited.json", "--auto-approve"]);
        assert_eq!(writes(&env), before, "{what}: nothing may be written");
        runs.push(run);
    }
    // In the order above: an added create, another account, looser thresholds, no digest.
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl --api-base http://127.0.0.1:[port] apply --plan edited.json --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: the saved plan edited.json does not match the live conversions it names (edited?), nothing was done:
      act_1: its actions (or `safety`, `token_env`) are not those convctl sealed when it made the plan
    make a new plan (`convctl plan --out edited.json`) and review it

    $ convctl --api-base http://127.0.0.1:[port] apply --plan edited.json --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: the saved plan edited.json is stale, nothing was done:
      act_2: its live conversions are not those the plan was made from: they changed since, or the plan was made for another account
    make a new plan (`convctl plan --out edited.json`) and review it

    $ convctl --api-base http://127.0.0.1:[port] apply --plan edited.json --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: the saved plan edited.json does not match the live conversions it names (edited?), nothing was done:
      act_1: its actions (or `safety`, `token_env`) are not those convctl sealed when it made the plan
    make a new plan (`convctl plan --out edited.json`) and review it

    $ convctl --api-base http://127.0.0.1:[port] apply --plan edited.json --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: the saved plan edited.json was made by an older convctl, nothing was done:
      act_1: the plan was made by an older convctl, whose fingerprint covered neither the account nor its actions: make the plan again with this one
    make a new plan (`convctl plan --out edited.json`) and review it
    ");
    assert!(env.live("act_1").is_empty() && env.live("act_2").is_empty());
    // The plan as saved runs.
    assert_run!(env.run(&["apply", "--plan", "plan.json", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "A": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert_eq!(env.live_names("act_1"), ["A"]);
    assert!(env.live("act_2").is_empty());
}
