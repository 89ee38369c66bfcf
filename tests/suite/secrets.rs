//! Secrets: a canary access token (from `META_ACCESS_TOKEN` and from
//! `--access-token-file`), a canary app secret (`META_APP_SECRET`) and the `appsecret_proof`
//! derived from them never leave the Authorization header and the proof parameter: they never
//! appear in anything convctl writes — stdout, stderr, `--verbose` logs, saved plans, imported
//! manifests, sandbox state, the emulator's own log — on success, on every failure path we can
//! provoke (wrong token, wrong app secret, missing proof, unreachable API, bad manifests,
//! damaged plans, faults, lost answers and retries), and when it dies of a panic.

use crate::assert_run;
use crate::support::child::ChildEmulator;
use crate::support::generate::{manifest_document, seed_account};
use crate::support::{APP_SECRET, Convctl, Harness, Run, TOKEN};
use convctl::emulator::EmulatorConfig;
use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::path::Path;

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
    assert!(
        !text.contains("access_token="),
        "a token parameter in the {what}:\n{text}"
    );
}

fn assert_run_clean(what: &str, run: &Run) {
    assert_clean(&format!("{what}: stdout"), &run.stdout);
    assert_clean(&format!("{what}: stderr"), &run.stderr);
}

/// Every file under `dir`, recursively; how many.
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

/// Runs `convctl --verbose --api-base BASE ARGS` in the harness's directory with the app
/// secret and the token (from the environment, or from `token_file`); asserts nothing leaked.
fn run_verbose(h: &Harness, base: &str, token_file: Option<&Path>, args: &[&str]) -> (i32, String) {
    let mut convctl = Convctl::new()
        .arg("--verbose")
        .args(&["--api-base", base])
        .args(args)
        .current_dir(h.dir.path())
        .env("META_APP_SECRET", APP_SECRET);
    convctl = match token_file {
        Some(file) => convctl.arg("--access-token-file").arg(file),
        None => convctl.token(TOKEN),
    };
    let out = convctl.run();
    let text = format!(
        "{args:?} exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    );
    assert_clean(&format!("output of {args:?}"), &text);
    (out.code, text)
}

/// A token file outside the harness's directory (whose every file is checked).
fn token_file(secrets: &tempfile::TempDir, token: &str) -> std::path::PathBuf {
    let path = secrets.path().join("token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path
}

#[test]
fn no_command_prints_or_stores_a_secret_on_success_or_under_faults() {
    let h = Harness::with(EmulatorConfig {
        tokens: vec![TOKEN.to_string()],
        app_secret: Some(APP_SECRET.to_string()),
        fault_rate: 0.15,
        drop_after_commit: 0.15,
        seed: Some(11),
        score_window: crate::support::emulator::FAULT_SCORE_WINDOW,
        ..EmulatorConfig::default()
    });
    h.copy_examples();
    let secrets = tempfile::tempdir().unwrap();
    let file = token_file(&secrets, TOKEN);
    let base = h.base();
    let (code, text) = run_verbose(&h, &base, None, &["validate"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = run_verbose(&h, &base, None, &["plan", "--out", "plan.json"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("graph: GET /v27.0/act_")
            || text.contains("graph: POST /v27.0/ (first pages of"),
        "verbose shows requests: {text}"
    );
    let (code, text) = run_verbose(
        &h,
        &base,
        Some(&file),
        &["apply", "--plan", "plan.json", "--auto-approve"],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = run_verbose(&h, &base, None, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{text}");
    let (_, text) = run_verbose(&h, &base, None, &["drift", "--format", "markdown"]);
    assert!(!text.is_empty());
    let (code, text) = run_verbose(
        &h,
        &base,
        None,
        &["import", "act_3100000001", "--out", "imported"],
    );
    assert_eq!(code, 0, "{text}");
    assert_files_clean(h.dir.path());
    let stats = h.stats();
    assert_eq!(
        (
            stats["auth"]["query"].as_u64(),
            stats["auth"]["form"].as_u64()
        ),
        (Some(0), Some(0)),
        "{stats}"
    );
    assert!(stats["auth"]["header"].as_u64().unwrap() > 10, "{stats}");
    h.shutdown();
}

#[test]
fn no_failure_path_prints_a_secret() {
    // The emulator knows another token and needs another app secret: every call is refused.
    let h = Harness::with(EmulatorConfig {
        tokens: vec!["some-other-token-entirely".to_string()],
        app_secret: Some("another-app-secret".to_string()),
        ..EmulatorConfig::default()
    });
    h.copy_examples();
    let secrets = tempfile::tempdir().unwrap();
    let file = token_file(&secrets, TOKEN);
    let base = h.base();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["drift"],
        &["import", "act_3100000001", "--out", "imported"],
    ] {
        let (code, text) = run_verbose(&h, &base, None, args);
        assert_eq!(code, 1, "{text}");
    }
    // A token with a refused proof, via the token file.
    let (code, _) = run_verbose(&h, &base, Some(&file), &["plan"]);
    assert_eq!(code, 1);
    // Nothing listening: connection refused (bounded by the retry policy's first attempts).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (code, text) = run_verbose(&h, &closed, None, &["drift", "--account", "act_3100000001"]);
    assert_eq!(code, 1, "{text}");
    // No token at all: the message says how to provide one.
    let out = Convctl::new()
        .args(&["--api-base", &base, "plan"])
        .current_dir(h.dir.path())
        .run();
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: no access token: pass --access-token-file FILE or set META_ACCESS_TOKEN (a token with ads_management on the accounts), or try convctl without one against the built-in emulator with --sandbox
    ");
    let stderr = &out.stderr;

    assert!(
        stderr.contains("META_ACCESS_TOKEN") && stderr.contains("--sandbox"),
        "{stderr}"
    );
    assert_files_clean(h.dir.path());
    h.shutdown();
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
            // Repeatable faults: unseeded, about one run in a hundred met none at all.
            "--seed",
            "7",
            "--score-window",
            crate::support::emulator::FAULT_SCORE_WINDOW_ARG,
        ],
        &log,
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
        let mut convctl = Convctl::new()
            .against(base)
            .current_dir(dir.path())
            .args(args);
        for (name, value) in env {
            convctl = convctl.env(name, value);
        }
        let out = convctl.run();
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
        assert!(matches!(out.code, 0 | 2), "{}: {out}", args.join(" "));
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
    assert_eq!(out.code, 1, "{out}");
    let out = run(&["--verbose", "plan"], &[]);
    assert_eq!(out.code, 1, "missing appsecret_proof is refused: {out}");
    std::fs::write(bad_token_file, format!("{TOKEN}-nope\n")).unwrap();
    let out = run(
        &["--verbose", "--access-token-file", bad_token_file, "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, 1, "{out}");
    assert!(
        !out.stderr.contains("token-nope"),
        "a wrong token is not echoed either: {out}"
    );
    let out = run_at(
        &wrong_base,
        &["--verbose", "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, 1, "{out}");
    let out = run(
        &["--verbose", "--api-version", "v1.0", "plan"],
        std::slice::from_ref(&secret),
    );
    assert_eq!(out.code, 1, "{out}");
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
    assert_eq!(out.code, 1, "{out}");
    std::fs::write(
        dir.path().join("conversions/b.yaml"),
        format!("account: {a}\nconversions: 7\n"),
    )
    .unwrap();
    let out = run(&["--verbose", "plan"], std::slice::from_ref(&secret));
    assert_eq!(out.code, 1, "{out}");
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
    // Lenient, named: the verbose lines checked whole below are that profile's (the strict
    // one adds a field refusal and a second page).
    let emulator = ChildEmulator::start_with_profile(&["--token", TOKEN]);
    let a = "act_7300002";
    emulator.seed(&Value::Array(seed_account(a, 50, 0)));
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        manifest_document(a, 100, 1),
    )
    .unwrap();
    let out = Convctl::new()
        .against(&emulator.base)
        .args(&["--verbose", "plan"])
        .current_dir(dir.path())
        .env("META_APP_SECRET", APP_SECRET)
        .close_stdout() // the reader went away, like `| head -0`
        .run();
    assert_run!(out, @"
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    graph: GET /v27.0/act_7300002/customconversions (page 1) → 200 in [duration] [act_7300002] usage account [share]% reset in [duration]
    graph: act_7300002: no conversion in the answer carried action_source_type (unknown: never a change)
    ");
    let stderr = &out.stderr;
    assert_clean("stderr with a closed stdout", stderr);

    // The reader went away, which is not an error: a quiet exit 0.
}
