//! The custom conversions edge and node of the emulator over real HTTP: listing, paging,
//! creating, reading, updating, deleting, the cap, and the exact Graph error shapes.

use super::answer_settings;
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
    // The id is a string of digits: the emulator's first.
    insta::assert_json_snapshot!(body, @r#"
    {
      "id": "23850000000000001"
    }
    "#);
    let id = body["id"].as_str().unwrap().to_string();

    // Comma list, as the Python SDK sends it, with a trailing slash.
    let (status, list) = get(
        &client,
        &format!(
            "{base}/v26.0/act_1/customconversions/?fields=name,rule,custom_event_type,default_conversion_value,description,data_sources,pixel,creation_time,account_id,is_archived,action_source_type,event_source_id"
        ),
    )
    .await;
    assert_eq!(status, 200);
    // The rule in the API's own serialisation (compact, numbers normalised), the creation time
    // as the API writes it (`2026-11-25T14:10:14+0000`), no last_fired_time (never fired), no
    // next (one page only).
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(list, @r#"
    {
      "data": [
        {
          "account_id": "1",
          "action_source_type": "website",
          "creation_time": "[time]",
          "custom_event_type": "PURCHASE",
          "data_sources": [
            {
              "id": "55",
              "name": "Pixel 55",
              "source_type": "PIXEL"
            }
          ],
          "default_conversion_value": 12,
          "description": "over 100",
          "event_source_id": "55",
          "id": "23850000000000001",
          "is_archived": false,
          "name": "Big purchase",
          "pixel": {
            "id": "55"
          },
          "rule": "{\"and\":[{\"event\":{\"eq\":\"Purchase\"}},{\"value\":{\"gt\":100}}]}"
        }
      ],
      "paging": {
        "cursors": {
          "after": "3233383530303030303030303030303031",
          "before": "3233383530303030303030303030303031"
        }
      }
    }
    "#);
    });

    // JSON array form, as the seeds' curl example sends it.
    let (_, list) = get(
        &client,
        &format!("{base}/v26.0/act_1/customconversions?fields=[\"pixel\",\"rule\"]"),
    )
    .await;
    insta::assert_json_snapshot!(list["data"], @r#"
    [
      {
        "id": "23850000000000001",
        "pixel": {
          "id": "55"
        },
        "rule": "{\"and\":[{\"event\":{\"eq\":\"Purchase\"}},{\"value\":{\"gt\":100}}]}"
      }
    ]
    "#);

    // Without fields: only the id.
    let (_, list) = get(&client, &format!("{base}/v26.0/act_1/customconversions")).await;
    assert_eq!(list["data"][0], json!({"id": id}));

    // The node, with a trailing slash.
    let (status, node) = get(&client, &format!("{base}/v26.0/{id}/?fields=name,rule")).await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!(node, @r#"
    {
      "id": "23850000000000001",
      "name": "Big purchase",
      "rule": "{\"and\":[{\"event\":{\"eq\":\"Purchase\"}},{\"value\":{\"gt\":100}}]}"
    }
    "#);

    // Unknown field: code 100.
    let (status, err) = get(&client, &format!("{base}/v26.0/{id}?fields=name,colour")).await;
    assert_eq!(status, 400);
    assert_graph_error(&err, 100, None);
    answer_settings().bind(|| insta::assert_json_snapshot!(err, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) Tried accessing nonexisting field (colour) on node type (CustomConversion)",
        "type": "OAuthException"
      }
    }
    "#));
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
    answer_settings().bind(|| insta::assert_json_snapshot!("second_page_of_ten", p2));
    let before = p2["paging"]["cursors"]["before"].as_str().unwrap();
    let (_, back) = get(
        &client,
        &format!("{base}/v26.0/act_7/customconversions?fields=name&limit=10&before={before}"),
    )
    .await;
    assert_eq!(back["data"], p1["data"]);

    // An empty account: an empty page, no next.
    let (_, empty) = get(&client, &format!("{base}/v26.0/act_8/customconversions")).await;
    insta::assert_json_snapshot!(empty, @r#"
    {
      "data": []
    }
    "#);
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
    let mut refusals = Vec::new();
    for (form, mentions) in cases {
        let (status, body) = create(&client, &base, "act_1", &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_graph_error(&body, 100, None);
        let text = body.to_string();
        assert!(
            text.contains(mentions),
            "{form:?} should mention {mentions}: {text}"
        );
        let form: serde_json::Map<String, Value> = form
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        refusals.push(json!({"form": form, "answer": body}));
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("create_refusals", refusals));
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
    // Keys sorted, compact.
    insta::assert_json_snapshot!(node, @r#"
    {
      "advanced_rule": "{\"a\":2,\"b\":1}",
      "id": "23850000000000001"
    }
    "#);
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
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "error_subcode": 1760005,
        "error_user_msg": "Ad accounts are limited to 100 custom conversions.",
        "error_user_title": "Custom conversion limit reached",
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "(#100) This ad account has reached its limit of 3 custom conversions: delete one before creating another",
        "type": "OAuthException"
      }
    }
    "#));
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
    insta::assert_json_snapshot!(list, @r#"
    {
      "data": [
        {
          "id": "23850000000000001",
          "is_archived": true,
          "name": "n0"
        },
        {
          "id": "23850000000000002",
          "is_archived": false,
          "name": "n1"
        },
        {
          "id": "23850000000000003",
          "is_archived": false,
          "name": "n2"
        }
      ],
      "paging": {
        "cursors": {
          "after": "3233383530303030303030303030303033",
          "before": "3233383530303030303030303030303031"
        }
      }
    }
    "#);
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
    let mut refusals = Vec::new();
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
        refusals.push(json!({"field": field, "answer": body}));
    }
    answer_settings().bind(|| insta::assert_json_snapshot!("update_refusals", refusals));
    let (_, read) = get(&client, &format!("{base}/v26.0/{id}?fields=name")).await;
    assert_eq!(read["name"], "b", "a refused update changes nothing");

    let (status, _) = json_of(client.delete(&node).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = get(&client, &format!("{base}/v26.0/{id}")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 100, Some(33));
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Unsupported get request. Object with ID '23850000000000001' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException"
      }
    }
    "#));
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
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Unsupported post request. Object with ID '23850000000000001' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException"
      }
    }
    "#));
    let (_, body) = json_of(client.delete(&node).send().await.unwrap()).await;
    assert_graph_error(&body, 100, Some(33));
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Unsupported delete request. Object with ID '23850000000000001' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException"
      }
    }
    "#));
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
    let usage: Vec<Value> = ["x-ad-account-usage", "x-business-use-case-usage"]
        .iter()
        .map(|h| serde_json::from_str(r.headers()[*h].to_str().unwrap()).unwrap())
        .collect();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(usage, @r#"
    [
      {
        "acc_id_util_pct": [share],
        "ads_api_access_tier": "standard_access",
        "reset_time_duration": [left]
      },
      {
        "5": [
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
    ]
    "#);
    });
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
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 190,
        "error_subcode": 467,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException"
      }
    }
    "#);
    });
    // No token at all.
    let (_, body) = json_of(client.get(&list).send().await.unwrap()).await;
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 104,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "An access token is required to request this resource.",
        "type": "OAuthException"
      }
    }
    "#);
    });
    // Proof missing / wrong.
    let (_, body) = json_of(client.get(&list).bearer_auth("good").send().await.unwrap()).await;
    assert_graph_error(&body, 100, None);
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "API calls from the server require an appsecret_proof argument",
        "type": "GraphMethodException"
      }
    }
    "#);
    });
    let (_, body) = json_of(
        client
            .get(format!("{list}?appsecret_proof=00ff"))
            .bearer_auth("good")
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Invalid appsecret_proof provided in the API argument",
        "type": "GraphMethodException"
      }
    }
    "#);
    });
    // Retired versions (on the tests' day, 2026-12-06: v24.0 since 2026-11-10): 2635; an
    // unknown account: 100/33. (Served versions, and the day each is retired: the emulator's
    // unit tests, `versions_are_retired_on_their_published_dates`.)
    let mut retired = Vec::new();
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
        retired.push(body);
    }
    answer_settings().bind(|| insta::assert_json_snapshot!(retired, @r#"
    [
      {
        "error": {
          "code": 2635,
          "fbtrace_id": "[trace id]",
          "is_transient": false,
          "message": "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.",
          "type": "OAuthException"
        }
      },
      {
        "error": {
          "code": 2635,
          "fbtrace_id": "[trace id]",
          "is_transient": false,
          "message": "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.",
          "type": "OAuthException"
        }
      }
    ]
    "#));
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
    answer_settings().bind(|| insta::assert_json_snapshot!(body, @r#"
    {
      "error": {
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "[trace id]",
        "is_transient": false,
        "message": "Unsupported get request. Object with ID 'act_6' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException"
      }
    }
    "#));
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
    insta::assert_json_snapshot!(body, @r#"
    {
      "ids": [
        "23850000000000001",
        "23850000000000002"
      ]
    }
    "#);
    let (_, list) = get(
        &client,
        &format!("{base}/v26.0/act_9/customconversions?fields=name,is_archived,last_fired_time"),
    )
    .await;
    assert_eq!(
        list["data"][1]["last_fired_time"],
        convctl::emulator::graph_datetime(1_795_000_000)
    );
    insta::assert_json_snapshot!(list, @r#"
    {
      "data": [
        {
          "id": "23850000000000001",
          "is_archived": true,
          "name": "a"
        },
        {
          "id": "23850000000000002",
          "is_archived": false,
          "last_fired_time": "2026-11-18T11:06:40+0000",
          "name": "b"
        }
      ],
      "paging": {
        "cursors": {
          "after": "3233383530303030303030303030303032",
          "before": "3233383530303030303030303030303031"
        }
      }
    }
    "#);
    let bad = client
        .post(format!("{base}/_emulator/conversions"))
        .json(&json!({"account": "x", "name": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    insta::assert_snapshot!(bad.text().await.unwrap(), @r#"{"error":"`x` is not an ad account id: write `act_` followed by digits, e.g. act_1234567890"}"#);
    let state: Value = client
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer_settings().bind(|| {
        insta::assert_json_snapshot!(state, @r#"
    {
      "conversions": [
        {
          "account_id": "9",
          "creation_time": [time],
          "custom_event_type": "OTHER",
          "default_conversion_value": 0.0,
          "description": "",
          "id": "23850000000000001",
          "is_archived": true,
          "is_unavailable": false,
          "name": "a",
          "rule": "{\"url\":{\"i_contains\":\"x\"}}"
        },
        {
          "account_id": "9",
          "creation_time": [time],
          "custom_event_type": "OTHER",
          "default_conversion_value": 0.0,
          "description": "",
          "id": "23850000000000002",
          "is_archived": false,
          "is_unavailable": false,
          "last_fired_time": 1795000000,
          "name": "b",
          "rule": "{\"event\":{\"eq\":\"Lead\"}}"
        }
      ],
      "format": 1,
      "next_id": "23850000000000003"
    }
    "#);
    });
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
    insta::assert_json_snapshot!(node, @r#"
    {
      "id": "23850000000000001",
      "name": "URL based Custom Conversion",
      "rule": "{\"or\":[{\"url\":{\"i_contains\":\"thankyou.html\"}},{\"url\":{\"i_contains\":\"confirmation.html\"}}]}"
    }
    "#);
    assert_eq!(emu.stats()["auth"]["form"], 1);
    emu.shutdown().await.unwrap();
}
