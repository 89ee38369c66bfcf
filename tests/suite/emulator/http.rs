//! The custom conversions edge and node of the emulator over real HTTP: listing, paging,
//! creating, reading, updating, deleting, the cap, and the exact Graph error shapes.

use crate::support::emulator::start;
use convctl::emulator::{EmulatorConfig, SeedConversion};
use convctl::model::ids::AdAccountId;
use reqwest::{Client, Response};
use serde_json::{Value, json};

/// The lenient profile, for the tests of what it answers where the strict one differs (every
/// field read back, pages of up to 100); `emulator::strict` covers the strict profile.
async fn lenient(config: EmulatorConfig) -> convctl::emulator::RunningEmulator {
    crate::support::emulator::start_exactly(config)
        .await
        .unwrap()
}

const RULE: &str = r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100.0}}]}"#;

/// A rule of its own for each conversion of an account: the strict profile refuses a rule the
/// account holds (code 100, subcode 1760002), as Meta does.
fn page_rule(page: &str) -> String {
    serde_json::json!({"url": {"i_contains": page}}).to_string()
}

async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

async fn create(client: &Client, base: &str, account: &str, form: &[(&str, &str)]) -> (u16, Value) {
    json_of(
        client
            .post(format!(
                "{base}/v26.0/{account}/customconversions?access_token=tok"
            ))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get(client: &Client, url: &str) -> (u16, Value) {
    json_of(client.get(url).bearer_auth("tok").send().await.unwrap()).await
}

fn assert_graph_error(body: &Value, code: u64, subcode: Option<u64>) {
    let e = &body["error"];
    assert_eq!(e["code"], code, "{body}");
    assert_eq!(e["error_subcode"].as_u64(), subcode, "{body}");
    assert!(e["message"].is_string() && e["type"].is_string(), "{body}");
    assert!(e["is_transient"].is_boolean(), "{body}");
    assert!(
        e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

fn seed(account: &str, name: &str) -> SeedConversion {
    SeedConversion {
        account: account.into(),
        name: name.into(),
        rule: Some(json!({"url": {"i_contains": name}})),
        event_source_id: Some("55".into()),
        custom_event_type: Some("PURCHASE".into()),
        ..SeedConversion::default()
    }
}

#[tokio::test]
async fn create_then_list_and_read_back_every_field() {
    let emu = lenient(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let (status, body) = create(
        &client,
        &base,
        "act_1",
        &[
            ("name", "Big purchase"),
            ("rule", RULE),
            ("event_source_id", "55"),
            ("custom_event_type", "PURCHASE"),
            ("default_conversion_value", "12"),
            ("description", "over 100"),
            ("action_source_type", "website"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().expect("id is a string").to_string();
    assert!(id.bytes().all(|b| b.is_ascii_digit()));

    // Comma list, as the Python SDK sends it, with a trailing slash.
    let (status, list) = get(
        &client,
        &format!(
            "{base}/v26.0/act_1/customconversions/?fields=name,rule,custom_event_type,default_conversion_value,description,data_sources,pixel,creation_time,account_id,is_archived,action_source_type,event_source_id"
        ),
    )
    .await;
    assert_eq!(status, 200);
    let item = &list["data"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["name"], "Big purchase");
    // The API's own serialisation: compact, numbers normalised.
    assert_eq!(
        item["rule"],
        r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#
    );
    assert_eq!(item["custom_event_type"], "PURCHASE");
    assert_eq!(item["default_conversion_value"], 12);
    assert_eq!(item["description"], "over 100");
    assert_eq!(item["data_sources"][0]["id"], "55");
    assert_eq!(item["data_sources"][0]["source_type"], "PIXEL");
    assert_eq!(item["pixel"]["id"], "55");
    assert_eq!(item["account_id"], "1");
    assert_eq!(item["is_archived"], false);
    assert_eq!(item["action_source_type"], "website");
    assert_eq!(item["event_source_id"], "55");
    let created = item["creation_time"].as_str().unwrap();
    assert_eq!(created.len(), "2026-11-25T14:10:14+0000".len());
    assert!(
        created.ends_with("+0000") && created.as_bytes()[10] == b'T',
        "{created}"
    );
    assert!(item.get("last_fired_time").is_none(), "never fired: absent");
    assert!(list["paging"].get("next").is_none(), "one page only");

    // JSON array form, as the seeds' curl example sends it.
    let (_, list) = get(
        &client,
        &format!("{base}/v26.0/act_1/customconversions?fields=[\"pixel\",\"rule\"]"),
    )
    .await;
    let keys: Vec<&String> = list["data"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{list}");

    // Without fields: only the id.
    let (_, list) = get(&client, &format!("{base}/v26.0/act_1/customconversions")).await;
    assert_eq!(list["data"][0], json!({"id": id}));

    // The node, with a trailing slash.
    let (status, node) = get(&client, &format!("{base}/v26.0/{id}/?fields=name,rule")).await;
    assert_eq!(status, 200);
    assert_eq!(node["name"], "Big purchase");

    // Unknown field: code 100.
    let (status, err) = get(&client, &format!("{base}/v26.0/{id}?fields=name,colour")).await;
    assert_eq!(status, 400);
    assert_graph_error(&err, 100, None);
    assert!(err["error"]["message"].as_str().unwrap().contains("colour"));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn paging_default_limit_cap_and_cursors() {
    let emu = lenient(EmulatorConfig {
        cap: 1000,
        ..EmulatorConfig::default()
    })
    .await;
    let (base, client) = (emu.base_url(), Client::new());
    for i in 0..130 {
        emu.insert_conversion(seed("act_7", &format!("c{i:03}")))
            .unwrap();
    }
    let (_, first) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name"),
    )
    .await;
    assert_eq!(
        first["data"].as_array().unwrap().len(),
        25,
        "default page size"
    );
    let (_, big) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name&limit=500"),
    )
    .await;
    assert_eq!(
        big["data"].as_array().unwrap().len(),
        100,
        "limit capped at 100"
    );

    // Follow `next` to the end: every item once, `next` absent only on the last page.
    let mut url = format!("{base}/v26.0/act_7/customconversions?fields=name&limit=40");
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = get(&client, &url).await;
        assert_eq!(status, 200);
        pages += 1;
        names.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string()),
        );
        match page["paging"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&base),
                    "next points at the emulator: {next}"
                );
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(names.len(), 130);
    let expected: Vec<String> = (0..130).map(|i| format!("c{i:03}")).collect();
    assert_eq!(names, expected);

    // `before` goes back one page.
    let (_, p1) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name&limit=10"),
    )
    .await;
    let after = p1["paging"]["cursors"]["after"].as_str().unwrap();
    let (_, p2) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name&limit=10&after={after}"),
    )
    .await;
    assert_eq!(p2["data"][0]["name"], "c010");
    assert!(p2["paging"]["previous"].is_string());
    let before = p2["paging"]["cursors"]["before"].as_str().unwrap();
    let (_, back) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name&limit=10&before={before}"),
    )
    .await;
    assert_eq!(back["data"], p1["data"]);

    // An empty account: an empty page, no next.
    let (_, empty) = get(&client, &format!("{base}/v26.0/act_8/customconversions")).await;
    assert_eq!(empty["data"], json!([]));
    assert!(empty.get("paging").is_none_or(|p| p.get("next").is_none()));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn create_validation() {
    let emu = lenient(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("rule", RULE)], "name"),
        (vec![("name", "x")], "rule"),
        (vec![("name", "x"), ("rule", "{not json")], "rule"),
        (
            vec![("name", "x"), ("rule", r#"{"value":{"gt":"100"}}"#)],
            "number",
        ),
        (
            vec![("name", "x"), ("rule", r#"{"url":{"icontains":"a"}}"#)],
            "i_contains",
        ),
        (
            vec![
                ("name", "x"),
                ("rule", RULE),
                ("custom_event_type", "purchase"),
            ],
            "custom_event_type",
        ),
        (
            vec![("name", "x"), ("rule", RULE), ("action_source_type", "web")],
            "action_source_type",
        ),
        (
            vec![
                ("name", "x"),
                ("rule", RULE),
                ("default_conversion_value", "lots"),
            ],
            "default_conversion_value",
        ),
        (
            vec![
                ("name", "x"),
                ("rule", RULE),
                ("event_source_id", "pixel-1"),
            ],
            "event_source_id",
        ),
    ];
    for (form, mentions) in cases {
        let (status, body) = create(&client, &base, "act_1", &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_graph_error(&body, 100, None);
        let text = body.to_string();
        assert!(
            text.contains(mentions),
            "{form:?} should mention {mentions}: {text}"
        );
    }
    // advanced_rule alone is enough; duplicate names are allowed; ids differ.
    let (s1, a) = create(
        &client,
        &base,
        "act_1",
        &[("name", "dup"), ("advanced_rule", r#"{"b":1,"a":2}"#)],
    )
    .await;
    let (s2, b) = create(&client, &base, "act_1", &[("name", "dup"), ("rule", RULE)]).await;
    assert_eq!((s1, s2), (200, 200));
    assert_ne!(a["id"], b["id"]);
    let (_, node) = get(
        &client,
        &format!(
            "{base}/v26.0/{}?fields=advanced_rule",
            a["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        node["advanced_rule"], r#"{"a":2,"b":1}"#,
        "keys sorted, compact"
    );
    assert_eq!(
        emu.state()["conversions"].as_array().unwrap().len(),
        2,
        "nothing else was created"
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn cap_counts_archived_conversions() {
    let emu = start(EmulatorConfig {
        cap: 3,
        delete_archives: true,
        ..EmulatorConfig::default()
    })
    .await;
    let (base, client) = (emu.base_url(), Client::new());
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, body) = create(
            &client,
            &base,
            "act_2",
            &[
                ("name", &format!("n{i}")),
                ("rule", &page_rule(&format!("n{i}"))),
            ],
        )
        .await;
        assert_eq!(status, 200);
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let (status, body) = create(
        &client,
        &base,
        "act_2",
        &[
            ("name", "one too many"),
            ("rule", &page_rule("one too many")),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 100, Some(1_760_005));
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    // Another account is not affected.
    assert_eq!(
        create(&client, &base, "act_3", &[("name", "x"), ("rule", RULE)])
            .await
            .0,
        200
    );

    // --delete-archives: DELETE archives; the conversion stays listed and still counts.
    let (status, body) = json_of(
        client
            .delete(format!("{base}/v26.0/{}/?access_token=tok", ids[0]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    let (_, list) = get(
        &client,
        &format!("{base}/v26.0/act_2/customconversions?fields=is_archived,name"),
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(list["data"][0]["is_archived"], true);
    let (status, _) = create(
        &client,
        &base,
        "act_2",
        &[("name", "still full"), ("rule", &page_rule("still full"))],
    )
    .await;
    assert_eq!(status, 400);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn update_only_three_fields_and_delete() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let (_, body) = create(&client, &base, "act_1", &[("name", "a"), ("rule", RULE)]).await;
    let id = body["id"].as_str().unwrap().to_string();
    // The SDK's form: token in the query string, trailing slash, form body.
    let node = format!("{base}/v26.0/{id}/?access_token=tok");
    let (status, body) = json_of(
        client
            .post(&node)
            .form(&[
                ("name", "b"),
                ("description", "d"),
                ("default_conversion_value", "7.5"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    let (_, read) = get(
        &client,
        &format!("{base}/v26.0/{id}?fields=name,description,default_conversion_value"),
    )
    .await;
    assert_eq!(
        read,
        json!({"name": "b", "description": "d", "default_conversion_value": 7.5, "id": id})
    );
    for field in [
        "rule",
        "custom_event_type",
        "event_source_id",
        "action_source_type",
        "advanced_rule",
    ] {
        let (status, body) = json_of(
            client
                .post(&node)
                .form(&[(field, "x"), ("name", "c")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{field}");
        assert_graph_error(&body, 100, None);
        assert!(body["error"]["message"].as_str().unwrap().contains(field));
    }
    let (_, read) = get(&client, &format!("{base}/v26.0/{id}?fields=name")).await;
    assert_eq!(read["name"], "b", "a refused update changes nothing");

    let (status, _) = json_of(client.delete(&node).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = get(&client, &format!("{base}/v26.0/{id}")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 100, Some(33));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported get request")
    );
    assert_eq!(body["error"]["type"], "GraphMethodException");
    let (_, body) = json_of(
        client
            .post(&node)
            .form(&[("name", "z")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_graph_error(&body, 100, Some(33));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported post request")
    );
    let (_, body) = json_of(client.delete(&node).send().await.unwrap()).await;
    assert_graph_error(&body, 100, Some(33));
    let stats = emu.stats();
    assert_eq!(stats["writes"], 3, "{stats}");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_versions_proofs_and_usage_headers() {
    let account = AdAccountId::parse("act_5").unwrap();
    let emu = start(EmulatorConfig {
        tokens: vec!["good".into()],
        app_secret: Some("shh".into()),
        accounts: vec![account],
        ..EmulatorConfig::default()
    })
    .await;
    let (base, client) = (emu.base_url(), Client::new());
    let proof = {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"shh").unwrap();
        mac.update(b"good");
        hex::encode(mac.finalize().into_bytes())
    };
    let list = format!("{base}/v26.0/act_5/customconversions");

    let r = client
        .get(format!("{list}?appsecret_proof={proof}"))
        .bearer_auth("good")
        .send()
        .await
        .unwrap();
    for h in ["x-ad-account-usage", "x-business-use-case-usage"] {
        let v: Value = serde_json::from_str(r.headers()[h].to_str().unwrap()).unwrap();
        assert!(v.is_object(), "{h}");
    }
    // Marketing API calls are not counted against the Graph API's platform limits (seed
    // 002): the app's usage never moves, so no X-App-Usage.
    assert!(!r.headers().contains_key("x-app-usage"));
    assert_eq!(r.status(), 200);

    // Header (Bearer and OAuth), query and form tokens are all accepted and counted.
    let ok = client
        .get(format!("{list}?appsecret_proof={proof}"))
        .header("Authorization", "OAuth good")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok = client
        .get(format!("{list}?access_token=good&appsecret_proof={proof}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok = client
        .post(format!("{base}/v26.0/act_5/customconversions"))
        .form(&[
            ("access_token", "good"),
            ("appsecret_proof", &proof),
            ("name", "n"),
            ("rule", RULE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let stats = emu.stats();
    assert_eq!(
        stats["auth"],
        json!({"header": 2, "query": 1, "form": 1, "json": 0}),
        "{stats}"
    );

    // Bad token: 190, OAuthException, with usage headers too.
    let r = client
        .get(format!("{list}?appsecret_proof={proof}"))
        .bearer_auth("bad")
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-ad-account-usage"));
    let (status, body) = json_of(r).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 190, Some(467));
    assert_eq!(body["error"]["type"], "OAuthException");
    // No token at all.
    let (_, body) = json_of(client.get(&list).send().await.unwrap()).await;
    assert_eq!(body["error"]["code"], 104);
    // Proof missing / wrong.
    let (_, body) = json_of(client.get(&list).bearer_auth("good").send().await.unwrap()).await;
    assert_graph_error(&body, 100, None);
    assert_eq!(
        body["error"]["message"],
        "API calls from the server require an appsecret_proof argument"
    );
    let (_, body) = json_of(
        client
            .get(format!("{list}?appsecret_proof=00ff"))
            .bearer_auth("good")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "Invalid appsecret_proof provided in the API argument"
    );
    assert_eq!(body["error"]["type"], "GraphMethodException");
    // Retired versions (on the tests' day, 2026-12-06: v24.0 since 2026-11-10): 2635; an
    // unknown account: 100/33. (Served versions, and the day each is retired: the emulator's
    // unit tests, `versions_are_retired_on_their_published_dates`.)
    for version in ["v24.0", "v19.0"] {
        let (status, body) = json_of(
            client
                .get(format!(
                    "{base}/{version}/act_5/customconversions?appsecret_proof={proof}"
                ))
                .bearer_auth("good")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        assert_graph_error(&body, 2635, None);
    }
    let (_, body) = json_of(
        client
            .get(format!(
                "{base}/v26.0/act_6/customconversions?appsecret_proof={proof}"
            ))
            .bearer_auth("good")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_graph_error(&body, 100, Some(33));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn seeding_route_for_tests() {
    let emu = start(EmulatorConfig::default()).await;
    let (base, client) = (emu.base_url(), Client::new());
    let r = client
        .post(format!("{base}/_emulator/conversions"))
        .json(&json!([
            {"account": "act_9", "name": "a", "rule": {"url": {"i_contains": "x"}}, "is_archived": true},
            {"account": "9", "name": "b", "rule": "{\"event\":{\"eq\":\"Lead\"}}", "last_fired_time": 1_795_000_000}
        ]))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ids"].as_array().unwrap().len(), 2);
    let (_, list) = get(
        &client,
        &format!("{base}/v26.0/act_9/customconversions?fields=name,is_archived,last_fired_time"),
    )
    .await;
    assert_eq!(list["data"][0]["is_archived"], true);
    assert_eq!(
        list["data"][1]["last_fired_time"],
        convctl::emulator::graph_datetime(1_795_000_000)
    );
    let bad = client
        .post(format!("{base}/_emulator/conversions"))
        .json(&json!({"account": "x", "name": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let state: Value = client
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["conversions"].as_array().unwrap().len(), 2);
    assert_eq!(state["conversions"][0]["account_id"], "9");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn multipart_bodies_as_curl_f_sends_them() {
    // The seeds' examples use `curl -F`, which sends multipart/form-data.
    let emu = start(EmulatorConfig::default()).await;
    let client = Client::new();
    let boundary = "------------------------d74496d66958873e";
    let mut body = String::new();
    for (name, value) in [
        ("name", "URL based Custom Conversion"),
        ("event_source_id", "55"),
        (
            "rule",
            r#"{"or":[{"url":{"i_contains": "thankyou.html"}},{"url":{"i_contains":"confirmation.html"}}]}"#,
        ),
        ("custom_event_type", "PURCHASE"),
        ("access_token", "tok"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let r = client
        .post(format!("{}/v26.0/act_1/customconversions", emu.base_url()))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, created) = json_of(r).await;
    assert_eq!(status, 200, "{created}");
    let (_, node) = get(
        &client,
        &format!(
            "{}/v26.0/{}?fields=name,rule",
            emu.base_url(),
            created["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(node["name"], "URL based Custom Conversion");
    assert_eq!(
        node["rule"],
        r#"{"or":[{"url":{"i_contains":"thankyou.html"}},{"url":{"i_contains":"confirmation.html"}}]}"#
    );
    assert_eq!(emu.stats()["auth"]["form"], 1);
    emu.shutdown().await.unwrap();
}
