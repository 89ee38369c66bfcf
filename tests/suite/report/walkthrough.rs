//! The docs' walk-throughs of the health report, run exactly as written: the lines of the
//! `sh` block after a `<!-- walkthrough: … -->` marker in docs/getting-started.md (on the
//! manifest it shows) and in the README (on the examples, after the README's first command),
//! each with bash, `convctl` (and `cargo run --`) being the built binary, in a fresh directory.

use crate::support::binary::bin;
use crate::support::copy_examples;
use std::path::Path;
use std::process::Command;

fn read(doc: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap()
}

/// The lines of the first fenced block that follows the line containing `marker`.
fn block_after(text: &str, marker: &str) -> Vec<String> {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in the doc"));
    let rest = &text[start..];
    let open = rest.find("```").expect("a block after the marker");
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let end = body.find("```").expect("the block ends");
    body[..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs one line as a user's shell would, `convctl` and `cargo run --` being the built binary.
fn run(dir: &Path, line: &str) -> (i32, String, String) {
    let shim = dir.join(".bin");
    std::fs::create_dir_all(&shim).unwrap();
    std::os::unix::fs::symlink(bin(), shim.join("convctl")).ok();
    let line = line.replace("cargo run -- ", "convctl ");
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", &line])
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", shim.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_getting_started_report_walkthrough_shows_one_firing_and_one_that_never_did() {
    let doc = read("docs/getting-started.md");
    let dir = tempfile::tempdir().unwrap();
    // The manifest the guide writes, `conversions/shop.yaml`: its first YAML block.
    let yaml_start = doc.find("```yaml\n").unwrap() + "```yaml\n".len();
    let yaml = &doc[yaml_start..];
    let yaml = &yaml[..yaml.find("```").unwrap()];
    std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
    std::fs::write(dir.path().join("conversions/shop.yaml"), yaml).unwrap();
    let lines = block_after(&doc, "<!-- walkthrough: report ");
    assert_eq!(lines.len(), 4, "{lines:?}");
    let mut outputs = Vec::new();
    for line in &lines {
        let (code, stdout, stderr) = run(dir.path(), line);
        assert_eq!(code, 0, "{line}\n{stdout}{stderr}");
        outputs.push(stdout);
    }
    let today = &outputs[2];
    assert!(today.contains("2 live conversion(s), 1 firing"), "{today}");
    assert!(today.contains("Findings: no findings"), "{today}");
    let next_week = &outputs[3];
    assert!(next_week.contains("Findings: 1 never fired"), "{next_week}");
    assert!(
        next_week.contains("never_fired      \"Thank you page\""),
        "{next_week}"
    );
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(page.contains("High value purchase") && page.contains("firing"));
    // A sparkline of the event: a Braille pattern with dots in it (the empty one is U+2800).
    assert!(
        page.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)),
        "a sparkline of the event"
    );
}

#[test]
fn the_readme_report_walkthrough_runs_as_written() {
    let readme = read("README.md");
    let dir = tempfile::tempdir().unwrap();
    copy_examples(dir.path());
    std::fs::rename(dir.path().join("conversions"), dir.path().join("examples")).unwrap();
    std::fs::create_dir_all(dir.path().join("examples")).unwrap();
    let examples = dir.path().join("examples");
    let moved = dir.path().join("examples-tmp");
    std::fs::rename(&examples, &moved).unwrap();
    std::fs::create_dir_all(&examples).unwrap();
    std::fs::rename(&moved, examples.join("conversions")).unwrap();
    // The README's first command, then the walk-through.
    let first = block_after(&readme, "## Try it in one command");
    let mut lines = vec![first[0].clone()];
    lines.extend(block_after(&readme, "<!-- walkthrough: readme report "));
    assert_eq!(lines.len(), 4, "{lines:?}");
    let mut outputs = Vec::new();
    for line in &lines {
        let (code, stdout, stderr) = run(dir.path(), line);
        assert_eq!(code, 0, "{line}\n{stdout}{stderr}");
        outputs.push(stdout);
    }
    assert!(
        outputs[2].contains("21 live conversion(s), 4 firing")
            && outputs[2].contains("Findings: no findings"),
        "{}",
        outputs[2]
    );
    assert!(
        outputs[3].contains("Findings: 17 never fired"),
        "{}",
        outputs[3]
    );
    assert!(dir.path().join("report.html").exists());
}
