//! shellcheck over every shell script convctl's CI runs or ships: the templates' and the
//! action's steps, and the repository's own scripts (`.ci/run`, `scripts/*`, the SDK
//! runners). Warnings and errors fail; style and info notes (such as a backquote in a
//! single-quoted message) are opinions, left out with `--severity=warning`.

use super::{scripts, templates};
use crate::support::tools;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs shellcheck on `files` (bash) and asserts it found nothing.
#[track_caller]
fn assert_clean(shellcheck: &Path, files: &[PathBuf], dir: &Path) {
    let out = std::process::Command::new(shellcheck)
        .args(["--shell=bash", "--severity=warning", "--format=gcc"])
        .args(files)
        .current_dir(dir)
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && report.is_empty(), "{report}");
}

/// The steps' scripts, one file per step: the lines of a GitLab `script` list are one script,
/// and a GitHub `${{ expression }}` becomes a word of the same length, as actionlint does.
#[test]
fn the_templates_steps_pass_shellcheck() {
    let Some(shellcheck) = tools::require("shellcheck") else {
        return;
    };
    let expression = regex::Regex::new(r"\$\{\{[^}]*\}\}").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for template in templates() {
        let text = std::fs::read_to_string(&template).unwrap();
        let document: Value = serde_saphyr::from_str(&text).unwrap();
        let mut found = Vec::new();
        scripts(&document, "", "", &mut found);
        // `.job.script[0]`, `.job.script[1]`, ...: one script per list.
        let mut steps: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, script) in found {
            let step = match path.strip_suffix(']').and_then(|p| p.rsplit_once('[')) {
                Some((list, _)) => list.to_string(),
                None => path,
            };
            steps.entry(step).or_default().push(script);
        }
        let stem = template.file_name().unwrap().to_string_lossy().into_owned();
        for (step, lines) in steps {
            let joined = lines.join("\n");
            let script =
                expression.replace_all(&joined, |m: &regex::Captures| "_".repeat(m[0].len()));
            let name = format!("{stem}{}.sh", step.replace(['/', ' ', '[', ']'], "_"));
            std::fs::write(
                dir.path().join(&name),
                format!("#!/usr/bin/env bash\n{script}\n"),
            )
            .unwrap();
            files.push(PathBuf::from(name));
        }
    }
    assert!(files.len() > 15, "{files:?}");
    assert_clean(&shellcheck, &files, dir.path());
}

#[test]
fn the_repositorys_scripts_pass_shellcheck() {
    let Some(shellcheck) = tools::require("shellcheck") else {
        return;
    };
    let mut files = vec![
        PathBuf::from(".ci/run"),
        PathBuf::from("tests/python/run.sh"),
        PathBuf::from("tests/node/run.sh"),
    ];
    for entry in std::fs::read_dir(root().join("scripts")).unwrap() {
        files.push(Path::new("scripts").join(entry.unwrap().file_name()));
    }
    files.sort();
    assert_clean(&shellcheck, &files, root());
}
