//! Shared pieces of the CI-template tests: the templates, their steps' scripts, and a runner
//! that executes a script as GitHub Actions and GitLab CI do (`bash -e -o pipefail`, a clean
//! environment, the built `convctl` first on `PATH`) in a temporary repository holding the
//! example manifests.

use super::{TOKEN, binary::bin, copy_examples};
use serde_json::Value as Yaml;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const SHARDS: u64 = 3;

pub fn template(name: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci/github")
        .join(name);
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The GitLab pipeline template.
pub fn gitlab_pipeline() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/gitlab/.gitlab-ci.yml");
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A GitLab job's `script` (a list of lines or blocks), as one bash script.
pub fn gitlab_script(pipeline: &Yaml, job: &str) -> String {
    pipeline[job]["script"]
        .as_array()
        .unwrap_or_else(|| panic!("no script in GitLab job {job:?}"))
        .iter()
        .map(|line| line.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Runner {
    dir: tempfile::TempDir,
    base: String,
    bin_dir: PathBuf,
}

impl Runner {
    pub fn new(base: String) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        copy_examples(dir.path());
        let bin_dir = bin().parent().unwrap().to_path_buf();
        Runner { dir, base, bin_dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Runs a step's script as GitHub does (`bash -e -o pipefail`), with the job's environment.
    pub fn bash(&self, script: &str, env: &[(&str, String)]) -> (i32, String, String) {
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .args([
                "--noprofile",
                "--norc",
                "-e",
                "-o",
                "pipefail",
                "-c",
                script,
            ])
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("META_ACCESS_TOKEN", TOKEN)
            .env("CONVCTL_API_BASE", &self.base)
            .env("SHARDS", SHARDS.to_string())
            .env("GITHUB_SHA", "0123456789abcdef")
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", "acme/ads")
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .env("GITHUB_OUTPUT", self.path("output.txt"));
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().expect("bash runs");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "the token leaked"
        );
        (output.status.code().unwrap_or(-1), stdout, stderr)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }
}
/// The composite action at the top of the repository (action.yml), which the GitHub
/// templates use.
pub fn action() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The action's step called `name`: its `run` script and its `env:` as the runner would set
/// it for `inputs` (an input not given takes its default; `${{ inputs.x }}` is the only
/// expression resolved: any other one is left out, for the test to set).
pub fn action_step(name: &str, inputs: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let action = action();
    let step = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step {name:?} in action.yml"))
        .clone();
    let input = |key: &str| -> Option<String> {
        inputs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .or_else(|| {
                action["inputs"][key]["default"]
                    .as_str()
                    .map(str::to_string)
            })
    };
    let mut env = Vec::new();
    if let Some(map) = step["env"].as_object() {
        for (k, v) in map {
            let value = v.as_str().unwrap_or_default().trim();
            let resolved = value
                .strip_prefix("${{ inputs.")
                .and_then(|rest| rest.strip_suffix(" }}"))
                .map(|key| input(key).unwrap_or_default())
                .or_else(|| (!value.contains("${{")).then(|| value.to_string()));
            if let Some(resolved) = resolved {
                env.push((k.clone(), resolved));
            }
        }
    }
    (step["run"].as_str().unwrap().to_string(), env)
}

impl Runner {
    /// Runs a step of the action with its env (see [`action_step`]) and `extra` on top.
    pub fn action_step(
        &self,
        name: &str,
        inputs: &[(&str, &str)],
        extra: &[(&str, String)],
    ) -> (i32, String, String) {
        let (script, env) = action_step(name, inputs);
        let mut all: Vec<(&str, String)> =
            env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        all.extend(extra.iter().cloned());
        self.bash(&script, &all)
    }
}
