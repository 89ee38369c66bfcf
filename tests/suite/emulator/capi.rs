//! The Conversions API endpoint over real HTTP: validation (whole batch rejected on one bad
//! event, time window, limits), both `data` item forms, and fired times of matching conversions.

use super::answer_settings;
use crate::support::emulator::start;
use crate::support::now;
use convctl::emulator::{EmulatorConfig, SeedConversion};
use reqwest::Client;
use serde_json::{Value, json};

fn purchase(time: i64, value: f64, url: &str) -> Value {
    json!({"event_name": "Purchase", "event_time": time, "action_source": "website",
           "event_source_url": url, "event_id": format!("e{time}{value}"),
           "user_data": {"em": "309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd", "client_user_agent": "ua"},
           "custom_data": {"value": value, "currency": "USD"}})
}

async fn send(
    client: &Client,
    base: &str,
    version: &str,
    pixel: &str,
    data: &Value,
    test_code: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![("data", data.to_string())];
    if let Some(code) = test_code {
        form.push(("test_event_code", code.to_string()));
    }
    let r = client
        .post(format!("{base}/{version}/{pixel}/events?access_token=tok"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn seed(name: &str, pixel: &str, rule: Value) -> SeedConversion {
    SeedConversion {
        account: "act_1".into(),
        name: name.into(),
        rule: Some(rule),
        event_source_id: Some(pixel.into()),
        ..SeedConversion::default()
    }
}

async fn fired(client: &Client, base: &str, id: &str) -> Value {
    client
        .get(format!(
            "{base}/v26.0/{id}?fields=first_fired_time,last_fired_time"
        ))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn matching_events_update_fired_times() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let big = emu
        .insert_conversion(seed(
            "big",
            "55",
            json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]}),
        ))
        .unwrap();
    let thanks = emu
        .insert_conversion(seed(
            "thanks",
            "55",
            json!({"url": {"i_contains": "thankyou"}}),
        ))
        .unwrap();
    let other_pixel = emu
        .insert_conversion(seed(
            "elsewhere",
            "66",
            json!({"event": {"eq": "Purchase"}}),
        ))
        .unwrap();
    let t = now();
    // Items as objects and as JSON strings (the Python SDK's form), mixed.
    let data = json!([
        purchase(t - 3600, 150.0, "https://shop.example/cart"),
        purchase(t - 60, 150.0, "https://shop.example/cart").to_string(),
        purchase(t - 30, 20.0, "https://shop.example/ThankYou.html")
    ]);
    let (status, answer) = send(&client, &base, "v26.0", "55", &data, Some("TEST123")).await;
    assert_eq!(status, 200, "{answer}");
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(answer, @r#"
    {
      "events_received": 3,
      "fbtrace_id": "[trace id]",
      "messages": []
    }
    "#);
    });
    let time = |seconds_ago: i64| convctl::emulator::graph_datetime(t - seconds_ago);
    assert_eq!(
        fired(&client, &base, &big).await,
        json!({"id": big, "first_fired_time": time(3600), "last_fired_time": time(60)})
    );
    assert_eq!(
        fired(&client, &base, &thanks).await,
        json!({"id": thanks, "first_fired_time": time(30), "last_fired_time": time(30)})
    );
    assert_eq!(
        fired(&client, &base, &other_pixel).await,
        json!({"id": other_pixel}),
        "another pixel's conversion never fired"
    );
    // The Conversions API keeps older versions longer than the Marketing API.
    let (status, answer) = send(
        &client,
        &base,
        "v25.0",
        "55",
        &json!([purchase(t, 1.0, "https://x")]),
        None,
    )
    .await;
    assert_eq!(status, 200);
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(answer, @r#"
    {
      "events_received": 1,
      "fbtrace_id": "[trace id]",
      "messages": []
    }
    "#);
    });
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_bad_event_rejects_the_whole_batch() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let id = emu
        .insert_conversion(seed(
            "any purchase",
            "55",
            json!({"event": {"eq": "Purchase"}}),
        ))
        .unwrap();
    let t = now();
    let mut no_url = purchase(t, 1.0, "https://x");
    no_url.as_object_mut().unwrap().remove("event_source_url");
    let mut no_ua = purchase(t, 1.0, "https://x");
    no_ua["user_data"] = json!({"em": "abc"});
    let mut no_user = purchase(t, 1.0, "https://x");
    no_user.as_object_mut().unwrap().remove("user_data");
    let mut store_old = purchase(t - 30 * 86_400, 1.0, "https://x");
    store_old["action_source"] = json!("physical_store");
    let cases: Vec<(Value, &str, Option<u64>)> = vec![
        (
            purchase(t - 8 * 86_400, 1.0, "https://x"),
            "past",
            Some(2_804_003),
        ),
        (purchase(t + 3600, 1.0, "https://x"), "future", None),
        (no_url, "event_source_url", None),
        (no_ua, "client_user_agent", None),
        (no_user, "user_data", None),
        (
            json!({"event_time": t, "action_source": "app", "user_data": {}}),
            "event_name",
            None,
        ),
    ];
    let mut refusals = Vec::new();
    for (bad, mentions, subcode) in cases {
        let data = json!([purchase(t, 500.0, "https://x"), bad]);
        let (status, answer) = send(&client, &base, "v26.0", "55", &data, None).await;
        assert_eq!(status, 400, "{answer}");
        let e = &answer["error"];
        assert_eq!(e["code"], 100);
        assert_eq!(e["error_subcode"].as_u64(), subcode, "{answer}");
        assert!(
            e["error_user_msg"].as_str().unwrap().contains(mentions),
            "{mentions}: {answer}"
        );
        assert!(
            e["error_user_msg"]
                .as_str()
                .unwrap()
                .starts_with("event 1:"),
            "{answer}"
        );
        refusals.push(answer);
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("one_bad_event", refusals));
    assert!(
        fired(&client, &base, &id)
            .await
            .get("last_fired_time")
            .is_none(),
        "nothing was processed"
    );
    // physical_store events may be 62 days old.
    let (status, answer) = send(&client, &base, "v26.0", "55", &json!([store_old]), None).await;
    assert_eq!(status, 200, "{answer}");
    // At most 1,000 events; none is an error too.
    let many: Vec<Value> = (0..1001)
        .map(|i| purchase(t - i, 1.0, "https://x"))
        .collect();
    let (status, answer) = send(&client, &base, "v26.0", "55", &Value::Array(many), None).await;
    assert_eq!(status, 400);
    answer_settings().bind(|| insta::assert_json_snapshot!(answer, @r#"
    {
      "error": {
        "code": 100,
        "error_user_msg": "1001 events sent; at most 1000 events can be sent in one request: split them",
        "error_user_title": "Too many events",
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Invalid parameter",
        "type": "OAuthException"
      }
    }
    "#));
    let thousand: Vec<Value> = (0..1000)
        .map(|i| purchase(t - i, 1.0, "https://x"))
        .collect();
    let (status, answer) = send(&client, &base, "v26.0", "55", &Value::Array(thousand), None).await;
    assert_eq!(
        (status, answer["events_received"].clone()),
        (200, json!(1000))
    );
    let r = client
        .post(format!("{base}/v26.0/55/events?access_token=tok"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let answer: Value = r.json().await.unwrap();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(answer, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) The parameter data is required",
        "type": "OAuthException"
      }
    }
    "#);
    });
    emu.shutdown().await.unwrap();
}
