//! State persistence (atomic save after writes and at shutdown, loaded at start) and the
//! `convctl emulator` command: first stdout line, clean stop on SIGTERM/SIGINT with state saved.

use super::answer_settings;
use crate::assert_run;
use crate::support::Convctl;
use crate::support::child::ChildEmulator;
use crate::support::emulator::{start, try_start};
use crate::support::snapshot::text_settings;
use convctl::emulator::EmulatorConfig;
use reqwest::Client;
use serde_json::Value;
use std::time::{Duration, Instant};

async fn create(client: &Client, base: &str, name: &str) -> String {
    let v: Value = client
        .post(format!("{base}/v26.0/act_1/customconversions"))
        .bearer_auth("tok")
        // A rule of its own: the strict profile refuses a rule the account holds.
        .form(&[
            ("name", name),
            ("rule", &format!(r#"{{"url":{{"i_contains":"{name}"}}}}"#)),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn state_is_saved_after_writes_and_at_shutdown_and_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("state.json");
    let config = EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    };
    let emu = start(config.clone()).await;
    let client = Client::new();
    let id = create(&client, &emu.base_url(), "kept").await;
    // Saved while running (debounced), without waiting for shutdown.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !path.exists() {
        assert!(Instant::now() < deadline, "state not saved after a write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    create(&client, &emu.base_url(), "also kept").await;
    emu.shutdown().await.unwrap();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(saved, @r#"
    {
      "conversions": [
        {
          "account_id": "1",
          "creation_time": [time],
          "custom_event_type": "OTHER",
          "default_conversion_value": 0.0,
          "description": "",
          "id": "23850000000000001",
          "is_archived": false,
          "is_unavailable": false,
          "name": "kept",
          "rule": "{\"url\":{\"i_contains\":\"kept\"}}"
        },
        {
          "account_id": "1",
          "creation_time": [time],
          "custom_event_type": "OTHER",
          "default_conversion_value": 0.0,
          "description": "",
          "id": "23850000000000002",
          "is_archived": false,
          "is_unavailable": false,
          "name": "also kept",
          "rule": "{\"url\":{\"i_contains\":\"also kept\"}}"
        }
      ],
      "format": 1,
      "next_id": "23850000000000003"
    }
    "#);
    });
    // The state and its lock file (kept: see `StateLock`), no temporary file.
    let mut left: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["state.json", "state.json.lock"],
        "no temp files left behind"
    );

    let emu = start(config).await;
    let v: Value = client
        .get(format!("{}/v26.0/{id}?fields=name", emu.base_url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "kept");
    let third = create(&client, &emu.base_url(), "new").await;
    assert!(third > id, "ids keep increasing after a reload");
    emu.shutdown().await.unwrap();

    std::fs::write(&path, "{broken").unwrap();
    let e = try_start(EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .err()
    .expect("a broken state file is an error");
    text_settings().bind(|| insta::assert_snapshot!(e, @"emulator state [tmp]/nested/state.json is not a valid state document (key must be a string at line 1 column 2); move it away to start with an empty state"));
    assert!(
        matches!(
            e,
            convctl::emulator::EmulatorError::State(convctl::emulator::StateError::Invalid { .. })
        ),
        "a damaged state file is told apart from other start-up errors: {e:?}"
    );
}

#[test]
fn bad_options_are_clear_errors() {
    let run = |extra: &[&str]| Convctl::new().arg("emulator").args(extra).run();
    assert_run!(run(&["--fault-rate", "1.5"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --fault-rate 1.5 is not a fraction: give a number between 0 and 1, e.g. 0.1
    ");
    assert_run!(run(&["--account", "acct_1"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --account: `acct_1` is not an ad account id: write `act_` followed by digits, e.g. act_1234567890
    ");
    assert_run!(run(&["--listen", "nowhere"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --listen `nowhere` is not an address: write IP:PORT, e.g. 127.0.0.1:[port]
    ");
}

#[test]
fn command_prints_its_address_and_saves_on_sigterm() {
    let mut logs = Vec::new();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let log = dir.path().join("emulator.log");
        // Not ChildEmulator::start: without `--listen`, to see the default address.
        let mut emulator = ChildEmulator::spawn(
            &[
                "--state",
                state.to_str().unwrap(),
                "--token",
                "secret-token-canary",
            ],
            Some(&log),
        );
        let base = emulator.base.clone();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = Client::new();
            let r = client
                .post(format!("{base}/v26.0/act_1/customconversions"))
                .bearer_auth("secret-token-canary")
                .form(&[("name", "n"), ("rule", r#"{"url":{"i_contains":"x"}}"#)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let r = client
                .get(format!("{base}/v26.0/act_1/customconversions"))
                .bearer_auth("wrong")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400);
        });
        let exit = emulator
            .stop(signal, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("the emulator did not stop on {signal}"));
        assert_eq!(exit.code(), Some(0), "{signal}");
        let stderr = std::fs::read_to_string(&log).unwrap();
        assert!(
            !stderr.contains("canary"),
            "the token never appears: {stderr}"
        );
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        assert_eq!(
            saved["conversions"].as_array().unwrap().len(),
            1,
            "{signal}"
        );
        logs.push(format!("stderr, stopped by signal {signal}:\n{stderr}"));
    }
    // All the emulator says on stderr: no token, nothing but its stop.
    insta::assert_snapshot!(logs.concat(), @"
    stderr, stopped by signal 15:
    emulator: stopping
    stderr, stopped by signal 2:
    emulator: stopping
    ");
}

/// A script may signal the emulator the moment it has read the address: the signal is heard
/// (exit 0, state saved), never the default action that ends the process unsaved.
#[test]
fn a_signal_right_after_the_address_is_heard() {
    let mut saved = std::collections::BTreeSet::new();
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let mut emulator = ChildEmulator::spawn(&["--state", state.to_str().unwrap()], None);
        let exit = emulator
            .stop(libc::SIGTERM, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("round {round}: the emulator did not stop"));
        assert_eq!(exit.code(), Some(0), "round {round}: {exit:?}");
        assert!(state.exists(), "round {round}: the state was saved");
        saved.insert(std::fs::read_to_string(&state).unwrap());
    }
    // Every round saved the same empty state, whole.
    let saved: Vec<String> = saved.into_iter().collect();
    insta::assert_snapshot!(saved.join("\n-----\n"), @r#"{"format":1,"next_id":"23850000000000001","conversions":[]}"#);
}
