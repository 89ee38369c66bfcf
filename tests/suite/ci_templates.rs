//! The CI templates in examples/ci are code users copy: every YAML file must parse, every
//! `convctl ...` command line they run must parse with the real clap definition, the shard
//! matrices must cover 1..=N, and no script may print (or even mention) the token: it reaches
//! convctl through the environment only. The templates' steps run for real with bash: the
//! plan, apply and drift flows against the emulator (`flow`), and the reporting steps against
//! stand-ins of GitHub and GitLab (`reporting`), and every step's shell passes shellcheck
//! (`shellcheck`).

mod action;
mod flow;
mod reporting;
mod shellcheck;

use clap::Parser;
use convctl::cli::args::Cli;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Keys whose values are shell scripts: GitHub `run`, GitLab `script` and friends.
const SCRIPT_KEYS: &[&str] = &["run", "script", "before_script", "after_script"];
/// Variables whose names are secrets: scripts must never reference them.
const SECRET_VARIABLES: &[&str] = &["META_ACCESS_TOKEN", "META_APP_SECRET"];

fn templates() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
            {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci"),
        &mut found,
    );
    found.sort();
    // The action the GitHub templates use holds their scripts.
    found.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"));
    found
}

/// A GitHub template that leaves its steps to the action (`uses: OWNER/convctl@vX`).
fn uses_the_action(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("- uses: ") && l.contains("/convctl@v"))
}

/// Every script in a YAML document, with the path of keys leading to it.
fn scripts(value: &Value, key: &str, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let k = k.as_str();
                scripts(v, k, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scripts(item, key, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(text) if SCRIPT_KEYS.contains(&key) => {
            out.push((path.to_string(), text.clone()));
        }
        _ => {}
    }
}

/// Logical lines: backslash continuations joined, comments and blank lines dropped.
fn logical_lines(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in script.lines() {
        let line = raw.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Sample values for the variables the templates use in convctl arguments. An unknown variable
/// expands to `UNKNOWN`, which makes e.g. `--shard` fail loudly: add it here deliberately.
fn expand(word: &str) -> String {
    let known = [
        ("SHARDS", "4"),
        ("SHARD", "1"),
        ("CI_NODE_INDEX", "1"),
        ("CI_NODE_TOTAL", "4"),
        ("MANIFESTS", "conversions"),
        ("OUT", "convctl-out"),
        ("share", "15000"),
        ("room", "64000"),
        ("plans[@]", "plans/plan-1.json"),
        ("CI_PIPELINE_URL", "https://gitlab.example/p/1"),
        ("run_url", "https://github.example/acme/ads/actions/runs/42"),
        ("ROOT", "/opt/convctl"),
        ("FAIL_ON", "flagged,never_fired,stopped_firing"),
        ("stats", "--stats"),
        ("bound", "64536"),
    ];
    let mut out = String::new();
    let mut rest = word;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').expect("closed ${...}");
            (&braced[..end], &braced[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let value = known
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or("UNKNOWN");
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The argument vectors of every `convctl` invocation in a script (command position only).
fn convctl_invocations(script: &str) -> Result<Vec<Vec<String>>, String> {
    let mut found = Vec::new();
    for line in logical_lines(script) {
        if !line.split_whitespace().any(|w| w == "convctl") {
            continue;
        }
        let words = shell_words::split(&line).map_err(|e| format!("{line}: {e}"))?;
        for (i, word) in words.iter().enumerate() {
            let at_command_position = i == 0
                || matches!(
                    words[i - 1].as_str(),
                    "|" | "||" | "&&" | ";" | "then" | "do" | "else" | "!" | "time"
                );
            if word != "convctl" || !at_command_position {
                continue;
            }
            let mut argv = vec!["convctl".to_string()];
            for arg in &words[i + 1..] {
                let is_operator = ["|", "&", ";", ">", "<", ")", "2>"]
                    .iter()
                    .any(|op| arg.starts_with(op));
                if is_operator {
                    break;
                }
                argv.push(expand(arg));
            }
            found.push(argv);
        }
    }
    Ok(found)
}

/// Why a script could leak the token, if it could.
fn leaks_secret(script: &str) -> Option<String> {
    for line in logical_lines(script) {
        for variable in SECRET_VARIABLES {
            if line.contains(variable) {
                return Some(format!("mentions {variable}: `{line}`"));
            }
        }
        if line.contains("secrets.") {
            return Some(format!(
                "inlines a secret into the script text: `{line}` (pass it through env:)"
            ));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words
            .windows(2)
            .any(|w| w[0] == "set" && w[1].starts_with("-") && w[1].contains('x'))
            || line.contains("bash -x")
        {
            return Some(format!("turns on shell tracing: `{line}`"));
        }
    }
    None
}

#[test]
fn every_template_parses_and_calls_only_real_commands() {
    let files = templates();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "convctl-pull-request.yml",
        "convctl-main.yml",
        "convctl-drift.yml",
        ".gitlab-ci.yml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing: {names:?}"
        );
    }
    let mut subcommands_seen = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let document: Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", file.display()));
        let mut found = Vec::new();
        scripts(&document, "", "", &mut found);
        if uses_the_action(&text) {
            assert!(
                found.is_empty(),
                "{}: scripts beside the action",
                file.display()
            );
            continue;
        }
        assert!(!found.is_empty(), "{}: no scripts", file.display());
        let mut invocations = 0;
        for (path, script) in &found {
            if let Some(leak) = leaks_secret(script) {
                panic!("{}{path}: {leak}", file.display());
            }
            for argv in convctl_invocations(script)
                .unwrap_or_else(|e| panic!("{}{path}: {e}", file.display()))
            {
                invocations += 1;
                match Cli::try_parse_from(&argv) {
                    Ok(cli) => {
                        let name = format!("{:?}", cli.command);
                        subcommands_seen
                            .insert(name.split([' ', '(', '{']).next().unwrap().to_string());
                    }
                    Err(error) if argv.len() == 2 && argv[1] == "--version" => {
                        assert_eq!(error.kind(), clap::error::ErrorKind::DisplayVersion);
                    }
                    Err(error) => panic!(
                        "{}{path}: `{}` does not parse:\n{error}",
                        file.display(),
                        argv.join(" ")
                    ),
                }
            }
        }
        assert!(invocations > 0, "{}: calls convctl nowhere", file.display());
    }
    for command in ["Validate", "Test", "Plan", "Show", "Apply", "Drift"] {
        assert!(
            subcommands_seen.contains(command),
            "no template runs `{command}`: {subcommands_seen:?}"
        );
    }
}

/// GitHub matrices must list exactly 1..=SHARDS, or accounts would be skipped or doubled.
#[test]
fn github_shard_matrices_cover_every_share() {
    for file in templates()
        .into_iter()
        .filter(|f| f.parent().unwrap().ends_with("github"))
    {
        let document: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let shards = document["env"]["SHARDS"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: env.SHARDS missing", file.display()));
        let jobs = document["jobs"].as_object().unwrap();
        let mut matrices = 0;
        for (name, job) in jobs {
            let shard = &job["strategy"]["matrix"]["shard"];
            if shard.is_null() {
                continue;
            }
            matrices += 1;
            let listed: Vec<u64> = shard
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(
                listed,
                (1..=shards).collect::<Vec<_>>(),
                "{} job {name:?}",
                file.display()
            );
        }
        assert!(matrices > 0, "{}: no shard matrix", file.display());
    }
}

#[test]
fn secrets_reach_convctl_only_through_env_mappings() {
    for file in templates() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split(" #").next().unwrap().trim();
            if code.starts_with('#') || !code.contains("secrets.") {
                continue;
            }
            // Only `NAME: ${{ secrets.NAME }}` (an env mapping) may touch a secret.
            let (key, value) = code.split_once(':').unwrap();
            assert_eq!(
                value.trim(),
                format!("${{{{ secrets.{} }}}}", key.trim()),
                "{}:{}: {line}",
                file.display(),
                number + 1
            );
        }
    }
}

/// The checker itself must catch what it claims to catch.
#[test]
fn the_checker_catches_leaks_and_bad_command_lines() {
    assert!(leaks_secret("echo \"$META_ACCESS_TOKEN\"").is_some());
    assert!(leaks_secret("curl -H \"Authorization: Bearer ${{ secrets.T }}\" x").is_some());
    assert!(leaks_secret("set -eux\nconvctl plan").is_some());
    assert!(leaks_secret("convctl plan conversions > plan.md").is_none());

    let argv = convctl_invocations(
        "mkdir -p x && convctl --shard \"$SHARD/$SHARDS\" plan --format markdown > out.md",
    )
    .unwrap();
    assert_eq!(
        argv,
        vec![vec![
            "convctl", "--shard", "1/4", "plan", "--format", "markdown"
        ]]
    );
    assert!(Cli::try_parse_from(&argv[0]).is_ok());

    let bad = convctl_invocations("convctl plan --frmat markdown").unwrap();
    assert!(Cli::try_parse_from(&bad[0]).is_err());
    let unknown_variable = convctl_invocations("convctl --shard \"$K/$N\" drift").unwrap();
    assert!(Cli::try_parse_from(&unknown_variable[0]).is_err());
    assert!(
        convctl_invocations("echo 'convctl is great'")
            .unwrap()
            .is_empty()
    );
    assert!(
        convctl_invocations("test -x .convctl/bin/convctl || cargo install --locked --path .")
            .unwrap()
            .is_empty()
    );
}
