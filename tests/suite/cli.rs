//! The command line of the packaged binary: `--version` names the Graph API version,
//! completions and man pages come out of the real executable, a bad `--shard` is refused
//! before any work, usage errors exit 1 (never 2, which pipelines read as "changes present",
//! spec section 3), and the global options (colour, quiet, batching, account filters, shards,
//! verbose) do what they say.

mod pipes;
mod trace;

use crate::support::{Convctl, Harness, tools};
use serde_json::Value;

#[test]
fn version_names_the_targeted_graph_api_version() {
    let output = Convctl::new().args(&["--version"]).run();
    assert!(output.code == 0);
    let stdout = output.stdout;
    assert_eq!(
        stdout.trim(),
        format!(
            "convctl {} (Graph API {})",
            env!("CARGO_PKG_VERSION"),
            convctl::DEFAULT_API_VERSION
        )
    );
    // Subcommands report the same (propagate_version).
    let output = Convctl::new().args(&["plan", "--version"]).run();
    assert!(output.stdout.contains(convctl::DEFAULT_API_VERSION));
}

#[test]
fn completions_for_every_shell_exit_zero() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = Convctl::new().args(&["completions", shell]).run();
        assert!(output.code == 0, "{shell}");
        assert!(output.stdout.contains("convctl"));
    }
    let output = Convctl::new().args(&["completions", "tcsh"]).run();
    assert_eq!(
        output.code, 1,
        "a usage error is an error, never 2 (= changes)"
    );
    assert!(
        output
            .stderr
            .contains("possible values: bash, zsh, fish, powershell")
    );
}

#[test]
fn man_prints_roff_and_writes_pages() {
    let output = Convctl::new().args(&["man"]).run();
    assert!(output.code == 0);
    assert!(output.stdout.contains(".TH CONVCTL 1 "));

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let output = Convctl::new()
        .args(&["man", "--out", target.to_str().unwrap()])
        .run();
    assert!(output.code == 0, "{}", output.stderr);
    assert!(target.join("convctl-drift.1").is_file());
}

/// Every page `convctl man --out` writes passes `mandoc -T lint` without a warning.
#[test]
fn man_pages_pass_mandoc_lint() {
    let Some(mandoc) = tools::require("mandoc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    Convctl::new()
        .args(&["man", "--out"])
        .arg(dir.path())
        .run()
        .assert_success();
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "{pages:?}");
    for page in pages {
        let out = std::process::Command::new(&mandoc)
            .args(["-T", "lint", "-W", "warning"])
            .arg(&page)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && report.trim().is_empty(),
            "{}:\n{report}",
            page.display()
        );
    }
}

#[test]
fn usage_errors_exit_1_so_they_never_read_as_drift() {
    for args in [
        &["drift", "--frmat", "markdown"][..],
        &["plan", "--detailed-exitcode", "--shard", "5/4"],
        &["frobnicate"],
        &[],
    ] {
        let output = Convctl::new().args(args).run();
        assert_eq!(output.code, 1, "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?} says why");
    }
    assert_eq!(Convctl::new().args(&["--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["drift", "--help"]).run().code, 0);
}

#[test]
fn a_bad_shard_is_refused_with_the_reason() {
    let output = Convctl::new()
        .args(&["--shard", "0/4", "completions", "bash"])
        .run();
    assert!(output.code != 0);
    let stderr = output.stderr;
    assert!(stderr.contains("K must be between 1 and 4"), "{stderr}");
}

/// `cargo install --path .` builds the release profile: keep it tuned (thin LTO, stripped).
#[test]
fn the_release_profile_stays_tuned() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .expect("a [profile.release] section");
    let release = release.split("\n[").next().unwrap();
    assert!(
        release.contains("lto = \"thin\"") || release.contains("lto = true"),
        "{release}"
    );
    assert!(release.contains("strip = true"), "{release}");
}

#[test]
fn usage_errors_exit_1_never_2() {
    for args in [
        &["drift", "--bogus"][..],
        &["plan", "--detailed-exitcode", "--format", "yaml"],
        &["plan", "--detailed-exitcode", "--parallelism", "0"],
        &["apply", "--auto-aprove"],
        &["nosuchcommand"],
    ] {
        let out = Convctl::new().args(args).run();
        let (code, stderr) = (out.code, out.stderr);
        assert_eq!(code, 1, "{args:?}:\n{stderr}");
        assert!(stderr.contains("error:"), "{args:?}:\n{stderr}");
    }
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(Convctl::new().args(&["--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["plan", "--help"]).run().code, 0);
    assert_eq!(Convctl::new().args(&["--version"]).run().code, 0);
}

#[test]
fn global_options_colour_quiet_batching_and_account_filters() {
    let env = Harness::new();
    env.write(
        "conversions/two.yaml",
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {url: {eq: a}}\n---\naccount: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {eq: b}}\n",
    );
    // Colours only when asked for (stdout is a pipe here).
    assert!(!env.run(&["plan"]).stdout.contains('\x1b'));
    assert!(
        env.run(&["--color", "always", "plan"])
            .stdout
            .contains("\x1b[")
    );
    // --quiet: results only (no "Saved the plan" note).
    let quiet = env.run(&["--quiet", "plan", "--out", "p.json"]);
    assert!(quiet.stderr.is_empty(), "{quiet}");
    assert!(env.path("p.json").exists());
    // apply --account and --batch-size 1 (plain requests, no batch endpoint).
    let batches_before = env.stats()["batches"].clone();
    let applied = env.run(&[
        "--batch-size",
        "1",
        "apply",
        "--account",
        "act_2",
        "--auto-approve",
    ]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(!applied.stdout.contains("act_1"), "{applied}");
    assert_eq!(env.stats()["batches"], batches_before, "{}", env.stats());
    assert!(env.live("act_1").is_empty());
    assert_eq!(env.live_names("act_2"), ["B"]);
    // drift --account: act_2 is in sync, act_1 is not.
    assert_eq!(env.run(&["drift", "--account", "act_2"]).code, 0);
    assert_eq!(env.run(&["drift", "--account", "act_1"]).code, 2);
    // A saved plan limited to one account by apply --plan --account.
    let saved = env.run(&[
        "apply",
        "--plan",
        "p.json",
        "--account",
        "act_2",
        "--auto-approve",
    ]);
    assert_eq!(
        saved.code, 1,
        "act_2 changed since p.json was saved:\n{saved}"
    );
    let saved = env.run(&[
        "apply",
        "--plan",
        "p.json",
        "--account",
        "act_1",
        "--auto-approve",
    ]);
    assert_eq!(saved.code, 0, "{saved}");
    assert_eq!(env.live_names("act_1"), ["A"]);
    // --shard K/N: the shards partition the accounts.
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let doc: Value = serde_json::from_str(
            &env.run(&["--shard", shard, "plan", "--format", "json"])
                .stdout,
        )
        .unwrap();
        seen.extend(
            doc["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["account"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    assert_eq!(seen, ["act_1", "act_2"]);
    // -v says what it does on stderr, never the token (checked by the harness on every run).
    // Both accounts' first pages go in one batch; --batch-size 1 lists them one by one.
    let verbose = env.run(&["-v", "plan"]);
    assert_eq!(verbose.code, 0, "{verbose}");
    assert!(
        verbose
            .stderr
            .contains("POST /v26.0/ (first pages of 2 accounts) → 200")
            && verbose
                .stderr
                .contains("first pages of 2 accounts: 2 read from the batch"),
        "{verbose}"
    );
    let verbose = env.run(&["-v", "--batch-size", "1", "plan"]);
    assert_eq!(verbose.code, 0, "{verbose}");
    assert!(
        verbose
            .stderr
            .contains("GET /v26.0/act_1/customconversions")
            && !verbose.stderr.contains("POST /v26.0/"),
        "{verbose}"
    );
}
