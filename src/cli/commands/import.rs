//! `convctl import ACT... --out DIR [--use SET --from PATH]`: one manifest per account, ids
//! pinned, never overwriting; with `--use`, each account as a use of the set.

use crate::cli::args::GlobalOptions;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::sources::SourceLines;
use crate::cli::steps::{parse_accounts, with_session};
use crate::manifest::set::Sets;
use crate::reconcile::LiveApi;
use crate::reconcile::import::{manifest_for, manifest_path, schema_ref, with_modeline, write_new};
use crate::reconcile::import_set::manifest_for_set;
use crate::reconcile::survey::cannot_list;
use std::io::Write;
use std::path::Path;

pub(crate) fn run(
    global: &GlobalOptions,
    accounts: &[String],
    out: &Path,
    use_set: Option<(&str, &Path)>,
) -> Outcome {
    let accounts = parse_accounts(accounts)?;
    // The set is read (and checked) before any API call.
    let sets = use_set
        .map(|(name, from)| load_set(name, from))
        .transpose()?;
    // Refuse before any API call when a target file exists.
    for account in &accounts {
        let path = manifest_path(out, account);
        if path.exists() {
            return Err(Failure::new(format!(
                "{} already exists; convctl import never overwrites a manifest: move it away or pass another --out",
                path.display()
            )));
        }
    }
    with_session(global, async |session| {
        let listed = session.list_many(&accounts).await;
        let mut failed = Vec::new();
        for (account, result) in accounts.iter().zip(listed) {
            let live = match result {
                Ok(live) => live,
                Err(e) => {
                    failed.push(cannot_list(account, &e));
                    continue;
                }
            };
            let imported = match &sets {
                Some((sets, name)) => {
                    let set = sets.get(name).expect("checked when loaded");
                    manifest_for_set(account, &live, set, sets)
                }
                None => manifest_for(account, &live),
            };
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            let path = manifest_path(out, account);
            let text = with_modeline(&imported.yaml, &schema_ref(out));
            match write_new(&path, &text) {
                Ok(()) => {
                    // A closed stdout must not stop the import half way: the file is written.
                    let _ = writeln!(
                        std::io::stdout(),
                        "Wrote {} ({} conversions, ids pinned{}).",
                        path.display(),
                        imported.conversions,
                        sets.as_ref()
                            .map(|(_, name)| format!(", as a use of set {name}"))
                            .unwrap_or_default()
                    );
                }
                Err(e) => failed.push(e.to_string()),
            }
        }
        match failed.len() {
            0 => Ok(exit::SUCCESS),
            1 => Err(Failure::new(failed.remove(0))),
            n => {
                let details = failed.iter().map(|f| format!("error: {f}")).collect();
                Err(Failure::with_details(
                    details,
                    format!("{n} accounts were not imported"),
                ))
            }
        }
    })
}

/// The sets under `from`, checked to hold the set named `name`.
fn load_set<'a>(name: &'a str, from: &Path) -> Result<(Sets, &'a str), Failure> {
    let (sets, _warnings) = crate::manifest::load_sets(&[from.to_path_buf()]).map_err(|diags| {
        Failure::with_details(
            SourceLines::default().render(&diags),
            format!(
                "the manifests under {} are invalid; fix them before importing onto a set",
                from.display()
            ),
        )
    })?;
    if sets.get(name).is_none() {
        let names = sets.names();
        return Err(Failure::new(format!(
            "--use {name}: no set named \"{name}\" under {}{}",
            from.display(),
            if names.is_empty() {
                " (it declares no set); pass the file or folder that holds it with --from"
                    .to_string()
            } else {
                format!("; the sets there are: {}", names.join(", "))
            }
        )));
    }
    Ok((sets, name))
}
