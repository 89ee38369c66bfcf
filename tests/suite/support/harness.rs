//! The harness of the end-to-end tests: an in-process emulator on an ephemeral loopback port
//! (served from its own runtime, so the tests stay synchronous), a temporary working directory
//! for manifests and plans, and the real `convctl` binary pointed at the emulator
//! (`--api-base`, [`TOKEN`] in `META_ACCESS_TOKEN`). State is changed over HTTP, as a user (or
//! Events Manager) would.

use super::{Convctl, Run, TOKEN, emulator};
use convctl::emulator::{EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub struct Harness {
    rt: tokio::runtime::Runtime,
    emulator: Option<RunningEmulator>,
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(EmulatorConfig::default())
    }

    /// The emulator with `config`; under `CONVCTL_TEST_STRICT=1` with its strict profile,
    /// which must give the same results (see [`super::profile`]).
    pub fn with(config: EmulatorConfig) -> Harness {
        let rt = emulator::runtime();
        let emulator = rt.block_on(emulator::start(config));
        Harness::around(rt, emulator)
    }

    /// The emulator with exactly the profile `config` names, for a test that compares the two
    /// profiles itself.
    pub fn with_profile(config: EmulatorConfig) -> Harness {
        let rt = emulator::runtime();
        let emulator = rt.block_on(emulator::start_exactly(config)).unwrap();
        Harness::around(rt, emulator)
    }

    fn around(rt: tokio::runtime::Runtime, emulator: RunningEmulator) -> Harness {
        Harness {
            rt,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
        }
    }

    pub fn emulator(&self) -> &RunningEmulator {
        self.emulator.as_ref().expect("the emulator runs")
    }

    pub fn base(&self) -> String {
        self.emulator().base_url()
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (relative to the working directory).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Copies the example manifests into `conversions/`.
    pub fn copy_examples(&self) {
        copy_examples(self.dir.path());
    }

    /// `convctl --api-base <emulator>` in the working directory, with the token.
    pub fn convctl(&self) -> Convctl<'static> {
        Convctl::new()
            .against(&self.base())
            .current_dir(self.dir.path())
    }

    /// Runs `convctl --api-base <emulator> ARGS` in the working directory, today's date (UTC,
    /// as convctl dates the conversions it retires: `[retired 2026-12-06] ...`) shown as
    /// `[today]` in its snapshot.
    pub fn run_dated(&self, args: &[&str]) -> Run {
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()
            .to_string();
        self.convctl()
            .filter(&regex::escape(&today), "[today]")
            .args(args)
            .run()
    }

    /// Runs `convctl --api-base <emulator> ARGS` in the working directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.convctl().args(args).run()
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

    /// Archives a conversion, as deleting it in Events Manager does.
    pub fn archive(&self, id: &str) {
        let marks = convctl::emulator::ConversionMarks {
            is_archived: Some(true),
            ..Default::default()
        };
        assert!(
            self.emulator().mark_conversion(id, marks),
            "no conversion {id}"
        );
    }

    /// Flags a conversion (`is_unavailable`), as Meta does to one it finds suggesting health or
    /// financial status.
    pub fn flag(&self, id: &str) {
        let marks = convctl::emulator::ConversionMarks {
            is_unavailable: Some(true),
            ..Default::default()
        };
        assert!(
            self.emulator().mark_conversion(id, marks),
            "no conversion {id}"
        );
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

    /// One page of a listing. An emulator injecting faults (`fault_rate`) answers some reads
    /// with an error, a broken body or a dropped connection: those are asked again, so that a
    /// test's look at the live state never fails on a fault meant for convctl.
    fn page(&self, url: &str) -> Value {
        let mut last = String::new();
        for _ in 0..50 {
            let answer = self.rt.block_on(async {
                let response = self.http.get(url).bearer_auth(TOKEN).send().await?;
                let status = response.status();
                let text = response.text().await?;
                Ok::<_, reqwest::Error>((status, text))
            });
            match answer {
                Ok((status, text)) if status.is_success() => {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(page) if page["data"].is_array() => return page,
                        _ => last = format!("HTTP {status}: {text}"),
                    }
                }
                Ok((status, text)) => last = format!("HTTP {status}: {text}"),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the emulator never listed {url}: {last}");
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
            let page = self.page(&url);
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
        self.emulator().stats()
    }

    /// Stops the emulator and checks that it stopped cleanly.
    pub fn shutdown(mut self) {
        let emulator = self.emulator.take().expect("the emulator runs");
        self.rt.block_on(emulator.shutdown()).unwrap();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(e) = self.emulator.take() {
            let _ = self.rt.block_on(e.shutdown());
        }
    }
}

/// Copies the example manifests (`examples/conversions`) into `dir/conversions/`.
pub fn copy_examples(dir: &Path) {
    let conversions = dir.join("conversions");
    std::fs::create_dir_all(&conversions).unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/conversions");
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, conversions.join(path.file_name().unwrap())).unwrap();
    }
}
