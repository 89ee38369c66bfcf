//! Outside programs that some tests drive (mandoc, actionlint, check-jsonschema, shellcheck,
//! yaml-language-server, Chromium), in cargo's `requires` pattern: a test asks for its tool
//! with [`require`] and runs it from the path it gets. When the tool is missing, a developer's
//! run skips that test with a note on the terminal, and a CI run (`CI` set, as `.ci/run` does)
//! fails it: `.ci/run` installs every tool the suite drives (`scripts/install-test-tools`), so
//! no check passes there by not running.
//!
//! A tool is looked for on `PATH`, then in `target/test-tools/bin`, where
//! `scripts/install-test-tools` links what it installs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The path of `tool` when it is installed. When it is not: in CI, the test fails; elsewhere,
/// a skip note goes straight to the terminal (libtest's capture would hide an `eprintln!` of a
/// passing test) and the caller returns.
#[track_caller]
pub fn require(tool: &str) -> Option<PathBuf> {
    if let Some(path) = find(tool) {
        return Some(path);
    }
    let install = "scripts/install-test-tools installs it";
    if in_ci() {
        panic!("{tool} is not installed, and CI runs every test: {install} (.ci/run runs it)");
    }
    let caller = std::panic::Location::caller();
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {test} ({caller}): {tool} is not installed; {install}, and CI fails without it"
    );
    None
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false` (GitHub, GitLab
/// and this project's `.ci/run` set `CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// `tool` on `PATH`, or in `target/test-tools/bin`.
fn find(tool: &str) -> Option<PathBuf> {
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([installed])
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What headless Chromium made of a local HTML file: the page as a PNG screenshot, and the DOM
/// after parsing (scripts would have run by then), serialised.
pub struct Rendering {
    pub png: Vec<u8>,
    pub dom: String,
}

/// Renders `page` (a local HTML file) with headless Chromium in a `width` x `height` window, a
/// fresh profile each time and every background connection off (the machine reaches no other
/// host), bounded in time.
#[track_caller]
pub fn render_html(chromium: &Path, page: &Path, width: u32, height: u32) -> Rendering {
    let work = tempfile::tempdir().unwrap();
    let screenshot = work.path().join("page.png");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let run = |mode: &[String], profile: &str| {
        let profile = work.path().join(profile);
        let mut command = std::process::Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(mode)
            .arg(&url);
        output_within(command, Duration::from_secs(90))
    };
    let shot = run(
        &[
            format!("--screenshot={}", screenshot.display()),
            format!("--window-size={width},{height}"),
        ],
        "profile-screenshot",
    );
    assert!(shot.status.success(), "chromium --screenshot: {shot:?}");
    let dom = run(&["--dump-dom".to_string()], "profile-dom");
    assert!(dom.status.success(), "chromium --dump-dom: {dom:?}");
    Rendering {
        png: std::fs::read(&screenshot).expect("chromium wrote the screenshot"),
        dom: String::from_utf8_lossy(&dom.stdout).into_owned(),
    }
}

/// Runs `command` to the end with its output collected; kills it (and fails) after `limit`.
#[track_caller]
pub fn output_within(mut command: std::process::Command, limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |mut file: std::fs::File| {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes
    };
    std::process::Output {
        status,
        stdout: read(out),
        stderr: read(err),
    }
}
