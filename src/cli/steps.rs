//! The steps `plan`, `apply`, `drift`, `import` and `test --live` share: load and select the
//! manifests, run a command inside a session, list and diff. Each returns a [`Failure`]
//! instead of printing it.

use crate::cli::args::GlobalOptions;
use crate::cli::failure::Failure;
use crate::cli::output::{listing_spinner, warn};
use crate::cli::session::{AccountTokens, Session, account_tokens};
use crate::cli::sources::SourceLines;
use crate::diff::DiffOptions;
use crate::manifest::{DesiredAccount, Manifests};
use crate::model::AdAccountId;
use crate::reconcile::survey::{Survey, SurveyError, survey};
use crate::render::findings;
use std::path::PathBuf;

/// Loads manifests, printing warnings (unless quiet); invalid manifests are a failure that
/// lists every finding.
pub(crate) fn load_manifests(
    paths: &[PathBuf],
    global: &GlobalOptions,
) -> Result<Manifests, Failure> {
    match crate::manifest::load(paths) {
        Ok(m) => {
            if !global.quiet {
                warn(global, SourceLines::default().render(&m.warnings));
            }
            Ok(m)
        }
        Err(diags) => Err(Failure::with_details(
            SourceLines::default().render(&diags),
            "the manifests are invalid; `convctl validate` shows the same checks offline",
        )),
    }
}

/// The accounts to work on: `--account` (each must be declared) and `--shard K/N`. Takes the
/// manifests: what is not selected is freed here, and the rest once it is diffed.
pub(crate) fn select(
    manifests: Manifests,
    accounts: &[String],
    global: &GlobalOptions,
) -> Result<Vec<DesiredAccount>, Failure> {
    let wanted = parse_accounts(accounts)?;
    for w in &wanted {
        if !manifests.accounts.iter().any(|a| &a.account == w) {
            return Err(Failure::new(format!(
                "--account {w} is not declared in the manifests; declared: {}",
                manifests
                    .accounts
                    .iter()
                    .map(|a| a.account.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(manifests
        .accounts
        .into_iter()
        .filter(|a| wanted.is_empty() || wanted.contains(&a.account))
        .filter(|a| global.shard.is_none_or(|s| s.contains(&a.account)))
        .collect())
}

/// `--account` values as account ids.
pub(crate) fn parse_accounts(accounts: &[String]) -> Result<Vec<AdAccountId>, Failure> {
    accounts
        .iter()
        .map(|a| AdAccountId::parse(a).map_err(|e| Failure::new(format!("--account: {e}"))))
        .collect()
}

/// Lists and diffs. `report_only` (drift): what apply would refuse is reported as drift with a
/// warning, not an error. The desired accounts are consumed: nothing after the diff needs them,
/// so they are freed before the plan is shown or applied (at agency scale, tens of MB).
pub(crate) async fn survey_accounts(
    session: &Session,
    selected: Vec<DesiredAccount>,
    global: &GlobalOptions,
    report_only: bool,
) -> Result<Survey, Failure> {
    let spinner = listing_spinner(selected.len(), global);
    let accounts: Vec<&DesiredAccount> = selected.iter().collect();
    let result = survey(
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
    let mut survey = result.map_err(|errors| {
        let summary = format!("no plan: fix the {} problem(s) above", errors.len());
        let mut sources = SourceLines::default();
        let lines = errors.iter().map(|e| match e {
            SurveyError::Invalid(d) => findings::text(d, &mut |l| sources.line(l)),
            unlisted => unlisted.to_string(),
        });
        Failure::with_details(lines.collect(), summary)
    })?;
    survey
        .doc
        .notices
        .extend(session.version_notice().map(str::to_string));
    if global.verbose {
        for note in survey.doc.accounts.iter().flat_map(|a| a.notes.iter()) {
            eprintln!("note: {note}");
        }
    }
    Ok(survey)
}

/// The own tokens (`token_env`) of the given accounts, read before any call: a variable that
/// is not set is an error naming the account and the variable.
pub(crate) fn tokens_of<'a>(
    global: &GlobalOptions,
    accounts: impl IntoIterator<Item = (&'a AdAccountId, Option<&'a str>)>,
) -> Result<AccountTokens, Failure> {
    account_tokens(global, accounts, |name| std::env::var(name).ok()).map_err(Failure::new)
}

/// The own tokens of the selected accounts.
pub(crate) fn tokens_of_selected(
    global: &GlobalOptions,
    selected: &[DesiredAccount],
) -> Result<AccountTokens, Failure> {
    tokens_of(
        global,
        selected
            .iter()
            .map(|a| (&a.account, a.token_env.as_deref())),
    )
}

/// Runs `body` inside a tokio runtime with a session (the client, and the sandbox emulator
/// when asked), shutting the session down (saving sandbox state) whatever the outcome.
pub(crate) fn with_session<T>(
    global: &GlobalOptions,
    body: impl AsyncFnOnce(&Session) -> Result<T, Failure>,
) -> Result<T, Failure> {
    with_session_for(global, AccountTokens::default(), body)
}

/// [`with_session`], with accounts' own tokens.
pub(crate) fn with_session_for<T>(
    global: &GlobalOptions,
    tokens: AccountTokens,
    body: impl AsyncFnOnce(&Session) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let session = Session::start_with(global, tokens)
            .await
            .map_err(Failure::new)?;
        if let Some(notice) = session.version_notice() {
            warn(global, [format!("warning: {notice}")]);
        }
        let result = tokio::select! {
            result = body(&session) => result,
            () = out_of_time(session.budget()) => {
                let waiting = session.budget().still_waiting();
                Err(Failure::new(format!(
                    "the --timeout of {} ran out; {}. Nothing more was done (`apply` run again picks up where this stopped; a longer --timeout, or 0 for none, waits longer)",
                    session.budget().describe(),
                    match waiting.is_empty() {
                        true => "no call was waiting for the API".to_string(),
                        false => format!("still waiting for: {}", waiting.join(", ")),
                    }
                )))
            }
        };
        match (result, session.finish().await) {
            (result, Ok(())) => result,
            (Ok(_), Err(e)) => Err(Failure::new(e)),
            (Err(failure), Err(e)) => Err(failure.and(Failure::new(e))),
        }
    })
}

/// Completes once the command's time budget has been over for a moment. Requests end by the
/// budget's deadline on their own (the client stops each exchange and every retry there); this
/// is the backstop for anything else. The budget may be restarted (after apply's prompt): the
/// deadline is read again each time.
async fn out_of_time(budget: &crate::graph::CommandBudget) {
    const GRACE: std::time::Duration = std::time::Duration::from_secs(2);
    loop {
        let Some(deadline) = budget.deadline() else {
            return std::future::pending().await;
        };
        tokio::time::sleep_until(deadline + GRACE).await;
        if budget
            .deadline()
            .is_some_and(|d| d + GRACE <= tokio::time::Instant::now())
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::out_of_time;
    use crate::graph::CommandBudget;
    use std::time::Duration;
    use tokio::time::Instant;

    /// The backstop fires 2 s after the deadline, not before (the clock is paused: no real
    /// waiting).
    #[tokio::test(start_paused = true)]
    async fn the_backstop_fires_two_seconds_after_the_deadline() {
        let start = Instant::now();
        let budget = CommandBudget::new(Duration::from_secs(10));
        out_of_time(&budget).await;
        assert_eq!(start.elapsed().as_secs(), 12);
    }

    /// A budget restarted while the backstop waits (apply's prompt) moves it on: the
    /// deadline is read again.
    #[tokio::test(start_paused = true)]
    async fn a_restarted_budget_moves_the_backstop() {
        let start = Instant::now();
        let budget = CommandBudget::new(Duration::from_secs(10));
        let restarted = budget.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(11)).await;
            restarted.restart();
        });
        out_of_time(&budget).await;
        assert_eq!(
            start.elapsed().as_secs(),
            23,
            "11 s, then 10 s and the 2 s grace"
        );
    }

    /// No budget: the backstop never fires.
    #[tokio::test(start_paused = true)]
    async fn without_a_budget_the_backstop_never_fires() {
        let waited = tokio::time::timeout(
            Duration::from_secs(3600),
            out_of_time(&CommandBudget::unlimited()),
        )
        .await;
        assert!(waited.is_err());
    }
}
