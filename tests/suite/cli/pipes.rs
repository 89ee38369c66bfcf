//! A reader that goes away is not an error. Every command that prints, run as the real
//! binary with its stdout (or stderr) a pipe whose reading end is already closed, ends quietly:
//! no panic (exit 101), no message, and the exit code the command decided on (0 for success;
//! `drift` keeps 2 for drift found, `validate` keeps 1 for invalid manifests).

#![allow(unsafe_code)] // libc: signals and reaping child processes with their resource usage

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A pipe with no reader: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    Stdio::from(unsafe { OwnedFd::from_raw_fd(fds[1]) })
}

fn convctl(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_convctl"));
    command
        .current_dir(dir)
        .env_remove("META_ACCESS_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs with stdout a closed pipe; stderr captured.
fn with_closed_stdout(args: &[&str]) -> Output {
    convctl(root())
        .args(args)
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn assert_quiet(out: &Output, code: i32, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        !stderr.to_lowercase().contains("broken pipe"),
        "{what}: {stderr}"
    );
}

#[test]
fn printing_commands_end_quietly_when_stdout_is_closed() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = with_closed_stdout(&["completions", shell]);
        assert_quiet(&out, 0, shell);
        assert!(out.stderr.is_empty(), "{shell}");
    }
    let out = with_closed_stdout(&["man"]);
    assert_quiet(&out, 0, "man");
    assert!(out.stderr.is_empty());
    assert_quiet(
        &with_closed_stdout(&["validate", "examples/conversions"]),
        0,
        "validate",
    );
    assert_quiet(
        &with_closed_stdout(&["validate", "examples/conversions", "--format", "json"]),
        0,
        "validate --format json",
    );
    assert_quiet(
        &with_closed_stdout(&[
            "validate",
            "tests/corpus/name-empty.yaml",
            "--format",
            "github",
        ]),
        1,
        "validate of an invalid manifest keeps its verdict",
    );
    assert_quiet(&with_closed_stdout(&["--help"]), 0, "--help");
    assert_quiet(&with_closed_stdout(&["plan", "--help"]), 0, "plan --help");
}

#[test]
fn plan_drift_and_import_against_the_sandbox_end_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("conversions");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(root().join("examples/conversions")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    let run = |args: &[&str]| {
        convctl(dir.path())
            .arg("--sandbox")
            .args(args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    for format in ["text", "json", "markdown"] {
        let out = run(&["plan", "--format", format, "--out", "plan.json"]);
        assert_quiet(&out, 0, format);
        assert!(
            dir.path().join("plan.json").exists(),
            "the plan is still saved"
        );
        std::fs::remove_file(dir.path().join("plan.json")).unwrap();
        // Nothing applied: every example conversion is missing live, which is drift.
        assert_quiet(&run(&["drift", "--format", format]), 2, "drift");
    }
    let out = run(&["import", "act_1234567890", "--out", "imported"]);
    assert_quiet(&out, 0, "import");
    assert!(dir.path().join("imported/act_1234567890.yaml").exists());
}

/// A closed stderr (the reader of errors went away) never turns into a panic.
#[test]
fn a_closed_stderr_is_never_a_panic() {
    let out = convctl(root())
        .args(["validate", "tests/corpus/name-empty.yaml"])
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(101));
    assert_eq!(out.status.code(), Some(1), "the verdict is kept");
    let out = convctl(root())
        .args(["plan", "--frmat", "x"])
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = convctl(root())
        .args(["plan", "does/not/exist"])
        .stdout(closed_pipe())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}", out.status);
}

/// The shell pipelines of the issue, as a user types them.
#[test]
fn head_closes_the_pipe_and_the_exit_is_zero() {
    for line in [
        "convctl completions fish | head -c 10 > /dev/null; exit ${PIPESTATUS[0]}",
        "convctl man | head > /dev/null; exit ${PIPESTATUS[0]}",
        "convctl man | head -1 > /dev/null; exit ${PIPESTATUS[0]}",
    ] {
        let bin = Path::new(env!("CARGO_BIN_EXE_convctl")).parent().unwrap();
        let out = Command::new("bash")
            .args(["-c", line])
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{line}: {out:?}");
        assert!(out.stderr.is_empty(), "{line}: {out:?}");
    }
}

#[test]
fn man_and_completions_refuse_options_that_do_not_apply() {
    for args in [
        &["man", "--api-base", "http://x"][..],
        &["--sandbox", "completions", "bash"],
        &["completions", "bash", "--shard", "1/2"],
        &["-q", "man"],
    ] {
        let out = convctl(root()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("does not apply to `convctl"), "{stderr}");
    }
    // An environment variable is not an option given: it is simply not used.
    let out = convctl(root())
        .arg("man")
        .env("CONVCTL_API_BASE", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = convctl(root()).args(["man", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        !help.contains("--api-base") && help.contains("--out"),
        "{help}"
    );
}

/// Help is written for users: no internal notes, no source paths.
#[test]
fn help_texts_carry_no_internal_notes() {
    let mut pages =
        vec![String::from_utf8(convctl(root()).arg("--help").output().unwrap().stdout).unwrap()];
    for command in [
        "validate",
        "test",
        "plan",
        "apply",
        "drift",
        "import",
        "emulator",
        "completions",
        "man",
    ] {
        let out = convctl(root()).args([command, "--help"]).output().unwrap();
        pages.push(String::from_utf8(out.stdout).unwrap());
    }
    for page in pages {
        for internal in [
            "crate::",
            "::parse",
            "Checked at parse time",
            "seed 0",
            "Shard::",
        ] {
            assert!(!page.contains(internal), "{internal}:\n{page}");
        }
    }
}
