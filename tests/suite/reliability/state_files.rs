//! One state file, one process at a time: `--sandbox` commands and `convctl emulator --state`
//! lock the state for their whole run, so two of them on one file never both report success
//! while only the last one's changes survive; a second one waits a bounded time, then is
//! refused with a message naming the file. A state path where the state cannot be saved is
//! refused at start, not found out at exit with the session's state lost.

#![allow(unsafe_code)] // libc: a FIFO, and signals to our own child

use crate::assert_run;
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
    assert_run!(plan, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a1.yaml): no changes.

    act_2 (conversions/a2.yaml): no changes.

    act_3 (conversions/a3.yaml): no changes.

    act_4 (conversions/a4.yaml): no changes.

    No changes.
    ----- stderr -----
    ");
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
            .filter(r"\(process [0-9]+\b", "(process [pid]")
            .arg(format!("--sandbox={state_arg}"))
            .args(&["--timeout", "2s", "apply", "--auto-approve", "a.yaml"])
            .run();
        assert_run!(run, @"
        success: false
        exit_code: 1
        ----- stdout -----
        ----- stderr -----
        error: cannot start the sandbox (state [dir]/state.json): [dir]/state.json is in use by another convctl (process [pid]) (its lock [dir]/state.json.lock is held); waited 2 s: run the commands one after another
        ");
        let (code, stderr) = second.join().unwrap();
        assert_eq!(code, Some(1), "{stderr}");
        let stderr = stderr.replace(state_arg, "[state]");
        let stderr = regex::Regex::new(r"\(process [0-9]+\b")
            .unwrap()
            .replace_all(&stderr, "(process [pid]");
        insta::assert_snapshot!(stderr, @"error: [state] is in use by another convctl (process [pid]) (its lock [state].lock is held); waited 10 s: run the commands one after another");
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
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (a.yaml) will change:

      # "C0" will be created
      + conversion "C0" {
          + name                     = "C0"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a1-0"}}
        }

      # "C1" will be created
      + conversion "C1" {
          + name                     = "C1"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a1-1"}}
        }

      # "C2" will be created
      + conversion "C2" {
          + name                     = "C2"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a1-2"}}
        }

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made in the emulator" (id 23850000000000001)

    Plan: 3 to create, 0 to update, 0 to replace, 0 to delete.
    act_1: + create "C0": created, id 23850000000000002
    act_1: + create "C1": created, id 23850000000000003
    act_1: + create "C2": created, id 23850000000000004
    Apply complete: 3 of 3 actions done.
    ----- stderr -----
    "#);
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
    let mut outputs = Vec::new();
    for path in [under_a_file.to_str().unwrap(), "/proc/convctl-state.json"] {
        let (code, stderr) = emulator_exits(
            &["--listen", "127.0.0.1:0", "--state", path],
            Duration::from_secs(30),
        );
        assert_eq!(code, Some(1), "{path}: {stderr}");
        outputs.push(stderr);
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
    outputs.push(stderr);
    let dir = dir.path().to_str().unwrap();
    insta::assert_snapshot!(outputs.join("\n").replace(dir, "[dir]"), @"
    error: cannot create the lock file [dir]/a-file/state.json.lock for [dir]/a-file/state.json: File exists (os error 17)

    error: cannot create the lock file /proc/convctl-state.json.lock for /proc/convctl-state.json: No such file or directory (os error 2)

    error: cannot read emulator state [dir]/state.fifo: it is a FIFO (a pipe), not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first
    ");
}
