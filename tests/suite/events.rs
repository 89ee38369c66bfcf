//! Conversions API end to end against the in-process emulator on loopback: the client's
//! `send_events` (token in the header, never resent when the answer is lost), `convctl events
//! send` (offline validation first, nothing sent when invalid) and `convctl test --live`.

use crate::assert_run;
use crate::support::emulator::{start, with_token};
use crate::support::snapshot::text_settings;
use crate::support::{Convctl, Run, TOKEN, in_background, now};
use convctl::emulator::{EmulatorConfig, RunningEmulator, SeedConversion};
use convctl::graph::{ErrorKind, GraphClient, GraphConfig, RetryPolicy};
use convctl::model::Secret;
use convctl::model::ids::ObjectId;
use serde_json::{Value, json};

fn purchase(time: i64, value: f64) -> Value {
    json!({"event_name": "Purchase", "event_time": time, "action_source": "website",
           "event_source_url": "https://shop.example/checkout", "event_id": format!("e{time}-{value}"),
           "user_data": {"client_user_agent": "ua", "external_id": ["abc"]},
           "custom_data": {"value": value, "currency": "EUR"}})
}

fn seed(emu: &RunningEmulator, name: &str, pixel: &str, rule: Value) -> String {
    emu.insert_conversion(SeedConversion {
        account: "act_42".into(),
        name: name.into(),
        rule: Some(rule),
        event_source_id: Some(pixel.into()),
        custom_event_type: Some("PURCHASE".into()),
        ..SeedConversion::default()
    })
    .unwrap()
}

/// `last_fired_time` of conversion `id` in the emulator's state (None when it never fired).
fn last_fired(emu: &RunningEmulator, id: &str) -> Option<Value> {
    let state = emu.state();
    let text = state.to_string();
    assert!(text.contains(id), "conversion {id} in state");
    fn find(value: &Value, id: &str) -> Option<Value> {
        match value {
            Value::Object(map) => {
                if map.get("id").and_then(Value::as_str) == Some(id) {
                    return Some(map.get("last_fired_time").cloned().unwrap_or(Value::Null));
                }
                map.values().find_map(|v| find(v, id))
            }
            Value::Array(items) => items.iter().find_map(|v| find(v, id)),
            _ => None,
        }
    }
    find(&state, id).filter(|v| !v.is_null())
}

fn client(emu: &RunningEmulator) -> GraphClient {
    let mut config = GraphConfig::new(emu.base_url(), Secret::new(TOKEN));
    config.retry = RetryPolicy::fast();
    GraphClient::new(config).unwrap()
}

#[tokio::test]
async fn send_events_reaches_the_pixel_with_the_token_in_the_header() {
    let emu = start(with_token()).await;
    let big = seed(
        &emu,
        "big",
        "55",
        json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]}),
    );
    let small = seed(&emu, "small", "55", json!({"value": {"lt": 10}}));
    let t = now();
    let receipt = client(&emu)
        .send_events(
            &ObjectId::parse("55").unwrap(),
            &[purchase(t - 5, 150.0)],
            Some("TEST1"),
        )
        .await
        .unwrap();
    assert_eq!(receipt.events_received, 1);
    assert!(receipt.fbtrace_id.is_some());
    assert!(
        last_fired(&emu, &big).is_some(),
        "the matching conversion fired"
    );
    assert!(last_fired(&emu, &small).is_none(), "the other did not");
    let stats = emu.stats();
    assert_eq!(stats["auth"]["query"], 0, "{stats}");
    assert_eq!(stats["auth"]["form"], 0, "{stats}");
    assert_eq!(stats["auth"]["header"], 1, "{stats}");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_lost_answer_is_reported_and_never_resent() {
    let emu = start(EmulatorConfig {
        drop_after_commit: 1.0,
        seed: Some(7),
        ..with_token()
    })
    .await;
    let error = client(&emu)
        .send_events(
            &ObjectId::parse("55").unwrap(),
            &[purchase(now(), 1.0)],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Uncertain, "{error}");
    text_settings().bind(|| insta::assert_snapshot!(error.to_string(), @"the answer to sending 1 events was lost (the connection to http://127.0.0.1:[port] failed: connection closed before message completed); they may have been received, so they were not sent again (server events are not deduplicated): check Events Manager → Test Events before resending"));
    assert_eq!(emu.stats()["requests"], 1, "exactly one attempt");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_api_refusal_is_reported_with_its_code() {
    let emu = start(with_token()).await;
    let too_old = purchase(now() - 8 * 86_400, 1.0);
    let error = client(&emu)
        .send_events(&ObjectId::parse("55").unwrap(), &[too_old], None)
        .await
        .unwrap_err();
    assert_eq!(error.code, Some(100), "{error}");
    text_settings().bind(|| insta::assert_snapshot!(error.to_string(), @"Invalid parameter [code 100, subcode 2804003, fbtrace_id [trace id]]; Meta says: Event Timestamp Too Old: event 0: The timestamp for this event is too far in the past. Events need to be sent within 7 days of when they occurred."));
    assert_eq!(emu.stats()["requests"], 1, "a refusal is not retried");
    emu.shutdown().await.unwrap();
}

// ---- the binary ----

/// Runs the binary off the runtime's threads (the emulator keeps serving meanwhile).
async fn run(convctl: Convctl<'static>) -> Run {
    in_background(move || convctl.run()).await
}

/// Same, as (exit code, stdout, stderr).
async fn run_parts(convctl: Convctl<'static>) -> (i32, String, String) {
    let run = in_background(move || convctl.run()).await;
    (run.code, run.stdout, run.stderr)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_send_validates_then_sends() {
    let emu = start(with_token()).await;
    let big = seed(
        &emu,
        "big",
        "55",
        json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let t = now();
    // The request shape, with one event as a JSON string (as the Python SDK sends it).
    let file = write(
        &dir,
        "events.json",
        &json!({"data": [purchase(t - 60, 150.0), purchase(t - 30, 5.0).to_string()]}).to_string(),
    );
    let base = emu.base_url();
    let out = run(Convctl::new().against(&base).args(&[
        "events",
        "send",
        "--pixel",
        "55",
        "--file",
        &file,
        "--test-event-code",
        "TEST42",
    ]))
    .await;
    assert_run!(out, @"
    success: true
    exit_code: 0
    ----- stdout -----
    pixel 55: 2 events received (test event code TEST42: see Events Manager → Test Events); fbtrace_id [trace id]
    ----- stderr -----
    ");
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("pixel 55: 2 events received (test event code TEST42"),
        "{stdout}"
    );
    assert!(stdout.contains("fbtrace_id"), "{stdout}");
    assert!(last_fired(&emu, &big).is_some());
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_events_are_refused_offline_and_nothing_is_sent() {
    let emu = start(with_token()).await;
    let dir = tempfile::tempdir().unwrap();
    let t = now();
    let base = emu.base_url();
    let mut no_agent = purchase(t, 1.0);
    no_agent["user_data"]
        .as_object_mut()
        .unwrap()
        .remove("client_user_agent");
    let mut store = purchase(t - 30 * 86_400, 1.0);
    store["action_source"] = json!("physical_store");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([purchase(t - 8 * 86_400, 1.0)]),
            "event 0: The timestamp for this event is too far in the past",
        ),
        (
            json!([purchase(t, 1.0), purchase(t + 3600, 1.0)]),
            "event 1: The timestamp for this event is in the future",
        ),
        (json!([no_agent]), "client_user_agent"),
        (
            json!([{"event_time": t, "action_source": "app", "user_data": {}}]),
            "event_name is missing",
        ),
        (
            Value::Array((0..1001).map(|i| purchase(t - i, 1.0)).collect()),
            "at most 1000 events",
        ),
        (json!([]), "at least one event"),
        (json!({"events": []}), "must have a `data` array"),
    ];
    for (i, (data, expected)) in cases.into_iter().enumerate() {
        let file = write(&dir, &format!("bad{i}.json"), &data.to_string());
        let (code, _, stderr) = run_parts(
            Convctl::new()
                .against(&base)
                .args(&["events", "send", "--pixel", "55", "--file", &file]),
        )
        .await;
        assert_eq!(code, 1, "case {i}: {stderr}");
        assert!(stderr.contains(expected), "case {i}: {stderr}");
        assert!(stderr.contains(&file), "case {i} names the file: {stderr}");
    }
    // physical_store events may be 30 days old (62-day window): valid, but --dry-run sends nothing.
    let file = write(&dir, "store.json", &json!([store]).to_string());
    let out = run(Convctl::new().against(&base).args(&[
        "events",
        "send",
        "--pixel",
        "55",
        "--file",
        &file,
        "--dry-run",
    ]))
    .await;
    assert_run!(out, @"
    success: true
    exit_code: 0
    ----- stdout -----
    1 event valid for pixel 55; nothing sent (--dry-run)
    ----- stderr -----
    ");
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 event valid"), "{stdout}");
    let file = write(&dir, "notjson.json", "[{\"event_name\": }");
    let out = run(Convctl::new()
        .token(TOKEN)
        .args(&["events", "send", "--pixel", "55", "--file", &file]))
    .await;
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: [tmp]/notjson.json:1:17: not JSON: expected value at line 1 column 17; write a JSON array of events, or {"data": [...]}
    "#);
    let Run { code, stderr, .. } = out;
    assert_eq!(code, 1);
    assert!(stderr.contains("notjson.json:1:"), "{stderr}");
    assert_eq!(emu.stats()["requests"], 0, "nothing reached the API");
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_reported_without_the_token() {
    let emu = start(with_token()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "events.json",
        &json!([purchase(now(), 1.0)]).to_string(),
    );
    let base = emu.base_url();
    let out = run(Convctl::new()
        .args(&["--api-base", &base])
        .token("wrong-token-0815")
        .args(&[
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            &file,
            "--test-event-code",
            "T",
        ]))
    .await;
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: sending events to pixel 55: Invalid OAuth access token - Cannot parse access token [code 190, subcode 467, fbtrace_id [trace id]]
    help: renew the access token (--access-token-file or META_ACCESS_TOKEN)
    ");
    let Run { code, stderr, .. } = out;
    assert_eq!(code, 1);
    assert!(stderr.contains("190"), "{stderr}");
    assert!(!stderr.contains("wrong-token-0815"), "{stderr}");
    let out = run(Convctl::new()
        .args(&["--api-base", &base])
        .args(&["events", "send", "--pixel", "55", "--file", &file]))
    .await;
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    warning: no --test-event-code: these events are processed as real events, not only shown in Test Events
    error: no access token: pass --access-token-file FILE or set META_ACCESS_TOKEN (a token with ads_management on the accounts), or try convctl without one against the built-in emulator with --sandbox
    ");
    let Run { code, stderr, .. } = out;
    assert_eq!(code, 1);
    assert!(stderr.contains("no access token"), "{stderr}");
    emu.shutdown().await.unwrap();
}

const MANIFEST: &str = r#"
account: act_42
defaults:
  event_source_id: "77"
conversions:
  - name: High value purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
    tests:
      match: [{event: Purchase, value: 150}]
      no_match: [{event: Purchase, value: 50}]
  - name: Thank you page
    custom_event_type: PURCHASE
    rule: {url: {i_contains: thankyou.html}}
    tests:
      match: [{url: "https://shop.example/thankyou.html"}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_live_fires_the_conversions_it_tests() {
    let emu = start(with_token()).await;
    let big = seed(
        &emu,
        "High value purchase",
        "77",
        json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]}),
    );
    let thanks = seed(
        &emu,
        "Thank you page",
        "77",
        json!({"url": {"i_contains": "thankyou.html"}}),
    );
    let unrelated = seed(&emu, "Leads", "77", json!({"event": {"eq": "Lead"}}));
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(&dir, "shop.yaml", MANIFEST);
    let base = emu.base_url();
    let out = run(Convctl::new().against(&base).args(&[
        "test",
        &manifest,
        "--live",
        "--test-event-code",
        "TEST7",
    ]))
    .await;
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ok    act_42 "High value purchase" match[0]
    ok    act_42 "High value purchase" no_match[0]
    ok    act_42 "Thank you page" match[0]
    test result: ok. 3 passed; 0 failed (0 conversions without tests)
    sent  act_42 "High value purchase" match[0] → pixel 77
    sent  act_42 "Thank you page" match[0] → pixel 77
    pixel 77: 2 events received (test event code TEST7: see Events Manager → Test Events); fbtrace_id [trace id]
    ----- stderr -----
    "#);
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("test result: ok. 3 passed"), "{stdout}");
    assert!(
        stdout.contains("sent  act_42 \"High value purchase\" match[0] → pixel 77"),
        "{stdout}"
    );
    assert!(stdout.contains("pixel 77: 2 events received"), "{stdout}");
    assert!(last_fired(&emu, &big).is_some());
    assert!(last_fired(&emu, &thanks).is_some());
    assert!(last_fired(&emu, &unrelated).is_none());
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_live_sends_nothing_when_a_test_fails_or_no_code_is_given() {
    let emu = start(with_token()).await;
    let dir = tempfile::tempdir().unwrap();
    let failing = MANIFEST.replace("value: 150}]", "value: 99}]");
    let manifest = write(&dir, "shop.yaml", &failing);
    let base = emu.base_url();
    let out = run(Convctl::new().against(&base).args(&[
        "test",
        &manifest,
        "--live",
        "--test-event-code",
        "T",
    ]))
    .await;
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    FAIL  [tmp]/shop.yaml:10:15: error: act_42 "High value purchase": the rule should match this event, but does not (match[0]): {"event":"Purchase","value":99}; false: {"value":{"gt":100}}
    help: fix the rule, or the example event if the rule is right
    ok    act_42 "High value purchase" no_match[0]
    ok    act_42 "Thank you page" match[0]
    test result: FAILED. 2 passed; 1 failed (0 conversions without tests)
    ----- stderr -----
    "#);
    let Run { code, stdout, .. } = out;
    assert_eq!(code, 1, "{stdout}");
    let manifest = write(&dir, "ok.yaml", MANIFEST);
    let out = run(Convctl::new()
        .against(&base)
        .args(&["test", &manifest, "--live"]))
    .await;
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ok    act_42 "High value purchase" match[0]
    ok    act_42 "High value purchase" no_match[0]
    ok    act_42 "Thank you page" match[0]
    test result: ok. 3 passed; 0 failed (0 conversions without tests)
    ----- stderr -----
    error: --live needs --test-event-code CODE (Events Manager → Test Events shows it): without a code the test events would count as real conversions
    "#);
    let Run { code, stderr, .. } = out;
    assert_eq!(code, 1);
    assert!(stderr.contains("--test-event-code"), "{stderr}");
    assert_eq!(emu.stats()["requests"], 0, "nothing reached the API");
    emu.shutdown().await.unwrap();
}

/// `last_fired_time` by conversion name, from a sandbox state file.
fn fired_in_sandbox(state: &std::path::Path) -> std::collections::BTreeMap<String, bool> {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    state["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                !c["last_fired_time"].is_null(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_apply_then_test_live_and_events_send() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        &dir,
        "shop.yaml",
        &format!(
            "{MANIFEST}\n  - name: Leads\n    custom_event_type: LEAD\n    rule: {{and: [{{event: {{eq: Lead}}}}, {{url: {{i_contains: /contact}}}}]}}\n"
        ),
    );
    let state = dir.path().join("sandbox.json");
    let sandbox = format!("--sandbox={}", state.display());
    let out =
        run(Convctl::new().args(&[&sandbox, "apply", &manifest, "--auto-approve", "-q"])).await;
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 ([tmp]/shop.yaml) will change:

      # "High value purchase" will be created
      + conversion "High value purchase" {
          + name                     = "High value purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "77"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      # "Thank you page" will be created
      + conversion "Thank you page" {
          + name                     = "Thank you page"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "77"
          + rule                     = {"url": {"i_contains": "thankyou.html"}}
        }

      # "Leads" will be created
      + conversion "Leads" {
          + name                     = "Leads"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + event_source_id          = "77"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Lead"}},
                    {"url": {"i_contains": "/contact"}}
                  ]
                }
        }

    Plan: 3 to create, 0 to update, 0 to replace, 0 to delete.
    act_42: + create "High value purchase": created, id 23850000000000001
    act_42: + create "Thank you page": created, id 23850000000000002
    act_42: + create "Leads": created, id 23850000000000003
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    "#);
    let Run { code, stderr, .. } = out;
    assert_eq!(code, 0, "{stderr}");
    assert!(fired_in_sandbox(&state).values().all(|fired| !fired));

    // No token and no test code needed in the sandbox.
    let out = run(Convctl::new().args(&[&sandbox, "test", &manifest, "--live"])).await;
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ok    act_42 "High value purchase" match[0]
    ok    act_42 "High value purchase" no_match[0]
    ok    act_42 "Thank you page" match[0]
    test result: ok. 3 passed; 0 failed (1 conversion without tests)
    sent  act_42 "High value purchase" match[0] → pixel 77
    sent  act_42 "Thank you page" match[0] → pixel 77
    pixel 77: 2 events received; fbtrace_id [trace id]
    ----- stderr -----
    "#);
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let fired = fired_in_sandbox(&state);
    assert!(fired["High value purchase"]);
    assert!(fired["Thank you page"]);
    assert!(!fired["Leads"], "no rule test for it: not fired");

    let lead = json!([{"event_name": "Lead", "event_time": now(), "action_source": "system_generated",
                       "event_source_url": "https://shop.example/contact",
                       "user_data": {"external_id": ["x"]}}]);
    let file = write(&dir, "lead.json", &lead.to_string());
    let out = run(Convctl::new().args(&[
        &sandbox,
        "events",
        "send",
        "--pixel",
        "77",
        "--file",
        &file,
        "--test-event-code",
        "T9",
    ]))
    .await;
    assert_run!(out, @"
    success: true
    exit_code: 0
    ----- stdout -----
    pixel 77: 1 event received (test event code T9: see Events Manager → Test Events); fbtrace_id [trace id]
    ----- stderr -----
    ");
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("pixel 77: 1 event received"), "{stdout}");
    assert!(fired_in_sandbox(&state)["Leads"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_live_keeps_json_output_one_document() {
    let emu = start(with_token()).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(&dir, "shop.yaml", MANIFEST);
    let base = emu.base_url();
    let out = run(Convctl::new().against(&base).args(&[
        "test",
        &manifest,
        "--format",
        "json",
        "--live",
        "--test-event-code",
        "T",
    ]))
    .await;
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "conversions_without_tests": 0,
      "diagnostics": [],
      "failed": 0,
      "passed": true,
      "results": [
        {
          "account": "act_42",
          "column": 15,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "value": 150
          },
          "expect": "match",
          "file": "[tmp]/shop.yaml",
          "index": 0,
          "line": 10,
          "passed": true
        },
        {
          "account": "act_42",
          "column": 18,
          "conditions": [],
          "conversion": "High value purchase",
          "error": null,
          "event": {
            "event": "Purchase",
            "value": 50
          },
          "expect": "no_match",
          "file": "[tmp]/shop.yaml",
          "index": 0,
          "line": 11,
          "passed": true
        },
        {
          "account": "act_42",
          "column": 15,
          "conditions": [],
          "conversion": "Thank you page",
          "error": null,
          "event": {
            "url": "https://shop.example/thankyou.html"
          },
          "expect": "match",
          "file": "[tmp]/shop.yaml",
          "index": 0,
          "line": 16,
          "passed": true
        }
      ],
      "total": 3
    }
    ----- stderr -----
    sent  act_42 "High value purchase" match[0] → pixel 77
    sent  act_42 "Thank you page" match[0] → pixel 77
    pixel 77: 2 events received (test event code T: see Events Manager → Test Events); fbtrace_id [trace id]
    "#);
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = out;
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["passed"], true);
    assert!(stderr.contains("pixel 77: 2 events received"), "{stderr}");
    emu.shutdown().await.unwrap();
}

#[test]
fn events_send_reads_stdin() {
    let events = json!([purchase(now() - 10, 3.0), purchase(now() - 20, 4.0)]);
    let output = Convctl::new()
        .args(&[
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            "-",
            "--dry-run",
        ])
        .stdin(events.to_string())
        .run();
    assert_run!(output, @"
    success: true
    exit_code: 0
    ----- stdout -----
    2 events valid for pixel 55; nothing sent (--dry-run)
    ----- stderr -----
    ");

    assert!(
        output
            .stdout
            .contains("2 events valid for pixel 55; nothing sent")
    );
}
