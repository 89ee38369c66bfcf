//! The GitHub templates' shell steps, run for real with bash against the in-process emulator on
//! loopback: N sharded plans (the PR workflow's `Plan` step), joined into one comment (the
//! `comment` job's script, with jq), applied from the saved plans (the main workflow's `Apply`
//! step), then the nightly drift steps: in sync, and drift in exactly one shard.
//!
//! The steps that call GitHub's or GitLab's API are run in `gitops_ci_reporting.rs`. Needs
//! bash and jq, as the runners have.

mod ci_support;

use ci_support::*;
use convctl::emulator::{self, EmulatorConfig, RunningEmulator};
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
    let emu: RunningEmulator = emulator::start(
        EmulatorConfig {
            tokens: vec![TOKEN.to_string()],
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let runner = std::sync::Arc::new(Runner::new(emu.base_url()));
    let pr = template("convctl-pull-request.yml");
    let main = template("convctl-main.yml");
    let nightly = template("convctl-drift.yml");

    // -- pull request: one plan per shard, then the comment job joins them.
    let plan_script = step(&pr, "plan", "Plan");
    let r = runner.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let (code, _, stderr) = r.bash(&plan_script, &[("SHARD", k.to_string())]);
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

    let join = step(&pr, "comment", "Join the shard plans into one comment");
    let marker = pr["jobs"]["comment"]["env"]["MARKER"]
        .as_str()
        .unwrap()
        .to_string();
    let r = runner.clone();
    let m = marker.clone();
    let (code, _, stderr) = in_background(move || r.bash(&join, &[("MARKER", m)])).await;
    assert_eq!(code, 0, "{stderr}");
    let comment = runner.read("comment.md");
    assert!(
        comment.starts_with(&format!("{marker}\n## convctl plan for 0123456")),
        "{comment}"
    );
    assert!(
        comment.contains(&format!(
            "**Total: {creates} to create, 0 to update, 0 to replace, 0 to delete.**"
        )),
        "{comment}"
    );
    for k in 1..=SHARDS {
        assert!(
            comment.contains(&format!("<summary>Shard {k}/{SHARDS}</summary>")),
            "{comment}"
        );
    }
    for account in &all_accounts {
        assert!(
            comment.contains(&format!("`{account}`")),
            "{account} in the comment"
        );
    }
    // A failed shard leaves a visible hole, never a silent "no changes".
    std::fs::remove_file(runner.path("plans/plan-2.md")).unwrap();
    let join = step(&pr, "comment", "Join the shard plans into one comment");
    let r = runner.clone();
    let (code, _, _) = in_background(move || r.bash(&join, &[("MARKER", marker)])).await;
    assert_eq!(code, 0);
    assert!(
        runner
            .read("comment.md")
            .contains(":warning: shard 2/3 produced no plan")
    );

    // -- merge to main: plan this commit per shard, then apply exactly the saved plans.
    std::fs::remove_dir_all(runner.path("plans")).unwrap();
    let plan_script = step(&main, "plan", "Plan and save");
    let apply_script = step(&main, "apply", "Apply the saved plan");
    let r = runner.clone();
    in_background(move || {
        for k in 1..=SHARDS {
            let (code, _, stderr) = r.bash(&plan_script, &[("SHARD", k.to_string())]);
            assert_eq!(code, 0, "plan shard {k}: {stderr}");
        }
        for k in 1..=SHARDS {
            let (code, stdout, stderr) = r.bash(&apply_script, &[("SHARD", k.to_string())]);
            assert_eq!(code, 0, "apply shard {k}: {stdout}{stderr}");
        }
    })
    .await;
    let live = emu.state()["conversions"].as_array().unwrap().len() as u64;
    assert_eq!(live, creates, "every planned create applied once");
    assert!(runner.read("summary.md").contains("### Shard 3/3"));

    // -- nightly: in sync everywhere...
    let drift_script = step(&nightly, "drift", "Drift");
    let report_script = step(&nightly, "report", "Join the shard reports");
    let r = runner.clone();
    let (d, rep) = (drift_script.clone(), report_script.clone());
    in_background(move || {
        for k in 1..=SHARDS {
            let (code, _, stderr) = r.bash(&d, &[("SHARD", k.to_string())]);
            assert_eq!(code, 0, "drift shard {k}: {stderr}");
        }
        std::fs::write(r.path("output.txt"), "").unwrap();
        let (code, _, stderr) = r.bash(&rep, &[]);
        assert_eq!(code, 0, "{stderr}");
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
            let (code, _, stderr) = r.bash(&drift_script, &[("SHARD", k.to_string())]);
            assert_eq!(code, 0, "drift shard {k}: {stderr}");
        }
        std::fs::write(r.path("output.txt"), "").unwrap();
        let (code, _, stderr) = r.bash(&report_script, &[]);
        assert_eq!(code, 0, "{stderr}");
    })
    .await;
    let exits: Vec<String> = (1..=SHARDS)
        .map(|k| runner.read(&format!("drift/exit-{k}")).trim().to_string())
        .collect();
    assert_eq!(exits.iter().filter(|c| *c == "2").count(), 1, "{exits:?}");
    assert_eq!(exits.iter().filter(|c| *c == "0").count(), 2, "{exits:?}");
    assert_eq!(runner.read("output.txt"), "drifted=1\nfailed=0\n");
    let issue = runner.read("issue.md");
    assert!(issue.contains(&account), "{issue}");
    assert!(issue.contains("edited in Events Manager"), "{issue}");

    // A drift check that cannot run fails its job loudly (exit 1 → the step fails).
    let r = runner.clone();
    let script = step(&nightly, "drift", "Drift");
    let (code, stdout, _) = in_background(move || {
        r.bash(
            &script,
            &[
                ("SHARD", "1".into()),
                ("CONVCTL_API_BASE", "http://127.0.0.1:9".into()),
            ],
        )
    })
    .await;
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("::error::convctl drift failed (exit 1) in shard 1/3"),
        "{stdout}"
    );
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_parallel_plan_apply_and_drift_jobs_run() {
    let emu: RunningEmulator = emulator::start(
        EmulatorConfig {
            tokens: vec![TOKEN.to_string()],
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
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
