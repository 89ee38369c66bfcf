//! The token, the app secret and the `appsecret_proof` never leave the Authorization header
//! and the proof parameter: every command, with `--verbose`, on success and on every failure
//! path (faults, lost answers, wrong token, missing permission proof, unreachable API), prints
//! none of them, and no file it writes (plans, imported manifests) holds them.

mod client_common;

use client_common::{APP_SECRET, CANARY};
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use std::path::Path;
use std::process::{Command, Stdio};

struct Env {
    rt: tokio::runtime::Runtime,
    emulator: RunningEmulator,
    dir: tempfile::TempDir,
    proof: String,
}

fn proof() -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(CANARY.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Env {
    fn new(config: EmulatorConfig) -> Env {
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
        let dir = tempfile::tempdir().unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/conversions");
        std::fs::create_dir_all(dir.path().join("conversions")).unwrap();
        for entry in std::fs::read_dir(examples).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                dir.path()
                    .join("conversions")
                    .join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("token"), format!("{CANARY}\n")).unwrap();
        Env {
            rt,
            emulator,
            dir,
            proof: proof(),
        }
    }

    /// Runs `convctl --verbose --api-base BASE ARGS` with the canary token (from the
    /// environment, or from a file when `token_file`) and app secret; asserts nothing leaked.
    fn run(&self, base: &str, token: &str, args: &[&str]) -> (i32, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_convctl"));
        command
            .arg("--verbose")
            .arg("--api-base")
            .arg(base)
            .args(args)
            .current_dir(self.dir.path())
            .env("META_APP_SECRET", APP_SECRET)
            .env_remove("CONVCTL_API_BASE")
            .env_remove("CONVCTL_API_VERSION")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        if token == "file" {
            command
                .arg("--access-token-file")
                .arg(self.dir.path().join("token"))
                .env_remove("META_ACCESS_TOKEN");
        } else {
            command.env("META_ACCESS_TOKEN", token);
        }
        let out = command.output().unwrap();
        let text = format!(
            "{args:?} exit {:?}\n--- stdout\n{}--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.assert_clean(&text, &format!("output of {args:?}"));
        (out.status.code().unwrap_or(-1), text)
    }

    fn assert_clean(&self, text: &str, what: &str) {
        for secret in [CANARY, APP_SECRET, self.proof.as_str()] {
            assert!(
                !text.contains(secret),
                "a secret leaked into the {what}:\n{text}"
            );
        }
        assert!(
            !text.contains("access_token="),
            "a token parameter in the {what}:\n{text}"
        );
    }

    /// Every file under the working directory (plans, imported manifests).
    fn assert_files_clean(&self) {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out)
                } else {
                    out.push(path)
                }
            }
        }
        let mut files = Vec::new();
        walk(self.dir.path(), &mut files);
        for file in files.iter().filter(|f| f.file_name().unwrap() != "token") {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            self.assert_clean(&text, &file.display().to_string());
        }
    }
}

#[test]
fn no_command_prints_or_stores_a_secret_on_success_or_under_faults() {
    let env = Env::new(EmulatorConfig {
        tokens: vec![CANARY.to_string()],
        app_secret: Some(APP_SECRET.to_string()),
        fault_rate: 0.15,
        drop_after_commit: 0.15,
        seed: Some(11),
        ..EmulatorConfig::default()
    });
    let base = env.emulator.base_url();
    let (code, text) = env.run(&base, CANARY, &["validate"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = env.run(&base, CANARY, &["plan", "--out", "plan.json"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("graph: GET /v26.0/act_")
            || text.contains("graph: POST /v26.0/ (first pages of"),
        "verbose shows requests: {text}"
    );
    let (code, text) = env.run(
        &base,
        "file",
        &["apply", "--plan", "plan.json", "--auto-approve"],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = env.run(&base, CANARY, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{text}");
    let (_, text) = env.run(&base, CANARY, &["drift", "--format", "markdown"]);
    assert!(!text.is_empty());
    let (code, text) = env.run(
        &base,
        CANARY,
        &["import", "act_3100000001", "--out", "imported"],
    );
    assert_eq!(code, 0, "{text}");
    env.assert_files_clean();
    let stats = env.emulator.stats();
    assert_eq!(
        (
            stats["auth"]["query"].as_u64(),
            stats["auth"]["form"].as_u64()
        ),
        (Some(0), Some(0)),
        "{stats}"
    );
    assert!(stats["auth"]["header"].as_u64().unwrap() > 10, "{stats}");
    env.rt.block_on(env.emulator.shutdown()).unwrap();
}

#[test]
fn no_failure_path_prints_a_secret() {
    // The emulator knows another token and needs another app secret: every call is refused.
    let env = Env::new(EmulatorConfig {
        tokens: vec!["some-other-token-entirely".to_string()],
        app_secret: Some("another-app-secret".to_string()),
        ..EmulatorConfig::default()
    });
    let base = env.emulator.base_url();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["drift"],
        &["import", "act_3100000001", "--out", "imported"],
    ] {
        let (code, text) = env.run(&base, CANARY, args);
        assert_eq!(code, 1, "{text}");
    }
    // A token with a refused proof, via the token file.
    let (code, _) = env.run(&base, "file", &["plan"]);
    assert_eq!(code, 1);
    // Nothing listening: connection refused (bounded by the retry policy's first attempts).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (code, text) = env.run(&closed, CANARY, &["drift", "--account", "act_3100000001"]);
    assert_eq!(code, 1, "{text}");
    // No token at all: the message says how to provide one.
    let mut command = Command::new(env!("CARGO_BIN_EXE_convctl"));
    let out = command
        .args(["--api-base", &base, "plan"])
        .current_dir(env.dir.path())
        .env_remove("META_ACCESS_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("META_ACCESS_TOKEN") && stderr.contains("--sandbox"),
        "{stderr}"
    );
    env.assert_files_clean();
    env.rt.block_on(env.emulator.shutdown()).unwrap();
}
