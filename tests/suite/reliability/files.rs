//! Bounded input and safe output: every file convctl reads is bounded by what
//! is read, not by the size it reports (`/dev/zero` fails at once, never grows to gigabytes),
//! and `plan --out` writes atomically next to a regular file, follows a symlink to one, and
//! refuses anything else instead of replacing it with a plain file.

use crate::assert_run;
use crate::support::snapshot::transcripts;
use crate::support::{Convctl, Run};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn convctl(dir: &Path, args: &[&str]) -> Run {
    Convctl::new()
        .args(args)
        .current_dir(dir)
        // A token and an address nobody listens on: nothing here may reach the network.
        .env("META_ACCESS_TOKEN", "files-test-token")
        .env("CONVCTL_API_BASE", "http://127.0.0.1:9")
        .run()
}

#[cfg(unix)]
#[test]
fn dev_zero_fails_fast_everywhere_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // A device is no input file: refused before a byte is read.
    let runs: Vec<Run> = [
        &["validate", "/dev/zero"][..],
        &["test", "/dev/zero"],
        &["apply", "--plan", "/dev/zero", "--auto-approve"],
        &[
            "events",
            "send",
            "--pixel",
            "1",
            "--file",
            "/dev/zero",
            "--dry-run",
        ],
    ]
    .into_iter()
    .map(|args| convctl(dir.path(), args))
    .collect();
    for run in &runs {
        assert!(
            run.wall < Duration::from_secs(5),
            "took {:?}: {run}",
            run.wall
        );
    }
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl validate /dev/zero
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    /dev/zero:1:1: error: cannot read the file: it is a device, not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first
    help: a manifest is a YAML text file: point convctl at the file itself

    $ convctl test /dev/zero
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings; no tests were run
    ----- stderr -----
    /dev/zero:1:1: error: cannot read the file: it is a device, not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first
    help: a manifest is a YAML text file: point convctl at the file itself

    $ convctl apply --plan /dev/zero --auto-approve
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: /dev/zero is not a usable plan: it is a device, not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first; a plan is JSON text saved with `convctl plan --out`

    $ convctl events send --pixel 1 --file /dev/zero --dry-run
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: /dev/zero: it is a device, not a regular file; convctl reads its inputs from regular files only (a pipe or a device could keep it waiting forever): save the content to a file first, or pass `--file -` to read stdin
    ");
    // An endless text stream (no NUL) stops at the limit: a FIFO reports no size either.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "yes '[' | head -c 40000000 | {} events send --pixel 1 --file - --dry-run",
            env!("CARGO_BIN_EXE_convctl")
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    insta::assert_snapshot!(text, @"error: <stdin>: it is larger than 32 MiB (reading stopped there); events are a JSON text of at most 32 MiB (1000 events per request)");
}

fn sandbox_plan(dir: &Path, out: &str) -> Run {
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
    let printed = sandbox_plan(d, "plan.json");
    assert_run!(printed, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    {
      "format_version": 1,
      "convctl_version": "[version]",
      "api_version": "v27.0",
      "accounts": [
        {
          "account": "act_1",
          "source": "conversions/a.yaml",
          "live_fingerprint": "0c3516c8cdff324603c7af0d9e598f441593772dff070c9e0a6fd52f7458ff99",
          "digest": "ece02cbde864f8bd414b590bbf0e8b6860019d435aeebaae9f509d6678ea7a43",
          "actions": [
            {
              "action": "create",
              "name": "A",
              "after": {
                "name": "A",
                "description": "",
                "custom_event_type": "PURCHASE",
                "default_conversion_value": 0,
                "rule": {
                  "url": {
                    "i_contains": "a"
                  }
                }
              }
            }
          ],
          "unmanaged": [],
          "warnings": []
        }
      ],
      "summary": {
        "create": 1,
        "update": 0,
        "replace": 0,
        "delete": 0,
        "retire": 0,
        "unmanaged": 0
      }
    }
    ----- stderr -----
    Saved the plan to plan.json; `convctl apply --plan plan.json` does exactly this.
    "#);
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
    // Each is refused before the plan is made: nothing printed, nothing done.
    let runs: Vec<Run> = ["/dev/null", "a-dir", "to-dir", "dangling", "to-null"]
        .into_iter()
        .map(|out| sandbox_plan(d, out))
        .collect();
    insta::assert_snapshot!(transcripts(&runs), @"
    $ convctl '--sandbox=state.json' plan --out /dev/null --format json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write the plan to /dev/null: it is a device, not a regular file; --out writes a plan only to a regular file (replaced atomically) or a new path; nothing was done

    $ convctl '--sandbox=state.json' plan --out a-dir --format json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write the plan to a-dir: it is a directory; --out writes a plan only to a regular file (replaced atomically) or a new path; nothing was done

    $ convctl '--sandbox=state.json' plan --out to-dir --format json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write the plan to to-dir: it is a symlink to [dir]/a-dir, which is a directory; --out follows symlinks to a regular file only; nothing was done

    $ convctl '--sandbox=state.json' plan --out dangling --format json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write the plan to dangling: it is a symlink that leads nowhere (No such file or directory (os error 2)); --out follows symlinks to a regular file only; nothing was done

    $ convctl '--sandbox=state.json' plan --out to-null --format json
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: will not write the plan to to-null: it is a symlink to /dev/null, which is a device, not a regular file; --out follows symlinks to a regular file only; nothing was done
    ");
    assert!(
        std::fs::symlink_metadata(d.join("to-null"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(d.join("a-dir").is_dir());
}
