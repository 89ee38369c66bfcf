//! Saved plans do what was approved, to the accounts it was approved for: `apply --plan` with
//! `--shard` or `--account` applies only those accounts (and says which it leaves out), and a
//! plan edited after it was made (an added action, another account, other thresholds) or made
//! by an older convctl is refused before any write.

use crate::support::Harness as Env;
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
    assert_eq!(wrong.code, 1, "{wrong}");
    assert!(wrong.stderr.contains("shard 2/2"), "{wrong}");
    assert!(wrong.stderr.contains("nothing was done"), "{wrong}");
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
    assert_eq!(wrong.code, 1, "{wrong}");
    assert!(wrong.stderr.contains("act_99"), "{wrong}");
    assert_eq!(writes(&env), before, "nothing written");

    // The whole plan, shard 1 of it: only shard 1's accounts, and it says which it left out.
    let applied = env.run(&[
        "--shard",
        "1/2",
        "apply",
        "--plan",
        "all.json",
        "--auto-approve",
    ]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(
        applied.stderr.contains(&format!(
            "applying {} of the plan's 6 accounts",
            shard_1.len()
        )),
        "{applied}"
    );
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
    assert_eq!(applied.code, 0, "{applied}");
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
    let edits: Vec<(&str, Edit, &str)> = vec![
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
            "does not match the live conversions it names (edited?)",
        ),
        (
            "moved to another empty account",
            Box::new(|doc| doc["accounts"][0]["account"] = json!("act_2")),
            "made for another account",
        ),
        (
            "looser mass-delete thresholds",
            Box::new(|doc| {
                doc["accounts"][0]["safety"] = json!({"max_deletes": 1000, "max_delete_pct": 100});
            }),
            "does not match the live conversions it names (edited?)",
        ),
        (
            "made by an older convctl",
            Box::new(|doc| {
                doc["accounts"][0].as_object_mut().unwrap().remove("digest");
            }),
            "made by an older convctl",
        ),
    ];
    let before = writes(&env);
    for (what, edit, expected) in edits {
        let mut doc = original.clone();
        edit(&mut doc);
        std::fs::write(env.path("edited.json"), doc.to_string()).unwrap();
        let run = env.run(&["apply", "--plan", "edited.json", "--auto-approve"]);
        assert_eq!(run.code, 1, "{what}: {run}");
        assert!(run.stderr.contains(expected), "{what}: {run}");
        assert!(run.stderr.contains("nothing was done"), "{what}: {run}");
        assert!(run.stderr.contains("make a new plan"), "{what}: {run}");
        assert_eq!(writes(&env), before, "{what}: nothing may be written");
    }
    assert!(env.live("act_1").is_empty() && env.live("act_2").is_empty());
    // The plan as saved runs.
    let run = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(env.live_names("act_1"), ["A"]);
    assert!(env.live("act_2").is_empty());
}
