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
    text
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
