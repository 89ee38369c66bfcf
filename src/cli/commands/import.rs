//! `convctl import ACT... --out DIR`: one manifest per account, ids pinned, never overwriting.

use super::plan::{fail, parse_accounts, with_session};
use crate::cli::args::GlobalOptions;
use crate::cli::exit;
use crate::reconcile::LiveApi;
use crate::reconcile::import::{manifest_for, manifest_path, write_new};
use std::path::Path;

pub fn run(global: &GlobalOptions, accounts: &[String], out: &Path) -> i32 {
    let accounts = match parse_accounts(accounts) {
        Ok(a) => a,
        Err(e) => return fail(&e),
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
            let imported = manifest_for(account, &live);
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            let path = manifest_path(out, account);
            match write_new(&path, &imported.yaml) {
                Ok(()) => println!(
                    "Wrote {} ({} conversions, ids pinned).",
                    path.display(),
                    imported.conversions
                ),
                Err(e) => code = fail(&e),
            }
        }
        code
    })
}
