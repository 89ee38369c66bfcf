//! What a command reads and what it writes, as careless pipelines misuse them: no output may
//! replace an input (`plan --out` or `--trace` naming a manifest, through a symlink or a hard
//! link too); a token file is a small regular file (never `/dev/zero` or a FIFO), a BOM in it
//! is dropped; `--timeout` covers reading inputs; a blank `--test-event-code` is refused; a
//! refused `--api-base` is never echoed with its credentials; symlinked directories in the
//! manifest tree are followed, never skipped without a word.

#![allow(unsafe_code)] // libc: FIFOs

use crate::support::{Convctl, Harness, Run, TOKEN, emulator};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST: &str = "account: act_1\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: a}}\n";

/// convctl in `dir`, with a token and an address nobody listens on: nothing here may reach
/// the network; bounded at 20 s (a hang fails the test, it never blocks the suite).
fn offline(dir: &Path, args: &[&str]) -> Run {
    Convctl::new()
        .current_dir(dir)
        .env("META_ACCESS_TOKEN", "inputs-test-token")
        .env("CONVCTL_API_BASE", "http://127.0.0.1:9")
        .timeout(Duration::from_secs(20))
        .args(args)
        .run()
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

#[test]
fn plan_out_and_trace_never_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("conversions")).unwrap();
    std::fs::write(d.join("conversions/a.yaml"), MANIFEST).unwrap();
    std::fs::write(d.join("token"), "inputs-test-token\n").unwrap();
    std::os::unix::fs::symlink("conversions/a.yaml", d.join("link.json")).unwrap();
    std::fs::hard_link(d.join("conversions/a.yaml"), d.join("hard.json")).unwrap();
    let sandbox = "--sandbox=state.json";
    for (args, expected) in [
        (
            vec![sandbox, "plan", "--out", "conversions/a.yaml"],
            "will not write --out conversions/a.yaml: it is the manifest conversions/a.yaml, which this command reads; nothing was done",
        ),
        (
            vec![sandbox, "--trace", "conversions/a.yaml", "plan"],
            "will not write --trace conversions/a.yaml: it is the manifest conversions/a.yaml",
        ),
        (
            vec![sandbox, "plan", "--out", "link.json"],
            "will not write --out link.json: it is the manifest conversions/a.yaml (link.json is that file)",
        ),
        (
            vec![sandbox, "plan", "--out", "hard.json", "conversions"],
            "will not write --out hard.json: it is the manifest conversions/a.yaml (hard.json is that file)",
        ),
        (
            vec![sandbox, "--trace", "p.json", "plan", "--out", "p.json"],
            "--trace p.json and --out p.json name the same file",
        ),
        (
            vec![sandbox, "plan", "--out", "state.json"],
            "will not write --out state.json: it is the sandbox state state.json",
        ),
        (
            vec!["--access-token-file", "token", "--trace", "token", "drift"],
            "will not write --trace token: it is the access token file token",
        ),
        (
            vec![
                sandbox,
                "--trace",
                "conversions/a.yaml",
                "apply",
                "--auto-approve",
            ],
            "will not write --trace conversions/a.yaml: it is the manifest conversions/a.yaml",
        ),
    ] {
        // The state exists for the case that names it.
        let _ = offline(d, &[sandbox, "validate"]);
        std::fs::write(
            d.join("state.json"),
            "{\"format\":1,\"next_id\":\"1\",\"conversions\":[]}",
        )
        .unwrap();
        let run = offline(d, &args);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(run.stderr.contains(expected), "{args:?}: {run}");
        assert_eq!(
            std::fs::read_to_string(d.join("conversions/a.yaml")).unwrap(),
            MANIFEST,
            "{args:?} replaced the manifest"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("token")).unwrap(),
            "inputs-test-token\n"
        );
    }
    // A new file, or one that is no input, is written as before.
    let run = offline(
        d,
        &[sandbox, "--trace", "t.jsonl", "plan", "--out", "p.json"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(d.join("p.json").is_file() && d.join("t.jsonl").is_file());
}

#[test]
fn a_blank_test_event_code_is_refused() {
    let h = Harness::new();
    h.write(
        "conversions/a.yaml",
        "account: act_1\ndefaults: {event_source_id: \"777\"}\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {event: {eq: Purchase}}\n    tests:\n      match: [{event: Purchase}]\n",
    );
    h.write(
        "events.json",
        &format!(
            "[{{\"event_name\": \"Purchase\", \"event_time\": {}, \"action_source\": \"website\", \"event_source_url\": \"https://a.example/\", \"user_data\": {{\"client_ip_address\": \"1.2.3.4\", \"client_user_agent\": \"x\"}}}}]",
            crate::support::now()
        ),
    );
    for code in ["", "  "] {
        for args in [
            vec!["test", "--live", "--test-event-code", code],
            vec![
                "events",
                "send",
                "--pixel",
                "777",
                "--file",
                "events.json",
                "--test-event-code",
                code,
            ],
        ] {
            let run = h.run(&args);
            assert_eq!(run.code, 1, "{args:?}: {run}");
            assert!(
                run.stderr
                    .contains("the code is blank (an unset variable?)"),
                "{args:?}: {run}"
            );
        }
    }
    assert_eq!(h.stats()["requests"], 0, "nothing may be sent");
}

#[test]
fn token_files_and_inputs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.yaml"), MANIFEST).unwrap();
    // A FIFO nobody writes to: opening it for reading would wait forever.
    mkfifo(&d.join("token.fifo"));
    mkfifo(&d.join("manifest.yaml"));
    for (args, expected) in [
        (
            vec!["--access-token-file", "token.fifo", "plan", "a.yaml"],
            "cannot use the access token file token.fifo: it is a FIFO (a pipe), not a regular file",
        ),
        (
            vec!["validate", "manifest.yaml"],
            "manifest.yaml:1:1: error: cannot read the file: it is a FIFO (a pipe), not a regular file",
        ),
        (
            vec!["--access-token-file", "/dev/zero", "plan", "a.yaml"],
            "cannot use the access token file /dev/zero: it is a device, not a regular file",
        ),
    ] {
        let run = offline(d, &args);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(run.stderr.contains(expected), "{args:?}: {run}");
    }
    // Too big for a token: refused at a few KiB, whatever it holds.
    std::fs::write(d.join("big-token"), "a".repeat(9000)).unwrap();
    let run = offline(d, &["--access-token-file", "big-token", "plan", "a.yaml"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(
            "cannot use the access token file big-token: it is larger than 8 KiB, and a token is a few hundred characters"
        ),
        "{run}"
    );
    assert!(!run.stderr.contains("aaaa"), "{run}");

    // A token saved with a byte-order mark works: the mark is not part of the token.
    let h = Harness::with(emulator::with_token());
    h.write("a.yaml", MANIFEST);
    h.write("token", &format!("\u{feff}{TOKEN}\r\n"));
    let run = Convctl::new()
        .current_dir(h.dir.path())
        .args(&[
            "--api-base",
            &h.base(),
            "--access-token-file",
            "token",
            "plan",
            "a.yaml",
        ])
        .run();
    assert_eq!(run.code, 0, "{run}");

    // --timeout covers reading inputs: stdin that never ends.
    let mut child = Command::new(crate::support::binary::bin())
        .args([
            "--timeout",
            "1s",
            "events",
            "send",
            "--pixel",
            "1",
            "--file",
            "-",
            "--dry-run",
        ])
        .current_dir(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("reading stdin was not bounded by --timeout");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the --timeout of 1s ran out while the command was reading its input"),
        "{stderr}"
    );
}

#[test]
fn a_refused_api_base_never_shows_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.yaml"), MANIFEST).unwrap();
    for base in [
        "https://alice:hunter2@graph.example/?access_token=EAABleaked",
        "ftp://alice:hunter2@graph.example/",
        "alice:hunter2@graph.example?EAABleaked",
    ] {
        for run in [
            offline(d, &["--api-base", base, "plan", "a.yaml"]),
            Convctl::new()
                .current_dir(d)
                .env("META_ACCESS_TOKEN", "inputs-test-token")
                .env("CONVCTL_API_BASE", base)
                .args(&["plan", "a.yaml"])
                .run(),
        ] {
            assert_eq!(run.code, 1, "{base}: {run}");
            assert!(run.stderr.contains("--api-base"), "{base}: {run}");
            assert!(run.stderr.contains("[redacted]"), "{base}: {run}");
            for secret in ["hunter2", "EAABleaked", "alice"] {
                assert!(
                    !run.stderr.contains(secret) && !run.stdout.contains(secret),
                    "{base}: {secret} shown: {run}"
                );
            }
        }
    }
}

#[test]
fn symlinked_manifest_directories_are_followed() {
    let h = Harness::new();
    h.write("conversions/own.yaml", "account: act_1\nconversions: []\n");
    // Another team's accounts, linked into the tree.
    h.write(
        "shared/clients/b.yaml",
        "account: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {i_contains: b}}\n",
    );
    std::os::unix::fs::symlink("../shared/clients", h.path("conversions/clients")).unwrap();
    // Two ways to one directory: its accounts are read once, not declared twice.
    std::os::unix::fs::symlink("../shared", h.path("conversions/shared")).unwrap();
    let run = h.run(&["drift"]);
    assert_eq!(
        run.code, 2,
        "the linked account's drift must be found: {run}"
    );
    assert!(run.stdout.contains("act_2"), "{run}");
    assert!(run.stdout.contains("+ conversion \"B\""), "{run}");

    // A link to a directory above it is a loop: an error naming it, never a silent skip.
    std::os::unix::fs::symlink("..", h.path("shared/clients/up")).unwrap();
    let run = h.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("error: `conversions/clients/up` is a symbolic link to")
            && run.stderr.contains("a directory that holds it: a loop"),
        "{run}"
    );
    std::fs::remove_file(h.path("shared/clients/up")).unwrap();

    // A manifest link that leads nowhere is an error too.
    std::os::unix::fs::symlink("moved.yaml", h.path("conversions/gone.yaml")).unwrap();
    let run = h.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("error: `conversions/gone.yaml` is a symbolic link that leads nowhere"),
        "{run}"
    );
}
