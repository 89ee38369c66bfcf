//! `convctl plan`: load manifests, compare with live state, show (and optionally save) the plan.
//! Also the helpers `apply` and `drift` share: loading and selecting accounts, colours, the
//! runtime and the session around a command.

use crate::cli::args::{ColorChoice, GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::session::{AccountTokens, Session, account_tokens};
use crate::diff::DiffOptions;
use crate::manifest::{DesiredAccount, Manifests};
use crate::model::ids::AdAccountId;
use crate::plan::PlanDocument;
use crate::reconcile::compare::{Comparison, compare};
use crate::reconcile::shard::Shard;
use crate::render::{self, Mode, RenderOptions};
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};
use std::path::{Path, PathBuf};

pub struct PlanArgs<'a> {
    pub paths: &'a [PathBuf],
    pub accounts: &'a [String],
    pub out: Option<&'a Path>,
    pub format: PlanFormat,
    pub detailed_exitcode: bool,
}

pub fn run(global: &GlobalOptions, args: PlanArgs<'_>) -> i32 {
    let Some(manifests) = load_manifests(args.paths, global) else {
        return exit::ERROR;
    };
    let selected = match select(manifests, args.accounts, global) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let tokens = match tokens_of(global, &selected) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    with_session_for(global, tokens, async move |session| {
        let comparison = match compare_accounts(session, selected, global, false).await {
            Some(c) => c,
            None => return exit::ERROR,
        };
        let doc = &comparison.doc;
        print_notes(&comparison, global);
        if let Err(e) = print_doc(doc, args.format, Mode::Plan, global) {
            return fail(&e);
        }
        if let Some(out) = args.out {
            if let Err(e) = doc.save(out) {
                return fail(&e.to_string());
            }
            if !global.quiet {
                eprintln!(
                    "Saved the plan to {0}; `convctl apply --plan {0}` does exactly this.",
                    out.display()
                );
            }
        }
        if args.detailed_exitcode && doc.has_changes() {
            exit::CHANGES
        } else {
            exit::SUCCESS
        }
    })
}

/// Prints an error to stderr; returns exit code 1.
pub(super) fn fail(message: &str) -> i32 {
    eprintln!("error: {message}");
    exit::ERROR
}

/// Loads manifests, printing warnings (unless quiet) and errors to stderr.
pub(super) fn load_manifests(paths: &[PathBuf], global: &GlobalOptions) -> Option<Manifests> {
    match crate::manifest::load(paths) {
        Ok(m) => {
            if !global.quiet {
                for w in &m.warnings {
                    eprintln!("{w}");
                }
            }
            Some(m)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "error: the manifests are invalid; `convctl validate` shows the same checks offline"
            );
            None
        }
    }
}

/// The accounts to work on: `--account` (each must be declared) and `--shard K/N`. Takes the
/// manifests: what is not selected is freed here, and the rest once it is diffed.
pub(super) fn select(
    manifests: Manifests,
    accounts: &[String],
    global: &GlobalOptions,
) -> Result<Vec<DesiredAccount>, String> {
    let wanted = parse_accounts(accounts)?;
    for w in &wanted {
        if !manifests.accounts.iter().any(|a| &a.account == w) {
            return Err(format!(
                "--account {w} is not declared in the manifests; declared: {}",
                manifests
                    .accounts
                    .iter()
                    .map(|a| a.account.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let shard = Shard::from_option(global.shard.as_deref())?;
    Ok(manifests
        .accounts
        .into_iter()
        .filter(|a| wanted.is_empty() || wanted.contains(&a.account))
        .filter(|a| shard.as_ref().is_none_or(|s| s.contains(&a.account)))
        .collect())
}

pub(super) fn parse_accounts(accounts: &[String]) -> Result<Vec<AdAccountId>, String> {
    accounts.iter().map(|a| AdAccountId::parse(a)).collect()
}

/// Lists and diffs; prints every error and returns `None` on failure. `report_only` (drift):
/// what apply would refuse is reported as drift with a warning, not an error. The desired
/// accounts are consumed: nothing after the diff needs them, so they are freed before the plan
/// is shown or applied (at agency scale they are tens of MB).
pub(super) async fn compare_accounts(
    session: &Session,
    selected: Vec<DesiredAccount>,
    global: &GlobalOptions,
    report_only: bool,
) -> Option<Comparison> {
    let spinner = listing_spinner(selected.len(), global);
    let accounts: Vec<&DesiredAccount> = selected.iter().collect();
    let result = compare(
        session,
        &accounts,
        &global.api_version,
        &DiffOptions {
            report_only,
            ..DiffOptions::default()
        },
    )
    .await;
    spinner.finish_and_clear();
    match result {
        Ok(c) => Some(c),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("error: no plan: fix the {} problem(s) above", errors.len());
            None
        }
    }
}

/// A spinner on stderr while accounts are listed: only on a terminal, without --quiet, and
/// never in pipes or CI logs.
fn listing_spinner(accounts: usize, global: &GlobalOptions) -> indicatif::ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("reading {accounts} account(s)"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Verbose-only remarks (fields the API did not report) on stderr.
pub(super) fn print_notes(comparison: &Comparison, global: &GlobalOptions) {
    if global.verbose {
        for note in comparison.doc.accounts.iter().flat_map(|a| a.notes.iter()) {
            eprintln!("note: {note}");
        }
    }
}

/// Renders the document straight to stdout (buffered), never as one string: a plan of 50,000
/// creates is some 16 MB of text. An error (stdout closed) says so; nothing was printed whole.
pub(super) fn print_doc(
    doc: &PlanDocument,
    format: PlanFormat,
    mode: Mode,
    global: &GlobalOptions,
) -> Result<(), String> {
    let color = color_stdout(global);
    write_stdout(|out| match format {
        PlanFormat::Text => render::text::render_to(out, doc, RenderOptions { mode, color }),
        PlanFormat::Json => render::json::render_to(out, doc),
        PlanFormat::Markdown => render::markdown::render_to(out, doc, mode),
    })
    .map_err(|e| format!("cannot write the plan to stdout: {e}"))
}

/// Runs `write` on a buffered, locked stdout and flushes it.
pub(super) fn write_stdout(
    write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    write(&mut out)?;
    out.flush()
}

/// Colours on stdout: `--color always`, or `auto` on a terminal without `NO_COLOR`.
pub(super) fn color_stdout(global: &GlobalOptions) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// The own tokens of the selected accounts (`token_env`), read before any call.
pub(super) fn tokens_of(
    global: &GlobalOptions,
    selected: &[DesiredAccount],
) -> Result<AccountTokens, String> {
    account_tokens(
        global,
        selected
            .iter()
            .map(|a| (&a.account, a.token_env.as_deref())),
        |name| std::env::var(name).ok(),
    )
}

/// Runs `body` inside a tokio runtime with a session (client, and the sandbox emulator when
/// asked), shutting the session down (saving sandbox state) whatever the outcome.
pub(super) fn with_session<F>(global: &GlobalOptions, body: F) -> i32
where
    F: AsyncFnOnce(&Session) -> i32,
{
    with_session_for(global, AccountTokens::default(), body)
}

/// [`with_session`] with accounts' own tokens.
pub(super) fn with_session_for<F>(global: &GlobalOptions, tokens: AccountTokens, body: F) -> i32
where
    F: AsyncFnOnce(&Session) -> i32,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let session = match Session::start_with(global, tokens).await {
            Ok(s) => s,
            Err(e) => return fail(&e),
        };
        let code = body(&session).await;
        match session.finish().await {
            Ok(()) => code,
            Err(e) => {
                fail(&e);
                exit::ERROR
            }
        }
    })
}
