//! Outside programs some tests drive (Chromium), in cargo's `requires` pattern: a test asks for
//! its tool with [`require`]. When it is missing, a developer's run skips that test with a note
//! on the terminal, and a CI run (`CI` set, as `.ci/run` does) fails it: `.ci/run` installs the
//! tools, so no check passes there by not running.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The path of `tool` on `PATH`. When it is missing: in CI the test fails; elsewhere a skip
/// note goes to the terminal and the caller returns.
#[track_caller]
pub fn require(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate));
    if found.is_some() {
        return found;
    }
    if in_ci() {
        panic!("{tool} is not installed, and CI runs every test: .ci/run installs it");
    }
    let caller = std::panic::Location::caller();
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(
        std::io::stderr(),
        "\nSKIPPED {test} ({caller}): {tool} is not installed (.ci/run installs it; CI fails without it)"
    );
    None
}

/// Whether this is a CI run: `CI` set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What headless Chromium made of a local HTML file: a PNG screenshot, and the DOM after
/// parsing, serialised.
pub struct Rendering {
    pub png: Vec<u8>,
    pub dom: String,
}

/// Renders `page` with headless Chromium (a fresh profile each time, background connections
/// off: the machine reaches no other host), `width` pixels wide, bounded in time.
#[track_caller]
pub fn render_html(chromium: &Path, page: &Path, width: u32, height: u32) -> Rendering {
    let work = tempfile::tempdir().unwrap();
    let screenshot = work.path().join("page.png");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let run = |mode: &[String], profile: &str| {
        let mut command = std::process::Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!(
                "--user-data-dir={}",
                work.path().join(profile).display()
            ))
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
