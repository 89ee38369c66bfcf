//! What apply tells: one line per action of the plan (done, failed, not done, with what was
//! done), the pins to update, and a last line counting what was done, retired conversions apart
//! from deleted ones. An account's lines can be told on their own, as soon as it is settled
//! ([`render_lines_to`]); the last line waits for every account.

use crate::model::ids::ConversionId;

/// How one planned action ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Status {
    /// Done, with what was done (`created id 7`, `new id 9, old id 3 deleted`).
    Done(String),
    /// Tried and failed (or half done), with the error and what did happen.
    Failed(String),
    /// Not tried, with why.
    NotDone(String),
}

/// What became of the conversion an action removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    Deleted,
    /// Renamed `[retired ...]` for Events Manager.
    Retired,
}

/// One action of the plan and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActionReport {
    pub(crate) account: String,
    /// `create "A"`, `replace "C" (id 3)`...
    pub(crate) what: String,
    pub(crate) marker: &'static str,
    pub(crate) status: Status,
    /// For a replacement of a pinned conversion: the new id and where to pin it.
    pub(crate) repin: Option<(ConversionId, String)>,
    /// The id of the conversion a create or replacement made (or adopted), when it did.
    pub(crate) new_id: Option<ConversionId>,
    /// The name a conversion was retired under, when this action retired one.
    pub(crate) retired_as: Option<String>,
    /// What became of the conversion the action removes (a delete, a retirement, the old half of
    /// a replacement), when it went.
    pub(crate) removed: Option<Removed>,
    /// It failed in a way running apply again does not fix (its line says what to change).
    pub(crate) needs_change: bool,
    /// Meta refused to delete the conversion this action removes (code 200-299 or 10).
    pub(crate) delete_refused: bool,
}

/// Everything apply did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApplyReport {
    pub(crate) actions: Vec<ActionReport>,
    /// The command was stopped (a signal) before every action was tried.
    pub(crate) stopped: bool,
}

impl ApplyReport {
    /// The warning to print when Meta refused deletes (the app may not delete custom
    /// conversions): how many were retired instead, and what to do.
    pub(crate) fn refused_deletes_warning(&self) -> Option<String> {
        let refused: Vec<&ActionReport> =
            self.actions.iter().filter(|a| a.delete_refused).collect();
        let retired = refused.iter().filter(|a| a.retired_as.is_some()).count();
        let accounts: std::collections::BTreeSet<&str> =
            refused.iter().map(|a| a.account.as_str()).collect();
        (!refused.is_empty()).then(|| {
            format!(
                "Meta refused {} delete(s) in {} (this app may not delete custom conversions, whatever the token's permissions); convctl retired {retired} of them instead: renamed \"[retired YYYY-MM-DD] ...\", to archive in Events Manager. Later plans of these accounts retire without trying to delete; `deletion: retire` in their manifests says so from the start",
                refused.len(),
                accounts.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn is_complete(&self) -> bool {
        self.actions
            .iter()
            .all(|a| matches!(a.status, Status::Done(_)))
    }

    /// What was done, what failed and what was not done, for stdout.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        self.render_to(&mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("the report is built from strings")
    }

    /// The same report, written to `out` line by line (50,000 actions make some 3 MB of it):
    /// every action's lines in plan order, then the summary.
    pub(crate) fn render_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        render_lines_to(out, &self.actions)?;
        self.render_summary_to(out)
    }

    /// The last line: what was done, failed and not done, and what to do next.
    pub(crate) fn render_summary_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let count = |f: fn(&Status) -> bool| self.actions.iter().filter(|a| f(&a.status)).count();
        let done = count(|s| matches!(s, Status::Done(_)));
        let removed = |how| {
            self.actions
                .iter()
                .filter(|a| a.removed == Some(how))
                .count()
        };
        let (deleted, retired) = (removed(Removed::Deleted), removed(Removed::Retired));
        // Retired conversions still count events and the limit until archived: counted apart.
        let removals = if retired > 0 {
            format!(
                " ({deleted} conversion(s) deleted, {retired} retired instead of deleted: archive the retired ones in Events Manager)"
            )
        } else {
            String::new()
        };
        if self.is_complete() {
            writeln!(
                out,
                "Apply complete: {done} of {} actions done{removals}.",
                self.actions.len()
            )
        } else if self.stopped {
            let failed = count(|s| matches!(s, Status::Failed(_)));
            let not_done = count(|s| matches!(s, Status::NotDone(_)));
            writeln!(
                out,
                "Apply stopped by a signal: {done} done, {failed} failed, {not_done} not done{removals}. \
                 Run `convctl apply` again to finish: it picks up where this stopped, without duplicates."
            )
        } else {
            let failed = count(|s| matches!(s, Status::Failed(_)));
            let not_done = count(|s| matches!(s, Status::NotDone(_)));
            let first = if self.actions.iter().any(|a| a.needs_change) {
                "Change what the lines above ask, then run `convctl apply` again"
            } else {
                "Run `convctl apply` again to finish"
            };
            writeln!(
                out,
                "Apply failed part way: {done} done, {failed} failed, {not_done} not done{removals}. \
                 {first}: it picks up where this stopped, without duplicates."
            )
        }
    }
}

/// The lines of `actions` (one account's, as it is settled, or the whole plan's): one per
/// action saying how it ended, and the pin to update after a replacement.
pub(crate) fn render_lines_to(
    out: &mut impl std::io::Write,
    actions: &[ActionReport],
) -> std::io::Result<()> {
    for a in actions {
        match &a.status {
            Status::Done(what) => writeln!(out, "{}: {} {}: {what}", a.account, a.marker, a.what),
            Status::Failed(why) => writeln!(out, "{}: FAILED {}: {why}", a.account, a.what),
            Status::NotDone(why) => writeln!(out, "{}: NOT DONE {}: {why}", a.account, a.what),
        }?;
        if let Some((id, at)) = &a.repin {
            writeln!(
                out,
                "{}: the manifest pins the old id at {at}: change it to id: \"{id}\"",
                a.account
            )?;
        }
    }
    Ok(())
}
