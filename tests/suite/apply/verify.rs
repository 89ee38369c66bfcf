//! After an apply, the accounts written are read again and anything the API
//! stored differently from what was sent is reported per conversion and field (sent, stored),
//! with exit 1 and a hint: never a silent loop where every apply replaces the same conversion.
//! The emulator's `--rewrite-rules` (lower-cases `eq` strings of created rules) plays the API
//! that rewrites a rule in a way convctl does not know is equivalent.

use crate::assert_run;
use crate::support::child::ChildEmulator;
use crate::support::{Convctl, Harness};
use convctl::emulator::EmulatorConfig;

const MANIFEST: &str = r#"
account: act_1
defaults:
  event_source_id: "555"
conversions:
  - name: Big purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
  - name: Thank you
    custom_event_type: PURCHASE
    rule: {url: {i_contains: thankyou}}
"#;

fn rewriting() -> Harness {
    Harness::with(EmulatorConfig {
        rewrite_rules: true,
        ..EmulatorConfig::default()
    })
}

#[test]
fn a_rule_the_api_rewrites_is_reported_per_conversion_and_field() {
    let env = rewriting();
    env.write("conversions/acme.yaml", MANIFEST);
    let run = env.run(&["apply", "--auto-approve"]);
    assert_run!(run, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" will be created
      + conversion "Thank you" {
          + name                     = "Thank you"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     = {"url": {"i_contains": "thankyou"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Big purchase": created, id 23850000000000001
    act_1: + create "Thank you": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    error: inconsistent result after apply: act_1: "Big purchase" (id 23850000000000001): rule: sent {"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}, stored {"and":[{"event":{"eq":"purchase"}},{"value":{"gt":100}}]}
    error: inconsistent result after apply: 1 field(s) stored differently from what was sent
    help: the API stored these differently from what convctl sent. If the stored form means the same, write it in the manifest as stored (so the next plan shows no change); otherwise report it (attach a --trace FILE of the apply). Until then every apply would change them again
    "#);

    // The writes themselves were done and said so.

    let id = env.id_of("act_1", "Big purchase");
    let line = format!(
        "error: inconsistent result after apply: act_1: \"Big purchase\" (id {id}): rule: sent {{\"and\":[{{\"event\":{{\"eq\":\"Purchase\"}}}},{{\"value\":{{\"gt\":100}}}}]}}, stored {{\"and\":[{{\"event\":{{\"eq\":\"purchase\"}}}},{{\"value\":{{\"gt\":100}}}}]}}"
    );
    assert!(run.stderr.contains(&line), "{line}\n{run}");

    // Only the rewritten conversion is reported: the other one was stored as sent.
    assert_eq!(
        run.stderr
            .matches("inconsistent result after apply: act_1:")
            .count(),
        1,
        "{run}"
    );

    // The next apply would replace it again: it says so again, and fails again, instead of
    // looping silently. (Where the API also refuses a second conversion with a rule it holds,
    // as the strict profile does, the replacement's create is refused instead, and the report
    // says why: either way a failure that explains itself.)
    let again = env.run(&["apply", "--auto-approve"]);
    if crate::support::profile::strict() {
        assert_run!(again, @r#"
        success: false
        exit_code: 1
        ----- stdout -----
        act_1 (conversions/acme.yaml) will change:

          # "Big purchase" (id 23850000000000001) must be replaced: create the new one, then delete the old one
        -/+ conversion "Big purchase" {
                id   = "23850000000000001"
              ~ rule = # forces replacement
                    {
                      "and": [
                  -     {"event": {"eq": "purchase"}},
                  +     {"event": {"eq": "Purchase"}},
                        {"value": {"gt": 100}}
                      ]
                    }
            }

        Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
        act_1: FAILED replace "Big purchase" (id 23850000000000001): creating the new conversion failed, so the old id 23850000000000001 was kept: act_1, conversion "Big purchase": (#100) Invalid parameter [code 100, subcode 1760002, fbtrace_id [trace id]]; Meta says: Duplicate Custom Conversion Rule: A custom conversion with the same rule already exists in this ad account.
        help: the ad account already holds a conversion with this rule (renaming or archiving one does not free its rule): change the rule, or remove the other one in Events Manager
        Apply failed part way: 0 done, 1 failed, 0 not done. Change what the lines above ask, then run `convctl apply` again: it picks up where this stopped, without duplicates.
        ----- stderr -----
        "#);
    } else {
        assert_run!(again, @r#"
        success: false
        exit_code: 1
        ----- stdout -----
        act_1 (conversions/acme.yaml) will change:

          # "Big purchase" (id 23850000000000001) must be replaced: create the new one, then delete the old one
        -/+ conversion "Big purchase" {
                id   = "23850000000000001"
              ~ rule = # forces replacement
                    {
                      "and": [
                  -     {"event": {"eq": "purchase"}},
                  +     {"event": {"eq": "Purchase"}},
                        {"value": {"gt": 100}}
                      ]
                    }
            }

        Plan: 0 to create, 0 to update, 1 to replace, 0 to delete.
        act_1: -/+ replace "Big purchase" (id 23850000000000001): new id 23850000000000003, old id 23850000000000001 deleted
        Apply complete: 1 of 1 actions done.
        ----- stderr -----
        error: inconsistent result after apply: act_1: "Big purchase" (id 23850000000000003): rule: sent {"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}, stored {"and":[{"event":{"eq":"purchase"}},{"value":{"gt":100}}]}
        error: inconsistent result after apply: 1 field(s) stored differently from what was sent
        help: the API stored these differently from what convctl sent. If the stored form means the same, write it in the manifest as stored (so the next plan shows no change); otherwise report it (attach a --trace FILE of the apply). Until then every apply would change them again
        "#);
    }
}

#[test]
fn a_saved_plan_is_checked_the_same_way() {
    let env = rewriting();
    env.write("conversions/acme.yaml", MANIFEST);
    let plan = env.run(&["plan", "--out", "p.json"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" will be created
      + conversion "Thank you" {
          + name                     = "Thank you"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     = {"url": {"i_contains": "thankyou"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    Saved the plan to p.json; `convctl apply --plan p.json` does exactly this.
    "#);

    let run = env.run(&["apply", "--plan", "p.json", "--auto-approve"]);
    assert_run!(run, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (conversions/acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" will be created
      + conversion "Thank you" {
          + name                     = "Thank you"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     = {"url": {"i_contains": "thankyou"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Big purchase": created, id 23850000000000001
    act_1: + create "Thank you": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    error: inconsistent result after apply: act_1: "Big purchase" (id 23850000000000001): rule: sent {"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}, stored {"and":[{"event":{"eq":"purchase"}},{"value":{"gt":100}}]}
    error: inconsistent result after apply: 1 field(s) stored differently from what was sent
    help: the API stored these differently from what convctl sent. If the stored form means the same, write it in the manifest as stored (so the next plan shows no change); otherwise report it (attach a --trace FILE of the apply). Until then every apply would change them again
    "#);
}

#[test]
fn what_the_api_stores_as_sent_passes_the_check() {
    let env = Harness::new();
    env.write("conversions/acme.yaml", MANIFEST);
    let run = env.run(&["apply", "--auto-approve"]);
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" will be created
      + conversion "Thank you" {
          + name                     = "Thank you"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     = {"url": {"i_contains": "thankyou"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Big purchase": created, id 23850000000000001
    act_1: + create "Thank you": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    "#);

    // The check re-read the account once, in one listing round trip after the writes.
    let stats = env.stats();
    assert!(stats["http_requests"].as_u64().unwrap() <= 4, "{stats}");
}

/// The same end to end through `convctl emulator --rewrite-rules` as its own process.
#[test]
fn the_emulator_option_rewrites_through_the_binary() {
    let emulator = ChildEmulator::start(&["--rewrite-rules"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), MANIFEST).unwrap();
    let out = Convctl::new()
        .against(&emulator.base)
        .args(&["apply", "--auto-approve", "acme.yaml"])
        .current_dir(dir.path())
        .run();
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    act_1 (acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you" will be created
      + conversion "Thank you" {
          + name                     = "Thank you"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     = {"url": {"i_contains": "thankyou"}}
        }

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "Big purchase": created, id 23850000000000001
    act_1: + create "Thank you": created, id 23850000000000002
    Apply complete: 2 of 2 actions done.
    ----- stderr -----
    error: inconsistent result after apply: act_1: "Big purchase" (id 23850000000000001): rule: sent {"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}, stored {"and":[{"event":{"eq":"purchase"}},{"value":{"gt":100}}]}
    error: inconsistent result after apply: 1 field(s) stored differently from what was sent
    help: the API stored these differently from what convctl sent. If the stored form means the same, write it in the manifest as stored (so the next plan shows no change); otherwise report it (attach a --trace FILE of the apply). Until then every apply would change them again
    "#);
}
