//! What a reviewer reads is what is there: names that differ only invisibly (NFC and NFD,
//! zero-width characters) are shown apart, bidi controls and terminal escapes never reach the
//! terminal raw, and a set name or a file path cannot forge a line of the plan.

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
    assert_eq!(validate.code, 0, "{validate}");
    assert!(
        validate.stderr.contains("conversions/a.yaml:3:11")
            && validate.stderr.contains("not in Unicode NFC"),
        "{validate}"
    );
    assert!(
        validate.stderr.contains("conversions/a.yaml:6:11") && validate.stderr.contains("U+200B"),
        "{validate}"
    );
    let plan = env.run(&["--color", "never", "plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    let text = &plan.stdout;
    // The NFD name is marked; the NFC one reads as it is.
    assert!(text.contains("+ conversion \"Cafe\\u0301\""), "{text}");
    assert!(text.contains("? \"Caf\u{e9}\""), "{text}");
    assert!(text.contains("+ conversion \"Pur\\u200bchase\""), "{text}");
    // The bidi control is shown, not obeyed.
    assert!(text.contains("\"Lead \\u202edael\""), "{text}");
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{200b}'),
        "{text}"
    );
    // The plan warns that the new names equal live ones once normalised.
    assert!(
        text.contains("\"Cafe\\u0301\" differs from the live \"Caf\u{e9}\"")
            && text.contains("\"Pur\\u200bchase\" differs from the live \"Purchase\""),
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
    assert_eq!(plan.code, 0, "{plan}");
    let text = &plan.stdout;
    assert!(!text.contains('\u{1b}'), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("No changes.")).collect();
    assert!(lines.iter().all(|l| l.trim() != "No changes."), "{text}");
    assert!(text.contains("shop\\nNo changes.\\u001b[2J"), "{text}");
    // The drift report names them too.
    let drift = env.run(&["--color", "never", "drift"]);
    assert_eq!(drift.code, 2, "{drift}");
    assert!(!drift.stdout.contains('\u{1b}'), "{drift}");
    assert!(
        drift.stdout.lines().all(|l| l.trim() != "No changes."),
        "{drift}"
    );
}
