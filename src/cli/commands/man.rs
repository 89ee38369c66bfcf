//! `convctl man [--out DIR]`: man pages rendered from the clap definition (clap_mangen), so the
//! page documents exactly the options the binary accepts. Without `--out` the main page goes to
//! stdout (`convctl man | man -l -`); with it, `convctl.1` and one `convctl-<command>.1` per
//! command are written into DIR. Never touches anything outside DIR.

use crate::cli::args::Cli;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

/// Renders the page(s).
pub fn run(out_dir: Option<&Path>, out: &mut dyn Write) -> Outcome {
    let result = match out_dir {
        None => clap_mangen::Man::new(Cli::command())
            .render(out)
            .and_then(|()| out.flush()),
        Some(dir) => write_pages(dir, out),
    };
    result.map(|()| exit::SUCCESS).map_err(|error| {
        let place = out_dir
            .map(|dir| format!(" into {}", dir.display()))
            .unwrap_or_default();
        Failure::new(format!("cannot write the man page{place}: {error}"))
    })
}

fn write_pages(dir: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    writeln!(out, "wrote man pages into {}", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_page_is_roff_with_commands_options_and_exit_codes() {
        let mut out = Vec::new();
        assert_eq!(run(None, &mut out).unwrap(), exit::SUCCESS);
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH convctl 1"));
        for word in [
            "validate",
            "plan",
            "drift",
            "completions",
            "shard",
            "Exit codes",
        ] {
            assert!(page.contains(word), "man page lacks {word}");
        }
        assert!(
            page.contains("v26.0"),
            "the version line names the API version"
        );
    }

    #[test]
    fn out_dir_gets_one_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        assert_eq!(run(Some(dir.path()), &mut out).unwrap(), exit::SUCCESS);
        for name in [
            "convctl.1",
            "convctl-plan.1",
            "convctl-apply.1",
            "convctl-man.1",
        ] {
            let page = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(page.contains(".TH"), "{name}");
        }
    }
}
