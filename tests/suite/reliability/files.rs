//! Bounded input and safe output: every file convctl reads is bounded by what
//! is read, not by the size it reports (`/dev/zero` fails at once, never grows to gigabytes),
//! and `plan --out` writes atomically next to a regular file, follows a symlink to one, and
//! refuses anything else instead of replacing it with a plain file.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn convctl(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .current_dir(dir)
        // A token and an address nobody listens on: nothing here may reach the network.
        .env("META_ACCESS_TOKEN", "files-test-token")
        .env("CONVCTL_API_BASE", "http://127.0.0.1:9")
        .env_remove("META_APP_SECRET")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn dev_zero_fails_fast_everywhere_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // A device is no input file: refused before a byte is read.
    for (args, expected) in [
        (
            vec!["validate", "/dev/zero"],
            "a device, not a regular file",
        ),
        (vec!["test", "/dev/zero"], "a device, not a regular file"),
        (
            vec!["apply", "--plan", "/dev/zero", "--auto-approve"],
            "/dev/zero is not a usable plan: it is a device, not a regular file",
        ),
        (
            vec![
                "events",
                "send",
                "--pixel",
                "1",
                "--file",
                "/dev/zero",
                "--dry-run",
            ],
            "/dev/zero: it is a device, not a regular file",
        ),
    ] {
        let (out, took) = convctl(dir.path(), &args);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(text.contains(expected), "{args:?}: {text}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
    }
    // An endless text stream (no NUL) stops at the limit: a FIFO reports no size either.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "yes '[' | head -c 40000000 | {} events send --pixel 1 --file - --dry-run",
            env!("CARGO_BIN_EXE_convctl")
        ))
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("larger than 32 MiB (reading stopped there)"),
        "{text}"
    );
}

fn sandbox_plan(dir: &Path, out: &str) -> Output {
    std::fs::create_dir_all(dir.join("conversions")).unwrap();
    std::fs::write(
        dir.join("conversions/a.yaml"),
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: a}}\n",
    )
    .unwrap();
    convctl(
        dir,
        &[
            "--sandbox=state.json",
            "plan",
            "--out",
            out,
            "--format",
            "json",
        ],
    )
    .0
}

#[cfg(unix)]
#[test]
fn plan_out_follows_a_symlink_to_a_file_and_refuses_what_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A symlink to a regular file: followed; the link stays, the file it names gets the plan.
    std::fs::create_dir_all(d.join("shared")).unwrap();
    std::fs::write(d.join("shared/plan.json"), "old").unwrap();
    std::os::unix::fs::symlink("shared/plan.json", d.join("plan.json")).unwrap();
    let out = sandbox_plan(d, "plan.json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(d.join("plan.json"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink was replaced"
    );
    let saved = std::fs::read_to_string(d.join("shared/plan.json")).unwrap();
    assert!(saved.contains("\"format_version\": 1"), "{saved}");
    // No temporary file left beside it.
    let left: Vec<_> = std::fs::read_dir(d.join("shared")).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");

    // Not regular files: refused, named, nothing replaced.
    std::fs::create_dir_all(d.join("a-dir")).unwrap();
    std::os::unix::fs::symlink("a-dir", d.join("to-dir")).unwrap();
    std::os::unix::fs::symlink("missing/plan.json", d.join("dangling")).unwrap();
    std::os::unix::fs::symlink("/dev/null", d.join("to-null")).unwrap();
    for (out_path, expected) in [
        (
            "/dev/null",
            "will not write the plan to /dev/null: it is a device, not a regular file",
        ),
        ("a-dir", "it is a directory"),
        ("to-dir", "it is a symlink to "),
        ("dangling", "it is a symlink that leads nowhere"),
        ("to-null", "which is a device, not a regular file"),
    ] {
        let out = sandbox_plan(d, out_path);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{out_path}: {text}");
        assert!(text.contains(expected), "{out_path}: {text}");
    }
    assert!(
        std::fs::symlink_metadata(d.join("to-null"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(d.join("a-dir").is_dir());
}
