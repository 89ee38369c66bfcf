//! `convctl completions SHELL`: a completion script generated from the clap definition, so it
//! can never fall out of step with the real options. Writes to the given writer only.

use crate::cli::args::{Cli, CompletionShell};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

/// Writes the script for `shell` to `out`.
pub fn run(shell: CompletionShell, out: &mut dyn Write) -> Outcome {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "convctl", out);
    out.flush()
        .map(|()| exit::SUCCESS)
        .map_err(|error| Failure::new(format!("cannot write the completion script: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: CompletionShell) -> String {
        let mut out = Vec::new();
        assert_eq!(run(shell, &mut out).unwrap(), exit::SUCCESS);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_shell_gets_a_script_naming_commands_and_options() {
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
            CompletionShell::Powershell,
        ] {
            let text = script(shell);
            for word in ["convctl", "plan", "drift", "detailed-exitcode", "shard"] {
                assert!(text.contains(word), "{shell:?} script lacks {word}");
            }
        }
    }

    #[test]
    fn bash_script_registers_the_completion_function() {
        assert!(script(CompletionShell::Bash).contains("complete -F _convctl"));
        assert!(script(CompletionShell::Zsh).starts_with("#compdef convctl"));
        assert!(script(CompletionShell::Fish).contains("complete -c convctl"));
        assert!(script(CompletionShell::Powershell).contains("Register-ArgumentCompleter"));
    }
}
