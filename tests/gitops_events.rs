//! Conversions API end to end against the in-process emulator on loopback: the client's
//! `send_events` (token in the header, never resent when the answer is lost), `convctl events
//! send` (offline validation first, nothing sent when invalid) and `convctl test --live`.

use convctl::emulator::{self, EmulatorConfig, RunningEmulator, SeedConversion};
use convctl::graph::{ErrorKind, GraphClient, GraphConfig, RetryPolicy};
use convctl::model::Secret;
use convctl::model::ids::ObjectId;
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::Duration;

const TOKEN: &str = "gitops-secret-token-4711";

async fn start(config: EmulatorConfig) -> RunningEmulator {
    emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn with_token() -> EmulatorConfig {
    EmulatorConfig {
        tokens: vec![TOKEN.to_string()],
        ..EmulatorConfig::default()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

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
    assert!(error.to_string().contains("not sent again"), "{error}");
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
    assert_eq!(emu.stats()["requests"], 1, "a refusal is not retried");
    emu.shutdown().await.unwrap();
}

// ---- the binary ----

fn convctl(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_convctl"));
    command
        .args(args)
        .env_remove("META_ACCESS_TOKEN")
        .env_remove("META_APP_SECRET")
        .env_remove("CONVCTL_API_BASE")
        .env_remove("CONVCTL_API_VERSION");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// Runs the binary off the runtime's threads (the emulator keeps serving meanwhile), bounded.
async fn run(args: Vec<String>, envs: Vec<(String, String)>) -> (i32, String, String) {
    let task = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        convctl(&args, &envs)
    });
    let output = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("convctl finished in time")
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn token_env() -> Vec<(String, String)> {
    vec![("META_ACCESS_TOKEN".into(), TOKEN.into())]
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
    let (code, stdout, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            &file,
            "--test-event-code",
            "TEST42",
        ]),
        token_env(),
    )
    .await;
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
        let (code, _, stderr) = run(
            args(&[
                "--api-base",
                &base,
                "events",
                "send",
                "--pixel",
                "55",
                "--file",
                &file,
            ]),
            token_env(),
        )
        .await;
        assert_eq!(code, 1, "case {i}: {stderr}");
        assert!(stderr.contains(expected), "case {i}: {stderr}");
        assert!(stderr.contains(&file), "case {i} names the file: {stderr}");
    }
    // physical_store events may be 30 days old (62-day window): valid, but --dry-run sends nothing.
    let file = write(&dir, "store.json", &json!([store]).to_string());
    let (code, stdout, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            &file,
            "--dry-run",
        ]),
        token_env(),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 event valid"), "{stdout}");
    let file = write(&dir, "notjson.json", "[{\"event_name\": }");
    let (code, _, stderr) = run(
        args(&["events", "send", "--pixel", "55", "--file", &file]),
        token_env(),
    )
    .await;
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
    let (code, _, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            &file,
            "--test-event-code",
            "T",
        ]),
        vec![("META_ACCESS_TOKEN".into(), "wrong-token-0815".into())],
    )
    .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("190"), "{stderr}");
    assert!(!stderr.contains("wrong-token-0815"), "{stderr}");
    let (code, _, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            &file,
        ]),
        vec![],
    )
    .await;
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
    let (code, stdout, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "test",
            &manifest,
            "--live",
            "--test-event-code",
            "TEST7",
        ]),
        token_env(),
    )
    .await;
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
    let (code, stdout, _) = run(
        args(&[
            "--api-base",
            &base,
            "test",
            &manifest,
            "--live",
            "--test-event-code",
            "T",
        ]),
        token_env(),
    )
    .await;
    assert_eq!(code, 1, "{stdout}");
    let manifest = write(&dir, "ok.yaml", MANIFEST);
    let (code, _, stderr) = run(
        args(&["--api-base", &base, "test", &manifest, "--live"]),
        token_env(),
    )
    .await;
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
            "{MANIFEST}\n  - name: Leads\n    custom_event_type: LEAD\n    rule: {{event: {{eq: Lead}}}}\n"
        ),
    );
    let state = dir.path().join("sandbox.json");
    let sandbox = format!("--sandbox={}", state.display());
    let (code, _, stderr) = run(
        args(&[&sandbox, "apply", &manifest, "--auto-approve", "-q"]),
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(fired_in_sandbox(&state).values().all(|fired| !fired));

    // No token and no test code needed in the sandbox.
    let (code, stdout, stderr) = run(args(&[&sandbox, "test", &manifest, "--live"]), vec![]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let fired = fired_in_sandbox(&state);
    assert!(fired["High value purchase"]);
    assert!(fired["Thank you page"]);
    assert!(!fired["Leads"], "no rule test for it: not fired");

    let lead = json!([{"event_name": "Lead", "event_time": now(), "action_source": "system_generated",
                       "user_data": {"external_id": ["x"]}}]);
    let file = write(&dir, "lead.json", &lead.to_string());
    let (code, stdout, stderr) = run(
        args(&[
            &sandbox,
            "events",
            "send",
            "--pixel",
            "77",
            "--file",
            &file,
            "--test-event-code",
            "T9",
        ]),
        vec![],
    )
    .await;
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
    let (code, stdout, stderr) = run(
        args(&[
            "--api-base",
            &base,
            "test",
            &manifest,
            "--format",
            "json",
            "--live",
            "--test-event-code",
            "T",
        ]),
        token_env(),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["passed"], true);
    assert!(stderr.contains("pixel 77: 2 events received"), "{stderr}");
    emu.shutdown().await.unwrap();
}

#[test]
fn events_send_reads_stdin() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args([
            "events",
            "send",
            "--pixel",
            "55",
            "--file",
            "-",
            "--dry-run",
        ])
        .env_remove("META_ACCESS_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let events = json!([purchase(now() - 10, 3.0), purchase(now() - 20, 4.0)]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("2 events valid for pixel 55; nothing sent")
    );
}
