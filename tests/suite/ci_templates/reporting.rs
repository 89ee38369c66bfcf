//! The CI templates' reporting steps, the ones that talk to GitHub or GitLab, run for real with
//! bash on loopback:
//! - GitLab (`plan-note`, `drift-issue`): real `curl` against a stand-in of the GitLab REST API
//!   (merge request notes, issues) that checks the `PRIVATE-TOKEN` header and keeps state;
//! - GitHub (`Create or update the comment`, `Open or update the issue`, `Close the issue when
//!   everything is in sync`): a stand-in `gh` first on `PATH` that answers from JSON files with
//!   real jq and logs every call.
//!
//! What is checked is the scripts' logic: one plan note per merge request, edited in place on
//! the next push; one drift issue, opened, updated while drift lasts, closed once in sync and
//! never closed when a shard could not check. Needs bash, curl and jq, as the runners have.

use crate::support::ci::*;
use crate::support::stub::form;
use crate::support::{TOKEN, in_background};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const GITLAB_TOKEN: &str = "glpat-canary-90210";

/// What the stand-in GitLab holds.
#[derive(Default)]
struct GitLab {
    notes: Vec<Value>,
    issues: Vec<Value>,
    /// `METHOD path` of every call.
    calls: Vec<String>,
}

fn field(fields: &[(String, String)], key: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// The few GitLab REST v4 routes the templates use, on 127.0.0.1:0; returns `CI_API_V4_URL`.
async fn start_gitlab(state: Arc<Mutex<GitLab>>) -> String {
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let mut gl = state.lock().unwrap();
                let path = uri.path().to_string();
                gl.calls.push(format!("{method} {path}"));
                if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some(GITLAB_TOKEN)
                {
                    return (
                        StatusCode::UNAUTHORIZED,
                        "{\"message\":\"401 Unauthorized\"}".to_string(),
                    );
                }
                let fields = form(&body);
                let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
                let answer = match (method.as_str(), segments.as_slice()) {
                    ("GET", ["api", "v4", "projects", "7", "merge_requests", "3", "notes"]) => {
                        Value::Array(gl.notes.clone())
                    }
                    ("POST", ["api", "v4", "projects", "7", "merge_requests", "3", "notes"]) => {
                        let note =
                            json!({"id": 500 + gl.notes.len(), "body": field(&fields, "body")});
                        gl.notes.push(note.clone());
                        note
                    }
                    (
                        "PUT",
                        [
                            "api",
                            "v4",
                            "projects",
                            "7",
                            "merge_requests",
                            "3",
                            "notes",
                            id,
                        ],
                    ) => {
                        let note = gl
                            .notes
                            .iter_mut()
                            .find(|n| {
                                n["id"].as_u64().map(|v| v.to_string()).as_deref() == Some(*id)
                            })
                            .expect("an existing note");
                        note["body"] = json!(field(&fields, "body"));
                        note.clone()
                    }
                    ("GET", ["api", "v4", "projects", "7", "issues"]) => {
                        let query = form(uri.query().unwrap_or_default());
                        let label = field(&query, "labels").unwrap_or_default();
                        let state = field(&query, "state").unwrap_or_default();
                        Value::Array(
                            gl.issues
                                .iter()
                                .filter(|i| {
                                    i["labels"].as_str() == Some(label.as_str())
                                        && (state.is_empty() || i["state"] == state.as_str())
                                })
                                .cloned()
                                .collect(),
                        )
                    }
                    ("POST", ["api", "v4", "projects", "7", "issues"]) => {
                        let issue = json!({
                            "iid": gl.issues.len() + 1,
                            "title": field(&fields, "title"),
                            "labels": field(&fields, "labels"),
                            "description": field(&fields, "description"),
                            "state": "opened",
                        });
                        gl.issues.push(issue.clone());
                        issue
                    }
                    ("PUT", ["api", "v4", "projects", "7", "issues", iid]) => {
                        let issue = gl
                            .issues
                            .iter_mut()
                            .find(|i| {
                                i["iid"].as_u64().map(|v| v.to_string()).as_deref() == Some(*iid)
                            })
                            .expect("an existing issue");
                        if let Some(d) = field(&fields, "description") {
                            issue["description"] = json!(d);
                        }
                        if field(&fields, "state_event").as_deref() == Some("close") {
                            issue["state"] = json!("closed");
                        }
                        issue.clone()
                    }
                    _ => {
                        return (
                            StatusCode::NOT_FOUND,
                            "{\"message\":\"404 Not found\"}".to_string(),
                        );
                    }
                };
                (StatusCode::OK, answer.to_string())
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v4", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Shard plans as the `plan` jobs leave them: one account per shard, `creates` creates each.
fn write_plans(runner: &Runner, shards: u64, creates: u64) {
    std::fs::create_dir_all(runner.path("plans")).unwrap();
    for k in 1..=shards {
        let actions: Vec<Value> = (0..creates)
            .map(|c| {
                let name = format!("Shard {k} lead {c}");
                json!({"action": "create", "name": name, "after": {"name": name}})
            })
            .collect();
        let doc = json!({
            "format_version": 1, "convctl_version": "0.1.0", "api_version": "v26.0",
            "accounts": [{"account": format!("act_{k}"), "source": format!("conversions/{k}.yaml"),
                          "live_fingerprint": "ab", "actions": actions, "unmanaged": [],
                          "warnings": []}],
            "summary": {"create": creates, "update": 0, "replace": 0, "delete": 0, "unmanaged": 0}
        });
        std::fs::write(
            runner.path(&format!("plans/plan-{k}.json")),
            doc.to_string(),
        )
        .unwrap();
    }
}

/// Drift reports as the `drift` jobs leave them: exit codes, and markdown where drifted.
fn write_drift(runner: &Runner, codes: &[i32]) {
    let dir = runner.path("drift");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, code) in codes.iter().enumerate() {
        let k = i + 1;
        std::fs::write(dir.join(format!("exit-{k}")), format!("{code}\n")).unwrap();
        if *code == 2 {
            std::fs::write(
                dir.join(format!("drift-{k}.md")),
                format!("act_{k} drifted\n"),
            )
            .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_plan_note_is_posted_once_then_edited_and_drift_issue_opens_updates_and_closes() {
    let gitlab = Arc::new(Mutex::new(GitLab::default()));
    let api = start_gitlab(gitlab.clone()).await;
    let runner = Arc::new(Runner::new("http://127.0.0.1:9".into()));
    let pipeline = gitlab_pipeline();
    let (note, issue) = (
        gitlab_script(&pipeline, "plan-note"),
        gitlab_script(&pipeline, "drift-issue"),
    );
    let env = move || {
        vec![
            ("CI_API_V4_URL", api.clone()),
            ("CI_PROJECT_ID", "7".to_string()),
            ("CI_MERGE_REQUEST_IID", "3".to_string()),
            ("CI_COMMIT_SHORT_SHA", "abc1234".to_string()),
            ("CI_DEFAULT_BRANCH", "main".to_string()),
            ("CI_PIPELINE_URL", "https://gitlab.example/p/1".to_string()),
            ("GITLAB_API_TOKEN", GITLAB_TOKEN.to_string()),
        ]
    };
    // Somebody else's note is already there; ours is added, then edited in place.
    gitlab
        .lock()
        .unwrap()
        .notes
        .push(json!({"id": 1, "body": "LGTM"}));
    let r = runner.clone();
    let e = env.clone();
    let run = move |script: String| {
        let (r, e) = (r.clone(), e.clone());
        async move { in_background(move || r.bash(&script, &e())).await }
    };
    write_plans(&runner, 4, 2);
    let (code, _, stderr) = run(note.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    write_plans(&runner, 4, 3);
    let (code, _, stderr) = run(note.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    {
        let gl = gitlab.lock().unwrap();
        let ours: Vec<&Value> = gl
            .notes
            .iter()
            .filter(|n| {
                n["body"]
                    .as_str()
                    .unwrap()
                    .starts_with("<!-- convctl-plan -->")
            })
            .collect();
        assert_eq!(
            ours.len(),
            1,
            "one plan note per merge request: {:?}",
            gl.notes
        );
        let body = ours[0]["body"].as_str().unwrap();
        assert!(
            body.starts_with("<!-- convctl-plan -->\n### convctl plan\n\n**Plan: 12 to create, 0 to update, 0 to replace, 0 to delete.** 4 accounts to review.")
                && body.contains("| `act_4` | <code>conversions/4.yaml</code> | 3 |")
                && body.contains("<code>Shard 2 lead 2</code>")
                && body.contains("Plan of abc1234 over 4 shards"),
            "{body}"
        );
        assert_eq!(gl.notes[0]["body"], "LGTM", "other notes are left alone");
        let puts = gl.calls.iter().filter(|c| c.starts_with("PUT ")).count();
        assert_eq!(puts, 1, "{:?}", gl.calls);
    }

    // Drift in shard 2: an issue is opened; still drifting: it is updated, not duplicated.
    write_drift(&runner, &[0, 2, 0, 0]);
    let (code, _, stderr) = run(issue.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    write_drift(&runner, &[0, 2, 2, 0]);
    let (code, _, stderr) = run(issue.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    {
        let gl = gitlab.lock().unwrap();
        assert_eq!(gl.issues.len(), 1, "{:?}", gl.issues);
        let i = &gl.issues[0];
        assert_eq!(i["title"], "convctl: live accounts drifted from main");
        assert_eq!(i["labels"], "convctl-drift");
        let d = i["description"].as_str().unwrap();
        assert!(
            d.contains("### Shard 3/4") && d.contains("act_3 drifted"),
            "{d}"
        );
    }
    // A shard that could not check: the issue stays open, whatever the others say.
    write_drift(&runner, &[0, 1, 0, 0]);
    let (code, _, stderr) = run(issue.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(gitlab.lock().unwrap().issues[0]["state"], "opened");
    // Everything in sync: closed.
    write_drift(&runner, &[0, 0, 0, 0]);
    let (code, _, stderr) = run(issue.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(gitlab.lock().unwrap().issues[0]["state"], "closed");

    // A wrong API token fails the job (curl --fail), it is not silently skipped.
    let r = runner.clone();
    let mut bad = env();
    bad.retain(|(k, _)| *k != "GITLAB_API_TOKEN");
    bad.push(("GITLAB_API_TOKEN", "wrong".into()));
    let (code, _, _) = in_background(move || r.bash(&note, &bad)).await;
    assert_ne!(code, 0);
}

/// A stand-in for the GitHub CLI: logs each call (and the files it is given) to `calls.log`
/// and answers `api --paginate … --jq` and `issue list … --jq` from `comments.json` and
/// `issues.json` with real jq.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
log="$FAKE_GH_DIR/calls.log"
printf 'gh %s\n' "$*" >> "$log"
expr=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --jq) expr="${args[i+1]}" ;;
    body=@*) printf '  file %s\n' "$(cat "${args[i]#body=@}")" >> "$log" ;;
    --body-file) printf '  file %s\n' "$(cat "${args[i+1]}")" >> "$log" ;;
  esac
done
case "$1 ${2:-}" in
  "api --paginate") jq -r "$expr" "$FAKE_GH_DIR/comments.json" ;;
  "issue list") jq -r "$expr" "$FAKE_GH_DIR/issues.json" ;;
esac
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_comment_is_created_then_edited_and_the_drift_issue_follows_the_shards() {
    let runner = Arc::new(Runner::new("http://127.0.0.1:9".into()));
    let fake = runner.path("fake-gh");
    std::fs::create_dir_all(fake.join("bin")).unwrap();
    let gh = fake.join("bin/gh");
    std::fs::write(&gh, FAKE_GH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The templates call the action: its steps are what runs.
    let (comment, _) = action_step("Create or update the comment", &[]);
    let (open, _) = action_step("Open or update the issue", &[]);
    let (close, _) = action_step("Close the issue when everything is in sync", &[]);
    let inputs = action()["inputs"].clone();
    let marker = inputs["marker"]["default"].as_str().unwrap().to_string();
    let label = inputs["label"]["default"].as_str().unwrap().to_string();
    let path = format!(
        "{}:{}",
        fake.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let env = vec![
        ("PATH", path),
        ("FAKE_GH_DIR", fake.display().to_string()),
        ("GH_TOKEN", "gh-canary".to_string()),
        ("PR", "9".to_string()),
        ("MARKER", marker.clone()),
        ("LABEL", label.clone()),
        ("OUT", "out".to_string()),
    ];
    let set = |name: &str, value: Value| {
        std::fs::write(fake.join(name), value.to_string()).unwrap();
    };
    let calls = || std::fs::read_to_string(fake.join("calls.log")).unwrap_or_default();
    let run = |script: &str| {
        let (r, s, e) = (runner.clone(), script.to_string(), env.clone());
        async move {
            let (code, _, stderr) = in_background(move || {
                let e: Vec<(&str, String)> = e.iter().map(|(k, v)| (*k, v.clone())).collect();
                r.bash(&s, &e)
            })
            .await;
            assert_eq!(code, 0, "{stderr}");
        }
    };
    std::fs::create_dir_all(runner.path("out")).unwrap();
    std::fs::write(runner.path("out/comment.md"), format!("{marker}\nthe plan")).unwrap();

    // No earlier comment: one is created.
    set("comments.json", json!([{"id": 11, "body": "nice"}]));
    run(&comment).await;
    assert!(
        calls().contains("gh api --method POST repos/acme/ads/issues/9/comments -F body=@out/comment.md\n  file <!-- convctl-plan -->"),
        "{}",
        calls()
    );
    // Our comment exists: it is edited in place.
    set(
        "comments.json",
        json!([{"id": 11, "body": "nice"}, {"id": 12, "body": format!("{marker}\nold plan")}]),
    );
    run(&comment).await;
    assert!(
        calls().contains(
            "gh api --method PATCH repos/acme/ads/issues/comments/12 -F body=@out/comment.md"
        ),
        "{}",
        calls()
    );

    // Drift and no open issue: created with the label; with one open: edited and commented.
    std::fs::write(runner.path("out/issue.md"), "act_1 drifted").unwrap();
    set("issues.json", json!([]));
    run(&open).await;
    let log = calls();
    assert!(
        log.contains(&format!("gh issue create --title convctl: live accounts drifted from main --label {label} --body-file out/issue.md\n  file act_1 drifted")),
        "{log}"
    );
    set("issues.json", json!([{"number": 5}]));
    run(&open).await;
    let log = calls();
    assert!(
        log.contains("gh issue edit 5 --body-file out/issue.md")
            && log.contains("gh issue comment 5 --body Drift still present on"),
        "{log}"
    );
    assert_eq!(log.matches("gh issue create").count(), 1, "{log}");
    // In sync: the open issue is closed; with none open, nothing happens.
    run(&close).await;
    assert!(
        calls().contains("gh issue close 5 --comment No drift on"),
        "{}",
        calls()
    );
    set("issues.json", json!([]));
    let before = calls().matches("gh issue close").count();
    run(&close).await;
    assert_eq!(calls().matches("gh issue close").count(), before);
    assert!(!calls().contains(TOKEN));
}

/// A live account for the health jobs: a conversion that never fired (created long ago), one
/// that fires; the runner's manifests declare both.
fn health_fixture(runner: &Runner, emu: &convctl::emulator::RunningEmulator, dead: bool) {
    let conversions = runner.path("conversions");
    let _ = std::fs::remove_dir_all(&conversions);
    std::fs::create_dir_all(&conversions).unwrap();
    std::fs::write(
        conversions.join("shop.yaml"),
        "account: act_1\ndefaults: {event_source_id: \"55\"}\nconversions:\n  - name: Purchase\n    custom_event_type: PURCHASE\n    rule: {event: {eq: Purchase}}\n  - name: Lead\n    custom_event_type: LEAD\n    rule: {event: {eq: Lead}}\n",
    )
    .unwrap();
    let now = crate::support::now();
    let lead_fired = if dead { Value::Null } else { json!(now - 3600) };
    emu.insert_conversion(convctl::emulator::SeedConversion {
        account: "act_1".into(),
        name: "Purchase".into(),
        custom_event_type: Some("PURCHASE".into()),
        event_source_id: Some("55".into()),
        rule: Some(json!({"event": {"eq": "Purchase"}})),
        creation_time: Some(now - 90 * 86_400),
        first_fired_time: Some(now - 80 * 86_400),
        last_fired_time: Some(now - 3600),
        daily_counts: [(convctl::model::stats::utc_day(now).to_string(), 3u64)]
            .into_iter()
            .collect(),
        ..Default::default()
    })
    .unwrap();
    emu.insert_conversion(convctl::emulator::SeedConversion {
        account: "act_1".into(),
        name: "Lead".into(),
        custom_event_type: Some("LEAD".into()),
        event_source_id: Some("55".into()),
        rule: Some(json!({"event": {"eq": "Lead"}})),
        creation_time: Some(now - 30 * 86_400),
        first_fired_time: lead_fired.as_i64(),
        last_fired_time: lead_fired.as_i64(),
        ..Default::default()
    })
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_health_report_goes_to_the_summary_and_artifact_and_opens_then_closes_its_issue() {
    let emu = crate::support::emulator::start(convctl::emulator::EmulatorConfig::default()).await;
    let runner = Arc::new(Runner::new(emu.base_url()));
    health_fixture(&runner, &emu, true);
    let fake = runner.path("fake-gh");
    std::fs::create_dir_all(fake.join("bin")).unwrap();
    let gh = fake.join("bin/gh");
    std::fs::write(&gh, FAKE_GH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The stand-in `gh` first, then the built convctl, as the action's job has it.
    let path = format!(
        "{}:{}:{}",
        fake.join("bin").display(),
        crate::support::binary::bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let extra = vec![
        ("PATH", path),
        ("FAKE_GH_DIR", fake.display().to_string()),
        ("GH_TOKEN", "gh-canary".to_string()),
    ];
    std::fs::write(fake.join("issues.json"), "[]").unwrap();
    let step = |name: &'static str| {
        let (r, e) = (runner.clone(), extra.clone());
        async move { in_background(move || r.action_step(name, &[("out-dir", "out")], &e)).await }
    };
    // Lead never fired: exit 2, the markdown in the summary, the page and the data written.
    let (code, stdout, stderr) = step("Health report").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("::warning::conversions need attention"),
        "{stdout}"
    );
    assert!(runner.read("output.txt").contains("exit-code=2"));
    let summary = runner.read("summary.md");
    assert!(
        summary.contains("## Conversion health") && summary.contains("Lead"),
        "{summary}"
    );
    assert!(
        runner
            .read("out/health.html")
            .starts_with("<!doctype html>")
    );
    let doc: Value = serde_json::from_str(&runner.read("out/health.json")).unwrap();
    assert_eq!(doc["summary"]["findings"]["never_fired"], 1);
    let (code, _, stderr) = step("Open or update the health issue").await;
    assert_eq!(code, 0, "{stderr}");
    let log = std::fs::read_to_string(fake.join("calls.log")).unwrap();
    assert!(
        log.contains("gh issue create --title convctl: conversions need attention --label convctl-health --body-file out/health-issue.md"),
        "{log}"
    );
    assert!(
        log.contains("file Nightly `convctl report` found conversions"),
        "{log}"
    );
    // Still there the next night: the open issue is edited, not duplicated.
    std::fs::write(fake.join("issues.json"), r#"[{"number": 8}]"#).unwrap();
    let (code, _, _) = step("Open or update the health issue").await;
    assert_eq!(code, 0);
    let log = std::fs::read_to_string(fake.join("calls.log")).unwrap();
    assert!(
        log.contains("gh issue edit 8 --body-file out/health-issue.md"),
        "{log}"
    );
    assert_eq!(log.matches("gh issue create").count(), 1);
    // Once nothing is found the issue is closed.
    let (code, _, _) = step("Close the health issue when nothing is found").await;
    assert_eq!(code, 0);
    assert!(
        std::fs::read_to_string(fake.join("calls.log"))
            .unwrap()
            .contains(
                "gh issue close 8 --comment No findings of flagged,never_fired,stopped_firing on"
            ),
    );
    // A report that cannot be made fails the job.
    let r = runner.clone();
    let (code, stdout, _) = in_background(move || {
        r.action_step(
            "Health report",
            &[("out-dir", "out")],
            &[("CONVCTL_API_BASE", "http://127.0.0.1:9".to_string())],
        )
    })
    .await;
    assert_eq!(
        code, 0,
        "the step records the code; the next step fails the job"
    );
    assert!(
        stdout.contains("::error::convctl report failed (exit 1)"),
        "{stdout}"
    );
    let r = runner.clone();
    let (code, _, _) = in_background(move || {
        r.action_step(
            "Fail when the report could not be made",
            &[],
            &[("CODE", "1".to_string())],
        )
    })
    .await;
    assert_eq!(code, 1);
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_health_job_keeps_the_page_and_its_issue_follows_the_findings() {
    let emu = crate::support::emulator::start(convctl::emulator::EmulatorConfig::default()).await;
    let gitlab = Arc::new(Mutex::new(GitLab::default()));
    let api = start_gitlab(gitlab.clone()).await;
    let runner = Arc::new(Runner::new(emu.base_url()));
    health_fixture(&runner, &emu, true);
    let pipeline = gitlab_pipeline();
    let (health, issue) = (
        gitlab_script(&pipeline, "health"),
        gitlab_script(&pipeline, "health-issue"),
    );
    let fail_on = pipeline["health"]["variables"]["FAIL_ON"]
        .as_str()
        .unwrap()
        .to_string();
    let env = move || {
        vec![
            ("CI_API_V4_URL", api.clone()),
            ("CI_PROJECT_ID", "7".to_string()),
            ("CI_PIPELINE_URL", "https://gitlab.example/p/1".to_string()),
            ("GITLAB_API_TOKEN", GITLAB_TOKEN.to_string()),
            ("FAIL_ON", fail_on.clone()),
        ]
    };
    let run = |script: String| {
        let (r, e) = (runner.clone(), env.clone());
        async move { in_background(move || r.bash(&script, &e())).await }
    };
    let (code, stdout, stderr) = run(health.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("never_fired"),
        "the log shows the text report: {stdout}"
    );
    assert_eq!(runner.read("health/exit").trim(), "2");
    assert!(runner.read("health/report.html").contains("never fired"));
    let (code, _, stderr) = run(issue.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, _, _) = run(issue.clone()).await;
    assert_eq!(code, 0);
    {
        let gl = gitlab.lock().unwrap();
        assert_eq!(
            gl.issues.len(),
            1,
            "opened once, then updated: {:?}",
            gl.issues
        );
        assert_eq!(gl.issues[0]["labels"], "convctl-health");
        assert_eq!(gl.issues[0]["title"], "convctl: conversions need attention");
        let d = gl.issues[0]["description"].as_str().unwrap();
        assert!(
            d.contains("Lead") && d.contains("Pipeline: https://gitlab.example/p/1"),
            "{d}"
        );
    }
    // A report that could not be made: its job fails and the issue stays as it is.
    std::fs::write(runner.path("health/exit"), "1\n").unwrap();
    let (code, _, _) = run(issue.clone()).await;
    assert_eq!(code, 0);
    assert_eq!(gitlab.lock().unwrap().issues[0]["state"], "opened");
    // Nothing found: closed.
    std::fs::write(runner.path("health/exit"), "0\n").unwrap();
    let (code, _, _) = run(issue.clone()).await;
    assert_eq!(code, 0);
    assert_eq!(gitlab.lock().unwrap().issues[0]["state"], "closed");
    emu.shutdown().await.unwrap();
}
