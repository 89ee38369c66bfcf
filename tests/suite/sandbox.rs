//! `--sandbox`: the in-process emulator with its state in a file, kept across runs; and the
//! README's main command, exactly as written.

use crate::support::Convctl;

#[test]
fn the_sandbox_keeps_state_in_a_file_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Convctl::new().args(args).current_dir(dir.path()).run();
        (out.code, out.stdout, out.stderr)
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

/// The README's main command, exactly: `convctl --sandbox plan examples/conversions`, then
/// `apply`, then `plan` again says `No changes.` (state in a temporary sandbox file).
#[test]
fn the_readme_main_command_plans_and_applies_the_examples_in_the_sandbox() {
    let state = tempfile::tempdir().unwrap();
    let sandbox = format!("--sandbox={}", state.path().join("sandbox.json").display());
    let run = |args: &[&str]| {
        let out = Convctl::new()
            .arg(&sandbox)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .run();
        (out.code, out.stdout, out.stderr)
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
