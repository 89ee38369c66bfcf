//! `--sandbox`: the in-process emulator with its state in a file, kept across runs; and the
//! README's main command, exactly as written.

use crate::assert_run;
use crate::support::Convctl;
use crate::support::snapshot::accounts_in_order;

#[test]
fn the_sandbox_keeps_state_in_a_file_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| Convctl::new().args(args).current_dir(dir.path()).run();
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        "account: act_5\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {and: [{event: {eq: Lead}}, {url: {i_contains: /contact}}]}\n",
    )
    .unwrap();
    assert_run!(run(&["--sandbox", "apply", "--auto-approve"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_5 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Lead"}},
                    {"url": {"i_contains": "/contact"}}
                  ]
                }
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    act_5: + create "A": created, id 23850000000000001
    Apply complete: 1 of 1 actions done.
    ----- stderr -----
    "#);
    assert!(dir.path().join(".convctl/sandbox.json").exists());
    assert_run!(run(&["--sandbox", "plan", "--detailed-exitcode"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_5 (conversions/a.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
    // Another state file is another (empty) sandbox.
    assert_run!(
        run(&["--sandbox=other/state.json", "plan", "--detailed-exitcode"]),
        @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_5 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     =
                {
                  "and": [
                    {"event": {"eq": "Lead"}},
                    {"url": {"i_contains": "/contact"}}
                  ]
                }
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#
    );
    assert!(dir.path().join("other/state.json").exists());
}

/// The README's main command, exactly: `convctl --sandbox plan examples/conversions`, then
/// `apply`, then `plan` again says `No changes.` (state in a temporary sandbox file).
#[test]
fn the_readme_main_command_plans_and_applies_the_examples_in_the_sandbox() {
    let state = tempfile::tempdir().unwrap();
    let sandbox = format!("--sandbox={}", state.path().join("sandbox.json").display());
    let run = |args: &[&str]| {
        Convctl::new()
            .arg(&sandbox)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            // The accounts are applied side by side: the order of their new ids varies.
            .filter(r"\bcreated, id [0-9]+", "created, id [new id]")
            .run()
    };
    let plan = run(&["plan", "examples/conversions", "--detailed-exitcode"]);
    assert_run!("readme_plan", plan);
    let apply = accounts_in_order(run(&["apply", "examples/conversions", "--auto-approve"]));
    assert_run!("readme_apply", apply);
    // The apply carried out the plan it showed, and nothing else.
    assert!(apply.stdout.starts_with(&plan.stdout), "{apply}");
    assert_run!(
        run(&["plan", "examples/conversions", "--detailed-exitcode"]),
        @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_3100000001 (examples/conversions/agency.yaml): no changes.

    act_3100000002 (examples/conversions/agency.yaml): no changes.

    act_3100000003 (examples/conversions/agency.yaml): no changes.

    act_3200000001 (examples/conversions/fleet.yaml): no changes.

    act_3200000002 (examples/conversions/fleet.yaml): no changes.

    act_3200000003 (examples/conversions/fleet.yaml): no changes.

    act_2233445566 (examples/conversions/leadgen.yaml): no changes.

    act_1234567890 (examples/conversions/shop.yaml): no changes.

    No changes.
    ----- stderr -----
    "
    );
    assert_run!(run(&["drift", "examples/conversions"]), @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_3100000001 (examples/conversions/agency.yaml): in sync.

    act_3100000002 (examples/conversions/agency.yaml): in sync.

    act_3100000003 (examples/conversions/agency.yaml): in sync.

    act_3200000001 (examples/conversions/fleet.yaml): in sync.

    act_3200000002 (examples/conversions/fleet.yaml): in sync.

    act_3200000003 (examples/conversions/fleet.yaml): in sync.

    act_2233445566 (examples/conversions/leadgen.yaml): in sync.

    act_1234567890 (examples/conversions/shop.yaml): in sync.

    No drift: live accounts match the manifests.
    ----- stderr -----
    ");
}
