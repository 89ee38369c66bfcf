//! Ctrl-C (SIGINT) or SIGTERM during an apply, sent for real to the convctl process while it
//! writes to an emulator that answers slowly (`--latency-ms`): the first signal stops sending,
//! lets the write in flight finish, prints the usual per-action report (done / not done) and
//! exits 1, and every conversion the emulator holds is one the report says was made; a second
//! signal ends the process at once.

#![allow(unsafe_code)] // libc: signals to our own child process

use crate::support::TOKEN;
use crate::support::binary::bin;
use crate::support::child::ChildEmulator;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CREATES: usize = 20;

fn manifest() -> String {
    let mut text = String::from("account: act_1\nconversions:\n");
    for i in 0..CREATES {
        text.push_str(&format!(
            "  - name: C{i:02}\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: c{i}}}}}\n"
        ));
    }
    text
}

/// `convctl apply --auto-approve`, one write at a time, output to files in `dir`.
fn spawn_apply(emulator: &ChildEmulator, dir: &Path) -> Child {
    Command::new(bin())
        .args([
            "--api-base",
            &emulator.base,
            "--parallelism",
            "1",
            "--batch-size",
            "1",
            "apply",
            "--auto-approve",
            "a.yaml",
        ])
        .current_dir(dir)
        .env("META_ACCESS_TOKEN", TOKEN)
        .env_remove("CONVCTL_API_BASE")
        .env_remove("META_APP_SECRET")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap()
}

fn writes(emulator: &ChildEmulator) -> u64 {
    emulator.stats()["writes"].as_u64().unwrap()
}

/// Waits (bounded) until the emulator has committed `n` writes.
fn wait_for_writes(emulator: &ChildEmulator, n: u64) {
    let started = Instant::now();
    while writes(emulator) < n {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the apply never made {n} writes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    // Our own child, by its pid only.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits (bounded) for the child to end: (exit code, stdout, stderr).
fn finish(mut child: Child, dir: &Path) -> (Option<i32>, String, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the apply did not end after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |name| std::fs::read_to_string(dir.join(name)).unwrap();
    (status.code(), read("stdout"), read("stderr"))
}

fn live_names(emulator: &ChildEmulator) -> Vec<String> {
    emulator.state()["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_interrupted_apply_reports_what_it_did() {
    for (signal_number, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let emulator = ChildEmulator::start(&["--latency-ms", "300"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), manifest()).unwrap();
        let child = spawn_apply(&emulator, dir.path());
        wait_for_writes(&emulator, 3);
        signal(&child, signal_number);
        let (code, stdout, stderr) = finish(child, dir.path());
        assert_eq!(
            code,
            Some(1),
            "{name}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("{name}: stopping. Nothing more is sent")),
            "{stderr}"
        );
        // One line per planned action, then the totals.
        let done: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("act_1: + create \"C") && l.contains(": created, id "))
            .collect();
        let not_done = stdout
            .lines()
            .filter(|l| {
                l.starts_with("act_1: NOT DONE create \"C")
                    && l.ends_with("not started: apply was stopped (a signal) before it")
            })
            .count();
        let failed = stdout
            .lines()
            .filter(|l| l.starts_with("act_1: FAILED"))
            .count();
        assert_eq!(done.len() + not_done + failed, CREATES, "{stdout}");
        assert!(done.len() >= 3 && not_done >= 1, "{stdout}");
        assert!(
            stdout.lines().last().unwrap().starts_with(&format!(
                "Apply stopped by a signal: {} done, {failed} failed, {not_done} not done.",
                done.len()
            )),
            "{stdout}"
        );
        // Nothing made without a word: every conversion live is one reported done (or, for a
        // write cut off, reported failed as uncertain).
        let live = live_names(&emulator);
        assert!(
            live.len() >= done.len() && live.len() <= done.len() + failed,
            "live {live:?}\n{stdout}"
        );
        for line in &done {
            let name = line.split('"').nth(1).unwrap();
            assert!(
                live.iter().any(|l| l == name),
                "{name} reported done, not live"
            );
        }
        // Running it again finishes the job, without duplicates.
        let again = crate::support::Convctl::new()
            .against(&emulator.base)
            .current_dir(dir.path())
            .args(&["apply", "--auto-approve", "a.yaml"])
            .run();
        assert_eq!(again.code, 0, "{again}");
        let mut live = live_names(&emulator);
        live.sort();
        live.dedup();
        assert_eq!(live.len(), CREATES);
        assert_eq!(
            emulator.state()["conversions"].as_array().unwrap().len(),
            CREATES
        );
    }
}

#[test]
fn a_second_interrupt_ends_the_apply_at_once() {
    // A write takes 3 s to be answered: the second signal comes long before that.
    let emulator = ChildEmulator::start(&["--latency-ms", "3000"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), manifest()).unwrap();
    let child = spawn_apply(&emulator, dir.path());
    wait_for_writes(&emulator, 1);
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let (code, stdout, stderr) = finish(child, dir.path());
    assert_eq!(code, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(
            "SIGINT again: ended at once. Writes in flight may or may not have been made"
        ),
        "{stderr}"
    );
    assert!(
        !stdout.contains("Apply stopped"),
        "it waited for the write: {stdout}"
    );
}
