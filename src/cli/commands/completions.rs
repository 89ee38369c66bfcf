//! `convctl completions SHELL`: a completion script generated from the command-line
//! definition, so it can never fall out of step with the real options. The script is built in
//! memory and then written whole: a reader that stops early (`| head`) ends it quietly.

use crate::cli::args::{CompletionShell, command};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use clap_complete::Shell;
use std::io::Write;

/// The script for `shell`.
pub(crate) fn script(shell: CompletionShell) -> Vec<u8> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut command(), "convctl", &mut text);
    if shell == Shell::Fish {
        fish_values(&command(), &mut text);
    }
    text
}

/// What clap_complete's fish script does not complete: the values of a positional argument
/// (`convctl completions <Tab>` offered file names), and the values of a global option before
/// any command (`convctl --color <Tab>`: its condition parses the line with `argparse`, which
/// fails on an option still waiting for its value). Lines that fish reads after the
/// generated ones, from the same command-line definition.
fn fish_values(cmd: &clap::Command, out: &mut Vec<u8>) {
    fn values(arg: &clap::Arg) -> Option<String> {
        if !arg.get_action().takes_values() {
            return None;
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        (!values.is_empty()).then(|| values.join(" "))
    }
    let _ = writeln!(
        out,
        "\n# Values of positional arguments, and of global options wherever they are typed."
    );
    for arg in cmd.get_arguments() {
        if let (Some(long), Some(values)) = (arg.get_long(), values(arg)) {
            let _ = writeln!(out, "complete -c convctl -l {long} -x -a \"{values}\"");
        }
    }
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<u8>) {
        for sub in cmd.get_subcommands() {
            for arg in sub.get_positionals() {
                if let Some(values) = values(arg) {
                    let _ = writeln!(
                        out,
                        "complete -c convctl -n \"__fish_{path}_using_subcommand {}\" -f -a \"{values}\"",
                        sub.get_name()
                    );
                }
            }
        }
    }
    walk(cmd, "convctl", out);
}

/// Writes the script for `shell` to `out`.
pub(crate) fn run(shell: CompletionShell, out: &mut dyn Write) -> Outcome {
    let written = out.write_all(&script(shell)).and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(format!(
            "cannot write the completion script: {error}"
        ))),
        _ => Ok(exit::SUCCESS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHELLS: [CompletionShell; 4] = [
        CompletionShell::Bash,
        CompletionShell::Zsh,
        CompletionShell::Fish,
        CompletionShell::Powershell,
    ];

    fn text(shell: CompletionShell) -> String {
        let mut out = Vec::new();
        assert_eq!(run(shell, &mut out).unwrap(), exit::SUCCESS);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_shell_gets_a_script_naming_commands_and_options() {
        for shell in SHELLS {
            let text = text(shell);
            for word in [
                "convctl",
                "plan",
                "drift",
                "detailed-exitcode",
                "shard",
                "max-chars",
            ] {
                assert!(text.contains(word), "{shell:?} script lacks {word}");
            }
        }
    }

    #[test]
    fn bash_script_registers_the_completion_function() {
        assert!(text(CompletionShell::Bash).contains("complete -F _convctl"));
        assert!(text(CompletionShell::Zsh).starts_with("#compdef convctl"));
        assert!(text(CompletionShell::Fish).contains("complete -c convctl"));
        assert!(text(CompletionShell::Powershell).contains("Register-ArgumentCompleter"));
    }

    /// `completions` and `man` are offered only their own options.
    #[test]
    fn man_and_completions_are_offered_no_global_option() {
        let fish = text(CompletionShell::Fish);
        let mut checked = 0;
        for line in fish.lines() {
            let about =
                |cmd: &str| line.contains(&format!("__fish_convctl_using_subcommand {cmd}\""));
            if about("man") || about("completions") {
                checked += 1;
                for global in [
                    "api-base",
                    "sandbox",
                    "shard",
                    "color",
                    "quiet",
                    "parallelism",
                ] {
                    assert!(!line.contains(&format!("-l {global} ")), "{line}");
                }
            }
        }
        assert!(
            checked >= 3,
            "no line completes man or completions:\n{fish}"
        );
        let plan_keeps_them = fish.lines().any(|l| {
            l.contains("__fish_convctl_using_subcommand plan\"") && l.contains("-l api-base ")
        });
        assert!(plan_keeps_them, "plan is still offered --api-base");
    }

    /// A reader that stops early is not an error (`convctl completions fish | head -c 10`).
    #[test]
    fn a_closed_pipe_is_a_quiet_success() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert_eq!(
            run(CompletionShell::Fish, &mut Closed).unwrap(),
            exit::SUCCESS
        );
    }
}
