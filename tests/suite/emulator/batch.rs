//! Batch requests at the graph root over real HTTP: order, dependencies, `null` for requests
//! not run, the 50 limit, version prefixes, and per-sub-request rate limiting.

use super::answer_settings;
use crate::support::emulator::start;
use convctl::emulator::EmulatorConfig;
use reqwest::Client;
use serde_json::{Value, json};

async fn batch(client: &Client, url: &str, requests: Value) -> (u16, Value) {
    let r = client
        .post(format!("{url}?access_token=tok"))
        .form(&[("batch", requests.to_string())])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

fn body(entry: &Value) -> Value {
    serde_json::from_str(entry["body"].as_str().expect("body is a JSON string")).unwrap()
}

/// A batch answer as a snapshot shows it: each entry with its body (a JSON string, as the
/// API sends it) read as JSON; `null` entries kept.
fn readable(answers: &Value) -> Value {
    let mut answers = answers.clone();
    for entry in answers.as_array_mut().expect("a batch answer is an array") {
        if !entry.is_null() {
            entry["body"] = body(entry);
        }
    }
    answers
}

#[tokio::test]
async fn batch_at_root_and_versioned_root_with_dependencies() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let mut answered = Vec::new();
    for (n, root) in [format!("{base}/"), format!("{base}/v26.0/")]
        .into_iter()
        .enumerate()
    {
        // A rule of its own each time: the strict profile refuses a rule the account holds.
        let rule = format!(r#"{{"url":{{"i_contains":"thanks-{n}"}}}}"#);
        let create_body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("name", "from batch")
            .append_pair("rule", &rule)
            .finish();
        let (status, answers) = batch(
            &client,
            &root,
            json!([
                // Without a version prefix, as the Python SDK sends it...
                {"method": "POST", "relative_url": "act_1/customconversions", "body": create_body, "name": "made"},
                // ...and with one; `{result=...}` uses the answer of `made`.
                {"method": "GET", "relative_url": "v26.0/{result=made:$.id}?fields=name,rule"},
                {"method": "POST", "relative_url": "{result=made:$.id}", "body": "name=renamed"},
                {"method": "GET", "relative_url": "act_1/customconversions?fields=name"},
            ]),
        )
        .await;
        assert_eq!(status, 200, "{answers}");
        let answers = answers.as_array().unwrap();
        assert_eq!(answers.len(), 4);
        for a in answers {
            assert_eq!(a["code"], 200, "{a}");
            let names: Vec<&str> = a["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["name"].as_str().unwrap())
                .collect();
            assert!(names.contains(&"Content-Type"), "{names:?}");
        }
        let id = body(&answers[0])["id"].as_str().unwrap().to_string();
        assert_eq!(
            body(&answers[1]),
            json!({"name": "from batch", "rule": rule, "id": id})
        );
        assert_eq!(body(&answers[2]), json!({"success": true}));
        let listed = body(&answers[3]);
        assert!(
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == id.as_str() && c["name"] == "renamed")
        );
        answered.push(json!({"root": root, "answers": readable(&Value::Array(answers.clone()))}));
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("with_dependencies", answered));
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(emu.stats(), @r#"
    {
      "answers_dropped": 0,
      "auth": {
        "form": 0,
        "header": 0,
        "json": 0,
        "query": 2
      },
      "batches": 2,
      "by_route": {
        "GET /act_{id}/customconversions": 2,
        "GET /{id}": 2,
        "POST / (batch)": 2,
        "POST /act_{id}/customconversions": 2,
        "POST /{id}": 2
      },
      "conversions": 2,
      "events_received": 0,
      "faults_injected": 0,
      "http_requests": 2,
      "requests": 10,
      "throttled": 0,
      "writes": 4
    }
    "#);
    });
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn failed_dependencies_are_not_run_and_errors_stay_in_their_entry() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let (status, answers) = batch(
        &client,
        &format!("{base}/v26.0/"),
        json!([
            {"method": "POST", "relative_url": "act_1/customconversions", "body": "description=no+name", "name": "bad"},
            {"method": "DELETE", "relative_url": "{result=bad:$.id}"},
            {"method": "GET", "relative_url": "424242"},
        ]),
    )
    .await;
    assert_eq!(status, 200);
    // The second is `null`: its dependency failed, so it was not run.
    answer_settings().bind(|| insta::assert_json_snapshot!(readable(&answers), @r#"
    [
      {
        "body": {
          "error": {
            "code": 100,
            "fbtrace_id": "[trace id]",
            "is_transient": false,
            "message": "(#100) The parameter name is required",
            "type": "OAuthException"
          }
        },
        "code": 400,
        "headers": [
          {
            "name": "Content-Type",
            "value": "text/javascript; charset=UTF-8"
          },
          {
            "name": "x-ad-account-usage",
            "value": "{\"acc_id_util_pct\":[share],\"reset_time_duration\":[left],\"ads_api_access_tier\":\"standard_access\"}"
          },
          {
            "name": "x-business-use-case-usage",
            "value": "{\"1\":[{\"type\":\"ads_management\",\"call_count\":0,\"total_cputime\":0,\"total_time\":0,\"estimated_time_to_regain_access\":0,\"ads_api_access_tier\":\"standard_access\"}]}"
          }
        ]
      },
      null,
      {
        "body": {
          "error": {
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": "[trace id]",
            "is_transient": false,
            "message": "Unsupported get request. Object with ID '424242' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            "type": "GraphMethodException"
          }
        },
        "code": 400,
        "headers": [
          {
            "name": "Content-Type",
            "value": "text/javascript; charset=UTF-8"
          }
        ]
      }
    ]
    "#));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn at_most_fifty_and_a_bad_batch_is_a_graph_error() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let many: Vec<Value> = (0..51)
        .map(|_| json!({"method": "GET", "relative_url": "act_1/customconversions"}))
        .collect();
    let (status, answer) = batch(&client, &format!("{base}/"), Value::Array(many)).await;
    assert_eq!(status, 400);
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(answer, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) Too many requests in batch message. Maximum batch size is 50",
        "type": "OAuthException"
      }
    }
    "#);
    });
    let fifty: Vec<Value> = (0..50)
        .map(|_| json!({"method": "GET", "relative_url": "act_1/customconversions"}))
        .collect();
    let (status, answer) = batch(&client, &format!("{base}/"), Value::Array(fifty)).await;
    assert_eq!(status, 200);
    assert_eq!(answer.as_array().unwrap().len(), 50);
    let r = client
        .post(format!("{base}/?access_token=tok"))
        .form(&[("batch", "not json")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    answer_settings().bind(|| insta::assert_snapshot!(text, @r#"{"error":{"message":"(#100) Param batch must be a JSON array of requests: expected ident at line 1 column 2","type":"OAuthException","code":100,"is_transient":false,"fbtrace_id":"[trace id]"}}"#));
    let r = client
        .post(format!("{base}/v24.0/?access_token=tok"))
        .form(&[("batch", "[]")])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    answer_settings().bind(|| insta::assert_json_snapshot!(v, @r#"
    {
      "error": {
        "code": 2635,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.",
        "type": "OAuthException"
      }
    }
    "#));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_sub_request_counts_against_the_rate_limit() {
    let emu = start(EmulatorConfig {
        rate_limit: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let (base, client) = (emu.base_url(), Client::new());
    let five: Vec<Value> = (0..5)
        .map(|_| json!({"method": "GET", "relative_url": "act_4/customconversions"}))
        .collect();
    let (status, answers) = batch(&client, &format!("{base}/"), Value::Array(five)).await;
    assert_eq!(status, 200);
    // Three answered, then 80004 for the rest.
    answer_settings()
        .bind(|| insta::assert_json_snapshot!("sub_requests_rate_limited", readable(&answers)));
    // Another account has its own budget.
    let r = client
        .get(format!("{base}/v26.0/act_5/customconversions"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    emu.shutdown().await.unwrap();
}
