//! What a reviewer reads is what is there: names that differ only invisibly (NFC and NFD,
//! zero-width characters) are shown apart, bidi controls and terminal escapes never reach the
//! terminal raw, and a set name or a file path cannot forge a line of the plan.

use crate::assert_run;
use crate::support::Harness as Env;
use serde_json::json;

/// Names a reader cannot tell apart are shown apart, and both validate and plan say so.
#[test]
fn names_that_differ_only_invisibly_are_shown_apart() {
    let env = Env::new();
    let nfc = "Caf\u{e9}";
    let nfd = "Cafe\u{301}";
    env.seed(json!([
        {"account": "act_1", "name": nfc, "custom_event_type": "PURCHASE",
         "rule": {"url": {"i_contains": "/cafe"}}},
        {"account": "act_1", "name": "Purchase", "custom_event_type": "PURCHASE",
         "rule": {"url": {"i_contains": "/thanks"}}},
        {"account": "act_1", "name": "Lead \u{202e}dael", "custom_event_type": "LEAD",
         "rule": {"url": {"i_contains": "/lead"}}},
    ]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_1\nconversions:\n  - name: \"{nfd}\"\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /cafe-2}}}}\n  - name: \"Pur\\u200Bchase\"\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /thanks-2}}}}\n"
        ),
    );
    // validate lints the names (offline: NFC and invisible characters).
    let validate = env.run(&["validate"]);
    assert_run!(validate, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    valid: 1 file, 1 account, 2 conversions (2 warnings)
    ----- stderr -----
    conversions/a.yaml:3:11: warning: `name` "Cafe\u0301" is not in Unicode NFC: it looks like a name typed the usual way but is another name to the API
      |
    3 |   - name: "Café"
      |           ^^^^^^
    help: retype it (most editors and keyboards write NFC), or convert the file to NFC
    conversions/a.yaml:6:11: warning: `name` "Pur\u200bchase" contains characters a reader cannot see (U+200B)
      |
    6 |   - name: "Pur\u200Bchase"
      |           ^^^^^^^^^^^^^^^^
    help: remove them: the name looks like another one without them, and is not
    "#);
    // The NFD name is marked, the NFC one reads as it is; the bidi control is shown, not
    // obeyed; the plan warns that the new names equal live ones once normalised.
    let plan = env.run(&["--color", "never", "plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Cafe\u0301" will be created
      + conversion "Cafe\u0301" {
          + name                     = "Cafe\u0301"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/cafe-2"}}
        }

      # "Pur\u200bchase" will be created
      + conversion "Pur\u200bchase" {
          + name                     = "Pur\u200bchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks-2"}}
        }

      Unmanaged (3): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Café" (id 23850000000000001)
        ? "Lead \u202edael" (id 23850000000000003)
        ? "Purchase" (id 23850000000000002)

      Warning: "Cafe\u0301" differs from the live "Café" (23850000000000001) only in characters that look alike or cannot be seen: the API takes them for two names; retype the one that is wrong

      Warning: "Pur\u200bchase" differs from the live "Purchase" (23850000000000002) only in characters that look alike or cannot be seen: the API takes them for two names; retype the one that is wrong

    Plan: 2 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    conversions/a.yaml:3:11: warning: `name` "Cafe\u0301" is not in Unicode NFC: it looks like a name typed the usual way but is another name to the API
      |
    3 |   - name: "Café"
      |           ^^^^^^
    help: retype it (most editors and keyboards write NFC), or convert the file to NFC
    conversions/a.yaml:6:11: warning: `name` "Pur\u200bchase" contains characters a reader cannot see (U+200B)
      |
    6 |   - name: "Pur\u200Bchase"
      |           ^^^^^^^^^^^^^^^^
    help: remove them: the name looks like another one without them, and is not
    "#);
    let text = &plan.stdout;
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{200b}') && !text.contains(nfd),
        "{text}"
    );
}

/// A set name and a manifest's path are user text too: a line break in them cannot
/// forge a `No changes.` line, an escape sequence cannot reach the terminal.
#[test]
fn set_names_and_paths_cannot_forge_plan_lines() {
    let env = Env::new();
    let forged = "conversions/x\nNo changes.\n\u{1b}[2J.yaml";
    env.write(
        forged,
        "set: \"shop\\nNo changes.\\e[2J\"\nconversions:\n  - name: Purchase\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /thanks}}\n---\naccount: act_1\nuse:\n  - set: \"shop\\nNo changes.\\e[2J\"\n",
    );
    let plan = env.run(&["--color", "never", "plan"]);
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/x\nNo changes.\n\u001b[2J.yaml) will change:

      # "Purchase" (set shop\nNo changes.\u001b[2J) will be created
      + conversion "Purchase" {
          + name                     = "Purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    let text = &plan.stdout;
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.lines().all(|l| l.trim() != "No changes."), "{text}");
    // The drift report names them too.
    let drift = env.run(&["--color", "never", "drift"]);
    assert_run!(drift, @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/x\nNo changes.\n\u001b[2J.yaml) has drifted from its manifest (values shown live -> manifest):

      # "Purchase" (set shop\nNo changes.\u001b[2J) is declared but missing live
      + conversion "Purchase" {
          + name                     = "Purchase"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks"}}
        }

    Drift found; to converge: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
    assert!(!drift.stdout.contains('\u{1b}'), "{drift}");
    assert!(
        drift.stdout.lines().all(|l| l.trim() != "No changes."),
        "{drift}"
    );
}
