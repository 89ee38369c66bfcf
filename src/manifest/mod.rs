//! Manifests (format `convctl/v1`, spec section 1): YAML files → the desired model.
//!
//! Owns reading files and directories, multi-document YAML, defaults, normalisation and every
//! offline check (unknown keys, enums, ids, rule grammar, duplicates, the 100 cap, lints).
//! Every entry and rule keeps the [`Location`] it came from, so that every error can name file,
//! line and column. It never touches the network.
//!
//! The pipeline: [`files`] finds and reads the files, [`yaml`] builds a tree that remembers
//! positions, [`document`] and [`entry`] check it into the model (with [`rule_source`] for
//! rules), and [`load`] adds the checks across documents. [`format`] holds the serde types of
//! the file format, from which `schema.json` is generated and with which `import` writes
//! manifests.

mod context;
mod document;
mod entry;
pub mod files;
pub mod format;
mod model;
mod rule_source;
pub mod rule_tests;
pub mod schema;
pub mod yaml;

pub use entry::MAX_NAME_CHARS;
pub use files::MAX_FILE_BYTES;
pub use model::*;

use context::Ctx;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Loads the manifests under `paths` (files, or directories recursed for `*.yaml`/`*.yml` in
/// sorted order). Returns the desired model with its warnings, or every error of the run
/// (warnings included, after the errors' files and lines), each with a location and a hint.
pub fn load(paths: &[PathBuf]) -> Result<Manifests, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let files = files::collect(paths, &mut diags);
    let mut accounts = Vec::new();
    for (file_accounts, file_diags) in load_files(&files) {
        accounts.extend(file_accounts);
        diags.extend(file_diags);
    }
    check_duplicate_accounts(&accounts, &mut diags);
    finish(accounts, diags)
}

/// What one file declares, and what is wrong with it.
type FileResult = (Vec<DesiredAccount>, Vec<Diagnostic>);

/// Loads every file, on all cores (an agency's 500 files must validate in well under 2 s), and
/// returns the results in the order of `files`, so that output never depends on scheduling.
fn load_files(files: &[PathBuf]) -> Vec<FileResult> {
    let load_one = |file: &PathBuf| {
        let mut diags = Vec::new();
        let accounts = load_file(file, &mut diags);
        (accounts, diags)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(load_one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        mine.push((i, load_one(file)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Loads manifests from text (for tests and tools that hold the text already); `file` is only
/// used to name locations.
pub fn load_str(file: &Path, text: &str) -> Result<Manifests, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let accounts = parse_text(file, text, &mut diags);
    check_duplicate_accounts(&accounts, &mut diags);
    finish(accounts, diags)
}

fn finish(
    accounts: Vec<DesiredAccount>,
    mut diags: Vec<Diagnostic>,
) -> Result<Manifests, Vec<Diagnostic>> {
    // Stable order: by file, line, column as found; errors without a file first.
    diags.sort_by(|a, b| a.location.cmp(&b.location));
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    Ok(Manifests {
        accounts,
        warnings: diags,
    })
}

fn load_file(file: &Path, diags: &mut Vec<Diagnostic>) -> Vec<DesiredAccount> {
    match files::read(file) {
        Ok(text) => parse_text(file, &text, diags),
        Err(d) => {
            diags.push(d);
            Vec::new()
        }
    }
}

fn parse_text(file: &Path, text: &str, diags: &mut Vec<Diagnostic>) -> Vec<DesiredAccount> {
    let mut ctx = Ctx {
        file,
        diags,
        errors: 0,
    };
    let docs = match yaml::parse(text) {
        Ok(docs) => docs,
        Err(e) => {
            ctx.error(e.pos, e.message, e.hint);
            return Vec::new();
        }
    };
    let non_empty: Vec<_> = docs
        .iter()
        .filter(|d| d.root.as_ref().is_some_and(|r| !r.is_null()))
        .collect();
    if non_empty.is_empty() {
        ctx.error(
            yaml::Pos { line: 1, column: 1 },
            "the file is empty: it declares no ad account",
            "a manifest needs at least `account: act_1234567890` and a `conversions:` list; delete the file if it is unused",
        );
        return Vec::new();
    }
    for doc in &docs {
        if doc.root.as_ref().is_none_or(|r| r.is_null()) && docs.len() > 1 {
            ctx.warn(
                doc.pos,
                "empty YAML document ignored",
                "remove the stray `---`",
            );
        }
    }
    non_empty
        .into_iter()
        .filter_map(|d| document::account(&mut ctx, d.root.as_ref().expect("non-empty")))
        .collect()
}

/// An account declared twice anywhere is an error naming both places.
fn check_duplicate_accounts(accounts: &[DesiredAccount], diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Location> = HashMap::new();
    for a in accounts {
        if let Some(prev) = first.get(a.account.as_str()) {
            diags.push(Diagnostic {
                severity: Severity::Error,
                location: Some(a.location.clone()),
                message: format!(
                    "account {} is declared twice: here and at {prev}",
                    a.account
                ),
                hint: Some("declare each ad account in exactly one document; merge the two".into()),
            });
        } else {
            first.insert(a.account.as_str(), &a.location);
        }
    }
}

#[cfg(test)]
mod tests;
