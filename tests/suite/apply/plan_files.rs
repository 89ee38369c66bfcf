//! Hostile plan files: `apply --plan FILE` with a saved plan that was
//! damaged (truncated, bytes flipped) or edited (any value replaced by a value of another type,
//! keys removed, ids swapped for another account's). Whatever the file says, convctl must
//! answer with exit 0 or 1 and never panic; a refused file must change nothing; and it must
//! never touch an account the plan was not made for, or delete a conversion the plan's account
//! did not hold when the plan was made.
//!
//! The emulator runs in this test process (restored from the same saved state for every case);
//! the real binary is the child.

use crate::support::generate::{manifest_document, seed_account};
use crate::support::json::walk;
use crate::support::{Convctl, TOKEN, emulator};
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const PLANNED: &str = "act_7400001";
const BYSTANDER: &str = "act_7400002";

/// One way to damage the saved plan.
#[derive(Clone, Debug)]
enum Mutation {
    /// Keep this fraction of the bytes.
    Truncate(f64),
    /// Overwrite the byte at this fraction of the file.
    Flip(f64, u8),
    /// Replace the k-th JSON node (depth first, modulo their number) with this value.
    Replace(usize, Value),
    /// Remove the k-th object member.
    Remove(usize),
    /// Put a bystander conversion's id into the k-th `id` of an action.
    ForeignId(usize, usize),
    /// Move the k-th action into the other account entry (or a new one for the bystander).
    Retarget(usize),
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("act_7400002".into())),
        Just(Value::String("23850000000000001".into())),
        Just(Value::String("delete".into())),
        Just(Value::String("x".repeat(100_000))),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (0.0..1.0f64, any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), any_json()).prop_map(|(k, v)| Mutation::Replace(k, v)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), any::<usize>()).prop_map(|(k, b)| Mutation::ForeignId(k, b)),
        any::<usize>().prop_map(Mutation::Retarget),
    ]
}

/// Visits every node depth first; `f` returns true to stop.
fn count(v: &mut Value, pred: &dyn Fn(&Value) -> bool) -> usize {
    let mut n = 0;
    walk(v, &mut |x| {
        n += usize::from(pred(x));
        false
    });
    n
}

fn apply_mutation(text: &str, m: &Mutation, bystander_ids: &[String]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let mut doc: Value = serde_json::from_str(text).unwrap();
    match m {
        Mutation::Truncate(f) => {
            bytes.truncate((bytes.len() as f64 * f) as usize);
            return bytes;
        }
        Mutation::Flip(f, b) => {
            let i = ((bytes.len() as f64 * f) as usize).min(bytes.len() - 1);
            bytes[i] = *b;
            return bytes;
        }
        Mutation::Replace(k, value) => {
            let n = count(&mut doc, &|_| true);
            let mut i = 0;
            walk(&mut doc, &mut |x| {
                if i == k % n {
                    *x = value.clone();
                    return true;
                }
                i += 1;
                false
            });
        }
        Mutation::Remove(k) => {
            let n = count(&mut doc, &|x| x.as_object().is_some_and(|o| !o.is_empty()));
            let mut i = 0;
            walk(&mut doc, &mut |x| {
                if let Some(o) = x.as_object_mut().filter(|o| !o.is_empty()) {
                    if i == k % n {
                        let key = o.keys().nth(k / n % o.len()).unwrap().clone();
                        o.remove(&key);
                        return true;
                    }
                    i += 1;
                }
                false
            });
        }
        Mutation::ForeignId(k, b) => {
            let actions: Vec<&mut Value> = doc["accounts"][0]["actions"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .filter(|a| a.get("id").is_some())
                .collect();
            let n = actions.len();
            if let Some(a) = actions.into_iter().nth(k % n.max(1)) {
                a["id"] = Value::String(bystander_ids[b % bystander_ids.len()].clone());
            }
        }
        Mutation::Retarget(k) => {
            let account = &mut doc["accounts"][0];
            let actions = account["actions"].as_array_mut().unwrap();
            let action = actions.remove(k % actions.len());
            let mut other = account.clone();
            other["account"] = Value::String(BYSTANDER.into());
            other["actions"] = Value::Array(vec![action]);
            doc["accounts"].as_array_mut().unwrap().push(other);
        }
    }
    serde_json::to_vec_pretty(&doc).unwrap()
}

struct SavedPlan {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    pristine: PathBuf,
    plan: String,
    planned_ids: BTreeSet<String>,
    bystander_ids: Vec<String>,
}

/// An emulator in this process, restored from (and saving to) `state`.
fn start(rt: &tokio::runtime::Runtime, state: &Path) -> RunningEmulator {
    rt.block_on(emulator::start(EmulatorConfig {
        state_file: Some(state.to_path_buf()),
        ..emulator::with_token()
    }))
}

fn ids_of(state: &Value, account: &str) -> BTreeSet<String> {
    let digits = account.trim_start_matches("act_");
    state["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["account_id"] == digits)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn conversions_of(state: &Value, account: &str) -> Vec<Value> {
    let digits = account.trim_start_matches("act_");
    state["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["account_id"] == digits)
        .cloned()
        .collect()
}

fn saved_plan() -> SavedPlan {
    let rt = emulator::runtime();
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine.json");
    let emulator = start(&rt, &pristine);
    let mut seeds = seed_account(PLANNED, 10, 0);
    seeds.extend(seed_account(BYSTANDER, 5, 0));
    for s in &seeds {
        emulator
            .insert_conversion(serde_json::from_value(s.clone()).unwrap())
            .unwrap();
    }
    // Updates, a replacement, pruned deletes and creates.
    let manifest = manifest_document(PLANNED, 12, 0)
        .replacen(
            "account: act_7400001\n",
            "account: act_7400001\nprune: true\n",
            1,
        )
        .replacen(
            "default_conversion_value: 1\n",
            "default_conversion_value: 11\n",
            1,
        )
        .replacen("/p2/v0", "/p2/v1", 1)
        .replace("  - name: Conversion 008\n", "  - name: Conversion 108\n")
        .replace("  - name: Conversion 009\n", "  - name: Conversion 109\n");
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(dir.path().join("conversions/a.yaml"), manifest).unwrap();
    let base = emulator.base_url();
    let made = Convctl::new()
        .against(&base)
        .current_dir(dir.path())
        .args(&["plan", "--out", "plan.json"])
        .run();
    assert_eq!(made.code, 0, "{made}");
    let state = emulator.state();
    rt.block_on(emulator.shutdown()).unwrap();
    let plan = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(
        plan.contains("\"replace\"") && plan.contains("\"delete\""),
        "{plan}"
    );
    SavedPlan {
        planned_ids: ids_of(&state, PLANNED),
        bystander_ids: ids_of(&state, BYSTANDER).into_iter().collect(),
        rt,
        dir,
        pristine,
        plan,
    }
}

/// One case: restore the state, apply the damaged plan, check what happened.
fn check(f: &SavedPlan, case: usize, m: &Mutation) -> Result<(), TestCaseError> {
    let state_file = f.dir.path().join(format!("case-{case}.json"));
    std::fs::copy(&f.pristine, &state_file).unwrap();
    let emulator = start(&f.rt, &state_file);
    let before = emulator.state();
    let damaged = f.dir.path().join("damaged.json");
    std::fs::write(&damaged, apply_mutation(&f.plan, m, &f.bystander_ids)).unwrap();
    let run = Convctl::new()
        .against(&emulator.base_url())
        .current_dir(f.dir.path())
        .args(&[
            "apply",
            "--plan",
            "damaged.json",
            "--auto-approve",
            "--allow-mass-delete",
        ])
        .run();
    let after = emulator.state();
    let writes = emulator.stats()["writes"].as_u64().unwrap();
    f.rt.block_on(emulator.shutdown()).unwrap();
    let _ = std::fs::remove_file(&state_file);

    prop_assert!(!run.stderr.contains("panicked"), "{m:?}: panic\n{run}");
    prop_assert!(matches!(run.code, 0 | 1), "{m:?}: exit\n{run}");
    prop_assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    prop_assert_eq!(
        conversions_of(&before, BYSTANDER),
        conversions_of(&after, BYSTANDER),
        "{:?}: the bystander account, not in the plan, was changed\n{}",
        m,
        run
    );
    let gone: Vec<String> = ids_of(&before, PLANNED)
        .difference(&ids_of(&after, PLANNED))
        .cloned()
        .collect();
    prop_assert!(
        gone.iter().all(|id| f.planned_ids.contains(id)),
        "{:?}: deleted {:?}, not the account's",
        m,
        gone
    );
    if run.code == 1 && run.stderr.contains("nothing was done") {
        prop_assert_eq!(
            writes,
            0,
            "{:?}: said nothing was done but wrote\n{}",
            m,
            run
        );
    }
    if run.code == 0 {
        prop_assert!(
            run.stdout.contains("Apply complete") || run.stdout.contains("No changes."),
            "{:?}: exit 0 without saying so\n{}",
            m,
            run
        );
    }
    if run.code == 1 && writes > 0 {
        prop_assert!(
            run.stdout.contains("Apply failed part way") || run.stdout.contains("FAILED"),
            "{:?}: wrote {} times, exit 1, but did not report what was done\n{}",
            m,
            writes,
            run
        );
    }
    Ok(())
}

#[test]
fn damaged_or_edited_plans_are_refused_or_applied_safely() {
    let f = saved_plan();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let case = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&mutation(), |m| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            check(&f, n, &m)
        })
        .unwrap();
}

/// The two edits that would make a plan reach outside its account, every time (not only when
/// proptest happens to pick them).
#[test]
fn plans_cannot_reach_other_accounts() {
    let f = saved_plan();
    for k in 0..6 {
        check(&f, 1000 + k, &Mutation::ForeignId(k, k)).unwrap();
        check(&f, 2000 + k, &Mutation::Retarget(k)).unwrap();
    }
}
