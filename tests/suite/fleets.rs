//! Sets, end to end against the in-process emulator: one set used by several accounts
//! (plans grouped in text, one action per account with `"set"` in JSON, apply per account,
//! convergence), `renamed_from` renaming in place, `convctl test` once per account, GitHub
//! annotations in the set's file, per-account tokens (`token_env`) against the emulator's
//! scoped tokens (`--token T:act_1`), and per-account `safety`. `bench`: the fleet benchmark.

mod bench;

use crate::assert_run;
use crate::support::snapshot::accounts_in_order;
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
    assert_run!(text, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    Changes from sets, grouped across the accounts that use them (each account's own changes follow):

      # "Purchase" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3
      ~ conversion "Purchase" {
          ~ description = (differs per account)
              in act_1: "old" -> "Purchases on shop-1.example"
              in act_2: "old" -> "Purchases on shop-2.example"
              in act_3: "old" -> "Purchases on shop-3.example"
        }

      # "Lead (${domain})" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3
      ~ conversion "Lead (${domain})" {
          ~ name = (differs per account)
              in act_1: "Lead" -> "Lead (shop-1.example)"
              in act_2: "Lead" -> "Lead (shop-2.example)"
              in act_3: "Lead" -> "Lead (shop-3.example)"
        }

    3 more account(s) change only as the sets above show.

    Plan: 0 to create, 6 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);

    // The renames: updates in place, grouped (the names differ per account).

    // Purchase: the same description change except for the domain → a grouped block.

    assert_eq!(
        text.stdout.matches("conversion \"Purchase\"").count(),
        1,
        "{text}"
    );

    let json_run = env.run(&["plan", "--format", "json"]);
    assert_run!(json_run, @r#"
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
          "source": "conversions/accounts.yaml",
          "live_fingerprint": "f0af58d71b3b08a5da338e0ff2f80c8638c9d3460cd232a5a198e628693d63c3",
          "digest": "6cbe999f85f94ed78b82b6653bdde64ab5f137257c1c3d5be0a430886142a2cc",
          "actions": [
            {
              "action": "update",
              "id": "23850000000000002",
              "name": "Purchase",
              "set": "ecommerce",
              "set_entry": "Purchase",
              "changes": [
                {
                  "field": "description",
                  "before": "old",
                  "after": "Purchases on shop-1.example"
                }
              ]
            },
            {
              "action": "update",
              "id": "23850000000000001",
              "name": "Lead (shop-1.example)",
              "set": "ecommerce",
              "set_entry": "Lead (${domain})",
              "changes": [
                {
                  "field": "name",
                  "before": "Lead",
                  "after": "Lead (shop-1.example)"
                }
              ]
            }
          ],
          "unmanaged": [],
          "warnings": []
        },
        {
          "account": "act_2",
          "source": "conversions/accounts.yaml",
          "live_fingerprint": "54e5a21c23d92f2b683584de732de91d7cf63830e3133dd33fe41b8c35c99ccc",
          "digest": "19cce844856edb5fd1c61dc2abc360e42fffc9636953e67c6e6d9a6897c1392d",
          "actions": [
            {
              "action": "update",
              "id": "23850000000000004",
              "name": "Purchase",
              "set": "ecommerce",
              "set_entry": "Purchase",
              "changes": [
                {
                  "field": "description",
                  "before": "old",
                  "after": "Purchases on shop-2.example"
                }
              ]
            },
            {
              "action": "update",
              "id": "23850000000000003",
              "name": "Lead (shop-2.example)",
              "set": "ecommerce",
              "set_entry": "Lead (${domain})",
              "changes": [
                {
                  "field": "name",
                  "before": "Lead",
                  "after": "Lead (shop-2.example)"
                }
              ]
            }
          ],
          "unmanaged": [],
          "warnings": []
        },
        {
          "account": "act_3",
          "source": "conversions/accounts.yaml",
          "live_fingerprint": "11e2253a97686c40eac7c4f2e50c9a20a337a3dcbc3af7080e316202538c31b5",
          "digest": "2be3ece53bdd1f3ed44885efbb3b459b31d3bf2a9d046e5d732dbc2dc8466c5d",
          "actions": [
            {
              "action": "update",
              "id": "23850000000000006",
              "name": "Purchase",
              "set": "ecommerce",
              "set_entry": "Purchase",
              "changes": [
                {
                  "field": "description",
                  "before": "old",
                  "after": "Purchases on shop-3.example"
                }
              ]
            },
            {
              "action": "update",
              "id": "23850000000000005",
              "name": "Lead (shop-3.example)",
              "set": "ecommerce",
              "set_entry": "Lead (${domain})",
              "changes": [
                {
                  "field": "name",
                  "before": "Lead",
                  "after": "Lead (shop-3.example)"
                }
              ]
            }
          ],
          "unmanaged": [],
          "warnings": []
        }
      ],
      "summary": {
        "create": 0,
        "update": 6,
        "replace": 0,
        "delete": 0,
        "retire": 0,
        "unmanaged": 0
      }
    }
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
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

    // Accounts are told as each is settled: in the order they finish.
    let apply = accounts_in_order(env.run(&["apply", "--auto-approve"]));
    assert_run!(apply, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    Changes from sets, grouped across the accounts that use them (each account's own changes follow):

      # "Purchase" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3
      ~ conversion "Purchase" {
          ~ description = (differs per account)
              in act_1: "old" -> "Purchases on shop-1.example"
              in act_2: "old" -> "Purchases on shop-2.example"
              in act_3: "old" -> "Purchases on shop-3.example"
        }

      # "Lead (${domain})" (set ecommerce) will be updated in place, in 3 accounts: act_1, act_2, act_3
      ~ conversion "Lead (${domain})" {
          ~ name = (differs per account)
              in act_1: "Lead" -> "Lead (shop-1.example)"
              in act_2: "Lead" -> "Lead (shop-2.example)"
              in act_3: "Lead" -> "Lead (shop-3.example)"
        }

    3 more account(s) change only as the sets above show.

    Plan: 0 to create, 6 to update, 0 to replace, 0 to delete.
    act_1: ~ update "Purchase" (id 23850000000000002): updated
    act_1: ~ update "Lead (shop-1.example)" (id 23850000000000001): updated
    act_2: ~ update "Purchase" (id 23850000000000004): updated
    act_2: ~ update "Lead (shop-2.example)" (id 23850000000000003): updated
    act_3: ~ update "Purchase" (id 23850000000000006): updated
    act_3: ~ update "Lead (shop-3.example)" (id 23850000000000005): updated
    Apply complete: 6 of 6 actions done.
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);

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
    assert_run!(again, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/accounts.yaml): no changes.

    act_2 (conversions/accounts.yaml): no changes.

    act_3 (conversions/accounts.yaml): no changes.

    No changes.
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
}

#[test]
fn test_runs_a_sets_tests_once_per_account_and_github_annotates_the_set() {
    let env = Env::new();
    write_fleet(&env, &[]);
    let run = env.run(&["test"]);
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ok    act_1 "Purchase" match[0]
    ok    act_1 "Purchase" no_match[0]
    ok    act_2 "Purchase" match[0]
    ok    act_2 "Purchase" no_match[0]
    ok    act_3 "Purchase" match[0]
    ok    act_3 "Purchase" no_match[0]
    test result: ok. 6 passed; 0 failed (3 conversions without tests)
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);

    for n in 1..=3 {
        assert!(
            run.stdout
                .contains(&format!("act_{n} \"Purchase\" match[0]")),
            "{run}"
        );
    }

    // A value that breaks the set's rule for one account: annotated at the value, in the
    // account's file; an error of the set itself: once, in the set's file.
    let broken = SET.replace("custom_event_type: LEAD", "custom_event_type: LEED");
    env.write("conversions/sets/ecommerce.yaml", &broken);
    let run = env.run(&["validate", "--format", "github"]);
    assert_run!(run, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ::error file=conversions/sets/ecommerce.yaml,line=15,col=24,title=convctl::`LEED` is not a valid custom_event_type; did you mean `LEAD`? (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)%0Ahelp: values are case-sensitive; one of: ADD_PAYMENT_INFO, ADD_TO_CART, ADD_TO_WISHLIST, COMPLETE_REGISTRATION, CONTENT_VIEW, INITIATED_CHECKOUT, LEAD, PURCHASE, SEARCH, CONTACT, CUSTOMIZE_PRODUCT, DONATE, FIND_LOCATION, SCHEDULE, START_TRIAL, SUBMIT_APPLICATION, SUBSCRIBE, LISTING_INTERACTION, FACEBOOK_SELECTED, OTHER
    ::warning file=conversions/sets/ecommerce.yaml,line=16,col=11,title=convctl::the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:12:5, act_3 at conversions/accounts.yaml:19:5)%0Ahelp: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    invalid: 1 error, 1 warning
    ----- stderr -----
    "#);

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
            // The harness's own calls (seed, live) see everything.
            TOKEN.to_string(),
            "global-token:act_3".into(),
            "client-a-token:act_1".into(),
            "client-b-token:act_2".into(),
        ],
        ..EmulatorConfig::default()
    })
}

/// `run` with the ids of the three conversions the first apply creates shown as `[new id]`:
/// the accounts are applied side by side, so which create the emulator numbers first varies.
fn new_ids(mut run: Run) -> Run {
    (run.filters).push((r"\b2385000000000000[4-6]\b".into(), "[new id]".into()));
    run
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
    assert_run!("token_env_plan", plan);
    // Updates by id (the renames) and creates: every write with its account's token.
    let apply = accounts_in_order(new_ids(run_with(&env, &["apply", "--auto-approve"], &vars)));
    assert_run!("token_env_apply", apply);
    assert_run!(run_with(&env, &["plan"], &vars), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/accounts.yaml): no changes.

    act_2 (conversions/accounts.yaml): no changes.

    act_3 (conversions/accounts.yaml): no changes.

    No changes.
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:6:5, act_2 at conversions/accounts.yaml:14:5, act_3 at conversions/accounts.yaml:21:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
    // A saved plan applies with the same tokens.
    env.write(
        "conversions/sets/ecommerce.yaml",
        &SET.replace("Purchases on", "Sales on"),
    );
    let saved = new_ids(run_with(&env, &["plan", "--out", "fleet.plan.json"], &vars));
    assert_run!("token_env_saved_plan", saved);
    let plan_file = std::fs::read_to_string(env.path("fleet.plan.json")).unwrap();
    assert!(plan_file.contains("\"token_env\": \"TOKEN_CLIENT_A\""));
    assert!(!plan_file.contains("client-a-token"));
    let applied = accounts_in_order(new_ids(run_with(
        &env,
        &["apply", "--plan", "fleet.plan.json", "--auto-approve"],
        &vars,
    )));
    assert_run!("token_env_saved_plan_applied", applied);
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
    // act_1 is fine; act_2 is named with the variable its token came from.
    assert_run!(run_with(&env, &["plan"], &vars), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:6:5, act_2 at conversions/accounts.yaml:14:5, act_3 at conversions/accounts.yaml:21:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    error: act_2: cannot list custom conversions with the token from TOKEN_CLIENT_A (its `token_env`): (#200) Ad account owner has NOT grant ads_management or ads_read permission to this token for act_2 [code 200, fbtrace_id [trace id]]
    help: grant the token's app ads_management on this ad account
    error: no plan: fix the 1 problem(s) above
    "#);

    // A variable that is not set: an error before any call.
    write_fleet(&env, &[(2, "token_env: TOKEN_CLIENT_B\n")]);
    let before = env.stats()["requests"].as_u64().unwrap();
    let plan = run_with(&env, &["plan"], &[("META_ACCESS_TOKEN", "global-token")]);
    assert_run!(plan, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 3 accounts: act_1 at conversions/accounts.yaml:5:5, act_2 at conversions/accounts.yaml:13:5, act_3 at conversions/accounts.yaml:20:5)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    error: act_2: its manifest says `token_env: TOKEN_CLIENT_B`, but the environment variable TOKEN_CLIENT_B is not set (or empty); set it to the token for act_2, or remove `token_env` to use the global token; nothing was called
    "#);
    assert_eq!(
        env.stats()["requests"].as_u64().unwrap(),
        before,
        "no call was made"
    );
    // --sandbox ignores token_env.
    assert_run!(
        "sandbox_ignores_token_env",
        run_with(&env, &["--sandbox=sb.json", "plan"], &[])
    );
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
    assert_run!(apply, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Stale 0" (id 23850000000000001) will be deleted (not declared, prune: true)
      - conversion "Stale 0" {
          - id                       = "23850000000000001"
          - name                     = "Stale 0"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale0"}}
        }

      # "Stale 1" (id 23850000000000002) will be deleted (not declared, prune: true)
      - conversion "Stale 1" {
          - id                       = "23850000000000002"
          - name                     = "Stale 1"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale1"}}
        }

      # "Stale 2" (id 23850000000000003) will be deleted (not declared, prune: true)
      - conversion "Stale 2" {
          - id                       = "23850000000000003"
          - name                     = "Stale 2"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale2"}}
        }

      Refused: the plan deletes or replaces 3 of the 3 live conversions of act_1 (more than 2 and more than 50%, the account's `safety`); apply refuses it without --allow-mass-delete

    Plan: 0 to create, 0 to update, 0 to replace, 3 to delete.
    Apply will refuse this plan as it stands: 1 account (listed at the top).
    ----- stderr -----
    error: the plan deletes or replaces 3 of the 3 live conversions of act_1 (more than 2 and more than 50%, the account's `safety`)
    error: refusing a mass delete; nothing was done. Check the manifests (a missing file or a wrong account?), or pass --allow-mass-delete if you mean it
    "#);

    assert_eq!(env.live_names("act_1").len(), 3, "nothing was done");
    // The default thresholds (10) let the same plan through for another account.
    env.write(
        "conversions/a.yaml",
        "account: act_2\nprune: true\nconversions: []\n",
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_run!(apply, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_2 (conversions/a.yaml) will change:

      # "Stale 0" (id 23850000000000004) will be deleted (not declared, prune: true)
      - conversion "Stale 0" {
          - id                       = "23850000000000004"
          - name                     = "Stale 0"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale0"}}
        }

      # "Stale 1" (id 23850000000000005) will be deleted (not declared, prune: true)
      - conversion "Stale 1" {
          - id                       = "23850000000000005"
          - name                     = "Stale 1"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale1"}}
        }

      # "Stale 2" (id 23850000000000006) will be deleted (not declared, prune: true)
      - conversion "Stale 2" {
          - id                       = "23850000000000006"
          - name                     = "Stale 2"
          - custom_event_type        = "LEAD"
          - default_conversion_value = 0
          - rule                     = {"url": {"i_contains": "stale2"}}
        }

    Plan: 0 to create, 0 to update, 0 to replace, 3 to delete.
    act_2: - delete "Stale 0" (id 23850000000000004, prune): deleted
    act_2: - delete "Stale 1" (id 23850000000000005, prune): deleted
    act_2: - delete "Stale 2" (id 23850000000000006, prune): deleted
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    "#);

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
    assert_run!(run, @"
    success: true
    exit_code: 0
    ----- stdout -----
    Wrote conversions/act_1.yaml (3 conversions, ids pinned, as a use of set ecommerce).
    Wrote conversions/act_2.yaml (3 conversions, ids pinned, as a use of set ecommerce).
    Wrote conversions/act_3.yaml (1 conversions, ids pinned, as a use of set ecommerce).
    ----- stderr -----
    ");

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
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/act_1.yaml): no changes.

    act_2 (conversions/act_2.yaml): no changes.

    act_3 (conversions/act_3.yaml): no changes.

    No changes.
    ----- stderr -----
    conversions/sets/ecommerce.yaml:16:11: warning: the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, "A conversion rule is required at creation time") (set ecommerce, used by 2 accounts: act_1 at conversions/act_1.yaml:9:3, act_2 at conversions/act_2.yaml:9:3)
       |
    16 |     rule: {event: {eq: Lead}}
       |           ^^^^^^
    help: add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`
    "#);
}
