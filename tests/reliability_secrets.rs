//! Secrets (issue 7, reliability 4): a canary access token (from `META_ACCESS_TOKEN` and from
//! `--access-token-file`), a canary app secret (`META_APP_SECRET`) and the `appsecret_proof`
//! derived from them never appear in anything convctl writes — stdout, stderr, `--verbose`
//! logs, saved plans, imported manifests, sandbox state, the emulator's own log — on success,
//! on every failure path we can provoke (wrong token, wrong app secret, unreachable API, bad
//! manifests, damaged plans, faults and retries), and when it dies of a panic.

mod scale_support;

use hmac::{KeyInit, Mac};
use scale_support::{ChildEmulator, Invocation, Measured, TOKEN, manifest_document, seed_account};
use serde_json::Value;
use std::path::Path;

const APP_SECRET: &str = "scale-canary-app-secret-51d0";
/// A second accepted token, given through `--access-token-file`.
const FILE_TOKEN: &str = "scale-canary-file-token-c4e2";

fn proof(token: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn canaries() -> Vec<String> {
    vec![
        TOKEN.to_string(),
        FILE_TOKEN.to_string(),
        APP_SECRET.to_string(),
        proof(TOKEN),
        proof(FILE_TOKEN),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for canary in canaries() {
        assert!(
            !text.contains(&canary),
            "{what} contains a secret ({}…):\n{text}",
            &canary[..12]
        );
    }
}

fn assert_run_clean(what: &str, run: &Measured) {
    assert_clean(&format!("{what}: stdout"), &run.stdout);
    assert_clean(&format!("{what}: stderr"), &run.stderr);
}

/// Every file under `dir`, recursively.
fn assert_files_clean(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += assert_files_clean(&path);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
            n += 1;
        }
    }
    n
}

#[test]
fn no_command_ever_shows_the_token_or_app_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("emulator.log");
    let emulator = ChildEmulator::start_logged(
        &[
            "--token",
            TOKEN,
            "--token",
            FILE_TOKEN,
            "--app-secret",
            APP_SECRET,
        ],
        Some(&log),
    );
    let a = "act_7300001";
    emulator.seed(&Value::Array(seed_account(a, 12, 0)));
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    let manifest = manifest_document(a, 14, 0).replacen("/p0/v0", "/p0/v1", 1);
    std::fs::write(dir.path().join("conversions/a.yaml"), &manifest).unwrap();
    // Token files live outside the directory whose every file is checked at the end.
    let secrets_dir = tempfile::tempdir().unwrap();
    let token_file = secrets_dir.path().join("token");
    let token_file = token_file.to_str().unwrap();
    std::fs::write(token_file, format!("{FILE_TOKEN}\n")).unwrap();
    let bad_token_file = secrets_dir.path().join("bad-token");
    let bad_token_file = bad_token_file.to_str().unwrap();
    let secret = ("META_APP_SECRET".to_string(), APP_SECRET.to_string());

    let wrong_base = format!("{}/_emulator/nothing-here", emulator.base);
    let run_at = |base: &str, args: &[&str], env: &[(String, String)]| {
        let mut inv = Invocation::new(base, dir.path(), args);
        inv.env = env.to_vec();
        let out = inv.run();
        eprintln!(
            "{:>6} ms  exit {:?}  {}",
            out.wall.as_millis(),
            out.code,
            args.join(" ")
        );
        assert_run_clean(&args.join(" "), &out);
        assert!(
            !out.stderr.contains("panicked"),
            "{}: {out}",
            args.join(" ")
        );
        out
    };
    let run = |args: &[&str], env: &[(String, String)]| run_at(&emulator.base, args, env);
    let ok = |args: &[&str]| {
        let out = run(args, std::slice::from_ref(&secret));
        assert!(
            matches!(out.code, Some(0) | Some(2)),
            "{}: {out}",
            args.join(" ")
        );
        out
    };

    // Success paths, verbose and not.
    ok(&["validate"]);
    ok(&["test"]);
    for format in ["text", "json", "markdown"] {
        ok(&["--verbose", "plan", "--format", format]);
    }
    ok(&["--verbose", "plan", "--out", "plan.json"]);
    ok(&["--verbose", "drift", "--format", "json"]);
    ok(&["--verbose", "--access-token-file", token_file, "plan"]);
    ok(&[
        "--verbose",
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
    ]);
    ok(&["--verbose", "import", a, "--out", "imported"]);
    ok(&[
        "--verbose",
        "--sandbox=sandbox/state.json",
        "apply",
        "--auto-approve",
    ]);

    // Faults and retries, logged verbosely.
    emulator.set_faults(&serde_json::json!({"fault_rate": 0.3, "drop_after_commit": 0.3}));
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        manifest_document(a, 20, 0),
    )
    .unwrap();
    let faulty = run(
        &["--verbose", "apply", "--auto-approve"],
        std::slice::from_ref(&secret),
    );
    // The faults are random: a run may see only answers lost after a commit (resolved by
    // adoption, no "retry" line), so any logged fault handling counts.
    assert!(
        ["retry", "adopted", "→ 500"]
            .iter()
            .any(|w| faulty.stderr.contains(w)),
        "faults and their handling were logged: {faulty}"
    );
    emulator.set_faults(&serde_json::json!({"fault_rate": 0.0, "drop_after_commit": 0.0}));

    // Failure paths.
    let wrong_secret = ("META_APP_SECRET".to_string(), format!("{APP_SECRET}-wrong"));
    let out = run(&["--verbose", "plan"], &[wrong_secret]);
    assert_eq!(out.code, Some(1), "{out}");
    let out = run(&["--verbose", "plan"], &[]);
    assert_eq!(
        out.code,
        Some(1),
        "missing appsecret_proof is refused: {out}"
    );
    std::fs::write(bad_token_file, "scale-canary-token-7f3a9c-nope\n").unwrap();
    let out = run(
        &["--verbose", "--access-token-file", bad_token_file, "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        !out.stderr.contains("7f3a9c-nope"),
        "a wrong token is not echoed either: {out}"
    );
    let out = run_at(
        &wrong_base,
        &["--verbose", "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, Some(1), "{out}");
    let out = run(
        &["--verbose", "--api-version", "v1.0", "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, Some(1), "{out}");
    std::fs::write(
        dir.path().join("damaged.json"),
        "{\"format_version\": 1, \"accounts\": 7}",
    )
    .unwrap();
    let out = run(
        &[
            "--verbose",
            "apply",
            "--plan",
            "damaged.json",
            "--auto-approve",
        ],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, Some(1), "{out}");
    std::fs::write(
        dir.path().join("conversions/b.yaml"),
        format!("account: {a}\nconversions: 7\n"),
    )
    .unwrap();
    let out = run(&["--verbose", "plan"], std::slice::from_ref(&secret));
    assert_eq!(out.code, Some(1), "{out}");
    std::fs::remove_file(dir.path().join("conversions/b.yaml")).unwrap();

    drop(emulator);
    let files = assert_files_clean(dir.path());
    assert!(
        files >= 5,
        "plan, manifests, imported, sandbox state and the log were checked"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_clean("the emulator's log", &log_text);
}

/// A convctl that dies of a panic must not print secrets in the panic message either. Writing
/// to a closed pipe is the panic anyone can cause (`convctl plan --verbose | head -0`).
#[test]
fn a_closed_stdout_does_not_leak_or_panic() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = ChildEmulator::start(&["--token", TOKEN]);
    let a = "act_7300002";
    emulator.seed(&Value::Array(seed_account(a, 50, 0)));
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        manifest_document(a, 100, 1),
    )
    .unwrap();
    let mut child = std::process::Command::new(scale_support::convctl())
        .args(["--api-base", &emulator.base, "--verbose", "plan"])
        .current_dir(dir.path())
        .env("META_ACCESS_TOKEN", TOKEN)
        .env("META_APP_SECRET", APP_SECRET)
        .env_remove("CONVCTL_API_BASE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader went away, like `| head -0`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_clean("stderr with a closed stdout", &stderr);
    assert!(
        !stderr.contains("panicked"),
        "convctl panicked on a closed stdout (exit {:?}):\n{stderr}",
        out.status.code()
    );
    // Issue 13: the reader went away, which is not an error: a quiet exit 0.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
