//! The client gives the same results under both emulator profiles, and a
//! field refusal is learnt once per run: a 200-account plan under `--strict` makes at most
//! 1.2x the round trips of the lenient profile (counted by `/_emulator/stats`).
//!
//! (scripts/test runs every test that starts an emulator a second time with
//! `CONVCTL_TEST_STRICT=1`; these tests name the profile themselves, so that rerun leaves them
//! out.)

use crate::support::Harness;
use crate::support::snapshot::text_settings;
use convctl::emulator::EmulatorConfig;
use serde_json::{Value, json};

fn env(strict: bool, faults: bool) -> Harness {
    let mut config = EmulatorConfig {
        strict,
        ..EmulatorConfig::default()
    };
    if faults {
        config.fault_rate = 0.1;
        config.drop_after_commit = 0.2;
        config.seed = Some(7);
        config.score_window = crate::support::emulator::FAULT_SCORE_WINDOW;
    }
    Harness::with_profile(config)
}

/// 200 accounts, each with two conversions; the manifests keep one as it is, change the
/// description of the other and add a third.
fn agency(env: &Harness) {
    let mut seeds = Vec::new();
    for a in 1..=200 {
        let account = format!("act_{}", 7000 + a);
        seeds.push(
            json!({"account": account, "name": "Purchase", "custom_event_type": "PURCHASE",
            "event_source_id": "555", "rule": {"event": {"eq": "Purchase"}}}),
        );
        seeds.push(json!({"account": account, "name": "Lead", "custom_event_type": "LEAD",
            "event_source_id": "555", "rule": {"url": {"i_contains": "thanks"}}, "description": "old"}));
        env.write(
            &format!("m/{account}.yaml"),
            &format!(
                r#"account: {account}
defaults:
  event_source_id: "555"
conversions:
  - name: Purchase
    custom_event_type: PURCHASE
    rule: {{event: {{eq: Purchase}}}}
  - name: Lead
    custom_event_type: LEAD
    description: new
    rule: {{url: {{i_contains: thanks}}}}
  - name: Signup
    custom_event_type: COMPLETE_REGISTRATION
    rule: {{url: {{i_contains: welcome}}}}
"#
            ),
        );
    }
    env.seed(Value::Array(seeds));
}

fn round_trips(env: &Harness) -> u64 {
    env.stats()["http_requests"].as_u64().unwrap()
}

#[test]
fn a_200_account_plan_learns_the_field_refusal_once() {
    let mut trips = Vec::new();
    let mut plans = Vec::new();
    for strict in [false, true] {
        let env = env(strict, false);
        agency(&env);
        let before = round_trips(&env);
        let plan = env.run(&["-v", "plan", "--format", "json", "m"]);
        assert_eq!(plan.code, 0, "{plan}");
        trips.push(round_trips(&env) - before);
        let refusals = plan.stderr.matches("refused the full field list").count();
        assert_eq!(
            refusals,
            usize::from(strict),
            "learnt once per run, strict = {strict}: {}",
            plan.stderr
        );
        plans.push(plan.stdout);
    }
    assert_eq!(plans[0], plans[1], "the same plan under both profiles");
    let doc: Value = serde_json::from_str(&plans[0]).unwrap();
    // 200 creates and 200 updates; unknown fields never force a replacement.
    insta::assert_json_snapshot!(doc["summary"], @r#"
    {
      "create": 200,
      "delete": 0,
      "replace": 0,
      "retire": 0,
      "unmanaged": 0,
      "update": 200
    }
    "#);
    let (lenient, strict) = (trips[0] as f64, trips[1] as f64);
    eprintln!("200-account plan round trips: lenient {lenient}, strict {strict}");
    assert!(
        strict <= 1.2 * lenient,
        "round trips: lenient {lenient}, strict {strict} (more than 1.2x)"
    );
}

/// A representative reconcile with faults (transient errors, lost answers of committed
/// writes), applied under both profiles: the same end state, and a plan of no changes after.
#[test]
fn a_faulty_apply_ends_the_same_under_both_profiles() {
    let mut states = Vec::new();
    for strict in [false, true] {
        let env = env(strict, true);
        env.seed(json!([
            {"account": "act_1", "name": "Old", "custom_event_type": "LEAD", "event_source_id": "555",
             "rule": {"url": {"i_contains": "old"}}},
            {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT",
             "event_source_id": "555", "rule": {"url": {"i_contains": "/checkout"}}},
        ]));
        let mut manifest = String::from(
            "account: act_1\ndefaults:\n  event_source_id: \"555\"\nconversions:\n  - name: Old\n    ensure: absent\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {or: [{url: {i_contains: /checkout}}, {url: {i_contains: /pay}}]}\n",
        );
        for i in 0..60 {
            manifest.push_str(&format!(
                "  - name: c{i:02}\n    custom_event_type: PURCHASE\n    default_conversion_value: {i}\n    rule: {{and: [{{event: {{eq: Purchase}}}}, {{value: {{gt: {i}}}}}]}}\n"
            ));
        }
        env.write("m/act_1.yaml", &manifest);
        // Faults may leave work for a second run; it must finish the job without duplicates.
        let first = env.run(&["apply", "--auto-approve", "m"]);
        if first.code != 0 {
            let again = env.run(&["apply", "--auto-approve", "m"]);
            assert_eq!(again.code, 0, "strict = {strict}\n{first}\n{again}");
        }
        let plan = env.run(&["plan", "m"]);
        assert_eq!(plan.last_line(), "No changes.", "strict = {strict}\n{plan}");
        let mut state: Vec<(String, String, String)> = env
            .live("act_1")
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["rule"].as_str().unwrap().to_string(),
                    c["default_conversion_value"].to_string(),
                )
            })
            .collect();
        state.sort();
        states.push(state);
    }
    assert_eq!(states[0], states[1]);
    // No duplicates, the tombstone deleted, the checkout rule changed: the manifest exactly.
    let shown: Vec<String> = states[0]
        .iter()
        .map(|(name, rule, value)| format!("{name}  {rule}  {value}"))
        .collect();
    insta::assert_snapshot!("faulty_apply_end_state", shown.join("\n"));
}

/// `--sandbox` takes the strict profile from `CONVCTL_SANDBOX_STRICT=1`.
#[test]
fn the_sandbox_is_strict_with_convctl_sandbox_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {url: {i_contains: a}}\n",
    )
    .unwrap();
    let run = |strict: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_convctl"));
        command
            .args(["--sandbox=state.json", "-v", "plan", "acme.yaml"])
            .current_dir(dir.path())
            .env_remove("CONVCTL_SANDBOX_STRICT")
            .env_remove("CONVCTL_API_BASE")
            .stdin(std::process::Stdio::null());
        if let Some(v) = strict {
            command.env("CONVCTL_SANDBOX_STRICT", v);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (lenient_plan, lenient_log) = run(None);
    let (strict_plan, strict_log) = run(Some("1"));
    // The same plan; only the strict profile refuses the full field list.
    text_settings().bind(|| {
        insta::assert_snapshot!(lenient_plan, @r#"
        act_1 (acme.yaml) will change:

          # "A" will be created
          + conversion "A" {
              + name                     = "A"
              + custom_event_type        = "LEAD"
              + default_conversion_value = 0
              + rule                     = {"url": {"i_contains": "a"}}
            }

        Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
        "#);
        insta::assert_snapshot!(lenient_log, @"graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1] usage account [share]% reset in [duration]");
        insta::assert_snapshot!(strict_log, @"
        graph: GET /v27.0/act_1/customconversions (page 1) → 400 in [duration] [act_1] usage account [share]% reset in [duration]
        graph: act_1: the API refused the full field list ((#100) Tried accessing nonexisting field (advanced_rule) on node type (CustomConversion)); asking again without advanced_rule, event_source_id, pixel, action_source_type, for the rest of the run (they stay unknown)
        graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1] usage account [share]% reset in [duration]
        ");
    });
    assert_eq!(lenient_plan, strict_plan);
}
