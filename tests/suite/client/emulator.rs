//! The Graph API client against the in-process emulator: reads, batched writes, adoption of
//! lost creates, faults, dropped answers, rate limits, and header-only authentication.

use crate::support::snapshot::text_settings;
use crate::support::{self, APP_SECRET, TOKEN, client::*, emulator::start};
use convctl::emulator::EmulatorConfig;
use convctl::graph::ErrorKind;
use convctl::model::ids::ConversionId;
use convctl::model::{ConversionUpdate, LiveConversion, WriteOp, WriteOutcome};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn live_state(state: &Value) -> Vec<&Value> {
    state["conversions"].as_array().unwrap().iter().collect()
}

/// A listing as a snapshot shows it: by name, each id written as the write that made it
/// (`[made 3]`: the id the fourth write of `made` answered), since writes sent side by side
/// are numbered by the emulator in the order they arrive; the creation time aside.
fn listing(live: &[LiveConversion], made: &[ConversionId]) -> Vec<Value> {
    let mut live = live.to_vec();
    live.sort_by(|a, b| a.name.cmp(&b.name));
    live.iter()
        .map(|c| {
            let mut shown = serde_json::to_value(c).unwrap();
            shown["id"] = match made.iter().position(|id| id == &c.id) {
                Some(i) => format!("[made {i}]").into(),
                None => format!("[not made here: {}]", c.id).into(),
            };
            if c.creation_time.is_some() {
                shown["creation_time"] = "[time]".into();
            }
            shown
        })
        .collect()
}

#[tokio::test]
async fn reads_and_batched_writes_round_trip_with_header_authentication_only() {
    let emu = start(EmulatorConfig::default()).await;
    let mut cfg = config(&emu.base_url(), TOKEN);
    cfg.batch_size = 4;
    let (client, log) = client(cfg);
    let acc = account(101);

    assert!(client.list_conversions(&acc).await.unwrap().is_empty());
    let creates: Vec<WriteOp> = (0..10)
        .map(|i| WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion(&format!("c{i}"), i),
        })
        .collect();
    let results = client.write(creates).await;
    let ids: Vec<ConversionId> = results
        .into_iter()
        .map(|r| match r.unwrap() {
            WriteOutcome::Created(id) => id,
            other => panic!("expected a create, got {other:?}"),
        })
        .collect();

    // Every field read back, and each id where its create's result is (in input order).
    let live = client.list_conversions(&acc).await.unwrap();
    insta::assert_json_snapshot!("batched_creates_listed", listing(&live, &ids));

    let update = ConversionUpdate {
        name: Some("c0 renamed".into()),
        description: Some(String::new()),
        default_conversion_value: Some(7.5),
    };
    let results = client
        .write(vec![
            WriteOp::Update {
                id: ids[0].clone(),
                update,
            },
            WriteOp::Delete { id: ids[1].clone() },
            WriteOp::Delete { id: ids[2].clone() },
        ])
        .await;
    assert_eq!(
        results,
        vec![
            Ok(WriteOutcome::Updated),
            Ok(WriteOutcome::Deleted),
            Ok(WriteOutcome::Deleted)
        ]
    );
    let live = client.list_conversions(&acc).await.unwrap();
    insta::assert_json_snapshot!("batched_writes_listed", listing(&live, &ids));

    // A delete of something that is gone, with no lost answer before: reported, not hidden.
    let again = client
        .write(vec![WriteOp::Delete { id: ids[1].clone() }])
        .await;
    let err = again[0].clone().unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.conversion(), Some(&ids[1]));
    let mut settings = text_settings();
    settings.add_filter(ids[1].as_str(), "[made 1]");
    settings.bind(|| insta::assert_snapshot!(err, @"act_101, conversion [made 1]: Unsupported delete request. Object with ID '[made 1]' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api [code 100, subcode 33, fbtrace_id [trace id]]"));

    // Header authentication only; 10 creates by 4 are 3 batches, the update and deletes one.
    // The strict profile asks once more: its first listing refuses the full field list.
    let stats = emu.stats();
    if support::profile::strict() {
        insta::assert_json_snapshot!(stats, @r#"
        {
          "answers_dropped": 0,
          "auth": {
            "form": 0,
            "header": 9,
            "json": 0,
            "query": 0
          },
          "batches": 4,
          "by_route": {
            "DELETE /{id}": 3,
            "GET /act_{id}/customconversions": 4,
            "POST / (batch)": 4,
            "POST /act_{id}/customconversions": 10,
            "POST /{id}": 1
          },
          "conversions": 8,
          "events_received": 0,
          "faults_injected": 0,
          "http_requests": 9,
          "requests": 22,
          "throttled": 0,
          "writes": 13
        }
        "#);
    } else {
        insta::assert_json_snapshot!(stats, @r#"
        {
          "answers_dropped": 0,
          "auth": {
            "form": 0,
            "header": 8,
            "json": 0,
            "query": 0
          },
          "batches": 4,
          "by_route": {
            "DELETE /{id}": 3,
            "GET /act_{id}/customconversions": 3,
            "POST / (batch)": 4,
            "POST /act_{id}/customconversions": 10,
            "POST /{id}": 1
          },
          "conversions": 8,
          "events_received": 0,
          "faults_injected": 0,
          "http_requests": 8,
          "requests": 21,
          "throttled": 0,
          "writes": 13
        }
        "#);
    }
    let text = log.text();
    assert!(
        text.contains("GET /v27.0/act_101/customconversions"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn batch_size_one_sends_plain_requests() {
    let emu = start(EmulatorConfig::default()).await;
    let mut cfg = config(&emu.base_url(), TOKEN);
    cfg.batch_size = 1;
    let (client, _) = client(cfg);
    let acc = account(102);
    let ops = (0..3)
        .map(|i| WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion(&format!("p{i}"), i),
        })
        .collect();
    assert!(
        client
            .write(ops)
            .await
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Created(_))))
    );
    assert_eq!(emu.stats()["batches"], 0);
    // The strict profile asks once more: its first listing refuses the full field list.
    if support::profile::strict() {
        insta::assert_json_snapshot!(emu.stats(), @r#"
        {
          "answers_dropped": 0,
          "auth": {
            "form": 0,
            "header": 5,
            "json": 0,
            "query": 0
          },
          "batches": 0,
          "by_route": {
            "GET /act_{id}/customconversions": 2,
            "POST /act_{id}/customconversions": 3
          },
          "conversions": 3,
          "events_received": 0,
          "faults_injected": 0,
          "http_requests": 5,
          "requests": 5,
          "throttled": 0,
          "writes": 3
        }
        "#);
    } else {
        insta::assert_json_snapshot!(emu.stats(), @r#"
        {
          "answers_dropped": 0,
          "auth": {
            "form": 0,
            "header": 4,
            "json": 0,
            "query": 0
          },
          "batches": 0,
          "by_route": {
            "GET /act_{id}/customconversions": 1,
            "POST /act_{id}/customconversions": 3
          },
          "conversions": 3,
          "events_received": 0,
          "faults_injected": 0,
          "http_requests": 4,
          "requests": 4,
          "throttled": 0,
          "writes": 3
        }
        "#);
    }
}

/// Faults before doing anything, answers dropped after a
/// commit, and a per-account rate limit; every read completes and every write is applied
/// exactly once.
#[tokio::test]
async fn under_faults_dropped_answers_and_rate_limits_every_write_happens_exactly_once() {
    let emu = start(EmulatorConfig {
        fault_rate: 0.3,
        drop_after_commit: 0.2,
        rate_limit: Some(400),
        seed: Some(5),
        score_window: support::emulator::FAULT_SCORE_WINDOW,
        ..EmulatorConfig::default()
    })
    .await;
    let mut cfg = config(&emu.base_url(), TOKEN);
    cfg.batch_size = 5;
    let (client, log) = client(cfg);
    let accounts: Vec<_> = (201..205).map(account).collect();

    // Reads: every account lists completely despite the faults.
    for listed in client.list_many(&accounts).await {
        assert!(listed.unwrap().is_empty());
    }
    // Creates, including two with identical content in one account: both exist once where the
    // API allows a rule twice; where rules are unique (the strict profile, as Meta answers),
    // exactly one of the two is made and the other is refused as a duplicate rule, never
    // retried and never adopted as the first one's conversion.
    let unique_rules = support::profile::strict();
    let mut ops = Vec::new();
    for acc in &accounts {
        for i in 0..12 {
            ops.push(WriteOp::Create {
                account: acc.clone(),
                conversion: new_conversion(&format!("{acc}-{i}"), i),
            });
        }
        ops.push(WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion("twin", 99),
        });
        ops.push(WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion("twin", 99),
        });
    }
    let results = client.write(ops.clone()).await;
    let mut ids: Vec<Option<ConversionId>> = Vec::new();
    let mut adopted = 0;
    for (op, result) in ops.iter().zip(&results) {
        match result {
            // Sent again after a lost answer: made once all the same (checked below).
            Ok(WriteOutcome::Created(id) | WriteOutcome::Resent(id)) => ids.push(Some(id.clone())),
            Ok(WriteOutcome::Adopted(id)) => {
                adopted += 1;
                ids.push(Some(id.clone()));
            }
            Err(e) if unique_rules && e.kind == ErrorKind::DuplicateRule => ids.push(None),
            other => panic!("{op:?} → {other:?}\n{}", log.text()),
        }
    }
    let made: Vec<&ConversionId> = ids.iter().flatten().collect();
    let distinct: std::collections::HashSet<_> = made.iter().collect();
    assert_eq!(
        distinct.len(),
        made.len(),
        "two writes claimed one conversion"
    );
    for (a, pair) in ids.chunks(14).enumerate() {
        let twins_made = pair[12..].iter().flatten().count();
        let want = if unique_rules { 1 } else { 2 };
        assert_eq!(twins_made, want, "account {a}: twins made");
    }

    // Updates of every other one, deletes of every third one.
    let mut second = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        if i % 3 == 0 {
            second.push(WriteOp::Delete { id: id.clone() });
        } else if i % 2 == 0 {
            let update = ConversionUpdate {
                name: None,
                description: Some(format!("updated {i}")),
                default_conversion_value: Some(i as f64),
            };
            second.push(WriteOp::Update {
                id: id.clone(),
                update,
            });
        }
    }
    let results = client.write(second.clone()).await;
    for (op, result) in second.iter().zip(&results) {
        assert!(
            matches!(
                result,
                Ok(WriteOutcome::Updated | WriteOutcome::Deleted | WriteOutcome::AlreadyGone)
            ),
            "{op:?} → {result:?}"
        );
    }

    // Final state, through the client and through the emulator's own state document.
    let state = emu.state();
    let mut by_account: HashMap<String, Vec<&Value>> = HashMap::new();
    for c in live_state(&state) {
        by_account
            .entry(c["account_id"].as_str().unwrap().to_string())
            .or_default()
            .push(c);
    }
    for (a, acc) in accounts.iter().enumerate() {
        let live = client.list_conversions(acc).await.unwrap();
        let in_state = &by_account[acc.digits()];
        assert_eq!(live.len(), in_state.len());
        let kept = |i: &usize| !(a * 14 + i).is_multiple_of(3) && ids[a * 14 + i].is_some();
        let expected: Vec<usize> = (0..14).filter(kept).collect();
        assert_eq!(live.len(), expected.len(), "{acc}: {live:#?}");
        for i in expected {
            let global = a * 14 + i;
            let id = ids[global].as_ref().unwrap();
            let c = live
                .iter()
                .find(|c| &c.id == id)
                .unwrap_or_else(|| panic!("{id} missing"));
            if global % 2 == 0 {
                assert_eq!(
                    c.description.as_deref(),
                    Some(format!("updated {global}").as_str())
                );
            }
        }
        assert_eq!(
            live.iter()
                .filter(|c| c.name.as_deref() == Some("twin"))
                .count(),
            (12..14).filter(kept).count()
        );
    }
    let stats = emu.stats();
    assert!(stats["faults_injected"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["answers_dropped"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(
        (
            stats["auth"]["query"].as_u64(),
            stats["auth"]["form"].as_u64()
        ),
        (Some(0), Some(0)),
        "{stats}"
    );
    eprintln!("adopted {adopted}; stats {stats}");
    let text = log.text();
    assert!(text.contains("retry"), "retries are logged");
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn appsecret_proof_is_accepted_and_bad_tokens_are_not_retried_nor_leaked() {
    let emu = start(EmulatorConfig {
        tokens: vec![TOKEN.to_string()],
        app_secret: Some(APP_SECRET.to_string()),
        ..EmulatorConfig::default()
    })
    .await;
    let acc = account(301);
    let mut good = config(&emu.base_url(), TOKEN);
    good.app_secret = Some(convctl::model::Secret::new(APP_SECRET));
    let (client, log) = client(good);
    let created = client
        .write(vec![WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion("proof", 1),
        }])
        .await;
    assert!(
        matches!(created[0], Ok(WriteOutcome::Created(_))),
        "{created:?}"
    );
    assert_eq!(client.list_conversions(&acc).await.unwrap().len(), 1);

    // Without the proof the emulator refuses (code 100): reported, not retried.
    let (no_proof, _) = support::client::client(config(&emu.base_url(), TOKEN));
    let before = emu.stats()["requests"].as_u64().unwrap();
    let err = no_proof.list_conversions(&acc).await.unwrap_err();
    assert_eq!(
        emu.stats()["requests"].as_u64().unwrap(),
        before + 1,
        "a refused proof is not retried"
    );
    assert!(err.message().contains("appsecret_proof"), "{err}");
    text_settings().bind(|| insta::assert_snapshot!(err, @"
    act_301: API calls from the server require an appsecret_proof argument [code 100, fbtrace_id [trace id]]
    help: the app requires appsecret_proof on calls from a server: set META_APP_SECRET to the secret of the token's app (App Dashboard, Settings, Basic)
    "));

    // A wrong token: code 190, one request, and the token is nowhere in what we show.
    let wrong = format!("{TOKEN}-revoked");
    let mut bad = config(&emu.base_url(), &wrong);
    bad.app_secret = Some(convctl::model::Secret::new(APP_SECRET));
    let (bad_client, bad_log) = support::client::client(bad);
    let started = Instant::now();
    let err = bad_client.list_conversions(&acc).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.code, Some(190));
    assert!(started.elapsed() < Duration::from_secs(2));
    let write_err = bad_client
        .write(vec![WriteOp::Delete {
            id: ConversionId::parse("1").unwrap(),
        }])
        .await;
    let shown = format!(
        "{err} {err:?} {write_err:?} {} {} {:?}",
        bad_log.text(),
        log.text(),
        bad_client
    );
    for secret in [TOKEN, APP_SECRET] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    text_settings().bind(|| {
        insta::assert_snapshot!(err, @"
        act_301: Invalid OAuth access token - Cannot parse access token [code 190, subcode 467, fbtrace_id [trace id]]
        help: renew the access token (--access-token-file or META_ACCESS_TOKEN)
        ");
        insta::assert_snapshot!(write_err[0].as_ref().unwrap_err(), @"
        conversion 1: Invalid OAuth access token - Cannot parse access token [code 190, subcode 467, fbtrace_id [trace id]]
        help: renew the access token (--access-token-file or META_ACCESS_TOKEN)
        ");
        insta::assert_snapshot!(bad_log.text(), @"
        graph: GET /v27.0/act_301/customconversions (page 1) → 400 in [duration] [act_301] usage account [share]% reset in [duration]
        graph: DELETE /v27.0/1 → 400 in [duration]
        ");
    });
    assert!(emu.stats()["auth"]["query"] == 0 && emu.stats()["auth"]["form"] == 0);
}

#[tokio::test]
async fn a_rate_limited_account_is_paced_then_left_alone_while_others_go_on() {
    // Five lists spend the account's budget in the lenient profile (the strict one spends a
    // call on refusing some fields first).
    let emu = support::emulator::start_exactly(EmulatorConfig {
        rate_limit: Some(5),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let (client, log) = client(config(&emu.base_url(), TOKEN));
    let (busy, other) = (account(401), account(402));
    for _ in 0..5 {
        client.list_conversions(&busy).await.unwrap();
    }
    // Usage at 80% and more slows the client down.
    text_settings().bind(|| insta::assert_snapshot!(log.text(), @"
    graph: GET /v27.0/act_401/customconversions (page 1) → 200 in [duration] [act_401] usage account [share]% reset in [duration]
    graph: GET /v27.0/act_401/customconversions (page 1) → 200 in [duration] [act_401] usage account [share]% reset in [duration]
    graph: GET /v27.0/act_401/customconversions (page 1) → 200 in [duration] [act_401] usage account [share]% reset in [duration]
    graph: GET /v27.0/act_401/customconversions (page 1) → 200 in [duration] [act_401] usage account [share]% reset in [duration]
    graph: waited [duration] before GET /v27.0/act_401/customconversions (usage/throttle pacing)
    graph: GET /v27.0/act_401/customconversions (page 1) → 200 in [duration] [act_401] usage account [share]% reset in [duration] regain access in 60s
    "));
    // The 5th answer said the account is spent for the rest of the minute (more than the
    // test budget of 30 s): the 6th call is not even sent, and the error says why at once.
    let requests = emu.stats()["requests"].as_u64().unwrap();
    let started = Instant::now();
    let err = client.list_conversions(&busy).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    // What is left of the minute, counted down while the test runs.
    let mut settings = text_settings();
    settings.add_filter(r"for another (5[0-9]|60) s\b", "for another [50 to 60] s");
    settings.bind(|| insta::assert_snapshot!(err, @"
    act_401: the API asked to stop calling act_401 for another [50 to 60] s, beyond the retry budget; not sent
    help: the API asks to slow down: try again later or lower --parallelism
    "));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(emu.stats()["requests"].as_u64().unwrap(), requests);
    // A client that did not see those headers gets the API's 80004 once, and stops there.
    let (fresh, _) = support::client::client(config(&emu.base_url(), TOKEN));
    let err = fresh.list_conversions(&busy).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Throttled, Some(80004)),
        "{err}"
    );
    text_settings().bind(|| insta::assert_snapshot!(err, @"
    act_401: (#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management. [code 80004, fbtrace_id [trace id]]
    help: the API asks to slow down: try again later or lower --parallelism
    "));
    assert_eq!(emu.stats()["throttled"], 1);
    // Other accounts are not held up.
    let started = Instant::now();
    client.list_conversions(&other).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn deletes_that_only_archive_and_lose_their_answers_still_complete_once() {
    let emu = start(EmulatorConfig {
        delete_archives: true,
        drop_after_commit: 0.5,
        seed: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let mut cfg = config(&emu.base_url(), TOKEN);
    cfg.batch_size = 3;
    let (client, log) = client(cfg);
    let acc = account(501);
    let ops: Vec<WriteOp> = (0..8)
        .map(|i| WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion(&format!("a{i}"), i),
        })
        .collect();
    let ids: Vec<ConversionId> = client
        .write(ops)
        .await
        .into_iter()
        .map(|r| match r {
            Ok(
                WriteOutcome::Created(id) | WriteOutcome::Adopted(id) | WriteOutcome::Resent(id),
            ) => id,
            other => panic!("{other:?}\n{}", log.text()),
        })
        .collect();
    let deletes = ids
        .iter()
        .map(|id| WriteOp::Delete { id: id.clone() })
        .collect();
    for result in client.write(deletes).await {
        assert!(
            matches!(
                result,
                Ok(WriteOutcome::Deleted | WriteOutcome::AlreadyGone)
            ),
            "{result:?}\n{}",
            log.text()
        );
    }
    // Archived ones stay listed, none duplicated.
    let live = client.list_conversions(&acc).await.unwrap();
    insta::assert_json_snapshot!("archived_by_deletes_listed", listing(&live, &ids));
    assert!(emu.stats()["answers_dropped"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn the_account_cap_is_reported_as_such_and_not_retried() {
    let emu = start(EmulatorConfig {
        cap: 2,
        ..EmulatorConfig::default()
    })
    .await;
    let (client, _) = client(config(&emu.base_url(), TOKEN));
    let acc = account(601);
    let ops = (0..3)
        .map(|i| WriteOp::Create {
            account: acc.clone(),
            conversion: new_conversion(&format!("k{i}"), i),
        })
        .collect();
    let results = client.write(ops).await;
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused.len(), 1, "{results:?}");
    let err = refused[0];
    assert_eq!(
        (err.kind, err.code, err.attempts),
        (ErrorKind::CapReached, Some(100), 1)
    );
    assert_eq!(err.account(), Some(&acc));
    // Which of the three comes last is the order they arrive in.
    let mut settings = text_settings();
    settings.add_filter(r#""k[0-2]""#, r#""k[n]""#);
    settings.bind(|| insta::assert_snapshot!(err, @r#"
    act_601, conversion "k[n]": (#100) This ad account has reached its limit of 2 custom conversions: delete one before creating another [code 100, subcode 1760005, fbtrace_id [trace id]]; Meta says: Custom conversion limit reached: Ad accounts are limited to 100 custom conversions.
    help: an ad account holds at most 100 custom conversions: delete unused ones first
    "#));
    assert_eq!(client.list_conversions(&acc).await.unwrap().len(), 2);
}
