//! Fault injection over real HTTP: transient failures before anything happens, committed
//! writes whose answer is lost (HTTP 500 or a really dropped TCP connection), rate limits with
//! usage headers, latency, and repeatability with a seed.

use super::answer_settings;
use crate::support::emulator::start;
use convctl::emulator::{EmulatorConfig, Faults, RunningEmulator};
use reqwest::Client;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const RULE: &str = r#"{"url":{"i_contains":"x"}}"#;

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The sequence of (status, code) the emulator answers for `n` list calls.
async fn outcomes(emu: &RunningEmulator, n: usize) -> Vec<(u16, Option<u64>)> {
    let client = client();
    let mut out = Vec::new();
    for _ in 0..n {
        let r = client
            .get(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
            .bearer_auth("tok")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["code"].as_u64());
        out.push((status, code));
    }
    out
}

#[tokio::test]
async fn fault_rate_is_transient_mixed_and_repeatable_with_a_seed() {
    let config = EmulatorConfig {
        fault_rate: 0.5,
        seed: Some(42),
        ..EmulatorConfig::default()
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let first = outcomes(&a, 60).await;
    let second = outcomes(&b, 60).await;
    assert_eq!(first, second, "same seed, same faults");
    let failed: Vec<_> = first.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.len() > 10 && failed.len() < 50,
        "{} of 60 failed",
        failed.len()
    );
    let kinds: std::collections::BTreeSet<Option<u64>> = failed.iter().map(|(_, c)| *c).collect();
    for code in [Some(1), Some(2), Some(17), Some(80004), None] {
        assert!(kinds.contains(&code), "{code:?} missing from {kinds:?}");
    }
    // The whole sequence the seed gives, ten answers a line: `200`, or the status and the
    // Graph error's code.
    let shown: Vec<String> = first
        .iter()
        .map(|(status, code)| match code {
            Some(code) => format!("{status}/{code}"),
            None => status.to_string(),
        })
        .collect();
    let lines: Vec<String> = shown.chunks(10).map(|line| line.join(" ")).collect();
    insta::assert_snapshot!(lines.join("\n"), @"
    200 200 200 500 200 400/80004 200 200 200 200
    400/17 503/2 500 200 200 200 503/2 503/2 200 200
    200 200 500 200 200 200 200 400/17 200 400/17
    400/17 503/2 200 200 500/1 400/80004 200 200 200 200
    200 503/2 200 500 400/80004 200 500/1 400/17 500 200
    500/1 400/17 500/1 400/17 200 200 200 503/2 400/17 500/1
    ");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_faulted_write_does_nothing() {
    let emu = start(EmulatorConfig {
        fault_rate: 1.0,
        seed: Some(1),
        ..EmulatorConfig::default()
    })
    .await;
    let client = client();
    let mut answers = Vec::new();
    for _ in 0..10 {
        let r = client
            .post(format!(
                "{}/v26.0/act_1/customconversions?access_token=tok",
                emu.base_url()
            ))
            .form(&[("name", "n"), ("rule", RULE)])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(status >= 400);
        let text = r.text().await.unwrap();
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(v) => {
                // Transient, or a throttle: 17/2446079 comes with `is_transient` false, as
                // seen on v25.0 (the flag is unreliable for throttling; clients read the code).
                let throttle = [17, 80004].contains(&v["error"]["code"].as_u64().unwrap());
                assert!(v["error"]["is_transient"] == true || throttle, "{v}");
                v
            }
            Err(_) => json!(text),
        };
        answers.push(json!({"status": status, "body": body}));
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("faulted_writes", answers));
    assert_eq!(emu.state()["conversions"].as_array().unwrap().len(), 0);
    assert_eq!(emu.stats()["faults_injected"], 10);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn drop_after_commit_commits_then_loses_the_answer() {
    let emu = start(EmulatorConfig {
        drop_after_commit: 1.0,
        seed: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let client = client();
    let (mut http_500, mut dropped) = (0, 0);
    let mut outcomes = Vec::new();
    for i in 0..12 {
        let r = client
            .post(format!(
                "{}/v26.0/act_1/customconversions?access_token=tok",
                emu.base_url()
            ))
            // A rule of its own: the strict profile refuses a rule the account holds.
            .form(&[
                ("name", format!("n{i}").as_str()),
                ("rule", &format!(r#"{{"url":{{"i_contains":"n{i}"}}}}"#)),
            ])
            .send()
            .await;
        match r {
            Ok(r) => {
                assert_eq!(r.status(), 500);
                http_500 += 1;
                outcomes.push("500");
            }
            Err(e) => {
                // The connection closed without an answer: not a timeout, not a status.
                assert!(!e.is_timeout() && e.status().is_none(), "{e:?}");
                dropped += 1;
                outcomes.push("dropped");
            }
        }
    }
    assert!(
        http_500 > 0 && dropped > 0,
        "500s: {http_500}, drops: {dropped}"
    );
    // The seed's sequence of lost answers.
    insta::assert_snapshot!(outcomes.join(" "), @"500 dropped 500 500 500 dropped 500 dropped 500 dropped dropped dropped");
    // Every write was committed, once.
    answer_settings()
        .bind(|| insta::assert_json_snapshot!("committed_despite_lost_answers", emu.state()));
    // Reads are not writes: never dropped.
    let r = client
        .get(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
        .bearer_auth("t")
        .send()
        .await;
    assert_eq!(r.unwrap().status(), 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn rate_limit_answers_80004_with_usage_headers() {
    let emu = start(EmulatorConfig {
        rate_limit: Some(2),
        ..EmulatorConfig::default()
    })
    .await;
    let client = client();
    let url = format!("{}/v26.0/act_3/customconversions", emu.base_url());
    for _ in 0..2 {
        assert_eq!(
            client
                .get(&url)
                .bearer_auth("t")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let r = client.get(&url).bearer_auth("t").send().await.unwrap();
    assert_eq!(r.status(), 400, "throttling is HTTP 400, not 429");
    let headers: Vec<Value> = ["x-ad-account-usage", "x-business-use-case-usage"]
        .iter()
        .map(|h| serde_json::from_str(r.headers()[*h].to_str().unwrap()).unwrap())
        .collect();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(headers, @r#"
    [
      {
        "acc_id_util_pct": [share],
        "ads_api_access_tier": "standard_access",
        "reset_time_duration": [left]
      },
      {
        "3": [
          {
            "ads_api_access_tier": "standard_access",
            "call_count": 100,
            "estimated_time_to_regain_access": 1,
            "total_cputime": 50,
            "total_time": 50,
            "type": "ads_management"
          }
        ]
      }
    ]
    "#);
    });
    let buc: Value =
        serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert!(
        buc["3"][0]["estimated_time_to_regain_access"]
            .as_u64()
            .unwrap()
            >= 1,
        "{buc}"
    );
    assert_eq!(buc["3"][0]["type"], "ads_management");
    assert_eq!(
        buc["3"][0]["call_count"], 100,
        "the Business Use Case budget is spent"
    );
    // The ad-account score is another limit: 2 reads of 9000 points.
    let account: Value =
        serde_json::from_str(r.headers()["x-ad-account-usage"].to_str().unwrap()).unwrap();
    assert_eq!(account["acc_id_util_pct"], 0.02);
    assert_eq!(account["ads_api_access_tier"], "standard_access");
    let v: Value = r.json().await.unwrap();
    answer_settings().bind(|| insta::assert_json_snapshot!(v, @r#"
    {
      "error": {
        "code": 80004,
        "fbtrace_id": "[trace id]",
        "is_transient": true,
        "message": "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        "type": "OAuthException"
      }
    }
    "#));
    // Lifting the limit at run time lets calls through again.
    emu.set_faults(Faults {
        latency_ms: 0,
        fault_rate: 0.0,
        drop_after_commit: 0.0,
        rate_limit: None,
    })
    .unwrap();
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn latency_and_faults_can_be_changed_over_http() {
    let emu = start(EmulatorConfig {
        latency_ms: 150,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client();
    let url = format!("{}/v26.0/act_1/customconversions", emu.base_url());
    let t = Instant::now();
    assert_eq!(
        client
            .get(&url)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(150));
    let r = client
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .body(r#"{"latency_ms":0,"fault_rate":1.0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    insta::assert_snapshot!(r.text().await.unwrap(), @r#"{"success":true}"#);
    assert_ne!(
        client
            .get(&url)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let bad = client
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .body(r#"{"fault_rate":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    insta::assert_snapshot!(bad.text().await.unwrap(), @r#"{"error":"2 is not a fraction between 0 and 1"}"#);
    emu.shutdown().await.unwrap();
}
