//! The `convctl` command builder every test (and `benches/scale.rs`) runs the real binary with,
//! in the style of casey/just's `Test::new().args(..).run()`:
//!
//! ```ignore
//! let run = Convctl::new().against(&base).current_dir(dir).args(["plan"]).run();
//! assert_eq!(run.code, 0, "{run}");
//! ```
//!
//! The environment starts clean (no token, app secret or API base from the caller's shell,
//! `NO_COLOR=1`, stdin empty). Output goes to files, so a huge plan never blocks on a pipe, and
//! the child is reaped with `wait4` to read its own CPU time and peak memory. Every run is
//! bounded in time, and asserted never to print [`TOKEN`] or [`APP_SECRET`].
//!
//! Self-contained (std, libc, tempfile, shell-words, and the sibling `profile`):
//! `benches/scale.rs` includes this file by path.

#![allow(unsafe_code)] // libc: signals and reaping child processes with their resource usage

use super::profile;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// The access token the tests give convctl (and the emulators accept); a canary: no output
/// may contain it.
pub const TOKEN: &str = "EAAB-canary-7f3c9d1e-token";
/// The app secret the tests give convctl where one is needed; a canary as well.
pub const APP_SECRET: &str = "app-secret-canary-51a2";

/// The day every test's convctl and emulator judge the API version calendar by
/// (`CONVCTL_TODAY`), so that no test depends on the real date; a test of the calendar sets
/// its own.
pub const TODAY: &str = "2026-12-06";

/// How long one run may take before it is killed and the test fails.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The convctl binary cargo built for this test or bench target.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_convctl"))
}

/// One convctl invocation, built up then [`run`](Convctl::run).
#[must_use = "a Convctl does nothing until it is run"]
pub struct Convctl<'a> {
    args: Vec<OsString>,
    dir: Option<PathBuf>,
    filters: Vec<(String, String)>,
    env: Vec<(String, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    close_stdout: bool,
    close_stderr: bool,
    terminal: bool,
    measure_with_time: bool,
    timeout: Duration,
    kill_when: Option<&'a (dyn Fn(Duration) -> bool + Sync)>,
}

impl Default for Convctl<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Convctl<'a> {
    pub fn new() -> Self {
        let mut env = Vec::new();
        for name in [
            "META_ACCESS_TOKEN",
            "META_APP_SECRET",
            "CONVCTL_API_BASE",
            "CONVCTL_API_VERSION",
            "CONVCTL_SANDBOX_STRICT",
            "CONVCTL_SANDBOX_REFUSE_DELETES",
            "CONVCTL_SANDBOX_UNIQUE_RULES",
        ] {
            env.push((name.to_string(), None));
        }
        env.push(("NO_COLOR".to_string(), Some("1".into())));
        env.push(("CONVCTL_TODAY".to_string(), Some(TODAY.into())));
        Convctl {
            args: Vec::new(),
            dir: None,
            filters: Vec::new(),
            env,
            stdin: None,
            close_stdout: false,
            close_stderr: false,
            terminal: false,
            measure_with_time: false,
            timeout: DEFAULT_TIMEOUT,
            kill_when: None,
        }
    }

    /// A snapshot filter of this run's own (a regular expression and its replacement), for
    /// what varies from run to run that the suite's filters do not know (today's date).
    pub fn filter(mut self, pattern: &str, replacement: &str) -> Self {
        self.filters
            .push((pattern.to_string(), replacement.to_string()));
        self
    }

    /// `--api-base BASE` with [`TOKEN`] in `META_ACCESS_TOKEN`: convctl pointed at an emulator.
    pub fn against(self, base: &str) -> Self {
        self.args(&["--api-base", base]).token(TOKEN)
    }

    pub fn token(self, token: &str) -> Self {
        self.env("META_ACCESS_TOKEN", token)
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.push((name.to_string(), Some(value.into())));
        self
    }

    /// What convctl reads on stdin (empty by default).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Gives convctl a stdout whose reader is gone before it starts, as `convctl ... | head -0`
    /// does: every write to it fails (EPIPE), from the first byte.
    pub fn close_stdout(mut self) -> Self {
        self.close_stdout = true;
        self
    }

    /// The same for stderr: the reader of errors went away (the run's `stderr` is empty).
    pub fn close_stderr(mut self) -> Self {
        self.close_stderr = true;
        self
    }

    /// Runs convctl on a pseudo-terminal made by util-linux `script`; stdout is the terminal's.
    pub fn on_terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// Runs it under `/usr/bin/time -f "%M %U %S"` for an exact peak RSS (benchmarks).
    #[cfg_attr(test, allow(dead_code, reason = "benches/scale.rs measures with it"))]
    pub fn measure_with_time(mut self) -> Self {
        self.measure_with_time = true;
        self
    }

    #[cfg_attr(test, allow(dead_code, reason = "benches/scale.rs runs longer"))]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Polled about every millisecond with the time since spawn while the child runs; when it
    /// says true the child gets SIGKILL (crash tests).
    pub fn kill_when(mut self, when: &'a (dyn Fn(Duration) -> bool + Sync)) -> Self {
        self.kill_when = Some(when);
        self
    }

    fn command(&self, time_file: &Path) -> Command {
        let mut command = if self.terminal {
            let mut line = vec![bin().display().to_string()];
            line.extend(self.args.iter().map(|a| a.to_string_lossy().into_owned()));
            let mut c = Command::new("script");
            c.args(["-qec", &shell_words::join(line), "/dev/null"]);
            c
        } else if self.measure_with_time {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M %U %S", "-o"]).arg(time_file).arg(bin());
            c.args(&self.args);
            c
        } else {
            let mut c = Command::new(bin());
            c.args(&self.args);
            c
        };
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        for (name, value) in &self.env {
            match value {
                Some(v) => command.env(name, v),
                None => command.env_remove(name),
            };
        }
        command
    }

    /// Runs it to the end (or to the kill), reaps it with `wait4`, asserts no secret leaked.
    /// A `--sandbox` run talks to the emulator inside convctl: it is recorded, and strict
    /// under `CONVCTL_TEST_STRICT=1`, like any other emulator (see `profile`).
    pub fn run(mut self) -> Run {
        if self
            .args
            .iter()
            .any(|a| a.to_string_lossy().starts_with("--sandbox"))
        {
            profile::record_emulator_start();
            let named = (self.env.iter())
                .any(|(name, value)| name == "CONVCTL_SANDBOX_STRICT" && value.is_some());
            if profile::strict() && !named {
                self.env
                    .push(("CONVCTL_SANDBOX_STRICT".to_string(), Some("1".into())));
            }
        }
        let temp = |what: &str| tempfile::tempfile().unwrap_or_else(|e| panic!("{what}: {e}"));
        let (mut out, mut err) = (temp("stdout file"), temp("stderr file"));
        let time_file = tempfile::NamedTempFile::new().expect("time file");
        let mut command = self.command(time_file.path());
        let stdin = match &self.stdin {
            Some(input) => {
                let mut file = temp("stdin file");
                file.write_all(input).unwrap();
                file.rewind().unwrap();
                Stdio::from(file)
            }
            None => Stdio::null(),
        };
        let output = |closed: bool, file: &std::fs::File| match closed {
            true => closed_pipe(),
            false => Stdio::from(file.try_clone().unwrap()),
        };
        command
            .stdin(stdin)
            .stdout(output(self.close_stdout, &out))
            .stderr(output(self.close_stderr, &err));
        let started = Instant::now();
        let child = command.spawn().expect("spawn convctl");
        drop(command); // the parent's copies of the closed pipes' writing ends
        let pid = child.id() as libc::pid_t;
        let timed_out = Arc::new(AtomicBool::new(false));
        let (done, watchdog) = std::sync::mpsc::channel::<()>();
        let (timeout, flag) = (self.timeout, timed_out.clone());
        std::thread::spawn(move || {
            if watchdog.recv_timeout(timeout) == Err(RecvTimeoutError::Timeout) && unreaped(pid) {
                flag.store(true, Ordering::SeqCst);
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        if let Some(kill_when) = self.kill_when {
            while waitid_nowait(pid) == Some(false) {
                if kill_when(started.elapsed()) {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
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
        drop(done);
        // The child is reaped: make sure std never waits on it again.
        std::mem::forget(child);
        let (code, signal) = if libc::WIFEXITED(status) {
            (libc::WEXITSTATUS(status), None)
        } else if libc::WIFSIGNALED(status) {
            (-1, Some(libc::WTERMSIG(status)))
        } else {
            (-1, None)
        };
        let read = |file: &mut std::fs::File| {
            let mut bytes = Vec::new();
            file.rewind().unwrap();
            file.read_to_end(&mut bytes).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        let mut max_rss_kib = usage.ru_maxrss as u64;
        let mut cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
        if self.measure_with_time && signal.is_none() {
            // `time` may print "Command exited with non-zero status N" first.
            let text = std::fs::read_to_string(time_file.path()).unwrap_or_default();
            let last = text.lines().last().unwrap_or("").to_string();
            let f: Vec<f64> = last
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0.0))
                .collect();
            assert_eq!(f.len(), 3, "unexpected /usr/bin/time output: {text:?}");
            max_rss_kib = f[0] as u64;
            cpu = Duration::from_secs_f64(f[1] + f[2]);
        }
        let run = Run {
            args: self.args,
            dir: self.dir,
            filters: self.filters,
            code,
            signal,
            wall,
            max_rss_kib,
            cpu,
            stdout: read(&mut out),
            stderr: read(&mut err),
        };
        assert!(
            !timed_out.load(Ordering::SeqCst),
            "convctl ran longer than {:?}:\n{run}",
            self.timeout
        );
        for secret in [TOKEN, APP_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a secret leaked:\n{run}"
            );
        }
        run
    }
}

/// A pipe whose reading end is closed already: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // Close-on-exec: no other child spawned meanwhile inherits the writing end.
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
    unsafe { libc::close(fds[0]) };
    Stdio::from(unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) })
}

/// Whether `pid` is still a child of ours that nobody has reaped (running, or exited).
fn unreaped(pid: libc::pid_t) -> bool {
    waitid_nowait(pid).is_some()
}

/// `Some(exited)` while `pid` is an unreaped child of ours (`WNOWAIT` leaves it so), `None`
/// once reaped.
fn waitid_nowait(pid: libc::pid_t) -> Option<bool> {
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    (r == 0).then(|| unsafe { info.si_pid() } == pid)
}

/// One finished run of the convctl binary.
#[must_use = "a run's outcome is there to be checked"]
pub struct Run {
    args: Vec<OsString>,
    /// The working directory it ran in (the `[dir]` of its snapshot).
    pub dir: Option<PathBuf>,
    /// Its own snapshot filters: (regular expression, replacement).
    pub filters: Vec<(String, String)>,
    /// Exit code; -1 when killed by a signal.
    pub code: i32,
    pub signal: Option<i32>,
    /// Spawn to exit.
    pub wall: Duration,
    /// Peak resident set size of that process, in KiB. From `/usr/bin/time` when
    /// [`Convctl::measure_with_time`] is set (exact); else `ru_maxrss` from `wait4`, which on
    /// Linux also counts the *parent's* memory at the time of the fork, so it is only an upper
    /// bound.
    #[cfg_attr(test, allow(dead_code, reason = "benches/scale.rs reports it"))]
    pub max_rss_kib: u64,
    /// CPU time (user + system) of the process.
    pub cpu: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The arguments it ran with.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code of\n{self}");
        self
    }

    /// Asserts exit code 0, showing the whole run when it differs.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// The last line of stdout.
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |s: &str| {
            let lines: Vec<&str> = s.lines().collect();
            let skipped = lines.len().saturating_sub(200);
            let mut text = lines[skipped..].join("\n");
            if skipped > 0 {
                text = format!("[{skipped} lines before]\n{text}");
            }
            text
        };
        write!(
            f,
            "convctl {:?}: exit {} signal {:?} in {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            self.code,
            self.signal,
            self.wall,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}
