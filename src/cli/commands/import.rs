//! `convctl import ACT... --out DIR`: one manifest per account, ids pinned, never overwriting.

use crate::cli::args::GlobalOptions;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::steps::{parse_accounts, with_session};
use crate::reconcile::LiveApi;
use crate::reconcile::compare::cannot_list;
use crate::reconcile::import::{manifest_for, manifest_path, schema_ref, with_modeline, write_new};
use std::io::Write;
use std::path::Path;

pub fn run(global: &GlobalOptions, accounts: &[String], out: &Path) -> Outcome {
    let accounts = parse_accounts(accounts)?;
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
            let imported = manifest_for(account, &live);
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
                        "Wrote {} ({} conversions, ids pinned).",
                        path.display(),
                        imported.conversions
                    );
                }
                Err(e) => failed.push(e),
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
