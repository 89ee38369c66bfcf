//! Completion scripts as the shells read them: fish's `complete -C` and zsh's completion
//! widget (driven through `zpty`, zsh's own pseudo-terminal) list what a person gets on Tab.

use crate::support::Convctl;
use std::path::Path;
use std::process::Command;

/// Whether `tool` can be run; missing in CI (`CI` set) it is an error, as `.ci/run` installs
/// it; missing elsewhere the test says so and checks nothing.
fn installed(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (.ci/run installs it)"
        );
        eprintln!("{tool} not installed: not checked");
    }
    found
}

fn script(shell: &str, dir: &Path, file: &str) -> std::path::PathBuf {
    let run = Convctl::new().args(&["completions", shell]).run();
    assert_eq!(run.code, 0, "{run}");
    let path = dir.join(file);
    std::fs::write(&path, run.stdout).unwrap();
    path
}

/// What fish offers after `line`, one candidate a line (values without their descriptions).
fn fish_offers(script: &Path, line: &str) -> Vec<String> {
    let out = Command::new("fish")
        .args(["--no-config", "-c"])
        .arg(format!(
            "source {}; complete -C {}",
            script.display(),
            shell_words::quote(line)
        ))
        .current_dir(script.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn fish_completes_shell_names_and_colour_values() {
    if !installed("fish") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A file that would be offered if fish fell back to file names.
    std::fs::write(dir.path().join("not-a-shell.txt"), "").unwrap();
    let script = script("fish", dir.path(), "convctl.fish");
    assert_eq!(
        fish_offers(&script, "convctl completions "),
        ["bash", "fish", "powershell", "zsh"]
    );
    for line in ["convctl --color ", "convctl plan --color "] {
        assert_eq!(
            fish_offers(&script, line),
            ["always", "auto", "never"],
            "{line}"
        );
    }
    assert_eq!(
        fish_offers(&script, "convctl show --format "),
        ["json", "markdown", "text"]
    );
}

/// zsh's completion of `line`: the listing zsh draws under the prompt on Tab, through `zpty`.
fn zsh_offers(functions: &Path, line: &str, expected: &[&str]) -> String {
    let driver = format!(
        r#"zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'bindkey -e; bindkey "^I" complete-word; PROMPT="> "; LISTMAX=1000; fpath=({} $fpath); autoload -U compinit; compinit -u -D; echo READY'
zpty -r z line '*READY*'
zpty -w -n z {}
zpty -w -n z $'\t'
out=""
for i in {{1..200}}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  if [[ {} ]]; then break; fi
  sleep 0.1
done
print -r -- "$out"
zpty -d z
"#,
        functions.display(),
        shell_words::quote(line),
        expected
            .iter()
            .map(|w| format!("$out == *{w}*"))
            .collect::<Vec<_>>()
            .join(" && ")
    );
    let out = Command::new("zsh")
        .args(["-f", "-c", &driver])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn zsh_completes_shell_names_and_colour_values() {
    if !installed("zsh") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-shell.txt"), "").unwrap();
    script("zsh", dir.path(), "_convctl");
    let bin = crate::support::binary::bin();
    // zsh completes a command it finds on PATH.
    let path_dir = bin.parent().unwrap();
    let with_path = |line: &str, expected: &[&str]| {
        let listing = zsh_offers(
            dir.path(),
            &format!("PATH={}:$PATH; {line}", path_dir.display()),
            expected,
        );
        for word in expected {
            assert!(listing.contains(word), "{line}: no {word} in:\n{listing}");
        }
        listing
    };
    let listing = with_path(
        "convctl completions ",
        &["bash", "fish", "powershell", "zsh"],
    );
    assert!(!listing.contains("not-a-shell"), "{listing}");
    with_path("convctl --color ", &["auto", "always", "never"]);
}
