//! Meta's limits over real HTTP: the ad-account score of the access tier (`--tier`,
//! `--score-window`), code 17 subcode 2446079 and the block at its maximum, the usage headers
//! on every answer about an account (errors, batch entries and injected faults included), no
//! `X-App-Usage` at all, and the throttled answers counted in `/_emulator/stats`.

use super::answer_settings;
use crate::support::emulator::start;
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use convctl::model::access_tier::AccessTier;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use std::time::Duration;

const RULE: &str = r#"{"url":{"i_contains":"x"}}"#;

/// An answer's usage headers, read as JSON.
fn usage(r: &Response) -> Value {
    json!({
        "x-ad-account-usage": header(r, "x-ad-account-usage"),
        "x-business-use-case-usage": header(r, "x-business-use-case-usage"),
    })
}

fn header(r: &Response, name: &str) -> Value {
    let text = r
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap();
    serde_json::from_str(text).unwrap()
}

async fn create(client: &Client, emu: &RunningEmulator, i: usize) -> Response {
    client
        .post(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
        .bearer_auth("tok")
        .form(&[
            ("name", format!("n{i}")),
            ("rule", RULE.replace('x', &i.to_string())),
        ])
        .send()
        .await
        .unwrap()
}

/// Development tier: 20 writes fit in the score (60 points, 3 each), and every answer says
/// how much of it is used; the 21st is refused with 17/2446079 and blocks the account (1 s
/// at a 1 s window: 300 s scaled), reads and batch entries included; then it decays.
#[tokio::test]
async fn the_development_tier_refuses_the_twenty_first_write_and_blocks() {
    let emu = start(EmulatorConfig {
        tier: AccessTier::Development,
        score_window: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::new();
    // A long window would decay nothing meanwhile; at 1 s, 60 points decay in a second, so
    // the writes go as one batch of 20 (the score counts each entry).
    let batch: Vec<Value> = (0..20)
        .map(|i| {
            json!({"method": "POST", "relative_url": "act_1/customconversions",
                   "body": format!("name=n{i}&rule={}", urlencode(&RULE.replace('x', &i.to_string())))})
        })
        .collect();
    let r = client
        .post(format!("{}/v26.0/", emu.base_url()))
        .bearer_auth("tok")
        .form(&[("batch", Value::Array(batch).to_string())])
        .send()
        .await
        .unwrap();
    let entries: Vec<Value> = r.json().await.unwrap();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry["code"], 200, "entry {i}: {entry}");
        let usage = entry["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "x-ad-account-usage")
            .unwrap();
        let usage: Value = serde_json::from_str(usage["value"].as_str().unwrap()).unwrap();
        assert_eq!(usage["ads_api_access_tier"], "development_access");
        let pct = usage["acc_id_util_pct"].as_f64().unwrap();
        assert!(pct > 0.0 && pct <= 100.0, "{usage}");
    }
    let refused = create(&client, &emu, 21).await;
    assert_eq!(refused.status(), 400);
    let headers = header(&refused, "x-ad-account-usage");
    assert!(
        headers["reset_time_duration"].as_f64().unwrap() > 0.0,
        "{headers}"
    );
    // The account at 100%, blocked (the Business Use Case header counts the block in whole
    // minutes: 1 s is 0).
    let headers = usage(&refused);
    let body: Value = refused.json().await.unwrap();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(headers, @r#"
        {
          "x-ad-account-usage": {
            "acc_id_util_pct": 100,
            "ads_api_access_tier": "development_access",
            "reset_time_duration": [left]
          },
          "x-business-use-case-usage": {
            "1": [
              {
                "ads_api_access_tier": "development_access",
                "call_count": 7,
                "estimated_time_to_regain_access": 0,
                "total_cputime": 3,
                "total_time": 3,
                "type": "ads_management"
              }
            ]
          }
        }
        "#);
        insta::assert_json_snapshot!(body, @r#"
        {
          "error": {
            "code": 17,
            "error_subcode": 2446079,
            "error_user_msg": "There have been too many calls from this ad-account. Please wait a bit and try again.",
            "error_user_title": "Ad Account Has Too Many API Calls",
            "fbtrace_id": "[trace id]",
            "is_transient": false,
            "message": "(#17) User request limit reached",
            "type": "OAuthException"
          }
        }
        "#);
    });
    // Blocked: a read is refused too, with the headers.
    let read = client
        .get(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&read, "x-ad-account-usage")["acc_id_util_pct"], 100);
    let body: Value = read.json().await.unwrap();
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 17,
        "error_subcode": 2446079,
        "error_user_msg": "There have been too many calls from this ad-account. Please wait a bit and try again.",
        "error_user_title": "Ad Account Has Too Many API Calls",
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#17) User request limit reached",
        "type": "OAuthException"
      }
    }
    "#));
    assert_eq!(emu.stats()["throttled"], 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = create(&client, &emu, 22).await;
    assert_eq!(
        after.status(),
        200,
        "the block is over and the score decayed"
    );
    assert_eq!(emu.stats()["writes"], 21);
    emu.shutdown().await.unwrap();
}

/// The standard tier by default: answers about an account carry `X-Ad-Account-Usage`
/// (`standard_access`) and `X-Business-Use-Case-Usage`, errors included; no answer carries
/// `X-App-Usage` (Marketing API calls are not counted against the Graph API's platform
/// limits), however many calls the app makes.
#[tokio::test]
async fn answers_about_an_account_carry_its_usage_and_none_carries_app_usage() {
    let emu = start(EmulatorConfig::default()).await;
    let client = Client::new();
    for i in 0..50 {
        let r = create(&client, &emu, i).await;
        assert_eq!(r.status(), 200);
        assert!(!r.headers().contains_key("x-app-usage"));
    }
    let bad = client
        .post(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
        .bearer_auth("tok")
        .form(&[("name", "no rule"), ("rule", "{")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let account = header(&bad, "x-ad-account-usage");
    assert!(
        account["acc_id_util_pct"].as_f64().unwrap() > 1.6,
        "{account}"
    );
    assert!(!bad.headers().contains_key("x-app-usage"));
    let headers = usage(&bad);
    let body: Value = bad.json().await.unwrap();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(headers, @r#"
        {
          "x-ad-account-usage": {
            "acc_id_util_pct": [share],
            "ads_api_access_tier": "standard_access",
            "reset_time_duration": [left]
          },
          "x-business-use-case-usage": {
            "1": [
              {
                "ads_api_access_tier": "standard_access",
                "call_count": 0,
                "estimated_time_to_regain_access": 0,
                "total_cputime": 0,
                "total_time": 0,
                "type": "ads_management"
              }
            ]
          }
        }
        "#);
        insta::assert_json_snapshot!(body, @r#"
        {
          "error": {
            "code": 100,
            "error_user_msg": "the rule is not valid JSON: EOF while parsing an object at line 1 column 1; write it as a JSON object such as {\"url\":{\"i_contains\":\"thankyou\"}}",
            "error_user_title": "Invalid rule",
            "fbtrace_id": "[trace id]",
            "is_transient": false,
            "message": "(#100) Param rule is not a valid rule: the rule is not valid JSON: EOF while parsing an object at line 1 column 1; write it as a JSON object such as {\"url\":{\"i_contains\":\"thankyou\"}}",
            "type": "OAuthException"
          }
        }
        "#);
    });
    // An answer about no account carries no usage header.
    let events = client
        .post(format!("{}/v26.0/55/events", emu.base_url()))
        .bearer_auth("tok")
        .form(&[("data", "[]")])
        .send()
        .await
        .unwrap();
    assert!(events.headers().get("x-ad-account-usage").is_none());
    assert!(events.headers().get("x-app-usage").is_none());
    assert_eq!(emu.stats()["throttled"], 0);
    emu.shutdown().await.unwrap();
}

/// An injected throttle (`--fault-rate`) carries the headers a real throttling answer does:
/// its account at 100%, the time to decay, and the block in minutes.
#[tokio::test]
async fn injected_throttles_carry_the_headers_of_a_block() {
    let emu = start(EmulatorConfig {
        fault_rate: 1.0,
        seed: Some(4),
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut throttles = std::collections::BTreeMap::new();
    for _ in 0..60 {
        let r = client
            .get(format!("{}/v26.0/act_9/customconversions", emu.base_url()))
            .bearer_auth("tok")
            .send()
            .await
            .unwrap();
        let headers = r.headers().clone();
        let Ok(body) = r.json::<Value>().await else {
            continue; // the HTTP 500 without a Graph body
        };
        let code = body["error"]["code"].as_u64().unwrap();
        if code == 17 || code == 80004 {
            let usage: Value =
                serde_json::from_str(headers["x-ad-account-usage"].to_str().unwrap()).unwrap();
            assert_eq!(usage["acc_id_util_pct"], 100, "{usage}");
            assert_eq!(usage["reset_time_duration"], 300, "{usage}");
            let buc: Value =
                serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap())
                    .unwrap();
            assert_eq!(buc["9"][0]["estimated_time_to_regain_access"], 1, "{buc}");
            if code == 80004 {
                assert_eq!(buc["9"][0]["call_count"], 100, "{buc}");
            }
            let headers = json!({"x-ad-account-usage": usage, "x-business-use-case-usage": buc});
            let first = throttles.entry(code).or_insert_with(|| headers.clone());
            assert_eq!(
                *first, headers,
                "every throttle of code {code} says the same"
            );
        } else {
            assert!(headers.contains_key("x-ad-account-usage"), "{body}");
        }
        seen.insert(code);
    }
    assert!(seen.contains(&17) && seen.contains(&80004), "{seen:?}");
    // The headers of each kind of throttle, whole.
    insta::assert_json_snapshot!(throttles, @r#"
    {
      "17": {
        "x-ad-account-usage": {
          "acc_id_util_pct": 100,
          "ads_api_access_tier": "standard_access",
          "reset_time_duration": 300
        },
        "x-business-use-case-usage": {
          "9": [
            {
              "ads_api_access_tier": "standard_access",
              "call_count": 0,
              "estimated_time_to_regain_access": 1,
              "total_cputime": 0,
              "total_time": 0,
              "type": "ads_management"
            }
          ]
        }
      },
      "80004": {
        "x-ad-account-usage": {
          "acc_id_util_pct": 100,
          "ads_api_access_tier": "standard_access",
          "reset_time_duration": 300
        },
        "x-business-use-case-usage": {
          "9": [
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
      }
    }
    "#);
    assert_eq!(
        emu.stats()["throttled"],
        0,
        "injected faults are counted apart"
    );
    emu.shutdown().await.unwrap();
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
