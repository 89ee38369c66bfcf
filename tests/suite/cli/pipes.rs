//! A reader that goes away is not an error. Every command that prints, run as the real
//! binary with its stdout (or stderr) a pipe whose reading end is already closed, ends quietly:
//! no panic (exit 101), no message, and the exit code the command decided on (0 for success;
//! `drift` keeps 2 for drift found, `validate` keeps 1 for invalid manifests).

use crate::assert_run;
use crate::support::snapshot::transcripts;
use crate::support::{Convctl, Run};
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// convctl in the repository, with stdout a pipe nobody reads.
fn with_closed_stdout(args: &[&str]) -> Run {
    Convctl::new()
        .current_dir(root())
        .close_stdout()
        .args(args)
        .run()
}

#[test]
fn printing_commands_end_quietly_when_stdout_is_closed() {
    let runs: Vec<Run> = [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["completions", "powershell"],
        &["man"],
        &["validate", "examples/conversions"],
        &["validate", "examples/conversions", "--format", "json"],
        // An invalid manifest keeps its verdict.
        &[
            "validate",
            "tests/corpus/name-empty.yaml",
            "--format",
            "github",
        ],
        &["--help"],
        &["plan", "--help"],
    ]
    .into_iter()
    .map(with_closed_stdout)
    .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl completions bash
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl completions zsh
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl completions fish
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl completions powershell
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl man
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl validate examples/conversions
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl validate examples/conversions --format json
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl validate tests/corpus/name-empty.yaml --format github
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----

    $ convctl --help
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----

    $ convctl plan --help
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    ");
}

#[test]
fn plan_drift_and_import_against_the_sandbox_end_quietly() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_examples(dir.path());
    let run = |args: &[&str]| {
        Convctl::new()
            .current_dir(dir.path())
            .close_stdout()
            .arg("--sandbox")
            .args(args)
            .run()
    };
    let mut runs = Vec::new();
    for format in ["text", "json", "markdown"] {
        runs.push(run(&["plan", "--format", format, "--out", "plan.json"]));
        assert!(
            dir.path().join("plan.json").exists(),
            "the plan is still saved"
        );
        std::fs::remove_file(dir.path().join("plan.json")).unwrap();
        // Nothing applied: every example conversion is missing live, which is drift (exit 2).
        runs.push(run(&["drift", "--format", format]));
    }
    runs.push(run(&["import", "act_1234567890", "--out", "imported"]));
    assert!(dir.path().join("imported/act_1234567890.yaml").exists());
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl --sandbox plan --format text --out plan.json
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.

    $ convctl --sandbox drift --format text
    success: false
    exit_code: 2
    ----- stdout -----
    ----- stderr -----

    $ convctl --sandbox plan --format json --out plan.json
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.

    $ convctl --sandbox drift --format json
    success: false
    exit_code: 2
    ----- stdout -----
    ----- stderr -----

    $ convctl --sandbox plan --format markdown --out plan.json
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.

    $ convctl --sandbox drift --format markdown
    success: false
    exit_code: 2
    ----- stdout -----
    ----- stderr -----

    $ convctl --sandbox import act_1234567890 --out imported
    success: true
    exit_code: 0
    ----- stdout -----
    ----- stderr -----
    ");
}

/// A closed stderr (the reader of errors went away) never turns into a panic, and the
/// verdict is kept.
#[test]
fn a_closed_stderr_is_never_a_panic() {
    let in_root = || Convctl::new().current_dir(root()).close_stderr();
    let runs = [
        in_root()
            .args(&["validate", "tests/corpus/name-empty.yaml"])
            .run(),
        in_root().args(&["plan", "--frmat", "x"]).run(),
        in_root()
            .close_stdout()
            .args(&["plan", "does/not/exist"])
            .run(),
    ];
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl validate tests/corpus/name-empty.yaml
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----

    $ convctl plan --frmat x
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----

    $ convctl plan does/not/exist
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    ");
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
    let runs: Vec<Run> = [
        &["man", "--api-base", "http://x"][..],
        &["--sandbox", "completions", "bash"],
        &["completions", "bash", "--shard", "1/2"],
        &["-q", "man"],
    ]
    .into_iter()
    .map(|args| Convctl::new().current_dir(root()).args(args).run())
    .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl man --api-base http://x
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --api-base does not apply to `convctl man`

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.

    $ convctl --sandbox completions bash
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --sandbox does not apply to `convctl completions`

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.

    $ convctl completions bash --shard 1/2
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --shard does not apply to `convctl completions`

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.

    $ convctl -q man
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --quiet does not apply to `convctl man`

    Usage: convctl [OPTIONS] <COMMAND>

    For more information, try '--help'.
    ");
    // An environment variable is not an option given: it is simply not used.
    let man = Convctl::new()
        .arg("man")
        .env("CONVCTL_API_BASE", "http://127.0.0.1:9")
        .run();
    assert_eq!(man.code, 0, "{man}");
    assert_eq!(man.stdout, Convctl::new().arg("man").run().stdout);
    // Its help offers only the options that apply.
    assert_run!(Convctl::new().args(&["man", "--help"]).run(), @"
    success: true
    exit_code: 0
    ----- stdout -----
    Print the manual page, or write one page per command into a directory

    Usage: convctl man [OPTIONS]

    Options:
          --out <DIR>  Write convctl.1 and one convctl-COMMAND.1 per command into DIR instead
      -h, --help       Print help
      -V, --version    Print version
    ----- stderr -----
    ");
}

/// Help is written for users: no internal notes, no source paths.
#[test]
fn help_texts_carry_no_internal_notes() {
    let mut runs = vec![Convctl::new().arg("--help").run()];
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
        runs.push(Convctl::new().args(&[command, "--help"]).run());
    }
    for page in runs.iter().map(|run| &run.stdout) {
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
    // Each page whole, as a user reads it.
    insta::assert_snapshot!("help_pages", transcripts(&runs));
}
