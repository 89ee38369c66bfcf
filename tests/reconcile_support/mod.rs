//! Shared harness of the reconcile end-to-end tests: an in-process emulator on an ephemeral
//! loopback port, a temporary working directory for manifests and plans, and the real
//! `convctl` binary pointed at the emulator (`--api-base`, `META_ACCESS_TOKEN`). State is
//! changed over HTTP, as a user (or Events Manager) would.
#![allow(dead_code)]

use convctl::emulator::{EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const TOKEN: &str = "test-token-do-not-print";

/// `CONVCTL_TEST_STRICT=1`: start every emulator with `--strict`.
pub fn strict_profile() -> bool {
    std::env::var("CONVCTL_TEST_STRICT").is_ok_and(|v| v == "1")
}

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub emulator: Option<RunningEmulator>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "the token leaked:\n{run}"
        );
        run
    }

    /// The last line of stdout.
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    pub fn new() -> Env {
        Env::with(EmulatorConfig::default())
    }

    /// The emulator with `config`; under `CONVCTL_TEST_STRICT=1` (scripts/test runs the
    /// reconcile tests a second time so) with its strict profile, which must give the same
    /// results.
    pub fn with(mut config: EmulatorConfig) -> Env {
        config.strict |= strict_profile();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = rt
            .block_on(convctl::emulator::start(
                config,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        Env {
            rt,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> String {
        self.emulator.as_ref().unwrap().base_url()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a manifest (relative to the working directory).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `convctl --api-base <emulator> ARGS` in the working directory, stdin closed (not a
    /// terminal), with a token in the environment.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_convctl"))
            .arg("--api-base")
            .arg(self.base())
            .args(args)
            .current_dir(self.dir.path())
            .env("META_ACCESS_TOKEN", TOKEN)
            .env_remove("CONVCTL_API_BASE")
            .env_remove("CONVCTL_API_VERSION")
            .env_remove("META_APP_SECRET")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run::from(out)
    }

    /// Puts conversions straight into the emulator (`POST /_emulator/conversions`); their ids.
    pub fn seed(&self, conversions: Value) -> Vec<String> {
        let url = format!("{}/_emulator/conversions", self.base());
        let answer: Value = self.rt.block_on(async {
            self.http
                .post(url)
                .json(&conversions)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        answer["ids"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// A Graph API call as a user would make it (form body, bearer token).
    pub fn graph(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let url = format!("{}/v26.0/{path}", self.base());
        self.rt.block_on(async {
            self.http
                .request(method, url)
                .bearer_auth(TOKEN)
                .form(form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    /// The live, non-archived conversions of an account, as the API lists them.
    pub fn live(&self, account: &str) -> Vec<Value> {
        let path = format!(
            "{account}/customconversions?fields=id,name,description,rule,custom_event_type,default_conversion_value,is_archived&limit=100"
        );
        let url = format!("{}/v26.0/{path}", self.base());
        let mut out = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next {
            let page: Value = self.rt.block_on(async {
                self.http
                    .get(url)
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            });
            out.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["is_archived"] != json!(true))
                    .cloned(),
            );
            next = page["paging"]["next"].as_str().map(str::to_string);
        }
        out
    }

    pub fn live_names(&self, account: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .live(account)
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    pub fn id_of(&self, account: &str, name: &str) -> String {
        let live = self.live(account);
        let found: Vec<&Value> = live.iter().filter(|c| c["name"] == json!(name)).collect();
        assert_eq!(found.len(), 1, "{name} in {live:?}");
        found[0]["id"].as_str().unwrap().to_string()
    }

    pub fn stats(&self) -> Value {
        self.emulator.as_ref().unwrap().stats()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(e) = self.emulator.take() {
            let _ = self.rt.block_on(e.shutdown());
        }
    }
}

/// Replaces the volatile parts of output (ids, temp paths, fingerprints) for snapshots.
pub fn redact(text: &str, dir: &Path) -> String {
    redact_tokens(&text.replace(&dir.display().to_string(), "[dir]"))
}

/// Digit runs of 15+ characters (conversion ids) → `[id]`; 64-hex fingerprints → `[sha256]`.
fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.len() >= 15 && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str("[id]");
        } else if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str("[sha256]");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            token.push(ch);
        } else {
            flush(&mut token, &mut out);
            out.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out
}
