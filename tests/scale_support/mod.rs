//! Shared harness of the scale benchmark (`benches/scale.rs`) and the reliability tests: the
//! emulator as a *separate process* (`convctl emulator`), so that neither its work nor its
//! tokio runtime is counted against (or shares threads with) the convctl process under test,
//! and so a test can SIGKILL the convctl child without touching the emulator; and running the
//! real binary while measuring its wall time and peak memory (`wait4` rusage of that child).
//!
//! It talks to the emulator's test routes (`/_emulator/*`) only to seed and inspect state; the
//! process under test talks Graph API like a user's would.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The token every child gets; asserted never to appear in output.
pub const TOKEN: &str = "scale-canary-token-7f3a9c";

/// The convctl binary cargo built for this test or bench target.
pub fn convctl() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_convctl"))
}

/// `convctl emulator` running in its own process.
pub struct ChildEmulator {
    child: Child,
    pub base: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl ChildEmulator {
    /// Starts `convctl emulator --listen 127.0.0.1:0 EXTRA...` and waits for its address.
    pub fn start(extra: &[&str]) -> ChildEmulator {
        Self::start_logged(extra, None)
    }

    /// Same, with the emulator's stderr written to `log` (to check what it prints).
    pub fn start_logged(extra: &[&str], log: Option<&Path>) -> ChildEmulator {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("emulator log")),
            None => Stdio::inherit(),
        };
        // CONVCTL_TEST_STRICT=1 (scripts/test's second run): the strict profile.
        let strict = std::env::var("CONVCTL_TEST_STRICT").is_ok_and(|v| v == "1")
            && !extra.contains(&"--strict");
        let mut child = Command::new(convctl())
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(extra)
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
            child,
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
    pub fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
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

    /// A Graph API call with the token (form body).
    pub fn graph(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let url = format!("{}/v26.0/{path}", self.base);
        self.rt.block_on(async {
            self.http
                .request(method, url)
                .bearer_auth(TOKEN)
                .form(form)
                .send()
                .await
                .expect("graph call")
                .json()
                .await
                .expect("graph answer is JSON")
        })
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        // SIGTERM lets it stop cleanly; it is our own child, killed by its pid only.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One finished run of the convctl binary.
pub struct Measured {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub wall: Duration,
    /// Peak resident set size of that process, in KiB. From `/usr/bin/time` when
    /// [`Invocation::measure_with_time`] is set (exact); else `ru_maxrss` from `wait4`, which
    /// on Linux also counts the *parent's* memory at the time of the fork, so it is only an
    /// upper bound.
    pub max_rss_kib: u64,
    /// CPU time (user + system) of the process.
    pub cpu: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |s: &str| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        write!(
            f,
            "exit {:?} signal {:?} in {:?}\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            self.code,
            self.signal,
            self.wall,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}

/// A convctl invocation against an emulator, in a working directory.
pub struct Invocation<'a> {
    pub api_base: &'a str,
    pub dir: &'a Path,
    pub args: Vec<String>,
    /// Extra environment (e.g. META_APP_SECRET).
    pub env: Vec<(String, String)>,
    /// Polled about every millisecond with the time since spawn while the child runs; when it
    /// says true the child gets SIGKILL (crash tests).
    pub kill_when: Option<&'a dyn Fn(Duration) -> bool>,
    /// Run under `/usr/bin/time -f "%M %U %S"` for an exact peak RSS (benchmarks).
    pub measure_with_time: bool,
}

impl<'a> Invocation<'a> {
    pub fn new(api_base: &'a str, dir: &'a Path, args: &[&str]) -> Self {
        Invocation {
            api_base,
            dir,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            kill_when: None,
            measure_with_time: false,
        }
    }

    /// Runs it with stdout/stderr going to files (so huge plans never block a pipe), reaps it
    /// with `wait4` to read its own peak memory.
    pub fn run(&self) -> Measured {
        let out_path = self
            .dir
            .join(format!(".out-{}-{}", std::process::id(), unique()));
        let err_path = out_path.with_extension("err");
        let stdout = std::fs::File::create(&out_path).expect("stdout file");
        let stderr = std::fs::File::create(&err_path).expect("stderr file");
        let time_path = out_path.with_extension("time");
        let mut command = if self.measure_with_time {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M %U %S", "-o"])
                .arg(&time_path)
                .arg(convctl());
            c
        } else {
            Command::new(convctl())
        };
        command
            .arg("--api-base")
            .arg(self.api_base)
            .args(&self.args)
            .current_dir(self.dir)
            .env("META_ACCESS_TOKEN", TOKEN)
            .env_remove("CONVCTL_API_BASE")
            .env_remove("CONVCTL_API_VERSION")
            .env_remove("META_APP_SECRET")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let started = Instant::now();
        let child = command.spawn().expect("spawn convctl");
        let pid = child.id() as libc::pid_t;
        if let Some(kill_when) = self.kill_when {
            loop {
                // Not reaped yet: WNOWAIT keeps it for wait4 below.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let r = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid as libc::id_t,
                        &mut info,
                        libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                    )
                };
                let exited = r == 0 && unsafe { info.si_pid() } == pid;
                if exited {
                    break;
                }
                if kill_when(started.elapsed()) {
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let mut status: libc::c_int = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(r, pid, "wait4 failed: {}", std::io::Error::last_os_error());
        let wall = started.elapsed();
        // The child is reaped: make sure std never waits on it again.
        std::mem::forget(child);
        let (code, signal) = if libc::WIFEXITED(status) {
            (Some(libc::WEXITSTATUS(status)), None)
        } else if libc::WIFSIGNALED(status) {
            (None, Some(libc::WTERMSIG(status)))
        } else {
            (None, None)
        };
        let read = |p: &Path| {
            let text = std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned());
            let _ = std::fs::remove_file(p);
            text.unwrap_or_default()
        };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        let mut max_rss_kib = usage.ru_maxrss as u64;
        let mut cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
        if self.measure_with_time {
            // `time` may print "Command exited with non-zero status N" first.
            let text = read(&time_path);
            let last = text.lines().last().unwrap_or("").to_string();
            let f: Vec<f64> = last
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0.0))
                .collect();
            assert_eq!(f.len(), 3, "unexpected /usr/bin/time output: {text:?}");
            max_rss_kib = f[0] as u64;
            cpu = Duration::from_secs_f64(f[1] + f[2]);
        }
        Measured {
            code,
            signal,
            wall,
            max_rss_kib,
            cpu,
            stdout: read(&out_path),
            stderr: read(&err_path),
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One conversion of a generated manifest or seed: distinct name and rule per index.
pub fn conversion_name(i: usize) -> String {
    format!("Conversion {i:03}")
}

pub fn conversion_needle(account: &str, i: usize, variant: u32) -> String {
    format!("/{account}/p{i}/v{variant}")
}

/// Seed documents for `count` conversions of `account` (as a manifest from
/// [`manifest_document`] with the same variant declares them).
pub fn seed_account(account: &str, count: usize, variant: u32) -> Vec<Value> {
    (0..count)
        .map(|i| {
            serde_json::json!({
                "account": account,
                "name": conversion_name(i),
                "custom_event_type": "PURCHASE",
                "default_conversion_value": (i % 7) as f64,
                "rule": {"url": {"i_contains": conversion_needle(account, i, variant)}},
            })
        })
        .collect()
}

/// A manifest document declaring `count` conversions of `account`.
pub fn manifest_document(account: &str, count: usize, variant: u32) -> String {
    let mut text = format!("account: {account}\nconversions:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  - name: {}\n    custom_event_type: PURCHASE\n    default_conversion_value: {}\n    rule: {{url: {{i_contains: \"{}\"}}}}\n",
            conversion_name(i),
            i % 7,
            conversion_needle(account, i, variant)
        ));
    }
    text
}
