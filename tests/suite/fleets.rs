//! Issue 16, end to end against the in-process emulator: one set used by several accounts
//! (plans grouped in text, one action per account with `"set"` in JSON, apply per account,
//! convergence), `renamed_from` renaming in place, `convctl test` once per account, GitHub
//! annotations in the set's file, per-account tokens (`token_env`) against the emulator's
//! scoped tokens (`--token T:act_1`), and per-account `safety`. `bench`: the fleet benchmark.

mod bench;

use crate::support::{Convctl, Harness as Env, Run, TOKEN};
use convctl::emulator::EmulatorConfig;
use serde_json::{Value, json};

const SET: &str = r#"version: 1
set: ecommerce
params: [domain, purchase_value]
conversions:
  - name: Purchase
    description: Purchases on ${domain}
    custom_event_type: PURCHASE
    default_conversion_value: ${purchase_value}
    rule: {and: [{event: {eq: Purchase}}, {url: {i_contains: "${domain}/thank-you"}}]}
    tests:
      match: [{event: Purchase, url: "https://${domain}/thank-you"}]
      no_match: [{event: Purchase, url: "https://elsewhere.example/thank-you"}]
  - name: Lead (${domain})
    renamed_from: [Lead]
    custom_event_type: LEAD
    rule: {event: {eq: Lead}}
"#;

fn account(n: u32, extra: &str) -> String {
    format!(
        "account: act_{n}\ndefaults: {{event_source_id: \"{n}{n}{n}\"}}\n{extra}use:\n  - set: ecommerce\n    params: {{domain: shop-{n}.example, purchase_value: {}}}\nconversions: []\n",
        n * 10
    )
}

fn write_fleet(env: &Env, extra: &[(u32, &str)]) {
    env.write("conversions/sets/ecommerce.yaml", SET);
    let mut text = String::new();
    for n in 1..=3 {
        let e = extra.iter().find(|(k, _)| *k == n).map_or("", |(_, e)| *e);
        text.push_str("---\n");
        text.push_str(&account(n, e));
    }
    env.write("conversions/accounts.yaml", &text);
}

/// Runs the binary with extra environment variables (and without META_ACCESS_TOKEN unless
/// given).
fn run_with(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let base = env.base();
    let mut cmd = Convctl::new()
        .args(&["--api-base", &base])
        .args(args)
        .current_dir(env.dir.path());
    for (k, v) in vars {
        cmd = cmd.env(k, *v);
    }
    let run = cmd.run();
    for (_, v) in vars {
        assert!(
            !run.stdout.contains(v) && !run.stderr.contains(v),
            "a token leaked:\n{run}"
        );
    }
    run
}

#[test]
fn a_set_change_is_one_grouped_block_one_action_per_account_in_json_and_converges() {
    let env = Env::new();
    // Live: each account has the old "Lead" and a Purchase with an old description.
    for n in 1..=3u32 {
        env.seed(json!([
            {"account": format!("act_{n}"), "name": "Lead", "custom_event_type": "LEAD",
             "event_source_id": format!("{n}{n}{n}"), "rule": {"event": {"eq": "Lead"}}},
            {"account": format!("act_{n}"), "name": "Purchase", "custom_event_type": "PURCHASE",
             "event_source_id": format!("{n}{n}{n}"), "description": "old",
             "default_conversion_value": n * 10,
             "rule": {"and": [{"event": {"eq": "Purchase"}}, {"url": {"i_contains": format!("shop-{n}.example/thank-you")}}]}},
        ]));
    }
    let lead_ids: Vec<String> = (1..=3)
        .map(|n| env.id_of(&format!("act_{n}"), "Lead"))
        .collect();
    write_fleet(&env, &[]);

    let text = env.run(&["plan"]);
    assert_eq!(text.code, 0, "{text}");
    // The renames: updates in place, grouped (the names differ per account).
    assert!(
        text.stdout.contains(
            "# \"Lead (${domain})\" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3"
        ),
        "the renames are one change to the set's entry:\n{text}"
    );
    assert!(
        text.stdout
            .contains("in act_2: \"Lead\" -> \"Lead (shop-2.example)\""),
        "{text}"
    );
    // Purchase: the same description change except for the domain → a grouped block.
    assert!(
        text.stdout.contains(
            "# \"Purchase\" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3"
        ),
        "{text}"
    );
    assert_eq!(
        text.stdout.matches("conversion \"Purchase\"").count(),
        1,
        "{text}"
    );
    assert!(text.stdout.contains("(differs per account)"), "{text}");
    assert!(
        !text.stdout.contains("will be created") && !text.stdout.contains("will be deleted"),
        "renamed_from never creates and deletes:\n{text}"
    );
    assert_eq!(
        text.last_line(),
        "Plan: 0 to create, 6 to update, 0 to replace, 0 to delete."
    );

    let json_run = env.run(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_run.stdout).unwrap();
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3);
    for a in accounts {
        let actions = a["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 2, "{a}");
        for action in actions {
            assert_eq!(action["set"], "ecommerce", "{action}");
        }
    }

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    for n in 1..=3 {
        assert!(apply.stdout.contains(&format!("act_{n}")), "{apply}");
    }
    for (n, id) in (1..=3).zip(&lead_ids) {
        let account = format!("act_{n}");
        assert_eq!(
            &env.id_of(&account, &format!("Lead (shop-{n}.example)")),
            id,
            "renamed in place, same id"
        );
        assert_eq!(env.live_names(&account).len(), 2);
    }
    let again = env.run(&["plan"]);
    assert_eq!(again.last_line(), "No changes.", "{again}");
}

#[test]
fn test_runs_a_sets_tests_once_per_account_and_github_annotates_the_set() {
    let env = Env::new();
    write_fleet(&env, &[]);
    let run = env.run(&["test"]);
    assert_eq!(run.code, 0, "{run}");
    for n in 1..=3 {
        assert!(
            run.stdout
                .contains(&format!("act_{n} \"Purchase\" match[0]")),
            "{run}"
        );
    }
    assert!(run.stdout.contains("6 passed"), "{run}");

    // A value that breaks the set's rule for one account: annotated at the value, in the
    // account's file; an error of the set itself: once, in the set's file.
    let broken = SET.replace("custom_event_type: LEAD", "custom_event_type: LEED");
    env.write("conversions/sets/ecommerce.yaml", &broken);
    let run = env.run(&["validate", "--format", "github"]);
    assert_eq!(run.code, 1, "{run}");
    let set_errors: Vec<&str> = run.stdout.lines().filter(|l| l.contains("LEED")).collect();
    assert_eq!(set_errors.len(), 1, "{run}");
    assert!(
        set_errors[0].starts_with("::error file=conversions/sets/ecommerce.yaml,line=15,col=24"),
        "{run}"
    );
    assert!(set_errors[0].contains("used by 3 accounts"), "{run}");
}

fn scoped_env() -> Env {
    Env::with(EmulatorConfig {
        tokens: vec![
            // The harness's own helper calls (seed, live) see everything.
            TOKEN.to_string(),
            "global-token:act_3".into(),
            "client-a-token:act_1".into(),
            "client-b-token:act_2".into(),
        ],
        ..EmulatorConfig::default()
    })
}

/// Each account's calls carry its own token: the emulator refuses (code 200) a token on any
/// account it is not scoped to, so a plan and an apply that succeed prove it.
#[test]
fn token_env_gives_each_account_its_own_token_end_to_end() {
    let env = scoped_env();
    for n in 1..=3u32 {
        env.seed(
            json!([{"account": format!("act_{n}"), "name": "Lead", "custom_event_type": "LEAD",
             "event_source_id": format!("{n}{n}{n}"), "rule": {"event": {"eq": "Lead"}}}]),
        );
    }
    write_fleet(
        &env,
        &[
            (1, "token_env: TOKEN_CLIENT_A\n"),
            (2, "token_env: TOKEN_CLIENT_B\n"),
        ],
    );
    let vars = [
        ("META_ACCESS_TOKEN", "global-token"),
        ("TOKEN_CLIENT_A", "client-a-token"),
        ("TOKEN_CLIENT_B", "client-b-token"),
    ];
    let plan = run_with(&env, &["plan"], &vars);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(
        plan.last_line(),
        "Plan: 3 to create, 3 to update, 0 to replace, 0 to delete."
    );
    // Updates by id (the renames) and creates: every write with its account's token.
    let apply = run_with(&env, &["apply", "--auto-approve"], &vars);
    assert_eq!(apply.code, 0, "{apply}");
    let again = run_with(&env, &["plan"], &vars);
    assert_eq!(again.last_line(), "No changes.", "{again}");
    // A saved plan applies with the same tokens.
    env.write(
        "conversions/sets/ecommerce.yaml",
        &SET.replace("Purchases on", "Sales on"),
    );
    let saved = run_with(&env, &["plan", "--out", "fleet.plan.json"], &vars);
    assert_eq!(saved.code, 0, "{saved}");
    let plan_file = std::fs::read_to_string(env.path("fleet.plan.json")).unwrap();
    assert!(plan_file.contains("\"token_env\": \"TOKEN_CLIENT_A\""));
    assert!(!plan_file.contains("client-a-token"));
    let applied = run_with(
        &env,
        &["apply", "--plan", "fleet.plan.json", "--auto-approve"],
        &vars,
    );
    assert_eq!(applied.code, 0, "{applied}");
}

#[test]
fn a_token_that_cannot_see_its_account_and_a_missing_variable_are_clear_errors() {
    let env = scoped_env();
    // act_2 names client A's variable, whose token may not see act_2.
    write_fleet(
        &env,
        &[
            (1, "token_env: TOKEN_CLIENT_A\n"),
            (2, "token_env: TOKEN_CLIENT_A\n"),
        ],
    );
    let vars = [
        ("META_ACCESS_TOKEN", "global-token"),
        ("TOKEN_CLIENT_A", "client-a-token"),
    ];
    let plan = run_with(&env, &["plan"], &vars);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr.contains(
            "error: act_2: cannot list custom conversions with the token from TOKEN_CLIENT_A (its `token_env`)"
        ) && plan.stderr.contains("200"),
        "{plan}"
    );
    assert!(!plan.stderr.contains("act_1:"), "act_1 is fine: {plan}");

    // A variable that is not set: an error before any call.
    write_fleet(&env, &[(2, "token_env: TOKEN_CLIENT_B\n")]);
    let before = env.stats()["requests"].as_u64().unwrap();
    let plan = run_with(&env, &["plan"], &[("META_ACCESS_TOKEN", "global-token")]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr.contains("act_2: its manifest says `token_env: TOKEN_CLIENT_B`, but the environment variable TOKEN_CLIENT_B is not set"),
        "{plan}"
    );
    assert_eq!(
        env.stats()["requests"].as_u64().unwrap(),
        before,
        "no call was made"
    );
    // --sandbox ignores token_env.
    let sandbox = run_with(&env, &["--sandbox=sb.json", "plan"], &[]);
    assert_eq!(sandbox.code, 0, "{sandbox}");
}

/// `safety` replaces the mass-delete thresholds for its account only.
#[test]
fn safety_thresholds_are_per_account() {
    let env = Env::new();
    for n in 1..=2u32 {
        let stale: Vec<Value> = (0..3)
            .map(|i| {
                json!({"account": format!("act_{n}"), "name": format!("Stale {i}"),
                 "custom_event_type": "LEAD", "rule": {"url": {"i_contains": format!("stale{i}")}}})
            })
            .collect();
        env.seed(Value::Array(stale));
    }
    let strict = "account: act_1\nprune: true\nsafety: {max_deletes: 2, max_delete_pct: 50}\nconversions: []\n";
    env.write("conversions/a.yaml", strict);
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert!(
        apply.stderr.contains("deletes or replaces 3 of the 3 live conversions of act_1 (more than 2 and more than 50%, the account's `safety`)"),
        "{apply}"
    );
    assert_eq!(env.live_names("act_1").len(), 3, "nothing was done");
    // The default thresholds (10) let the same plan through for another account.
    env.write(
        "conversions/a.yaml",
        "account: act_2\nprune: true\nconversions: []\n",
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert!(env.live_names("act_2").is_empty());
}

/// `import --use` moves existing accounts onto a set: params inferred, the rest own entries,
/// and `plan` on the result (with the set) shows no changes.
#[test]
fn import_onto_a_set_infers_params_and_plans_no_changes() {
    let env = Env::new();
    for n in 1..=2u32 {
        let account = format!("act_{n}");
        let pixel = format!("{n}{n}{n}");
        env.seed(json!([
            {"account": account, "name": "Purchase", "custom_event_type": "PURCHASE",
             "event_source_id": pixel, "description": format!("Purchases on shop-{n}.example"),
             "default_conversion_value": n * 10,
             "rule": {"and": [{"event": {"eq": "Purchase"}}, {"url": {"i_contains": format!("shop-{n}.example/thank-you")}}]}},
            {"account": account, "name": format!("Lead (shop-{n}.example)"), "custom_event_type": "LEAD",
             "event_source_id": pixel, "rule": {"event": {"eq": "Lead"}}},
            {"account": account, "name": "Newsletter", "custom_event_type": "COMPLETE_REGISTRATION",
             "event_source_id": pixel, "rule": {"url": {"i_contains": "/newsletter"}}},
        ]));
    }
    // act_3 has only the purchase: the lead entry is excluded.
    env.seed(json!([
        {"account": "act_3", "name": "Purchase", "custom_event_type": "PURCHASE",
         "event_source_id": "333", "description": "Purchases on shop-3.example",
         "default_conversion_value": 30,
         "rule": {"and": [{"event": {"eq": "Purchase"}}, {"url": {"i_contains": "shop-3.example/thank-you"}}]}},
    ]));
    env.write("sets/ecommerce.yaml", SET);
    let run = env.run(&[
        "import",
        "act_1",
        "act_2",
        "act_3",
        "--use",
        "ecommerce",
        "--from",
        "sets",
        "--out",
        "conversions",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("as a use of set ecommerce"), "{run}");
    let one = std::fs::read_to_string(env.path("conversions/act_1.yaml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&one).unwrap();
    assert_eq!(doc["use"][0]["set"], "ecommerce", "{one}");
    assert_eq!(doc["use"][0]["params"]["domain"], "shop-1.example", "{one}");
    assert_eq!(doc["use"][0]["params"]["purchase_value"], 10, "{one}");
    assert_eq!(doc["defaults"]["event_source_id"], "111", "{one}");
    assert_eq!(
        doc["conversions"].as_array().unwrap().len(),
        1,
        "the newsletter is an own entry: {one}"
    );
    let three = std::fs::read_to_string(env.path("conversions/act_3.yaml")).unwrap();
    let doc3: Value = serde_saphyr::from_str(&three).unwrap();
    assert_eq!(doc3["use"][0]["exclude"][0], "Lead (${domain})", "{three}");

    env.write("conversions/sets/ecommerce.yaml", SET);
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(plan.last_line(), "No changes.", "{plan}");
}
