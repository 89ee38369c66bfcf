//! `convctl import ACT... --out DIR [--use SET --from PATH]`: one manifest per account, ids
//! pinned, never overwriting; with `--use`, each account as a use of the set.

use super::plan::{fail, parse_accounts, with_session};
use crate::cli::args::GlobalOptions;
use crate::cli::exit;
use crate::reconcile::LiveApi;
use crate::reconcile::import::{manifest_for, manifest_path, write_new};
use crate::reconcile::import_set::manifest_for_set;
use std::path::Path;

pub fn run(
    global: &GlobalOptions,
    accounts: &[String],
    out: &Path,
    fleet: Option<(&str, &Path)>,
) -> i32 {
    let accounts = match parse_accounts(accounts) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    // The set is read (and checked) before any API call.
    let sets = match fleet {
        None => None,
        Some((name, from)) => match crate::manifest::load_sets(&[from.to_path_buf()]) {
            Ok((sets, _warnings)) => {
                if sets.get(name).is_none() {
                    let names = sets.names();
                    return fail(&format!(
                        "--use {name}: no set named \"{name}\" under {}{}",
                        from.display(),
                        if names.is_empty() {
                            " (it declares no set); pass the file or folder that holds it with --from".to_string()
                        } else {
                            format!("; the sets there are: {}", names.join(", "))
                        }
                    ));
                }
                Some((sets, name))
            }
            Err(diags) => {
                for d in &diags {
                    eprintln!("{d}");
                }
                return fail(&format!(
                    "the manifests under {} are invalid; fix them before importing onto a set",
                    from.display()
                ));
            }
        },
    };
    // Refuse before any API call when a target file exists.
    for account in &accounts {
        let path = manifest_path(out, account);
        if path.exists() {
            return fail(&format!(
                "{} already exists; convctl import never overwrites a manifest: move it away or pass another --out",
                path.display()
            ));
        }
    }
    with_session(global, async |session| {
        let listed = session.list_many(&accounts).await;
        let mut code = exit::SUCCESS;
        for (account, result) in accounts.iter().zip(listed) {
            let live = match result {
                Ok(live) => live,
                Err(e) => {
                    code = fail(&format!("{account}: cannot list custom conversions: {e}"));
                    continue;
                }
            };
            let imported = match &sets {
                Some((sets, name)) => {
                    let set = sets.get(name).expect("checked above");
                    manifest_for_set(account, &live, set, sets)
                }
                None => manifest_for(account, &live),
            };
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            let path = manifest_path(out, account);
            match write_new(&path, &imported.yaml) {
                Ok(()) => println!(
                    "Wrote {} ({} conversions, ids pinned{}).",
                    path.display(),
                    imported.conversions,
                    sets.as_ref()
                        .map(|(_, name)| format!(", as a use of set {name}"))
                        .unwrap_or_default()
                ),
                Err(e) => code = fail(&e),
            }
        }
        code
    })
}
