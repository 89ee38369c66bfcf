//! The packaged binary: `--version` names the Graph API version, completions and man pages come
//! out of the real executable, and a bad `--shard` is refused before any work.

use std::process::Command;

fn convctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .env_remove("META_ACCESS_TOKEN")
        .output()
        .expect("the convctl binary runs")
}

#[test]
fn version_names_the_targeted_graph_api_version() {
    let output = convctl(&["--version"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        format!(
            "convctl {} (Graph API {})",
            env!("CARGO_PKG_VERSION"),
            convctl::DEFAULT_API_VERSION
        )
    );
    // Subcommands report the same (propagate_version).
    let output = convctl(&["plan", "--version"]);
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains(convctl::DEFAULT_API_VERSION)
    );
}

#[test]
fn completions_for_every_shell_exit_zero() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = convctl(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("convctl")
        );
    }
    let output = convctl(&["completions", "tcsh"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a usage error is an error, never 2 (= changes)"
    );
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("possible values: bash, zsh, fish, powershell")
    );
}

#[test]
fn man_prints_roff_and_writes_pages() {
    let output = convctl(&["man"]);
    assert!(output.status.success());
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains(".TH CONVCTL 1 ")
    );

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let output = convctl(&["man", "--out", target.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(target.join("convctl-drift.1").is_file());
}

#[test]
fn usage_errors_exit_1_so_they_never_read_as_drift() {
    for args in [
        &["drift", "--frmat", "markdown"][..],
        &["plan", "--detailed-exitcode", "--shard", "5/4"],
        &["frobnicate"],
        &[],
    ] {
        let output = convctl(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?} says why");
    }
    assert_eq!(convctl(&["--help"]).status.code(), Some(0));
    assert_eq!(convctl(&["drift", "--help"]).status.code(), Some(0));
}

#[test]
fn a_bad_shard_is_refused_with_the_reason() {
    let output = convctl(&["--shard", "0/4", "completions", "bash"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
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
