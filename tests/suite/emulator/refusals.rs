//! What the real API refuses on custom conversions, over real HTTP: deletes refused to the app
//! (`--refuse-deletes`, code 200), a second conversion with an account's rule
//! (`--unique-rules`, part of `--strict`: code 100 subcode 1760002, renamed and archived ones
//! included), archived conversions frozen (an edit answers code 100, `is_archived` is ignored),
//! flagged ones refusing every edit (code 2700000 subcode 2460004), and the control route that
//! archives or flags a conversion as Events Manager or Meta would. Each refusal's whole body
//! is pinned (its trace id aside).

use crate::support::emulator::{start, start_exactly};
use convctl::emulator::{ConversionMarks, EmulatorConfig, RunningEmulator, SeedConversion};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// One Graph call (form body, bearer token): the HTTP status and the body, its trace id
/// replaced so that whole bodies can be compared.
async fn call(
    emu: &RunningEmulator,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = Client::new()
        .request(method, format!("{}/v26.0/{path}", emu.base_url()))
        .bearer_auth("tok")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.unwrap();
    if let Some(trace) = body.get_mut("error").and_then(|e| e.get_mut("fbtrace_id")) {
        assert!(trace.as_str().is_some_and(|t| !t.is_empty()), "no trace id");
        *trace = json!("[trace]");
    }
    (status, body)
}

fn purchase(name: &str) -> SeedConversion {
    SeedConversion {
        account: "act_1".into(),
        name: name.into(),
        rule: Some(json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": 100}}]})),
        custom_event_type: Some("PURCHASE".into()),
        event_source_id: Some("55".into()),
        ..SeedConversion::default()
    }
}

/// The same rule, written otherwise: items swapped, `100.0`, spaces.
const SAME_RULE: &str = r#"{"and": [{"value": {"gt": 100.0}}, {"event": {"eq": "Purchase"}}]}"#;

async fn names(emu: &RunningEmulator) -> Vec<(String, bool)> {
    let (_, list) = call(
        emu,
        Method::GET,
        "act_1/customconversions?fields=name,is_archived",
        &[],
    )
    .await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["is_archived"] == true,
            )
        })
        .collect()
}

#[tokio::test]
async fn refuse_deletes_answers_a_permissions_error_and_keeps_the_conversion() {
    let emu = start(EmulatorConfig {
        refuse_deletes: true,
        ..EmulatorConfig::default()
    })
    .await;
    let id = emu.insert_conversion(purchase("Purchase")).unwrap();
    let (status, body) = call(&emu, Method::DELETE, &id, &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"message": "(#200) Permissions error", "type": "OAuthException",
            "code": 200, "is_transient": false, "fbtrace_id": "[trace]"}})
    );
    assert_eq!(names(&emu).await, [("Purchase".to_string(), false)]);
    // Renaming (what a client does instead: retiring) is allowed.
    let (status, body) = call(
        &emu,
        Method::POST,
        &id,
        &[("name", "[retired 2026-12-06] Purchase")],
    )
    .await;
    assert_eq!((status, &body), (200, &json!({"success": true})));
    // Without the switch, deletes delete (the lenient profile exactly: this test compares).
    let lenient = start_exactly(EmulatorConfig::default()).await.unwrap();
    let other = lenient.insert_conversion(purchase("Purchase")).unwrap();
    let (status, _) = call(&lenient, Method::DELETE, &other, &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unique_rules_refuses_a_second_conversion_with_the_same_rule_by_meaning() {
    for config in [
        EmulatorConfig {
            unique_rules: true,
            ..EmulatorConfig::default()
        },
        EmulatorConfig {
            strict: true,
            ..EmulatorConfig::default()
        },
    ] {
        let emu = start(config).await;
        let first = emu.insert_conversion(purchase("Purchase")).unwrap();
        let form = [
            ("name", "Purchase again"),
            ("rule", SAME_RULE),
            ("event_source_id", "55"),
            ("custom_event_type", "PURCHASE"),
        ];
        let refusal = json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException",
            "code": 100, "error_subcode": 1760002, "is_transient": false,
            "error_user_title": "Duplicate Custom Conversion Rule",
            "error_user_msg": "A custom conversion with the same rule already exists in this ad account.",
            "fbtrace_id": "[trace]"}});
        let (status, body) = call(&emu, Method::POST, "act_1/customconversions", &form).await;
        assert_eq!((status, &body), (400, &refusal));
        // Renaming the first does not free its rule; archiving it does not either.
        call(
            &emu,
            Method::POST,
            &first,
            &[("name", "[retired 2026-12-06] Purchase")],
        )
        .await;
        assert_eq!(
            call(&emu, Method::POST, "act_1/customconversions", &form)
                .await
                .1,
            refusal
        );
        assert!(emu.mark_conversion(
            &first,
            ConversionMarks {
                is_archived: Some(true),
                ..Default::default()
            }
        ));
        assert_eq!(
            call(&emu, Method::POST, "act_1/customconversions", &form)
                .await
                .1,
            refusal
        );
        // Another rule, or the same rule in another account, is fine.
        let other = [("name", "Big"), ("rule", r#"{"value":{"gt":500}}"#)];
        assert_eq!(
            call(&emu, Method::POST, "act_1/customconversions", &other)
                .await
                .0,
            200
        );
        assert_eq!(
            call(&emu, Method::POST, "act_2/customconversions", &form)
                .await
                .0,
            200
        );
        // Deleting frees it.
        let second = emu.insert_conversion(SeedConversion {
            account: "act_3".into(),
            ..purchase("Purchase")
        });
        call(&emu, Method::DELETE, &second.unwrap(), &[]).await;
        assert_eq!(
            call(&emu, Method::POST, "act_3/customconversions", &form)
                .await
                .0,
            200
        );
    }
    // Without the switch (the lenient profile exactly) the API takes it.
    let lenient = start_exactly(EmulatorConfig::default()).await.unwrap();
    lenient.insert_conversion(purchase("Purchase")).unwrap();
    let (status, _) = call(
        &lenient,
        Method::POST,
        "act_1/customconversions",
        &[("name", "Purchase again"), ("rule", SAME_RULE)],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn archived_conversions_are_frozen_and_is_archived_is_ignored_in_every_profile() {
    for strict in [false, true] {
        let emu = start(EmulatorConfig {
            strict,
            ..EmulatorConfig::default()
        })
        .await;
        let live = emu.insert_conversion(purchase("Live")).unwrap();
        let archived = emu
            .insert_conversion(SeedConversion {
                is_archived: true,
                rule: Some(json!({"url": {"i_contains": "old"}})),
                ..purchase("Old")
            })
            .unwrap();
        for form in [
            [("name", "Renamed")],
            [("default_conversion_value", "5")],
            [("description", "new")],
        ] {
            let (status, body) = call(&emu, Method::POST, &archived, &form).await;
            assert_eq!(status, 400, "{form:?}");
            assert_eq!(
                body,
                json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException",
                    "code": 100, "is_transient": false, "fbtrace_id": "[trace]"}})
            );
        }
        // `is_archived` is not an update parameter: success, nothing changes (either way).
        for (id, value) in [(&live, "true"), (&archived, "false")] {
            let (status, body) = call(&emu, Method::POST, id, &[("is_archived", value)]).await;
            assert_eq!((status, body), (200, json!({"success": true})));
        }
        assert_eq!(
            names(&emu).await,
            [("Live".to_string(), false), ("Old".to_string(), true)]
        );
    }
}

#[tokio::test]
async fn flagged_conversions_refuse_every_edit_in_every_profile() {
    for strict in [false, true] {
        let emu = start(EmulatorConfig {
            strict,
            ..EmulatorConfig::default()
        })
        .await;
        let id = emu.insert_conversion(purchase("Health check")).unwrap();
        assert!(emu.mark_conversion(
            &id,
            ConversionMarks {
                is_unavailable: Some(true),
                ..Default::default()
            }
        ));
        for form in [
            [("name", "Renamed")],
            [("description", "x")],
            [("default_conversion_value", "3")],
        ] {
            let (status, body) = call(&emu, Method::POST, &id, &form).await;
            assert_eq!(status, 400);
            assert_eq!(
                body,
                json!({"error": {"message": "Your custom conversion is currently blocked",
                    "type": "OAuthException", "code": 2700000, "error_subcode": 2460004,
                    "is_transient": false, "fbtrace_id": "[trace]"}})
            );
        }
        let (_, node) = call(
            &emu,
            Method::GET,
            &format!("{id}?fields=name,is_unavailable"),
            &[],
        )
        .await;
        assert_eq!(
            node,
            json!({"name": "Health check", "is_unavailable": true, "id": id})
        );
    }
}

/// `POST /_emulator/conversions/<ID>`: archives or flags, answers 404 for an unknown id and 400
/// for a body it does not understand.
#[tokio::test]
async fn the_control_route_archives_and_flags() {
    let emu = start(EmulatorConfig::default()).await;
    let id = emu.insert_conversion(purchase("Purchase")).unwrap();
    let post = |path: String, body: &'static str| {
        let url = format!("{}/_emulator/{path}", emu.base_url());
        async move {
            let response = Client::new().post(url).body(body).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(
        post(
            format!("conversions/{id}"),
            r#"{"is_archived": true, "is_unavailable": true}"#
        )
        .await,
        (200, r#"{"success":true}"#.to_string())
    );
    let (_, node) = call(
        &emu,
        Method::GET,
        &format!("{id}?fields=is_archived,is_unavailable"),
        &[],
    )
    .await;
    assert_eq!(
        node,
        json!({"is_archived": true, "is_unavailable": true, "id": id})
    );
    assert_eq!(
        post("conversions/999".into(), r#"{"is_archived": true}"#).await,
        (404, r#"{"error":"no conversion has id 999"}"#.to_string())
    );
    let (status, text) = post(format!("conversions/{id}"), r#"{"archived": true}"#).await;
    assert_eq!(status, 400, "{text}");
    insta::assert_snapshot!(text, @r#"{"error":"expected {is_archived, is_unavailable}: unknown field `archived`, expected `is_archived` or `is_unavailable` at line 1 column 11"}"#);
}

/// A rule whose only conditions are on `event` is refused at creation in the strict profile
/// (code 100 subcode 1760020, as reported of Meta) and accepted in the lenient one; a rule with
/// a condition on the page besides is accepted in both.
#[tokio::test]
async fn a_rule_on_the_event_alone_is_refused_at_creation_in_the_strict_profile() {
    let event_only = r#"{"event":{"eq":"Purchase"}}"#;
    let with_page = r#"{"and":[{"event":{"eq":"Purchase"}},{"url":{"i_contains":"thanks"}}]}"#;
    for strict in [true, false] {
        let emu = start_exactly(EmulatorConfig {
            strict,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let (status, body) = call(
            &emu,
            Method::POST,
            "act_1/customconversions",
            &[("name", "Every purchase"), ("rule", event_only)],
        )
        .await;
        if strict {
            assert_eq!(status, 400);
            insta::assert_json_snapshot!(body, @r#"
            {
              "error": {
                "code": 100,
                "error_subcode": 1760020,
                "error_user_msg": "A conversion rule is required at creation time.",
                "error_user_title": "Missing rule",
                "fbtrace_id": "[trace]",
                "is_transient": false,
                "message": "(#100) Invalid parameter",
                "type": "OAuthException"
              }
            }
            "#);
        } else {
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = call(
            &emu,
            Method::POST,
            "act_1/customconversions",
            &[("name", "Purchases on thanks"), ("rule", with_page)],
        )
        .await;
        assert_eq!(status, 200, "strict {strict}: {body}");
    }
}
