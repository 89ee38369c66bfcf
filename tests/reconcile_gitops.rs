//! The GitOps walk-through, scripted: an account managed by hand is imported, the manifest is
//! edited, planned, applied; a manual change made over the API afterwards shows up as drift
//! (text, json, markdown), and apply puts it back. Also: `--sandbox` keeps state in a file
//! across runs, and a failure part way is finished by running apply again.

mod reconcile_support;

use reconcile_support::{Env, redact};
use serde_json::{Value, json};

#[test]
fn import_edit_plan_apply_then_drift_after_a_manual_change() {
    let env = Env::new();
    // Conversions made by hand, over the API, as in Events Manager.
    let created = env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Purchase over 100"),
            (
                "rule",
                r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            ),
            ("custom_event_type", "PURCHASE"),
            ("event_source_id", "777"),
            ("default_conversion_value", "12.0"),
        ],
    );
    let purchase_id = created["id"].as_str().unwrap().to_string();
    env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Thank you"),
            ("rule", r#"{"url":{"i_contains":"thank\/you"}}"#),
            ("custom_event_type", "LEAD"),
            ("description", "old text"),
        ],
    );

    // 1. import: one manifest, ids pinned, rules as YAML mappings; plan on it: no changes.
    let import = env.run(&["import", "act_42", "--out", "conversions"]);
    assert_eq!(import.code, 0, "{import}");
    let path = env.path("conversions/act_42.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    assert!(
        yaml.contains(&format!("id: '{purchase_id}'"))
            || yaml.contains(&format!("id: \"{purchase_id}\"")),
        "{yaml}"
    );
    assert!(
        yaml.contains("and:") && !yaml.contains("{\"and\""),
        "rules are mappings:\n{yaml}"
    );
    insta::assert_snapshot!("imported_manifest", redact(&yaml, env.dir.path()));
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(plan.last_line(), "No changes.");
    // Importing again never overwrites.
    let again = env.run(&["import", "act_42", "--out", "conversions"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("never overwrites"), "{again}");

    // 2. edit: a description, a rule (replacement) and a new conversion.
    let edited = yaml
        .replace("old text", "Thank-you page")
        .replace("gt: 100", "gt: 150")
        + "- name: Lead form\n  custom_event_type: LEAD\n  rule:\n    event:\n      eq: Lead\n";
    std::fs::write(&path, edited).unwrap();
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan}");
    assert_eq!(
        plan.last_line(),
        "Plan: 1 to create, 1 to update, 1 to replace, 0 to delete.",
        "{plan}"
    );
    assert!(
        plan.stdout.contains("-     {\"value\": {\"gt\": 100}}"),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("+     {\"value\": {\"gt\": 150}}"),
        "{plan}"
    );

    // 3. apply: done, and the pinned replacement says which id to pin.
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    let new_id = env.id_of("act_42", "Purchase over 100");
    assert!(
        apply
            .stdout
            .contains(&format!("change it to id: \"{new_id}\"")),
        "{apply}"
    );
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace(&purchase_id, &new_id),
    )
    .unwrap();
    assert_eq!(env.run(&["drift"]).code, 0);

    // 4. someone renames a conversion and changes its value by hand: drift, field by field.
    let thanks = env.id_of("act_42", "Thank you");
    env.graph(
        reqwest::Method::POST,
        &thanks,
        &[
            ("name", "Thanks (edited)"),
            ("default_conversion_value", "5"),
        ],
    );
    let drift = env.run(&["drift"]);
    assert_eq!(drift.code, 2, "{drift}");
    assert!(
        drift
            .stdout
            .contains("~ name                     = \"Thanks (edited)\" -> \"Thank you\""),
        "{drift}"
    );
    assert!(
        drift.stdout.contains("~ default_conversion_value = 5 -> 0"),
        "{drift}"
    );
    insta::assert_snapshot!("drift_text", redact(&drift.stdout, env.dir.path()));
    let json_drift = env.run(&["drift", "--format", "json"]);
    assert_eq!(json_drift.code, 2);
    let doc: Value = serde_json::from_str(&json_drift.stdout).unwrap();
    assert_eq!(doc["summary"]["update"], 1);
    assert_eq!(
        doc["accounts"][0]["actions"][0]["changes"][0],
        json!({"field": "name", "before": "Thanks (edited)", "after": "Thank you"})
    );
    let md = env.run(&["drift", "--format", "markdown"]);
    assert!(md.stdout.starts_with("### convctl drift"), "{md}");
    insta::assert_snapshot!("drift_markdown", redact(&md.stdout, env.dir.path()));

    // 5. apply puts it back.
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.run(&["drift"]).code, 0);
}

#[test]
fn the_sandbox_keeps_state_in_a_file_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_convctl"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("META_ACCESS_TOKEN")
            .env_remove("CONVCTL_API_BASE")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        "account: act_5\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {event: {eq: Lead}}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["--sandbox", "apply", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(dir.path().join(".convctl/sandbox.json").exists());
    let (code, out, _) = run(&["--sandbox", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("No changes.\n"), "{out}");
    // Another state file is another (empty) sandbox.
    let (code, _, _) = run(&["--sandbox=other/state.json", "plan", "--detailed-exitcode"]);
    assert_eq!(code, 2);
    assert!(dir.path().join("other/state.json").exists());
}

#[test]
fn a_failure_part_way_is_reported_and_finished_by_running_apply_again() {
    // The emulator's cap is lower than the real one, and an unmanaged conversion takes a
    // place: the third create fails (code 100, limit) while the other two succeed.
    let env = Env::with(convctl::emulator::EmulatorConfig {
        cap: 3,
        ..Default::default()
    });
    let legacy = env.seed(json!([{"account": "act_1", "name": "legacy", "custom_event_type": "LEAD", "rule": {"url": {"eq": "l"}}}]));
    let entries: String = (1..=3)
        .map(|i| format!("  - name: c{i}\n    custom_event_type: LEAD\n    rule: {{url: {{i_contains: p{i}}}}}\n"))
        .collect();
    env.write(
        "conversions/a.yaml",
        &format!("account: act_1\nconversions:\n{entries}"),
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert!(
        apply.stdout.contains("2 done, 1 failed, 0 not done"),
        "{apply}"
    );
    assert!(apply.stdout.contains("FAILED create \"c"), "{apply}");
    assert!(
        apply.stdout.contains("limit of 3 custom conversions"),
        "{apply}"
    );
    assert!(
        apply.stdout.contains("Run `convctl apply` again to finish"),
        "{apply}"
    );
    assert_eq!(env.live("act_1").len(), 3);
    // Someone makes room by hand; apply again creates only what is missing, no duplicates.
    let deleted = env.graph(reqwest::Method::DELETE, &legacy[0], &[]);
    assert_eq!(deleted["success"], true, "{deleted}");
    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        again
            .stdout
            .contains("Apply complete: 1 of 1 actions done."),
        "{again}"
    );
    assert_eq!(env.live_names("act_1"), ["c1", "c2", "c3"]);
}

/// The README's main command, exactly: `convctl --sandbox plan examples/conversions`, then
/// `apply`, then `plan` again says `No changes.` (state in a temporary sandbox file).
#[test]
fn the_readme_main_command_plans_and_applies_the_examples_in_the_sandbox() {
    let state = tempfile::tempdir().unwrap();
    let sandbox = format!("--sandbox={}", state.path().join("sandbox.json").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_convctl"))
            .arg(&sandbox)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("META_ACCESS_TOKEN")
            .env_remove("CONVCTL_API_BASE")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["plan", "examples/conversions", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.lines().last().unwrap().starts_with("Plan: "), "{out}");
    assert!(
        out.contains("+ conversion \"High value purchase\""),
        "{out}"
    );
    let (code, out, err) = run(&["apply", "examples/conversions", "--auto-approve"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Apply complete"), "{out}");
    let (code, out, err) = run(&["plan", "examples/conversions", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("No changes.\n"), "{out}");
    let (code, out, _) = run(&["drift", "examples/conversions"]);
    assert_eq!(code, 0, "{out}");
}
