//! Review of spec section 3 (exit codes): pipelines branch on 2 meaning "changes present"
//! (`plan --detailed-exitcode`, `drift`), so nothing else may exit 2 — in particular not a
//! mistyped option, which is bad input (1), as in Terraform.

use std::process::Command;

fn code(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .env_remove("META_ACCESS_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
        let (code, stderr) = code(args);
        assert_eq!(code, 1, "{args:?}:\n{stderr}");
        assert!(stderr.contains("error:"), "{args:?}:\n{stderr}");
    }
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(code(&["--help"]).0, 0);
    assert_eq!(code(&["plan", "--help"]).0, 0);
    assert_eq!(code(&["--version"]).0, 0);
}
