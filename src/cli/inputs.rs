//! The files a command reads and the files it writes: nothing it writes (`plan --out`,
//! `--trace`) may replace one of its own inputs (a manifest, a saved plan, the token file,
//! the events file, the sandbox's state), and no two outputs may be one file. Checked before
//! anything is read, sent or written, by file identity (device and inode: a symlink or a hard
//! link to an input is that input), so `plan conversions/ --out conversions/a.yaml` is refused
//! with nothing done instead of replacing a manifest with a plan.

use crate::cli::args::{Cli, Command, EventsCommand};
use crate::cli::failure::Failure;
use crate::file_io::{FileId, StateLock};
use std::path::{Path, PathBuf};

/// A file the command reads, and what it is to the command (`the manifest`).
struct Input {
    what: &'static str,
    path: PathBuf,
}

/// Refuses a command whose outputs include one of its inputs, or one file twice.
pub(crate) fn refuse_outputs_over_inputs(cli: &Cli) -> Result<(), Failure> {
    let outputs = outputs(cli);
    if outputs.is_empty() {
        return Ok(());
    }
    let inputs = inputs(cli);
    let ids: Vec<(FileId, &Input)> = inputs
        .iter()
        .filter_map(|input| FileId::of(&input.path).map(|id| (id, input)))
        .collect();
    for (flag, output) in &outputs {
        let Some(id) = FileId::of(output) else {
            continue;
        };
        if let Some((_, input)) = ids.iter().find(|(input_id, _)| *input_id == id) {
            let same = match input.path == *output {
                true => String::new(),
                false => format!(" ({} is that file)", output.display()),
            };
            return Err(Failure::new(format!(
                "will not write {flag} {}: it is {} {}{same}, which this command reads; nothing was done. Write {flag} to another file",
                output.display(),
                input.what,
                input.path.display()
            )));
        }
    }
    for (i, (flag, output)) in outputs.iter().enumerate() {
        for (other_flag, other) in &outputs[i + 1..] {
            if same_target(output, other) {
                return Err(Failure::new(format!(
                    "{flag} {} and {other_flag} {} name the same file; nothing was done. Give each its own file",
                    output.display(),
                    other.display()
                )));
            }
        }
    }
    Ok(())
}

/// One file, existing (by identity) or not yet (by absolute path).
fn same_target(a: &Path, b: &Path) -> bool {
    match (FileId::of(a), FileId::of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (std::path::absolute(a), std::path::absolute(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        },
    }
}

/// What the command writes: the flag, and the path.
fn outputs(cli: &Cli) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    if let Some(trace) = &cli.global.trace {
        out.push(("--trace", trace.clone()));
    }
    if let Command::Plan {
        out: Some(plan), ..
    } = &cli.command
    {
        out.push(("--out", plan.clone()));
    }
    out
}

/// What the command reads.
fn inputs(cli: &Cli) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut add = |what, path: &Path| {
        inputs.push(Input {
            what,
            path: path.to_path_buf(),
        });
    };
    if let Some(token) = &cli.global.access_token_file {
        add("the access token file", token);
    }
    if let Some(state) = &cli.global.sandbox {
        add("the sandbox state", state);
        add("the sandbox state's lock", &StateLock::path_for(state));
    }
    let manifests: Option<&[PathBuf]> = match &cli.command {
        Command::Validate { paths, .. }
        | Command::Test { paths, .. }
        | Command::Drift { paths, .. } => Some(paths),
        Command::Plan { paths, report, .. } => {
            if let Some(shown) = &report.show {
                add("the shown plan", shown);
            }
            Some(paths)
        }
        Command::Apply { paths, plan, .. } => match plan {
            Some(plan) => {
                add("the saved plan", plan);
                None
            }
            None => Some(paths),
        },
        Command::Import {
            from: Some(from), ..
        } => Some(std::slice::from_ref(from)),
        Command::Events {
            command: EventsCommand::Send(args),
        } => {
            if args.file.as_os_str() != "-" {
                add("the events file", &args.file);
            }
            None
        }
        _ => None,
    };
    if let Some(paths) = manifests {
        // Errors here (a missing path) are reported when the manifests are loaded.
        for file in crate::manifest::files::collect(paths, &mut Vec::new()) {
            add("the manifest", &file);
        }
    }
    inputs
}
