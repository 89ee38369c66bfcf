//! End to end, against the in-process emulator: the safety rules of spec section 2 (protect,
//! the mass-delete guard, ordering at the 100 cap, duplicate names, recovering a half-finished
//! replacement, a replaced pinned conversion, recently fired warnings) and the exit codes of
//! spec section 3 (plan --detailed-exitcode, drift, apply without a terminal, stale plans).
//! Also: the cap when deletes only archive (`cap`), and the thresholds of the mass-delete
//! guard and of "fired recently" at their exact boundaries (`thresholds`).

mod cap;
mod thresholds;

use crate::support::Harness;
use serde_json::{Value, json};

fn conversion(account: &str, name: &str, needle: &str) -> Value {
    json!({"account": account, "name": name, "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": needle}}})
}

fn entry(name: &str, needle: &str) -> String {
    format!(
        "  - name: {name}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: {needle}}}}}\n"
    )
}

fn manifest(account: &str, entries: &[String]) -> String {
    format!("account: {account}\nconversions:\n{}", entries.concat())
}

#[test]
fn protect_blocks_a_replacement_and_nothing_is_done() {
    let env = Harness::new();
    env.seed(json!([conversion("act_1", "Checkout", "/checkout")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    protect: true\n",
            manifest("act_1", &[entry("Checkout", "/pay")])
        ),
    );
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(plan.stderr.contains("conversions/a.yaml:3:5"), "{plan}");
    assert!(plan.stderr.contains("\"Checkout\" is protected (protect: true), but the plan would replace it (rule changed)"), "{plan}");
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply}");
    assert_eq!(env.stats()["writes"], 0, "nothing written");
}

#[test]
fn mass_deletes_are_refused_without_the_flag() {
    let env = Harness::new();
    let seeds: Vec<Value> = (0..12)
        .map(|i| conversion("act_1", &format!("c{i}"), &format!("p{i}")))
        .collect();
    env.seed(Value::Array(seeds));
    env.write("conversions/a.yaml", "account: act_1\nprune: true\nconversions:\n  - name: c0\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: p0}}\n");
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(
        plan.stdout
            .contains("apply refuses it without --allow-mass-delete"),
        "{plan}"
    );
    let refused = env.run(&["apply", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(
        refused
            .stderr
            .contains("deletes or replaces 11 of the 12 live conversions of act_1"),
        "{refused}"
    );
    assert_eq!(env.live("act_1").len(), 12, "nothing deleted");
    let allowed = env.run(&["apply", "--auto-approve", "--allow-mass-delete"]);
    assert_eq!(allowed.code, 0, "{allowed}");
    assert_eq!(env.live_names("act_1"), ["c0"]);
}

#[test]
fn at_the_cap_a_replacement_deletes_first_and_the_plan_says_so() {
    let env = Harness::new();
    let seeds: Vec<Value> = (0..100)
        .map(|i| conversion("act_1", &format!("c{i:03}"), &format!("p{i}")))
        .collect();
    env.seed(Value::Array(seeds));
    let mut entries: Vec<String> = (0..100)
        .map(|i| entry(&format!("c{i:03}"), &format!("p{i}")))
        .collect();
    entries[0] = entry("c000", "changed");
    env.write("conversions/a.yaml", &manifest("act_1", &entries));
    let plan = env.run(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&plan.stdout).unwrap_or_else(|e| panic!("{e}: {plan}"));
    assert_eq!(
        doc["accounts"][0]["actions"][0]["order"],
        "delete_before_create"
    );
    assert!(
        doc["accounts"][0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("100-conversion limit")
    );
    let text = env.run(&["plan"]);
    assert!(
        text.stdout
            .contains("delete the old one first (account at its limit)"),
        "{text}"
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert_eq!(env.live("act_1").len(), 100);
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");

    // Below the cap, the same change creates first.
    let env = Harness::new();
    env.seed(json!([conversion("act_1", "c000", "p0")]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("c000", "changed")]),
    );
    let doc: Value = serde_json::from_str(&env.run(&["plan", "--format", "json"]).stdout).unwrap();
    assert_eq!(
        doc["accounts"][0]["actions"][0]["order"],
        "create_before_delete"
    );
}

#[test]
fn duplicate_names_are_an_error_naming_both_ids() {
    let env = Harness::new();
    let ids = env.seed(json!([
        conversion("act_1", "Dup", "a"),
        conversion("act_1", "Dup", "b")
    ]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("Dup", "c")]),
    );
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr
            .contains(&format!("(ids {}, {})", ids[0], ids[1])),
        "{plan}"
    );
    assert!(
        plan.stderr.contains(&format!("id: \"{}\"", ids[0])),
        "{plan}"
    );
}

#[test]
fn a_half_finished_replacement_is_finished() {
    let env = Harness::new();
    // The new half (matching the manifest) was created; the old one was never deleted.
    let ids = env.seed(json!([
        conversion("act_1", "A", "old"),
        conversion("act_1", "A", "new")
    ]));
    env.write(
        "conversions/a.yaml",
        &manifest("act_1", &[entry("A", "new")]),
    );
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(
        plan.stdout.contains("finishing an interrupted replacement"),
        "{plan}"
    );
    assert!(
        plan.stdout.contains(&format!(
            "# \"A\" (id {}) will be deleted (finishes an interrupted replacement)",
            ids[0]
        )),
        "{plan}"
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.id_of("act_1", "A"), ids[1]);
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}

#[test]
fn replacing_a_pinned_conversion_prints_the_new_id_and_tolerates_the_old_pin() {
    let env = Harness::new();
    let ids = env.seed(json!([conversion("act_1", "P", "old")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"{}\"\n",
            manifest("act_1", &[entry("P", "new")]),
            ids[0]
        ),
    );
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    let new_id = env.id_of("act_1", "P");
    assert_ne!(new_id, ids[0]);
    assert!(
        apply
            .stdout
            .contains(&format!("change it to id: \"{new_id}\"")),
        "{apply}"
    );
    // Until the pin is updated, the missing pinned id is accepted with a warning.
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(
        plan.stdout.contains(&format!(
            "is pinned to id {}, which no longer exists",
            ids[0]
        )),
        "{plan}"
    );
    assert!(
        plan.stdout.contains(&format!("to id: \"{new_id}\"")),
        "{plan}"
    );
    // A pin to an id that does not exist, where no live conversion has the entry's name (a
    // delete-first replacement whose create failed, issue 15 item 7): created, with a warning.
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"999\"\n",
            manifest("act_1", &[entry("Q", "new")])
        ),
    );
    let create = env.run(&["plan"]);
    assert_eq!(create.code, 0, "{create}");
    assert!(
        create
            .stdout
            .contains("is pinned to id 999, which no longer exists")
            && create.stdout.contains("it will be created"),
        "{create}"
    );
    // Where a live conversion has the name but other immutable fields, it stays an error.
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    id: \"999\"\n",
            manifest("act_1", &[entry("P", "other")])
        ),
    );
    let bad = env.run(&["plan"]);
    assert_eq!(bad.code, 1, "{bad}");
    assert!(
        bad.stderr
            .contains("is pinned to id 999, which does not exist in act_1"),
        "{bad}"
    );
}

#[test]
fn destroying_a_recently_fired_or_unavailable_conversion_warns() {
    let env = Harness::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut fired = conversion("act_1", "Fired", "x");
    fired["last_fired_time"] = json!(now - 3600 * 5);
    let mut flagged = conversion("act_1", "Health", "y");
    flagged["is_unavailable"] = json!(true);
    env.seed(json!([fired, flagged]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Fired\n    ensure: absent\n  - name: Health\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: y}}\n",
    );
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("last fired 5 hours ago: deleting it loses its history"),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("\"Health\" (") && plan.stdout.contains("is unavailable"),
        "{plan}"
    );
}

#[test]
fn exit_codes_of_plan_drift_and_apply() {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("A", "a")]));
    // plan: 0 without --detailed-exitcode, 2 with it when there are changes.
    assert_eq!(env.run(&["plan"]).code, 0);
    assert_eq!(env.run(&["plan", "--detailed-exitcode"]).code, 2);
    // drift: 2 when live differs.
    let drift = env.run(&["drift"]);
    assert_eq!(drift.code, 2, "{drift}");
    assert!(
        drift.stdout.contains("\"A\" is declared but missing live"),
        "{drift}"
    );
    // apply without a terminal and without --auto-approve: 1, nothing done.
    let refused = env.run(&["apply"]);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(refused.stderr.contains("needs --auto-approve"), "{refused}");
    assert!(env.live("act_1").is_empty());
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.run(&["plan", "--detailed-exitcode"]).code, 0);
    assert_eq!(env.run(&["drift"]).code, 0);
    // Errors: 1.
    env.write("conversions/b.yaml", "account: act_2\nconversions:\n  - name: B\n    custom_event_type: NOPE\n    rule: {url: {eq: b}}\n");
    assert_eq!(env.run(&["plan", "--detailed-exitcode"]).code, 1);
    let drift_err = env.run(&["drift"]);
    assert_eq!(drift_err.code, 1, "{drift_err}");
    assert!(
        drift_err.stderr.contains("conversions/b.yaml:4"),
        "{drift_err}"
    );
}

#[test]
fn saved_plans_run_exactly_and_stale_ones_are_refused() {
    let env = Harness::new();
    let ids = env.seed(json!([conversion("act_1", "A", "a")]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}    description: new\n{}",
            manifest("act_1", &[entry("A", "a")]),
            entry("B", "b")
        ),
    );
    let saved = env.run(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved}");
    assert!(
        saved.stderr.contains("convctl apply --plan plan.json"),
        "{saved}"
    );
    let text = std::fs::read_to_string(env.path("plan.json")).unwrap();
    assert!(!text.contains(crate::support::TOKEN));

    // Live state moves (a user edits the description over the API): the plan is stale.
    let changed = env.graph(
        reqwest::Method::POST,
        &ids[0],
        &[("description", "edited by hand")],
    );
    assert_eq!(changed["success"], true, "{changed}");
    let stale = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(stale.code, 1, "{stale}");
    assert!(
        stale.stderr.contains("is stale, nothing was done"),
        "{stale}"
    );
    assert_eq!(env.live("act_1").len(), 1, "nothing created");

    // A fresh plan is executed exactly, even when the manifests change afterwards.
    assert_eq!(env.run(&["plan", "--out", "plan.json"]).code, 0);
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("Z", "z")]));
    let saved = std::fs::read_to_string(env.path("plan.json")).unwrap();
    std::fs::write(
        env.path("plan.json"),
        saved.replace("\"v26.0\"", "\"v25.0\""),
    )
    .unwrap();
    let applied = env.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(
        applied
            .stderr
            .contains("made against API v25.0 and is applied against v26.0"),
        "{applied}"
    );
    assert_eq!(env.live_names("act_1"), ["A", "B"]);

    // Broken and foreign files are refused with a clear error.
    env.write("broken.json", "{\"format_version\": 1, \"accounts\": [");
    let broken = env.run(&["apply", "--plan", "broken.json", "--auto-approve"]);
    assert_eq!(broken.code, 1);
    assert!(
        broken
            .stderr
            .contains("broken.json is not a usable plan: not JSON"),
        "{broken}"
    );
    env.write("future.json", "{\"format_version\": 2}");
    let future = env.run(&["apply", "--plan", "future.json", "--auto-approve"]);
    assert!(
        future.stderr.contains("format_version 2 is not supported"),
        "{future}"
    );
}

#[test]
fn deletes_that_only_archive_count_as_gone() {
    // As the real API may do: DELETE archives; the archived one stays listed.
    let env = Harness::with(convctl::emulator::EmulatorConfig {
        delete_archives: true,
        ..Default::default()
    });
    env.seed(json!([
        conversion("act_1", "Old", "old"),
        conversion("act_1", "Keep", "keep")
    ]));
    env.write(
        "conversions/a.yaml",
        &format!(
            "{}  - name: Old\n    ensure: absent\n",
            manifest("act_1", &[entry("Keep", "keep")])
        ),
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(
        env.live_names("act_1"),
        ["Keep"],
        "archived ones are filtered"
    );
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(
        !plan.stdout.contains("Unmanaged"),
        "archived ones are not listed:\n{plan}"
    );
}

/// On a terminal, apply asks, and only `yes` goes ahead. (The terminal is a pseudo-terminal
/// made by util-linux `script`.)
#[test]
fn on_a_terminal_apply_asks_and_only_yes_approves() {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest("act_1", &[entry("A", "a")]));
    let on_tty = |answer: &str| {
        let out = env
            .convctl()
            .arg("apply")
            .stdin(format!("{answer}\n"))
            .on_terminal()
            .run();
        (out.code, out.stdout)
    };
    let (code, out) = on_tty("no");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Only 'yes' will be accepted"), "{out}");
    assert!(out.contains("apply cancelled; nothing was done"), "{out}");
    assert!(env.live("act_1").is_empty());
    let (code, out) = on_tty("yes");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Apply complete: 1 of 1 actions done."),
        "{out}"
    );
    assert_eq!(env.live_names("act_1"), ["A"]);
}
