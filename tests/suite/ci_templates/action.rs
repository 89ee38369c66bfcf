//! The GitHub Action (action.yml) the templates use. Its shell steps run for real
//! with bash, as `ci_templates::flow` runs them for the small examples; here at agency size
//! (60 accounts x 100 creates over 4 shards, which must make one readable comment), and the
//! steps around convctl: installing a pinned, cached build and the action's own metadata. The
//! workflows are checked with actionlint.

use crate::support::ci::*;
use crate::support::{TOKEN, in_background, tools};
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const COMMANDS: [&str; 7] = [
    "check",
    "plan",
    "comment",
    "apply",
    "drift",
    "drift-report",
    "health",
];

/// 60 accounts of 100 conversions each, none of them live yet.
fn agency_manifests(dir: &Path) {
    let conversions = dir.join("conversions");
    std::fs::remove_dir_all(&conversions).unwrap();
    std::fs::create_dir(&conversions).unwrap();
    for a in 0..60 {
        let mut text = format!(
            "account: act_{}\ndefaults:\n  custom_event_type: PURCHASE\n  event_source_id: \"998877665544\"\nconversions:\n",
            4_000_000 + a
        );
        for c in 0..100 {
            text.push_str(&format!(
                "  - name: Purchase over {c}\n    default_conversion_value: {c}\n    rule:\n      and:\n        - event: {{eq: Purchase}}\n        - value: {{gt: {c}}}\n        - url: {{i_contains: /shop/{a}/thank-you}}\n"
            ));
        }
        std::fs::write(conversions.join(format!("client-{a:02}.yaml")), text).unwrap();
    }
}

/// Lines outside every fence and `<details>`; panics when one is left open.
fn outside_blocks(md: &str) -> Vec<&str> {
    let mut outside = Vec::new();
    let mut fence: Option<usize> = None;
    let mut details = 0i32;
    for line in md.lines() {
        let ticks = line.bytes().take_while(|b| *b == b'`').count();
        if let Some(len) = fence {
            if ticks >= len && line[ticks..].trim().is_empty() {
                fence = None;
            }
            continue;
        }
        if ticks >= 3 {
            fence = Some(ticks);
            continue;
        }
        let before = details;
        details += line.matches("<details").count() as i32;
        details -= line.matches("</details>").count() as i32;
        assert!(details >= 0, "a </details> too many");
        if before == 0 && details == 0 {
            outside.push(line);
        }
    }
    assert_eq!(fence, None, "a fence is left open");
    assert_eq!(details, 0, "a <details> is left open");
    outside
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_plan_over_four_shards_is_one_readable_comment() {
    let emu: RunningEmulator = crate::support::emulator::start(EmulatorConfig {
        tokens: vec![TOKEN.to_string()],
        ..EmulatorConfig::default()
    })
    .await;
    let runner = std::sync::Arc::new(Runner::new(emu.base_url()));
    agency_manifests(&runner.path(""));
    let r = runner.clone();
    in_background(move || {
        for k in 1..=4 {
            let shard = k.to_string();
            let inputs = [
                ("shard", shard.as_str()),
                ("shards", "4"),
                ("out-dir", "plans"),
            ];
            let (code, _, stderr) = r.action_step("Plan", &inputs, &[]);
            assert_eq!(code, 0, "shard {k}: {stderr}");
        }
        let (code, _, stderr) = r.action_step(
            "Join the shard plans into one comment",
            &[("shards", "4"), ("out-dir", "plans")],
            &[],
        );
        assert_eq!(code, 0, "{stderr}");
    })
    .await;
    let comment = runner.read("plans/comment.md");
    assert!(comment.len() <= 65_536, "{} bytes", comment.len());
    // One document: one heading, one totals line, one table.
    assert!(
        comment.starts_with(
            "<!-- convctl-plan -->\n### convctl plan\n\n**Plan: 6000 to create, 0 to update, 0 to replace, 0 to delete.** 60 accounts to review."
        ),
        "{}",
        &comment[..400]
    );
    assert_eq!(comment.matches("| Account |").count(), 1);
    // Every account is in the table (the 60 read the same: one row, its accounts listed).
    assert!(
        comment
            .contains(" and 59 more (each; listed at the end) | 60 files | 100 | 0 | 0 | 0 | 0 |"),
        "{}",
        &comment[..1200]
    );
    let list = comment
        .lines()
        .find(|l| l.starts_with("**The 60 accounts of the row `act_"))
        .expect("the row's accounts are listed");
    for a in 0..60 {
        assert!(
            list.contains(&format!("`act_{}`", 4_000_000 + a)),
            "act_{} is not listed",
            4_000_000 + a
        );
    }
    // All 6,000 creates are named: the same 100 names in every account.
    for c in 0..100 {
        assert!(
            comment.contains(&format!("<code>Purchase over {c}</code>")),
            "create {c} is not named"
        );
    }
    let outside = outside_blocks(&comment);
    let note = outside
        .iter()
        .position(|l| l.starts_with("> **Every change is named above;"))
        .unwrap_or_else(|| panic!("no note: {}", &comment[comment.len() - 800..]));
    assert!(
        outside[note + 1].contains("<https://github.example/acme/ads/actions/runs/42>"),
        "{}",
        outside[note + 1]
    );
    assert!(comment.contains("<details><summary><code>+</code> create"));
    // The run summary (at most 1 MiB a step) shows far more than the comment.
    let summary = runner.read("summary.md");
    assert!(summary.len() > 4 * comment.len() / 2, "{}", summary.len());
    emu.shutdown().await.unwrap();
}

/// `Install convctl`: builds the action's own source once, with the lock file, into the cached
/// root; a cache hit builds nothing. A stand-in `cargo` records what it is asked.
#[test]
fn install_builds_once_from_the_actions_source_and_reuses_the_cache() {
    let runner = Runner::new("http://127.0.0.1:9".into());
    let bin = runner.path("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> \"$CARGO_LOG\"\nroot=\"${@: -1}\"\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho convctl 0.1.0\\n' > \"$root/bin/convctl\"\nchmod +x \"$root/bin/convctl\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = runner.path("cargo.log");
    let root_dir = runner.path("tool-cache/convctl/0.1.0-abc");
    let env = || {
        vec![
            (
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            ),
            ("CARGO_LOG", log.display().to_string()),
            ("GITHUB_ACTION_PATH", root().display().to_string()),
            (
                "GITHUB_PATH",
                runner.path("github_path").display().to_string(),
            ),
            ("ROOT", root_dir.display().to_string()),
        ]
    };
    let (code, stdout, stderr) = runner.action_step("Install convctl", &[], &env());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("convctl 0.1.0"));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        format!(
            "install --locked --path {} --root {}\n",
            root().display(),
            root_dir.display()
        )
    );
    assert_eq!(
        runner.read("github_path"),
        format!("{}/bin\n", root_dir.display())
    );
    // A cache hit, or a second use of the action in the same job: nothing is built again.
    let (code, _, stderr) = runner.action_step("Install convctl", &[], &env());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}

/// `Find the convctl version`: the cache key names the version and a digest of the exact
/// sources, so a cached binary is only reused for the same build.
#[test]
fn the_cache_key_pins_version_and_sources() {
    let runner = Runner::new("http://127.0.0.1:9".into());
    let run = || {
        std::fs::write(runner.path("output.txt"), "").unwrap();
        let (code, _, stderr) = runner.action_step(
            "Find the convctl version",
            &[],
            &[
                ("GITHUB_ACTION_PATH", root().display().to_string()),
                ("RUNNER_OS", "Linux".into()),
                ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache".into()),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        runner.read("output.txt")
    };
    let first = run();
    let version = env!("CARGO_PKG_VERSION");
    assert!(first.contains(&format!("version={version}\n")), "{first}");
    let key = first
        .lines()
        .find_map(|l| l.strip_prefix("key="))
        .unwrap()
        .to_string();
    assert!(
        key.starts_with(&format!("convctl-Linux-{version}-")),
        "{key}"
    );
    assert_eq!(key.len(), format!("convctl-Linux-{version}-").len() + 16);
    assert!(first.contains(&format!("root=/opt/hostedtoolcache/convctl/{version}-")));
    assert_eq!(run(), first, "the key is stable");
}

/// The action's scripts take inputs from env only (no `${{ }}` inside a script, which would be
/// shell injection), every input used exists, and the templates give only known inputs and
/// commands.
#[test]
fn the_action_and_the_templates_agree() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_object().unwrap();
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(run) = step["run"].as_str() {
            assert!(!run.contains("${{"), "an expression inside a script: {run}");
            assert_eq!(step["shell"].as_str(), Some("bash"));
        }
        if let Some(condition) = step["if"].as_str() {
            for part in condition.split("inputs.command == '").skip(1) {
                let command = part.split('\'').next().unwrap();
                assert!(COMMANDS.contains(&command), "{command}");
            }
        }
    }
    for part in text.split("inputs.").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            inputs.contains_key(name.as_str()),
            "inputs.{name} is not declared"
        );
    }
    for command in COMMANDS {
        assert!(
            text.contains(&format!("inputs.command == '{command}'")),
            "{command} does nothing"
        );
    }
    for name in [
        "convctl-pull-request.yml",
        "convctl-main.yml",
        "convctl-drift.yml",
    ] {
        let workflow = template(name);
        let mut uses = 0;
        for (_, job) in workflow["jobs"].as_object().unwrap() {
            for step in job["steps"].as_array().unwrap() {
                if !step["uses"]
                    .as_str()
                    .is_some_and(|u| u.contains("/convctl@v"))
                {
                    continue;
                }
                uses += 1;
                let with = step["with"].as_object().unwrap();
                for (key, value) in with {
                    assert!(inputs.contains_key(key), "{name}: unknown input {key:?}");
                    if key == "command" {
                        assert!(COMMANDS.contains(&value.as_str().unwrap()), "{name}");
                    }
                }
            }
        }
        assert!(uses > 0, "{name} does not use the action");
    }
}

/// actionlint finds nothing in the GitHub templates and the action, shell steps included (it
/// hands every `run:` script to shellcheck).
#[test]
fn actionlint_finds_nothing() {
    let (Some(actionlint), Some(shellcheck)) =
        (tools::require("actionlint"), tools::require("shellcheck"))
    else {
        return;
    };
    // A repository (actionlint looks for `.git`) with the templates as its workflows.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    for entry in std::fs::read_dir(root().join("examples/ci/github")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, workflows.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(root().join("action.yml"), dir.path().join("action.yml")).unwrap();
    let out = std::process::Command::new(actionlint)
        .args(["-no-color", "-shellcheck"])
        .arg(shellcheck)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && report.is_empty(), "{report}");
}
