//! What a command reads and what it writes, as careless pipelines misuse them: no output may
//! replace an input (`plan --out` or `--trace` naming a manifest, through a symlink or a hard
//! link too); a token file is a small regular file (never `/dev/zero` or a FIFO), a BOM in it
//! is dropped; `--timeout` covers reading inputs; a blank `--test-event-code` is refused; a
//! refused `--api-base` is never echoed with its credentials; symlinked directories in the
//! manifest tree are followed, never skipped without a word.

#![allow(unsafe_code)] // libc: FIFOs

use crate::assert_run;
use crate::support::snapshot::{self, transcripts};
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
    let mut runs = Vec::new();
    for args in [
        vec![sandbox, "plan", "--out", "conversions/a.yaml"],
        vec![sandbox, "--trace", "conversions/a.yaml", "plan"],
        vec![sandbox, "plan", "--out", "link.json"],
        vec![sandbox, "plan", "--out", "hard.json", "conversions"],
        vec![sandbox, "--trace", "p.json", "plan", "--out", "p.json"],
        vec![sandbox, "plan", "--out", "state.json"],
        vec!["--access-token-file", "token", "--trace", "token", "drift"],
        vec![
            sandbox,
            "--trace",
            "conversions/a.yaml",
            "apply",
            "--auto-approve",
        ],
    ] {
        // The state exists for the case that names it.
        let _ = offline(d, &[sandbox, "validate"]);
        std::fs::write(
            d.join("state.json"),
            "{\"format\":1,\"next_id\":\"1\",\"conversions\":[]}",
        )
        .unwrap();
        runs.push(offline(d, &args));
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
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl '--sandbox=state.json' plan --out conversions/a.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --out conversions/a.yaml: it is the manifest conversions/a.yaml, which this command reads; nothing was done. Write --out to another file

    $ convctl '--sandbox=state.json' --trace conversions/a.yaml plan
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --trace conversions/a.yaml: it is the manifest conversions/a.yaml, which this command reads; nothing was done. Write --trace to another file

    $ convctl '--sandbox=state.json' plan --out link.json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --out link.json: it is the manifest conversions/a.yaml (link.json is that file), which this command reads; nothing was done. Write --out to another file

    $ convctl '--sandbox=state.json' plan --out hard.json conversions
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --out hard.json: it is the manifest conversions/a.yaml (hard.json is that file), which this command reads; nothing was done. Write --out to another file

    $ convctl '--sandbox=state.json' --trace p.json plan --out p.json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --trace p.json and --out p.json name the same file; nothing was done. Give each its own file

    $ convctl '--sandbox=state.json' plan --out state.json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --out state.json: it is the sandbox state state.json, which this command reads; nothing was done. Write --out to another file

    $ convctl --access-token-file token --trace token drift
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --trace token: it is the access token file token, which this command reads; nothing was done. Write --trace to another file

    $ convctl '--sandbox=state.json' --trace conversions/a.yaml apply --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write --trace conversions/a.yaml: it is the manifest conversions/a.yaml, which this command reads; nothing was done. Write --trace to another file
    ");
    // A new file, or one that is no input, is written as before.
    let run = offline(
        d,
        &[sandbox, "--trace", "t.jsonl", "plan", "--out", "p.json"],
    );
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    Saved the plan to p.json; `convctl apply --plan p.json` does exactly this.
    "#);
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
    let mut runs = Vec::new();
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
            runs.push(h.run(&args));
        }
    }
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl --api-base http://127.0.0.1:[port] test --live --test-event-code ''
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '' for '--test-event-code <CODE>': the code is blank (an unset variable?): give the code Events Manager → Test Events shows; events sent without one count as real conversions

    For more information, try '--help'.

    $ convctl --api-base http://127.0.0.1:[port] events send --pixel 777 --file events.json --test-event-code ''
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '' for '--test-event-code <CODE>': the code is blank (an unset variable?): give the code Events Manager → Test Events shows; events sent without one count as real conversions

    For more information, try '--help'.

    $ convctl --api-base http://127.0.0.1:[port] test --live --test-event-code '  '
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '  ' for '--test-event-code <CODE>': the code is blank (an unset variable?): give the code Events Manager → Test Events shows; events sent without one count as real conversions

    For more information, try '--help'.

    $ convctl --api-base http://127.0.0.1:[port] events send --pixel 777 --file events.json --test-event-code '  '
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: invalid value '  ' for '--test-event-code <CODE>': the code is blank (an unset variable?): give the code Events Manager → Test Events shows; events sent without one count as real conversions

    For more information, try '--help'.
    ");
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
    // Too big for a token: refused at a few KiB, whatever it holds (and none of it shown).
    std::fs::write(d.join("big-token"), "a".repeat(9000)).unwrap();
    let runs: Vec<Run> = [
        &["--access-token-file", "token.fifo", "plan", "a.yaml"][..],
        &["validate", "manifest.yaml"],
        &["--access-token-file", "/dev/zero", "plan", "a.yaml"],
        &["--access-token-file", "big-token", "plan", "a.yaml"],
    ]
    .into_iter()
    .map(|args| offline(d, args))
    .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl --access-token-file token.fifo plan a.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: cannot use the access token file token.fifo: it is a FIFO (a pipe), not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first; pass --access-token-file a file holding only the token

    $ convctl validate manifest.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    manifest.yaml:1:1: error: cannot read the file: it is a FIFO (a pipe), not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first
    help: a manifest is a YAML text file: point convctl at the file itself

    $ convctl --access-token-file /dev/zero plan a.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: cannot use the access token file /dev/zero: it is a device, not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first; pass --access-token-file a file holding only the token

    $ convctl --access-token-file big-token plan a.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: cannot use the access token file big-token: it is larger than 8 KiB, and a token is a few hundred characters; pass --access-token-file a file holding only the token
    ");

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
    assert_run!(run, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (a.yaml) will change:

      # "A" will be created
      + conversion "A" {
          + name                     = "A"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "a"}}
        }

    Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);

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
    insta::assert_snapshot!(stderr, @"error: the --timeout of 1s ran out while the command was reading its input (a file or stdin that never ends?); nothing was sent to the API");
}

#[test]
fn a_refused_api_base_never_shows_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.yaml"), MANIFEST).unwrap();
    let mut runs = Vec::new();
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
            for secret in ["hunter2", "EAABleaked", "alice"] {
                assert!(
                    !run.stderr.contains(secret) && !run.stdout.contains(secret),
                    "{base}: {secret} shown: {run}"
                );
            }
            runs.push(run);
        }
    }
    // The command lines hold the credentials (given by the test); the outputs never do.
    let outputs: Vec<String> = (runs.iter())
        .map(|run| snapshot::filtered(run, &snapshot::transcript(run)))
        .collect();
    insta::assert_snapshot!(outputs.join("\n"), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "https://[redacted]@graph.example/?access_token=[redacted]" must not carry a query, fragment or credentials; write an http(s) address such as https://graph.facebook.com

    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "https://[redacted]@graph.example/?access_token=[redacted]" must not carry a query, fragment or credentials; write an http(s) address such as https://graph.facebook.com

    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "ftp://[redacted]@graph.example/" is not an http(s) address; write an http(s) address such as https://graph.facebook.com

    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "ftp://[redacted]@graph.example/" is not an http(s) address; write an http(s) address such as https://graph.facebook.com

    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "[redacted]@graph.example?[redacted]" is not an http(s) address; write an http(s) address such as https://graph.facebook.com

    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base "[redacted]@graph.example?[redacted]" is not an http(s) address; write an http(s) address such as https://graph.facebook.com
    "#);
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
    // The linked account's drift is found.
    assert_run!(h.run(&["drift"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_2 (conversions/clients/b.yaml) has drifted from its manifest (values shown live -> manifest):

      # "B" is declared but missing live
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "b"}}
        }

    act_1 (conversions/own.yaml): in sync.

    Drift found; to converge: 1 to create, 0 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);

    // A link to a directory above it is a loop: an error naming it, never a silent skip.
    std::os::unix::fs::symlink("..", h.path("shared/clients/up")).unwrap();
    assert_run!(h.run(&["validate"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    error: `conversions/clients/up` is a symbolic link to `[dir]/shared`, a directory that holds it: a loop
    help: remove the link, or point it at a directory outside the one it is in
    ");
    std::fs::remove_file(h.path("shared/clients/up")).unwrap();

    // A manifest link that leads nowhere is an error too.
    std::os::unix::fs::symlink("moved.yaml", h.path("conversions/gone.yaml")).unwrap();
    assert_run!(h.run(&["validate"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    error: `conversions/gone.yaml` is a symbolic link that leads nowhere (No such file or directory (os error 2))
    help: fix the link, or remove it if the manifest it named is gone
    ");
}
