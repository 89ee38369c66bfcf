//! One state file, one process at a time: `--sandbox` commands and `convctl emulator --state`
//! lock the state for their whole run, so two of them on one file never both report success
//! while only the last one's changes survive; a second one waits a bounded time, then is
//! refused with a message naming the file. A state path where the state cannot be saved is
//! refused at start, not found out at exit with the session's state lost.

#![allow(unsafe_code)] // libc: a FIFO, and signals to our own child

use crate::support::Convctl;
use crate::support::child::ChildEmulator;
use crate::support::profile;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn manifest(account: u32) -> String {
    let mut text = format!("account: act_{account}\nconversions:\n");
    for i in 0..3 {
        text.push_str(&format!(
            "  - name: C{i}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: a{account}-{i}}}}}\n"
        ));
    }
    text
}

fn sandbox(dir: &Path, args: &[&str]) -> crate::support::Run {
    Convctl::new()
        .current_dir(dir)
        .arg("--sandbox=state.json")
        .args(args)
        .run()
}

#[test]
fn concurrent_sandbox_commands_never_lose_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("conversions")).unwrap();
    let accounts = [1, 2, 3, 4];
    for a in accounts {
        std::fs::write(d.join(format!("conversions/a{a}.yaml")), manifest(a)).unwrap();
    }
    // Four applies on one state file at once, each on its own account (on behalf of this
    // test: their sandboxes are its emulators).
    let test = profile::current_test();
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .iter()
            .map(|a| {
                let file = format!("conversions/a{a}.yaml");
                let test = test.clone();
                s.spawn(move || {
                    profile::for_test(test, || sandbox(d, &["apply", "--auto-approve", &file]))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 0, "{run}");
    }
    // Every apply's writes are in the state: nothing left to do.
    let plan = sandbox(d, &["plan", "--detailed-exitcode", "conversions"]);
    assert_eq!(plan.code, 0, "writes were lost:\n{plan}");
    assert!(plan.stdout.contains("No changes."), "{plan}");
}

#[test]
fn a_state_file_in_use_is_refused_after_a_bounded_wait() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.yaml"), manifest(1)).unwrap();
    let state = d.join("state.json");
    let state_arg = state.to_str().unwrap();
    let mut first = ChildEmulator::start(&["--state", state_arg]);
    first.seed(&serde_json::json!([{"account": "act_1", "name": "Made in the emulator"}]));

    std::thread::scope(|s| {
        // A second emulator on the same state waits, then refuses to start.
        let second = s.spawn(|| {
            emulator_exits(
                &["--listen", "127.0.0.1:0", "--state", state_arg],
                Duration::from_secs(30),
            )
        });
        // A sandbox command waits within its --timeout, then refuses: nothing is done.
        let run = Convctl::new()
            .current_dir(d)
            .arg(format!("--sandbox={state_arg}"))
            .args(&["--timeout", "2s", "apply", "--auto-approve", "a.yaml"])
            .run();
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stderr.contains(&format!(
                "cannot start the sandbox (state {state_arg}): {state_arg} is in use by another convctl (process "
            )) && run.stderr.contains("waited 2 s: run the commands one after another"),
            "{run}"
        );
        let (code, stderr) = second.join().unwrap();
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("{state_arg} is in use by another convctl")),
            "{stderr}"
        );
    });

    // Once the first emulator has stopped (state saved), the state is free and complete.
    assert!(
        first
            .stop(libc::SIGTERM, Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    let run = Convctl::new()
        .current_dir(d)
        .arg(format!("--sandbox={state_arg}"))
        .args(&["apply", "--auto-approve", "a.yaml"])
        .run();
    assert_eq!(run.code, 0, "{run}");
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("Made in the emulator"), "{saved}");
    assert!(saved.contains("\"C2\""), "{saved}");
}

/// Runs `convctl emulator ARGS` and returns its exit code and stderr, or fails the test when
/// it is still running after `within` (it started, as it did before the fix).
fn emulator_exits(args: &[&str], within: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(crate::support::binary::bin())
        .arg("emulator")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr);
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let mut stdout = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut stdout)
                .unwrap();
            let _ = child.wait();
            panic!(
                "`convctl emulator {args:?}` started ({stdout:?}) instead of refusing the state path"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn emulator_refuses_an_unwritable_state_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    // Unwritable for every user, root included: the state would go under a regular file, or
    // into /proc.
    let under_a_file = file.join("state.json");
    for path in [under_a_file.to_str().unwrap(), "/proc/convctl-state.json"] {
        let (code, stderr) = emulator_exits(
            &["--listen", "127.0.0.1:0", "--state", path],
            Duration::from_secs(30),
        );
        assert_eq!(code, Some(1), "{path}: {stderr}");
        assert!(stderr.contains(path), "{path}: {stderr}");
        assert!(stderr.starts_with("error: cannot "), "{path}: {stderr}");
    }
    // A FIFO as state is refused too, never waited on.
    let fifo = dir.path().join("state.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (code, stderr) = emulator_exits(
        &["--listen", "127.0.0.1:0", "--state", fifo.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("a FIFO (a pipe), not a regular file"),
        "{stderr}"
    );
}
