//! Manifests (format `convctl/v1`, described in [docs/manifest.md](../../docs/manifest.md)):
//! YAML files → the desired model.
//!
//! Owns reading files and directories, multi-document YAML, defaults, normalisation and every
//! offline check (unknown keys, enums, ids, rule grammar, duplicates, the 100 cap, lints).
//! Every entry and rule keeps the [`Location`] it came from, so that every error can name file,
//! line and column. It never touches the network.
//!
//! The pipeline: [`files`] finds and reads the files, [`yaml`] builds a tree that remembers
//! positions, [`document`] and [`entry`] check it into the desired model ([`desired`], with
//! [`rule_source`] for rules), [`set`] keeps the sets (`set:` documents) and expands each
//! account's `use` of them once, and [`load`] adds the checks across documents. [`format`]
//! defines the file format once, as serde types: `schema.json` is generated from them
//! ([`schema`]), `import` writes them, and the loader takes each mapping's keys from them.
//! [`examples`] runs the `tests:` examples of the loaded rules (`convctl test`).

mod context;
mod desired;
mod document;
mod entry;
pub(crate) mod examples;
pub(crate) mod files;
pub mod format;
mod rule_source;
pub mod schema;
pub(crate) mod set;
pub(crate) mod yaml;

pub use desired::*;
pub(crate) use entry::MAX_NAME_CHARS;

use context::Ctx;
use document::PendingAccount;
use set::{SetDef, Sets};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yaml::Node;

/// Loads the manifests under `paths` (files, or directories recursed for `*.yaml`/`*.yml` in
/// sorted order). Returns the desired model with its warnings, or every error of the run
/// (warnings included, after the errors' files and lines), each with a location and a hint.
pub(crate) fn load(paths: &[PathBuf]) -> Result<Manifests, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let files = files::collect(paths, &mut diags);
    let mut parsed = FileResult::default();
    for file in load_files(&files) {
        parsed.accounts.extend(file.accounts);
        parsed.sets.extend(file.sets);
        diags.extend(file.diags);
    }
    let accounts = expand_accounts(parsed, &mut diags);
    check_duplicate_accounts(&accounts, &mut diags);
    finish(accounts, diags)
}

/// Only the sets declared under `paths` (what `import --use SET --from PATH` reads); accounts
/// there are checked too, but not returned.
pub(crate) fn load_sets(paths: &[PathBuf]) -> Result<(Sets, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let files = files::collect(paths, &mut diags);
    let mut sets = Vec::new();
    for file in load_files(&files) {
        sets.extend(file.sets);
        diags.extend(file.diags);
    }
    let sets = Sets::new(sets, &mut diags);
    diags.sort_by(|a, b| a.location.cmp(&b.location));
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    Ok((sets, diags))
}

/// What one file declares (accounts whose `use` is not expanded yet, and sets), and what is
/// wrong with it.
#[derive(Default)]
struct FileResult {
    accounts: Vec<PendingAccount>,
    sets: Vec<SetDef>,
    diags: Vec<Diagnostic>,
}

/// Indexes the sets and expands every account's `use` of them (on all cores, in order);
/// findings inside sets are merged across the accounts that hit them.
fn expand_accounts(parsed: FileResult, diags: &mut Vec<Diagnostic>) -> Vec<DesiredAccount> {
    let sets = Sets::new(parsed.sets, diags);
    warn_unused_sets(&parsed.accounts, &sets, diags);
    expand_with(parsed.accounts, &sets, diags)
}

/// Loads the accounts of `text` against sets already loaded (what `import --use` checks its
/// result with); sets declared in `text` are ignored.
pub(crate) fn load_str_with_sets(
    file: &Path,
    text: &str,
    sets: &Sets,
) -> Result<Manifests, Vec<Diagnostic>> {
    let mut parsed = FileResult::default();
    parse_text(file, text, &mut parsed);
    let mut diags = std::mem::take(&mut parsed.diags);
    let accounts = expand_with(parsed.accounts, sets, &mut diags);
    check_duplicate_accounts(&accounts, &mut diags);
    finish(accounts, diags)
}

/// A set that no account uses is never checked: say so.
fn warn_unused_sets(accounts: &[PendingAccount], sets: &Sets, diags: &mut Vec<Diagnostic>) {
    let mut used: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for a in accounts {
        used.extend(a.uses.iter().map(|u| u.set.as_str()));
    }
    let mut unused: Vec<&SetDef> = sets
        .iter()
        .filter(|s| !used.contains(s.name.as_str()))
        .collect();
    unused.sort_by(|a, b| a.location.cmp(&b.location));
    for s in unused {
        diags.push(Diagnostic {
            severity: Severity::Warning,
            location: Some(s.location.clone()),
            message: format!(
                "set \"{}\" is used by no account under the paths given, so its entries are not checked",
                s.name
            ),
            hint: Some(format!(
                "add `use: [{{set: {}, params: {{...}}}}]` to an account, or pass the accounts' files too",
                s.name
            )),
        });
    }
}

/// Expands every account's `use` (on all cores, in order); findings inside sets are merged
/// across the accounts that hit them.
fn expand_with(
    accounts: Vec<PendingAccount>,
    sets: &Sets,
    diags: &mut Vec<Diagnostic>,
) -> Vec<DesiredAccount> {
    let results = par_map_owned(accounts, |pending| {
        let mut d = Vec::new();
        let mut findings = Vec::new();
        let account = if pending.uses.is_empty() {
            // No set: nothing to expand, so the common case pays nothing for sets.
            document::check_account(&pending.account, &mut d);
            let ok = !d.iter().any(|x| x.severity == Severity::Error);
            ok.then_some(pending.account)
        } else {
            document::finish_account(pending, sets, &mut d, &mut findings)
        };
        (account, d, findings)
    });
    let mut accounts = Vec::with_capacity(results.len());
    let mut all_findings = Vec::new();
    for (account, d, findings) in results {
        accounts.extend(account);
        diags.extend(d);
        all_findings.extend(findings);
    }
    set::merge_findings(all_findings, diags);
    accounts
}

/// `f` over `items` on all cores, results in the order of `items` (contiguous chunks: the
/// accounts of one run cost about the same).
fn par_map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(workers);
    let mut rest = items.into_iter();
    loop {
        let chunk: Vec<T> = rest.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Loads every file, on all cores (an agency's 500 files must validate in well under 2 s), and
/// returns the results in the order of `files`, so that output never depends on scheduling.
fn load_files(files: &[PathBuf]) -> Vec<FileResult> {
    let load_one = |file: &PathBuf| {
        let mut result = FileResult::default();
        load_file(file, &mut result);
        result
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
    let mut parsed = FileResult::default();
    parse_text(file, text, &mut parsed);
    let mut diags = std::mem::take(&mut parsed.diags);
    let accounts = expand_accounts(parsed, &mut diags);
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

fn load_file(file: &Path, out: &mut FileResult) {
    match files::read(file) {
        Ok(text) => parse_text(file, &text, out),
        Err(d) => out.diags.push(d),
    }
}

fn parse_text(file: &Path, text: &str, out: &mut FileResult) {
    let mut ctx = Ctx {
        file,
        diags: &mut out.diags,
        errors: 0,
    };
    let docs = match yaml::parse(text) {
        Ok(docs) => docs,
        Err(e) => {
            ctx.error(e.pos, e.message, e.hint);
            return;
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
        return;
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
    for doc in non_empty {
        let root = doc.root.as_ref().expect("non-empty");
        if is_set_document(root) {
            out.sets.extend(set::set_doc(&mut ctx, root));
        } else {
            out.accounts.extend(document::account(&mut ctx, root));
        }
    }
}

/// A document with a `set:` key (and no `account:`) declares a set.
fn is_set_document(root: &Node) -> bool {
    let yaml::Kind::Map(pairs) = &root.kind else {
        return false;
    };
    let has = |key: &str| {
        pairs
            .iter()
            .any(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
    };
    has("set") && !has("account")
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
