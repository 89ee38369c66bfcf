//! At the emulator's HTTP face: what Meta's official SDKs send is
//! accepted (an object's own id in update bodies and delete queries, `GET /?ids=...`, JSON
//! bodies, the token in a JSON body), and the strict profile takes the less convenient
//! reading (refused fields, pages of 25, unrun batch entries, `is_custom_event_type_predicted`).

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
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(100)),
        "{body}"
    );

    // Multi-object read, keyed by id.
    let (status, body) = call(
        reqwest::Method::GET,
        format!("{base}/v26.0/?ids={id},{other}&fields=name&access_token=t"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[&id], json!({"name": "renamed", "id": id}));
    assert_eq!(body[&other]["name"], "second");
    let (status, body) = call(
        reqwest::Method::GET,
        format!("{base}/v26.0/?ids={id},999&fields=name&access_token=t"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (404, Some(803)),
        "{body}"
    );

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

    let stats = emu.stats();
    assert_eq!(stats["auth"]["json"], 1, "{stats}");
    assert!(
        stats["by_route"]["GET /?ids="].as_u64() == Some(2),
        "{stats}"
    );
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
    assert_eq!(body["is_custom_event_type_predicted"], "0", "{body}");
    for i in 0..59 {
        create(&emu, &format!("c{i:02}")).await;
    }
    // Undocumented fields are refused as fields the node does not have.
    for field in ["event_source_id", "action_source_type", "advanced_rule"] {
        let (status, body) = call(
            reqwest::Method::GET,
            format!("{base}/v26.0/act_1/customconversions?fields=name,{field}&access_token=t"),
            None,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(
            body["error"]["message"],
            format!(
                "(#100) Tried accessing nonexisting field ({field}) on node type (CustomConversion)"
            )
        );
    }
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
