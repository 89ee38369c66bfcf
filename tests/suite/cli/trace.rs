//! `--trace FILE` writes every HTTP exchange as one JSON line, secrets
//! redacted. A recorded trace replays through a stub server to the same result, and a canary
//! token and app secret never land in the file, not even inside `next` URLs.

use crate::assert_run;
use crate::support::stub::Stub;
use crate::support::{Convctl, Run};
use convctl::emulator::{self, EmulatorConfig, SeedConversion};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A recorded answer: status, kept headers, body.
type Recorded = (u16, Vec<(String, String)>, String);

const CANARY: &str = "EAAB-trace-canary-5d1e7f0a9b3c";
const SECRET: &str = "app-secret-canary-77aa01";

const MANIFEST: &str = r#"
account: act_1
defaults:
  event_source_id: "555"
conversions:
  - name: Big purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
"#;

fn convctl(dir: &Path, base: &str, secret: Option<&str>, args: &[&str]) -> Run {
    let mut command = Convctl::new()
        .args(&["--api-base", base])
        .args(args)
        .current_dir(dir)
        .token(CANARY);
    if let Some(secret) = secret {
        command = command.env("META_APP_SECRET", secret);
    }
    let run = command.run();
    for secret in [CANARY, SECRET] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret leaked:\n{run}"
        );
    }
    run
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `per_account` conversions in each account `first..=last`.
fn seed(emu: &emulator::RunningEmulator, first: u64, last: u64, per_account: usize) {
    for a in first..=last {
        for i in 0..per_account {
            let seed: SeedConversion = serde_json::from_value(json!({
                "account": format!("act_{a}"), "name": format!("c{i:03}"),
                "rule": {"url": {"i_contains": format!("{a}-{i}")}},
                "custom_event_type": "PURCHASE", "event_source_id": "555",
            }))
            .unwrap();
            emu.insert_conversion(seed).unwrap();
        }
    }
}

/// With an app secret (so every request carries appsecret_proof, which the API copies into
/// `next` URLs) and pages enough to follow `next`: one line per exchange, no secret anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_has_every_exchange_and_no_secret() {
    let emu = crate::support::emulator::start(EmulatorConfig {
        app_secret: Some(SECRET.into()),
        ..EmulatorConfig::default()
    })
    .await;
    seed(&emu, 2, 2, 230);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), MANIFEST).unwrap();
    std::fs::write(
        dir.path().join("big.yaml"),
        "account: act_2\nconversions: []\n",
    )
    .unwrap();
    let base = emu.base_url();
    let trace = dir.path().join("trace.jsonl");
    let out = tokio::task::spawn_blocking({
        let (dir, trace) = (dir.path().to_path_buf(), trace.clone());
        move || {
            convctl(
                &dir,
                &base,
                Some(SECRET),
                &[
                    "--trace",
                    trace.to_str().unwrap(),
                    "apply",
                    "--auto-approve",
                    "acme.yaml",
                    "big.yaml",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_run!("trace_apply", out);
    let text = std::fs::read_to_string(&trace).unwrap();
    for secret in [CANARY, SECRET] {
        assert!(!text.contains(secret), "a secret in the trace:\n{text}");
    }
    assert!(
        !text.contains("appsecret_proof=0") && !text.contains("appsecret_proof=1"),
        "proof"
    );
    let entries = lines(&trace);
    assert_eq!(
        entries.len() as u64,
        emu.stats()["http_requests"].as_u64().unwrap(),
        "one line per HTTP exchange"
    );
    for e in &entries {
        for key in [
            "time",
            "method",
            "url",
            "status",
            "duration_ms",
            "request",
            "response",
        ] {
            assert!(e.get(key).is_some(), "{key} missing: {e}");
        }
    }
    // The listing of 230 conversions followed `next` links, and those were redacted.
    let paged: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["response"]["body"]
                .as_str()
                .unwrap_or("")
                .contains("\"next\"")
        })
        .collect();
    assert!(!paged.is_empty(), "{text}");
    assert!(paged.iter().all(|e| {
        e["response"]["body"]
            .as_str()
            .unwrap()
            .contains("appsecret_proof=[redacted]")
    }));
    assert!(
        entries
            .iter()
            .any(|e| e["response"]["headers"]["x-ad-account-usage"].is_string())
    );
    // A create's form body is there (the rule), for a bug report.
    assert!(text.contains("Big purchase"), "{text}");
}

/// A token the API copies into `next` (as the real API does with an `access_token`
/// parameter) is redacted in the trace too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_inside_next_urls_are_redacted() {
    let base: Arc<std::sync::OnceLock<String>> = Arc::default();
    let own = base.clone();
    let server = Stub::start(move |_, index| {
        let mut body = json!({"data": [{"id": format!("{}", 10 + index), "name": "x", "rule": "{\"url\":{\"i_contains\":\"x\"}}"}]});
        if index == 0 {
            body["paging"] = json!({"next": format!("{}/v26.0/act_1/customconversions?access_token={CANARY}&after=A", own.get().unwrap())});
        }
        (200, vec![], body.to_string())
    })
    .await;
    base.set(server.base.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), MANIFEST).unwrap();
    let trace = dir.path().join("t.jsonl");
    let out = tokio::task::spawn_blocking({
        let (dir, trace, base) = (dir.path().to_path_buf(), trace.clone(), server.base.clone());
        move || {
            convctl(
                &dir,
                &base,
                None,
                &["--trace", trace.to_str().unwrap(), "plan", "acme.yaml"],
            )
        }
    })
    .await
    .unwrap();
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (acme.yaml) will change:

      # "Big purchase" will be created
      + conversion "Big purchase" {
          + name                     = "Big purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + event_source_id          = "555"
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Purchase"}},
                    {"value": {"gt": 100}}
                  ]
                }
        }

      Unmanaged (2): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "x" (id 10)
        ? "x" (id 11)

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    let text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(lines(&trace).len(), 2, "{text}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(text.contains("access_token=[redacted]"), "{text}");
}

/// Record `plan --format json` against the emulator, then replay the trace through a stub that
/// answers each request with the recorded answer: the client comes to the same plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_trace_replays_to_the_same_result() {
    let emu = crate::support::emulator::start(EmulatorConfig::default()).await;
    // 60 accounts (two batches of first pages), one of them paged.
    seed(&emu, 2, 60, 2);
    seed(&emu, 61, 61, 120);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::write(dir.path().join("m/acme.yaml"), MANIFEST).unwrap();
    for a in 2..=61 {
        std::fs::write(
            dir.path().join(format!("m/a{a}.yaml")),
            format!("account: act_{a}\nconversions: []\n"),
        )
        .unwrap();
    }
    let trace = dir.path().join("rec.jsonl");
    let recorded_base = emu.base_url();
    let run = |base: String, trace: Option<std::path::PathBuf>| {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![];
            let t;
            if let Some(trace) = trace {
                t = trace.to_str().unwrap().to_string();
                args.extend(["--trace".to_string(), t]);
            }
            args.extend(["plan", "--format", "json", "m"].map(String::from));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            convctl(&dir, &base, None, &args)
        })
    };
    let original = run(recorded_base.clone(), Some(trace.clone()))
        .await
        .unwrap();
    original.assert_success();

    // The stub: recorded answers by (method, path and query, body), the recorded address
    // replaced by the stub's own in answers (its `next` links).
    let mut answers: HashMap<String, VecDeque<Recorded>> = HashMap::new();
    for e in lines(&trace) {
        let url = e["url"].as_str().unwrap();
        let target = url.strip_prefix(&recorded_base).unwrap().to_string();
        let key = format!(
            "{} {} {}",
            e["method"].as_str().unwrap(),
            target,
            e["request"]["body"].as_str().unwrap_or("")
        );
        let headers = e["response"]["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        answers.entry(key).or_default().push_back((
            e["status"].as_u64().unwrap() as u16,
            headers,
            e["response"]["body"].as_str().unwrap().to_string(),
        ));
    }
    let answers = Arc::new(Mutex::new(answers));
    let stub_base: Arc<std::sync::OnceLock<String>> = Arc::default();
    let own = stub_base.clone();
    let recorded = recorded_base.clone();
    let stub = Stub::start(move |seen, _| {
        let key = format!("{} {} {}", seen.method, seen.target, seen.body);
        let found = answers
            .lock()
            .unwrap()
            .get_mut(&key)
            .and_then(VecDeque::pop_front);
        let Some((status, headers, body)) = found else {
            return (599, vec![], format!("not in the trace: {key}"));
        };
        let headers = headers
            .into_iter()
            .filter(|(k, _)| k != "content-type")
            .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
            .collect();
        (status, headers, body.replace(&recorded, own.get().unwrap()))
    })
    .await;
    stub_base.set(stub.base.clone()).unwrap();
    let replayed = run(stub.base.clone(), None).await.unwrap();
    replayed.assert_success();
    assert_eq!(
        replayed.stdout, original.stdout,
        "the replayed plan is the recorded one"
    );
    assert_eq!(replayed.stderr, original.stderr);
    assert_eq!(
        stub.requests().len(),
        lines(&trace).len(),
        "every recorded exchange was asked once"
    );
}
