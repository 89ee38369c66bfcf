//! The GitHub templates' shell steps, run for real with bash against the in-process emulator on
//! loopback: N sharded plans (the PR workflow's `Plan` step), joined into one comment (the
//! `comment` job's script, with jq), applied from the saved plans (the main workflow's `Apply`
//! step), then the nightly drift steps: in sync, and drift in exactly one shard.
//!
//! The steps that call GitHub's or GitLab's API are run in `reporting`. Needs
//! bash and jq, as the runners have.

use crate::support::ci::*;
use crate::support::emulator::{start, with_token};
use crate::support::{TOKEN, in_background};
use convctl::emulator::RunningEmulator;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn accounts_in(plan: &Value) -> Vec<String> {
    plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_plan_comment_then_apply_then_nightly_drift() {
    for tool in ["bash", "jq"] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(found, "{tool} is needed to run the CI templates' scripts");
    }
    let emu: RunningEmulator = start(with_token()).await;
    let runner = std::sync::Arc::new(Runner::new(emu.base_url()));
    // The templates call the action; its steps are what runs.
    for name in [
        "convctl-pull-request.yml",
        "convctl-main.yml",
        "convctl-drift.yml",
    ] {
        assert!(
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("examples/ci/github")
                    .join(name)
            )
            .unwrap()
            .contains("/convctl@v"),
            "{name} uses the action"
        );
    }
    let shards = SHARDS.to_string();

    // -- pull request: one plan per shard, then the comment job joins them.
    let r = runner.clone();
    let s = shards.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let shard = k.to_string();
            let inputs = [
                ("shard", shard.as_str()),
                ("shards", s.as_str()),
                ("out-dir", "plans"),
            ];
            let (code, _, stderr) = r.action_step("Plan", &inputs, &[]);
            assert_eq!(code, 0, "shard {k}: {stderr}");
        }
    })
    .await;
    let mut all_accounts = Vec::new();
    let mut creates = 0;
    for k in 1..=SHARDS {
        let plan: Value =
            serde_json::from_str(&runner.read(&format!("plans/plan-{k}.json"))).unwrap();
        all_accounts.extend(accounts_in(&plan));
        creates += plan["summary"]["create"].as_u64().unwrap();
        assert!(
            runner
                .read(&format!("plans/plan-{k}.txt"))
                .contains("Plan: ")
        );
    }
    let unique: BTreeSet<&String> = all_accounts.iter().collect();
    assert_eq!(
        unique.len(),
        all_accounts.len(),
        "an account in two shards: {all_accounts:?}"
    );
    assert_eq!(
        all_accounts.len(),
        8,
        "every example account in some shard: {all_accounts:?}"
    );
    assert!(creates > 0);
    assert!(runner.read("summary.md").contains(
        "Shard 3/3 of the plan; the pull-request comment shows every shard.\n\n### convctl plan\n"
    ));

    let marker = action()["inputs"]["marker"]["default"]
        .as_str()
        .unwrap()
        .to_string();
    let join = |runner: std::sync::Arc<Runner>, shards: String| async move {
        in_background(move || {
            r_join(&runner, &shards);
        })
        .await;
    };
    fn r_join(r: &Runner, shards: &str) {
        let inputs = [("shards", shards), ("out-dir", "plans")];
        let (code, _, stderr) =
            r.action_step("Join the shard plans into one comment", &inputs, &[]);
        assert_eq!(code, 0, "{stderr}");
    }
    join(runner.clone(), shards.clone()).await;
    let comment = runner.read("plans/comment.md");
    // The shards read as one document: one heading, one totals line, one table.
    assert!(
        comment.starts_with(&format!(
            "{marker}\n### convctl plan\n\n**Plan: {creates} to create, 0 to update, 0 to replace, 0 to delete.**"
        )),
        "{comment}"
    );
    assert_eq!(comment.matches("### convctl plan").count(), 1, "{comment}");
    assert_eq!(comment.matches("| Account |").count(), 1, "{comment}");
    assert!(comment.len() <= 65_536);
    assert!(
        comment.trim_end().ends_with(&format!(
            "<sub>Plan of 0123456 over {SHARDS} shards; the full plans are the artifacts convctl-plan-* of https://github.example/acme/ads/actions/runs/42.</sub>"
        )),
        "{comment}"
    );
    // Every account with something to do has its row; the others are counted.
    for k in 1..=SHARDS {
        let plan: Value =
            serde_json::from_str(&runner.read(&format!("plans/plan-{k}.json"))).unwrap();
        for account in plan["accounts"].as_array().unwrap() {
            let id = account["account"].as_str().unwrap();
            let busy = !account["actions"].as_array().unwrap().is_empty();
            assert_eq!(
                comment.contains(&format!("| `{id}` |")),
                busy,
                "{id} in the comment"
            );
        }
    }
    // A failed shard leaves a visible hole, said first, never a silent "no changes".
    std::fs::remove_file(runner.path("plans/plan-2.json")).unwrap();
    join(runner.clone(), shards.clone()).await;
    let comment = runner.read("plans/comment.md");
    assert!(
        comment.starts_with(&format!("{marker}\n> [!CAUTION]\n> **No plan from shard 2 of 3**: the totals and the table below leave out its accounts.")),
        "{comment}"
    );
    assert_eq!(comment.matches("### convctl plan").count(), 1, "{comment}");

    // -- merge to main: plan this commit per shard, then apply exactly the saved plans.
    std::fs::remove_dir_all(runner.path("plans")).unwrap();
    let r = runner.clone();
    let s = shards.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let shard = k.to_string();
            let inputs = [
                ("shard", shard.as_str()),
                ("shards", s.as_str()),
                ("out-dir", "plans"),
            ];
            let (code, _, stderr) = r.action_step("Plan", &inputs, &[]);
            assert_eq!(code, 0, "plan shard {k}: {stderr}");
        }
        for k in 1..=SHARDS {
            let shard = k.to_string();
            let inputs = [("shard", shard.as_str()), ("out-dir", "plans")];
            let (code, stdout, stderr) = r.action_step("Apply the saved plan", &inputs, &[]);
            assert_eq!(code, 0, "apply shard {k}: {stdout}{stderr}");
        }
    })
    .await;
    let live = emu.state()["conversions"].as_array().unwrap().len() as u64;
    assert_eq!(live, creates, "every planned create applied once");

    // -- nightly: in sync everywhere...
    let drift = |r: &Runner, k: u64, extra: &[(&str, String)]| {
        let shard = k.to_string();
        let shards = SHARDS.to_string();
        let inputs = [
            ("shard", shard.as_str()),
            ("shards", shards.as_str()),
            ("out-dir", "drift"),
        ];
        r.action_step("Drift", &inputs, extra)
    };
    let report = |r: &Runner| {
        std::fs::write(r.path("output.txt"), "").unwrap();
        let shards = SHARDS.to_string();
        let inputs = [("shards", shards.as_str()), ("out-dir", "drift")];
        let (code, _, stderr) = r.action_step("Join the shard reports", &inputs, &[]);
        assert_eq!(code, 0, "{stderr}");
    };
    let r = runner.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let (code, _, stderr) = drift(&r, k, &[]);
            assert_eq!(code, 0, "drift shard {k}: {stderr}");
        }
        report(&r);
    })
    .await;
    assert_eq!(runner.read("output.txt"), "drifted=0\nfailed=0\n");

    // ...then someone edits one conversion by hand: exactly its shard reports drift (exit 2,
    // the step still passes) and the issue body carries that shard's report.
    let state = emu.state();
    let victim = &state["conversions"][0];
    let (id, account) = (
        victim["id"].as_str().unwrap().to_string(),
        format!("act_{}", victim["account_id"].as_str().unwrap()),
    );
    let answer = reqwest::Client::new()
        .post(format!("{}/v26.0/{id}", emu.base_url()))
        .bearer_auth(TOKEN)
        .form(&[("description", "edited in Events Manager")])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let r = runner.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let (code, _, stderr) = drift(&r, k, &[]);
            assert_eq!(code, 0, "drift shard {k}: {stderr}");
        }
        report(&r);
    })
    .await;
    let exits: Vec<String> = (1..=SHARDS)
        .map(|k| runner.read(&format!("drift/exit-{k}")).trim().to_string())
        .collect();
    assert_eq!(exits.iter().filter(|c| *c == "2").count(), 1, "{exits:?}");
    assert_eq!(exits.iter().filter(|c| *c == "0").count(), 2, "{exits:?}");
    assert_eq!(runner.read("output.txt"), "drifted=1\nfailed=0\n");
    let issue = runner.read("drift/issue.md");
    assert!(issue.contains(&account), "{issue}");
    assert!(issue.contains("edited in Events Manager"), "{issue}");

    // A drift check that cannot run fails its job loudly: the error is said, and the next
    // step (after the reports are uploaded) fails.
    let r = runner.clone();
    let (code, stdout, _) =
        in_background(move || drift(&r, 1, &[("CONVCTL_API_BASE", "http://127.0.0.1:9".into())]))
            .await;
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("::error::convctl drift failed (exit 1) in shard 1/3"),
        "{stdout}"
    );
    let (fail, _) = action_step("Fail when the check could not run", &[]);
    for (code, expected) in [("1", 1), ("0", 0), ("2", 0)] {
        let (got, _, _) = runner.bash(&fail, &[("CODE", code.to_string())]);
        assert_eq!(got, expected, "exit {code}");
    }
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_parallel_plan_apply_and_drift_jobs_run() {
    let emu: RunningEmulator = start(with_token()).await;
    let runner = std::sync::Arc::new(Runner::new(emu.base_url()));
    let pipeline = gitlab_pipeline();
    let parallel = pipeline["plan"]["parallel"].as_u64().unwrap();
    assert_eq!(pipeline["apply"]["parallel"].as_u64(), Some(parallel));
    assert_eq!(pipeline["drift"]["parallel"].as_u64(), Some(parallel));
    let (plan, apply, drift) = (
        gitlab_script(&pipeline, "plan"),
        gitlab_script(&pipeline, "apply"),
        gitlab_script(&pipeline, "drift"),
    );
    let r = runner.clone();
    in_background(move || {
        let node = |k: u64| {
            vec![
                ("CI_NODE_INDEX", k.to_string()),
                ("CI_NODE_TOTAL", parallel.to_string()),
            ]
        };
        for k in 1..=parallel {
            let (code, _, stderr) = r.bash(&plan, &node(k));
            assert_eq!(code, 0, "plan {k}: {stderr}");
        }
        for k in 1..=parallel {
            let (code, _, stderr) = r.bash(&apply, &node(k));
            assert_eq!(code, 0, "apply {k}: {stderr}");
        }
        for k in 1..=parallel {
            let (code, _, stderr) = r.bash(&drift, &node(k));
            assert_eq!(code, 0, "drift {k}: {stderr}");
            assert_eq!(r.read(&format!("drift/exit-{k}")).trim(), "0");
        }
    })
    .await;
    let mut planned = 0;
    for k in 1..=parallel {
        let plan: Value =
            serde_json::from_str(&runner.read(&format!("plans/plan-{k}.json"))).unwrap();
        planned += plan["summary"]["create"].as_u64().unwrap();
    }
    assert!(planned > 0);
    assert_eq!(
        emu.state()["conversions"].as_array().unwrap().len() as u64,
        planned
    );
    emu.shutdown().await.unwrap();
}
