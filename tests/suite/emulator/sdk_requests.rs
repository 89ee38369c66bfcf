//! At the emulator's HTTP face: what Meta's official SDKs send is
//! accepted (an object's own id in update bodies and delete queries, `GET /?ids=...`, JSON
//! bodies, the token in a JSON body), and the strict profile takes the less convenient
//! reading (refused fields, pages of 25, unrun batch entries, `is_custom_event_type_predicted`).

use super::answer_settings;
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

const RULE: &str = r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#;

/// A rule of its own for each conversion: the strict profile refuses a second one with the
/// same rule in an account.
fn rule_of(name: &str) -> String {
    format!(r#"{{"and":[{{"event":{{"eq":"Purchase"}}}},{{"url":{{"i_contains":"{name}"}}}}]}}"#)
}

async fn start(strict: bool) -> RunningEmulator {
    crate::support::emulator::start(EmulatorConfig {
        strict,
        ..EmulatorConfig::default()
    })
    .await
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn create(emu: &RunningEmulator, name: &str) -> String {
    let (status, body) = call(
        reqwest::Method::POST,
        format!(
            "{}/v26.0/act_1/customconversions?access_token=t0k3n-in-query",
            emu.base_url()
        ),
        Some(json!({"name": name, "rule": rule_of(name), "custom_event_type": "PURCHASE", "id": "act_1"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn what_the_node_sdk_sends_is_accepted() {
    let emu = start(false).await;
    let base = emu.base_url();
    let id = create(&emu, "first").await;
    let other = create(&emu, "second").await;

    // Update with the object's own id in a JSON body, the token in that body too.
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{base}/v26.0/{id}"),
        Some(json!({"name": "renamed", "id": id, "access_token": "t0k3n-in-json"})),
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"success": true})));
    // Another id is an attempt to change it: refused.
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{base}/v26.0/{id}?access_token=t"),
        Some(json!({"name": "x", "id": other})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) Param id must be the custom conversion's own id: the request is about 23850000000000001 but carries id 23850000000000002",
        "type": "OAuthException"
      }
    }
    "#));

    // Multi-object read, keyed by id.
    let (status, body) = call(
        reqwest::Method::GET,
        format!("{base}/v26.0/?ids={id},{other}&fields=name&access_token=t"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({id.clone(): {"name": "renamed", "id": id}, other.clone(): {"name": "second", "id": other}})
    );
    let (status, body) = call(
        reqwest::Method::GET,
        format!("{base}/v26.0/?ids={id},999&fields=name&access_token=t"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 803,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#803) Some of the aliases you requested do not exist: 999",
        "type": "OAuthException"
      }
    }
    "#);
    });

    // Delete with ?id=<the same id>.
    let (status, body) = call(
        reqwest::Method::DELETE,
        format!("{base}/v26.0/{other}?id={other}&access_token=t"),
        None,
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"success": true})));
    let (status, body) = call(
        reqwest::Method::DELETE,
        format!("{base}/v26.0/{id}?id={other}&access_token=t"),
        None,
    )
    .await;
    assert_eq!(status, 400, "a different id is refused: {body}");
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) Param id must be the custom conversion's own id: the request is about 23850000000000001 but carries id 23850000000000002",
        "type": "OAuthException"
      }
    }
    "#));

    // The token in a JSON body is counted as such; the multi-object reads by their route.
    insta::assert_json_snapshot!(emu.stats(), @r#"
    {
      "answers_dropped": 0,
      "auth": {
        "form": 0,
        "header": 0,
        "json": 1,
        "query": 7
      },
      "batches": 0,
      "by_route": {
        "DELETE /{id}": 2,
        "GET /?ids=": 2,
        "POST /act_{id}/customconversions": 2,
        "POST /{id}": 2
      },
      "conversions": 1,
      "events_received": 0,
      "faults_injected": 0,
      "http_requests": 8,
      "requests": 8,
      "throttled": 0,
      "writes": 4
    }
    "#);
}

#[tokio::test]
async fn the_strict_profile_takes_the_less_convenient_reading() {
    let emu = start(true).await;
    let base = emu.base_url();
    // Creates always answer is_custom_event_type_predicted.
    let (_, body) = call(
        reqwest::Method::POST,
        format!("{base}/v26.0/act_1/customconversions?access_token=t"),
        Some(json!({"name": "typed", "rule": RULE, "custom_event_type": "PURCHASE"})),
    )
    .await;
    insta::assert_json_snapshot!(body, @r#"
    {
      "id": "23850000000000001",
      "is_custom_event_type_predicted": "0"
    }
    "#);
    for i in 0..59 {
        create(&emu, &format!("c{i:02}")).await;
    }
    // Undocumented fields are refused as fields the node does not have.
    let mut refusals = Vec::new();
    for field in ["event_source_id", "action_source_type", "advanced_rule"] {
        let (status, body) = call(
            reqwest::Method::GET,
            format!("{base}/v26.0/act_1/customconversions?fields=name,{field}&access_token=t"),
            None,
        )
        .await;
        assert_eq!(status, 400);
        refusals.push(body);
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("strict_field_refusals", refusals));
    // limit 100 is served as pages of 25, with next.
    let mut next = Some(format!(
        "{base}/v26.0/act_1/customconversions?fields=name,data_sources&limit=100&access_token=t"
    ));
    let mut sizes = Vec::new();
    while let Some(url) = next {
        let (status, page) = call(reqwest::Method::GET, url, None).await;
        assert_eq!(status, 200, "{page}");
        sizes.push(page["data"].as_array().unwrap().len());
        next = page["paging"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(sizes, [25, 25, 10]);
    // A batch of 45: the last 5 are not run.
    let entries: Vec<Value> = (0..45)
        .map(|_| json!({"method": "GET", "relative_url": "act_1/customconversions?fields=name&limit=1"}))
        .collect();
    let response = reqwest::Client::new()
        .post(format!("{base}/v26.0/"))
        .form(&[
            ("access_token", "t"),
            ("batch", &Value::Array(entries).to_string()),
        ])
        .send()
        .await
        .unwrap();
    let answers: Vec<Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 45);
    assert!(answers[..40].iter().all(|a| a["code"] == 200));
    assert!(answers[40..].iter().all(Value::is_null));
}
