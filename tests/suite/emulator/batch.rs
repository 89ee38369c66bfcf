//! Batch requests at the graph root over real HTTP: order, dependencies, `null` for requests
//! not run, the 50 limit, version prefixes, and per-sub-request rate limiting.

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

#[tokio::test]
async fn batch_at_root_and_versioned_root_with_dependencies() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
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
    }
    let stats = emu.stats();
    assert_eq!(stats["batches"], 2, "{stats}");
    assert_eq!(stats["by_route"]["POST /act_{id}/customconversions"], 2);
    assert_eq!(stats["by_route"]["GET /{id}"], 2);
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
    assert_eq!(answers[0]["code"], 400);
    assert_eq!(body(&answers[0])["error"]["code"], 100);
    assert_eq!(answers[1], Value::Null, "its dependency failed: not run");
    assert_eq!(body(&answers[2])["error"]["error_subcode"], 33);
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
    assert_eq!(answer["error"]["code"], 100);
    assert!(answer["error"]["message"].as_str().unwrap().contains("50"));
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
    let r = client
        .post(format!("{base}/v24.0/?access_token=tok"))
        .form(&[("batch", "[]")])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], 2635);
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
    let codes: Vec<u64> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![200, 200, 200, 400, 400]);
    assert_eq!(body(&answers[3])["error"]["code"], 80004);
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
