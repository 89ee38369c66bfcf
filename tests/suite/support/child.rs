//! `convctl emulator` running in its own process, so that neither its work nor its tokio
//! runtime is counted against (or shares threads with) the convctl process under test, and so
//! a test can SIGKILL the convctl child without touching the emulator.
//!
//! It talks to the emulator's test routes (`/_emulator/*`) only to seed and inspect state; the
//! process under test talks Graph API like a user's would. Used by `benches/scale.rs` too (by
//! path), so it needs nothing of the suite but the sibling `binary` and `profile` modules.

#![allow(unsafe_code)] // libc: signals and reaping child processes with their resource usage

use super::binary::bin;
use super::profile;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct ChildEmulator {
    child: Option<Child>,
    pub base: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl ChildEmulator {
    /// Starts `convctl emulator --listen 127.0.0.1:0 EXTRA...` and waits for its address.
    pub fn start(extra: &[&str]) -> ChildEmulator {
        Self::spawn(&[&["--listen", "127.0.0.1:0"], extra].concat(), None)
    }

    /// Same, with the emulator's stderr written to `log` (to check what it prints).
    pub fn start_logged(extra: &[&str], log: &Path) -> ChildEmulator {
        Self::spawn(&[&["--listen", "127.0.0.1:0"], extra].concat(), Some(log))
    }

    /// Same as [`start`](Self::start), with exactly the profile `extra` names (lenient unless
    /// it says `--strict`), for a test whose checks are one profile's: not recorded for the
    /// strict rerun (see `profile`).
    pub fn start_with_profile(extra: &[&str]) -> ChildEmulator {
        Self::spawn_as(&[&["--listen", "127.0.0.1:0"], extra].concat(), None, true)
    }

    /// `convctl emulator ARGS` exactly as given (no `--listen`: its default address), stderr
    /// to `log` when given.
    pub fn spawn(args: &[&str], log: Option<&Path>) -> ChildEmulator {
        Self::spawn_as(args, log, false)
    }

    fn spawn_as(args: &[&str], log: Option<&Path>, named_profile: bool) -> ChildEmulator {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("emulator log")),
            None => Stdio::inherit(),
        };
        // Under CONVCTL_TEST_STRICT=1, the strict profile (see `profile`); one started strict
        // already needs no second run.
        let named_strict = named_profile || args.contains(&"--strict");
        if !named_strict {
            profile::record_emulator_start();
        }
        let strict = profile::strict() && !named_strict;
        let mut child = Command::new(bin())
            .env("CONVCTL_TODAY", super::binary::TODAY)
            .arg("emulator")
            .args(args)
            .args(strict.then_some("--strict"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn convctl emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator's first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {line:?}"))
            .to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        ChildEmulator {
            child: Some(child),
            base,
            rt,
            http: reqwest::Client::new(),
        }
    }

    fn control(&self, method: reqwest::Method, route: &str, body: Option<&Value>) -> Value {
        let url = format!("{}/_emulator/{route}", self.base);
        self.rt.block_on(async {
            let mut request = self.http.request(method, &url);
            if let Some(b) = body {
                request = request.json(b);
            }
            let response = request.send().await.expect("emulator control route");
            let status = response.status();
            let text = response.text().await.expect("control answer");
            assert!(status.is_success(), "{url}: {status}: {text}");
            serde_json::from_str(&text).expect("control answer is JSON")
        })
    }

    /// Inserts conversions straight into the state (no latency, faults or cap); their ids.
    pub fn seed(&self, conversions: &Value) -> Vec<String> {
        let answer = self.control(reqwest::Method::POST, "conversions", Some(conversions));
        answer["ids"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn stats(&self) -> Value {
        self.control(reqwest::Method::GET, "stats", None)
    }

    /// The whole state document: every conversion, archived ones included.
    pub fn state(&self) -> Value {
        self.control(reqwest::Method::GET, "state", None)
    }

    /// Changes latency / fault rates while running.
    pub fn set_faults(&self, patch: &Value) {
        self.control(reqwest::Method::POST, "faults", Some(patch));
    }

    /// CPU time (user + system) the emulator process has used so far, from /proc.
    #[cfg_attr(test, allow(dead_code, reason = "benches/scale.rs reports it"))]
    pub fn cpu(&self) -> Duration {
        let pid = self.child.as_ref().expect("running").id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name (which may contain spaces) end at the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<u64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // utime and stime are fields 14 and 15 of the line (11 and 12 after the ')').
        let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / hz)
    }

    /// Sends `signal` (it is our own child, signalled by its pid only) and waits up to
    /// `within` for it to exit; `None` when it did not.
    pub fn stop(&mut self, signal: libc::c_int, within: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        // SIGTERM lets it stop cleanly.
        self.stop(libc::SIGTERM, Duration::from_secs(5));
    }
}
