//! Executes a plan through a [`LiveApi`], in phases, and reports exactly what was and was not
//! done.
//!
//! Phases ([`Phase`]; within each, writes are independent and run in parallel, batched by the
//! client):
//! 1. the deletes of `delete_before_create` replacements (only at the account cap): (1a) the
//!    first of each account runs alone and the account is listed again: where DELETE only
//!    archives (archived conversions still count toward the cap), deleting made no room, and
//!    (1b) the account's other such replacements are not started, so one conversion is lost,
//!    not all;
//! 2. creates (new conversions and the new halves of replacements) and in-place updates;
//! 3. the deletes of `create_before_delete` replacements, tombstones and prunes.
//!
//! A step runs only when the step it depends on succeeded: the old half of a replacement is
//! never deleted unless its new half exists. It never changes the plan and never decides what
//! to do; running `apply` again after a failure finishes the job (the diff recognises what was
//! done, including a replacement cut off half way), so nothing is duplicated.

use crate::graph::{ErrorKind, GraphError};
use crate::model::ids::ConversionId;
use crate::model::{LiveConversion, WriteOp, WriteOutcome};
use crate::plan::{
    AccountPlan, Action, DeleteReason, PlanDocument, ReplaceOrder, RequestError, update_request,
};
use crate::reconcile::{LiveApi, Progress};
use std::collections::HashMap;

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
}

/// Everything apply did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApplyReport {
    pub(crate) actions: Vec<ActionReport>,
    /// The command was stopped (a signal) before every action was tried.
    pub(crate) stopped: bool,
}

/// Why an action was not started when the command was stopped.
const NOT_STARTED_STOPPED: &str = "not started: apply was stopped (a signal) before it";

impl ApplyReport {
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

    /// The same report, written to `out` line by line (50,000 actions make some 3 MB of it).
    pub(crate) fn render_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for a in &self.actions {
            match &a.status {
                Status::Done(what) => {
                    writeln!(out, "{}: {} {}: {what}", a.account, a.marker, a.what)
                }
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
        let count = |f: fn(&Status) -> bool| self.actions.iter().filter(|a| f(&a.status)).count();
        let done = count(|s| matches!(s, Status::Done(_)));
        if self.is_complete() {
            writeln!(
                out,
                "Apply complete: {done} of {} actions done.",
                self.actions.len()
            )
        } else if self.stopped {
            let failed = count(|s| matches!(s, Status::Failed(_)));
            let not_done = count(|s| matches!(s, Status::NotDone(_)));
            writeln!(
                out,
                "Apply stopped by a signal: {done} done, {failed} failed, {not_done} not done. \
                 Run `convctl apply` again to finish: it picks up where this stopped, without duplicates."
            )
        } else {
            let failed = count(|s| matches!(s, Status::Failed(_)));
            let not_done = count(|s| matches!(s, Status::NotDone(_)));
            writeln!(
                out,
                "Apply failed part way: {done} done, {failed} failed, {not_done} not done. \
                 Run `convctl apply` again to finish: it picks up where this stopped, without duplicates."
            )
        }
    }
}

/// Where one action is in its steps.
struct Track {
    new_id: Option<ConversionId>,
    old_deleted: bool,
    /// The conversion to delete was found gone already ("does not exist", confirmed by a
    /// listing): the delete is done, nothing was deleted by this apply.
    already_gone: bool,
    /// The delete was answered "does not exist" (100/33): to be confirmed by listing the
    /// account (`failed` holds the answer meanwhile).
    gone_unconfirmed: bool,
    /// The delete of a `delete_before_create` replacement only archived it: no room was made.
    archived_only: bool,
    failed: Option<String>,
    /// Not started on purpose, with why (reported as NOT DONE).
    skipped: Option<String>,
    done: bool,
    /// The new conversion was sent twice: its first answer was lost and no listing showed it
    /// ([`WriteOutcome::Resent`]).
    resent: bool,
}

/// Which write of which action.
#[derive(Clone, Copy)]
enum Step {
    CreateNew,
    Update,
    DeleteOld,
}

/// The phases of an apply, in order (the module documentation numbers them 1a to 3). Within a
/// phase, writes are independent: they go to the client together and run in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// 1a. The first `delete_before_create` replacement of each account deletes its old
    ///     conversion alone; then the account is listed again, to check that it made room.
    ProbeRoom,
    /// 1b. The account's other `delete_before_create` replacements delete their old ones.
    DeleteFirst,
    /// 2. Creates (new conversions and the new halves of replacements) and in-place updates.
    CreateAndUpdate,
    /// 3. The old halves of `create_before_delete` replacements, tombstones and prunes.
    DeleteLast,
}

impl Phase {
    const ALL: [Phase; 4] = [
        Phase::ProbeRoom,
        Phase::DeleteFirst,
        Phase::CreateAndUpdate,
        Phase::DeleteLast,
    ];
}

/// Executes every action of `doc`; `on_done` ticks once per finished write.
///
/// It takes the plan: a create's request is moved out of its action instead of copied, so that
/// 50,000 creates do not hold every name and rule twice while the writes run. What the report
/// needs (names, ids) stays.
///
/// When the API says it is halted (the command is stopping), no further phase starts: what
/// was not started is reported as not done, and a step cut off part way as failed with what
/// it did.
pub async fn execute<A: LiveApi>(api: &A, doc: PlanDocument, on_done: Progress) -> ApplyReport {
    let mut run = Execution::new(api, doc, on_done);
    for phase in Phase::ALL {
        if api.halted() {
            break;
        }
        run.run_phase(phase).await;
        if phase == Phase::ProbeRoom && !api.halted() {
            run.check_room().await;
        }
    }
    let stopped = api.halted();
    if stopped {
        run.not_started(NOT_STARTED_STOPPED);
    }
    let mut report = run.report();
    report.stopped = stopped && !report.is_complete();
    report
}

/// An apply under way: the plan, where each action is, and what the probes found.
struct Execution<'a, A> {
    api: &'a A,
    doc: PlanDocument,
    on_done: Progress,
    /// Every action as (account index, index in that account's actions), in plan order.
    actions: Vec<(usize, usize)>,
    /// Per action (same order).
    progress: Vec<Track>,
    /// The first delete-before-create replacement of each account (indexes into `actions`):
    /// it probes whether deleting makes room before the account's others are deleted.
    probes: Vec<usize>,
    /// Accounts (index) where deleting made no room, with why their others are not started.
    no_room: HashMap<usize, String>,
}

impl<'a, A: LiveApi> Execution<'a, A> {
    fn new(api: &'a A, doc: PlanDocument, on_done: Progress) -> Self {
        let actions: Vec<(usize, usize)> = doc
            .accounts
            .iter()
            .enumerate()
            .flat_map(|(i, a)| (0..a.actions.len()).map(move |j| (i, j)))
            .collect();
        let progress = actions
            .iter()
            .map(|_| Track {
                new_id: None,
                old_deleted: false,
                already_gone: false,
                gone_unconfirmed: false,
                archived_only: false,
                failed: None,
                skipped: None,
                done: false,
                resent: false,
            })
            .collect();
        let mut probes: Vec<usize> = Vec::new();
        for (k, &(i, j)) in actions.iter().enumerate() {
            if is_delete_first(&doc.accounts[i].actions[j])
                && !probes.iter().any(|&q| actions[q].0 == i)
            {
                probes.push(k);
            }
        }
        Execution {
            api,
            doc,
            on_done,
            actions,
            progress,
            probes,
            no_room: HashMap::new(),
        }
    }

    /// Sends every write the phase holds, together, and records the results.
    async fn run_phase(&mut self, phase: Phase) {
        let mut ops = Vec::new();
        let mut owners = Vec::new();
        for k in 0..self.actions.len() {
            let p = &self.progress[k];
            if p.failed.is_some() || p.done || p.skipped.is_some() {
                continue;
            }
            let Some(step) = self.step_for(phase, k) else {
                continue;
            };
            match self.request(k, step) {
                Ok(op) => {
                    ops.push(op);
                    owners.push((k, step));
                }
                Err(e) => {
                    self.progress[k].failed = Some(format!("the plan cannot be executed: {e}"));
                }
            }
        }
        if ops.is_empty() {
            return;
        }
        let results = self.api.write(ops, self.on_done.clone()).await;
        for ((k, step), result) in owners.into_iter().zip(results) {
            self.record(k, step, result);
        }
        self.confirm_gone().await;
    }

    /// The write action `k` makes in `phase`, if any (a delete-first replacement whose account
    /// has no room is marked not started instead).
    fn step_for(&mut self, phase: Phase, k: usize) -> Option<Step> {
        let (account_index, j) = self.actions[k];
        let p = &mut self.progress[k];
        match (phase, &self.doc.accounts[account_index].actions[j]) {
            (Phase::CreateAndUpdate, Action::Create { .. }) => Some(Step::CreateNew),
            (Phase::CreateAndUpdate, Action::Update { .. }) => Some(Step::Update),
            (
                Phase::ProbeRoom | Phase::DeleteFirst,
                Action::Replace {
                    order: ReplaceOrder::DeleteBeforeCreate,
                    ..
                },
            ) => {
                if (phase == Phase::ProbeRoom) != self.probes.contains(&k) {
                    None
                } else if let Some(why) = self.no_room.get(&account_index) {
                    p.skipped = Some(why.clone());
                    None
                } else {
                    Some(Step::DeleteOld)
                }
            }
            (
                Phase::CreateAndUpdate,
                Action::Replace {
                    order: ReplaceOrder::DeleteBeforeCreate,
                    ..
                },
            ) => p.old_deleted.then_some(Step::CreateNew),
            (
                Phase::CreateAndUpdate,
                Action::Replace {
                    order: ReplaceOrder::CreateBeforeDelete,
                    ..
                },
            ) => Some(Step::CreateNew),
            (
                Phase::DeleteLast,
                Action::Replace {
                    order: ReplaceOrder::CreateBeforeDelete,
                    ..
                },
            ) => p.new_id.is_some().then_some(Step::DeleteOld),
            (Phase::DeleteLast, Action::Delete { .. }) => Some(Step::DeleteOld),
            _ => None,
        }
    }

    /// The request of one step. Each create is sent by one phase only: its state is moved out
    /// of the plan, not copied.
    fn request(&mut self, k: usize, step: Step) -> Result<WriteOp, RequestError> {
        let (account_index, j) = self.actions[k];
        let AccountPlan {
            account, actions, ..
        } = &mut self.doc.accounts[account_index];
        match (step, &mut actions[j]) {
            (Step::CreateNew, Action::Create { after, .. }) => std::mem::take(after)
                .into_new_conversion()
                .map(|conversion| WriteOp::Create {
                    account: account.clone(),
                    conversion,
                }),
            (Step::CreateNew, Action::Replace { after, .. }) => std::mem::take(&mut **after)
                .into_new_conversion()
                .map(|conversion| WriteOp::Create {
                    account: account.clone(),
                    conversion,
                }),
            (Step::Update, Action::Update { id, changes, .. }) => {
                update_request(changes).map(|update| WriteOp::Update {
                    id: id.clone(),
                    update,
                })
            }
            (Step::DeleteOld, action) => Ok(WriteOp::Delete {
                id: action
                    .id()
                    .expect("deletes and replaces have an id")
                    .clone(),
            }),
            _ => unreachable!("steps are chosen per action kind in step_for"),
        }
    }

    /// What one write's result means for its action.
    fn record(&mut self, k: usize, step: Step, result: Result<WriteOutcome, GraphError>) {
        let (i, j) = self.actions[k];
        let action = &self.doc.accounts[i].actions[j];
        let p = &mut self.progress[k];
        match result {
            // Not sent because the command is stopping: not started, unless an earlier step
            // of the action was done (then it failed part way, and says what it did).
            Err(e) if e.kind == ErrorKind::Halted && !p.old_deleted && p.new_id.is_none() => {
                p.skipped = Some(NOT_STARTED_STOPPED.to_string());
            }
            Err(e) if matches!(step, Step::DeleteOld) && e.is_not_found() => {
                p.failed = Some(e.to_string());
                p.gone_unconfirmed = true;
            }
            Err(e) => p.failed = Some(e.to_string()),
            Ok(outcome) => match step {
                Step::CreateNew => {
                    p.resent = matches!(outcome, WriteOutcome::Resent(_));
                    p.new_id = match outcome {
                        WriteOutcome::Created(id)
                        | WriteOutcome::Adopted(id)
                        | WriteOutcome::Resent(id) => Some(id),
                        _ => None,
                    };
                    p.done = matches!(action, Action::Create { .. })
                        || (matches!(action, Action::Replace { .. }) && p.old_deleted);
                }
                Step::Update => p.done = true,
                Step::DeleteOld => {
                    p.already_gone = outcome == WriteOutcome::AlreadyGone;
                    deleted(action, p);
                }
            },
        }
    }

    /// Deletes answered "does not exist" (100/33): what the delete wanted is true when the
    /// account, listed again, no longer has the conversion (another apply deleted it, or a
    /// person did): done, "already gone". Still listed, the answer meant something else (a
    /// permission?): it stays a failure. Deletes are idempotent, so two applies that meet never
    /// fail each other's deletes.
    async fn confirm_gone(&mut self) {
        let pending: Vec<usize> = (0..self.actions.len())
            .filter(|&k| self.progress[k].gone_unconfirmed)
            .collect();
        if pending.is_empty() {
            return;
        }
        let mut accounts: Vec<usize> = pending.iter().map(|&k| self.actions[k].0).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let ids: Vec<_> = accounts
            .iter()
            .map(|&i| self.doc.accounts[i].account.clone())
            .collect();
        let listed = self.api.list_many(&ids).await;
        let listed: HashMap<usize, Result<Vec<LiveConversion>, GraphError>> =
            accounts.into_iter().zip(listed).collect();
        for k in pending {
            let (i, j) = self.actions[k];
            let action = &self.doc.accounts[i].actions[j];
            let id = action.id().expect("deletes and replaces have an id");
            let p = &mut self.progress[k];
            p.gone_unconfirmed = false;
            let answer = p.failed.take().unwrap_or_default();
            match &listed[&i] {
                Ok(live) if !live.iter().any(|c| &c.id == id && !c.is_archived) => {
                    p.already_gone = true;
                    deleted(action, p);
                }
                Ok(_) => {
                    p.failed = Some(format!(
                        "{answer} (the account still lists id {id}, so it is not gone)"
                    ));
                }
                Err(e) => {
                    p.failed = Some(format!(
                        "{answer} (listing the account to check that id {id} is gone failed: {e})"
                    ));
                }
            }
        }
    }

    /// Every action not done, failed or skipped is marked not started, with `why`.
    fn not_started(&mut self, why: &str) {
        for p in &mut self.progress {
            if !p.done && p.failed.is_none() && p.skipped.is_none() {
                p.skipped = Some(why.to_string());
            }
        }
    }

    /// After the probing deletes: see [`check_room`].
    async fn check_room(&mut self) {
        check_room(
            self.api,
            &self.doc,
            &self.actions,
            &self.probes,
            &mut self.progress,
            &mut self.no_room,
        )
        .await;
    }

    /// One line per action, in plan order.
    fn report(self) -> ApplyReport {
        let doc = &self.doc;
        let reports = self
            .actions
            .iter()
            .zip(self.progress)
            .map(|(&(i, j), p)| {
                let account = &doc.accounts[i];
                report(account.account.as_str(), &account.actions[j], p)
            })
            .collect();
        ApplyReport {
            actions: reports,
            stopped: false,
        }
    }
}

/// The old conversion of `action` is gone (deleted now, or found gone).
fn deleted(action: &Action, p: &mut Track) {
    p.old_deleted = true;
    p.done = matches!(action, Action::Delete { .. }) || p.new_id.is_some();
}

fn is_delete_first(action: &Action) -> bool {
    matches!(
        action,
        Action::Replace {
            order: ReplaceOrder::DeleteBeforeCreate,
            ..
        }
    )
}

/// After the probing deletes: lists their accounts again. A deleted id still listed (archived)
/// made no room: its create is not tried, and the account's other delete-first replacements
/// are skipped (`no_room` says why), so that they keep their conversions.
async fn check_room<A: LiveApi>(
    api: &A,
    doc: &PlanDocument,
    actions: &[(usize, usize)],
    probes: &[usize],
    progress: &mut [Track],
    no_room: &mut HashMap<usize, String>,
) {
    let probed: Vec<usize> = probes
        .iter()
        .copied()
        .filter(|&k| progress[k].old_deleted)
        .collect();
    if probed.is_empty() {
        return;
    }
    let accounts: Vec<_> = probed
        .iter()
        .map(|&k| doc.accounts[actions[k].0].account.clone())
        .collect();
    let listed = api.list_many(&accounts).await;
    for ((k, account), result) in probed.into_iter().zip(&accounts).zip(listed) {
        let (account_index, j) = actions[k];
        let action = &doc.accounts[account_index].actions[j];
        let id = action.id().expect("a replacement has an id");
        match result {
            Err(e) => {
                no_room.insert(
                    account_index,
                    format!("could not check that deleting made room in {account} ({e}); run apply again"),
                );
            }
            Ok(live) if live.iter().any(|c| &c.id == id) => {
                progress[k].archived_only = true;
                progress[k].failed = Some(format!(
                    "the API archived id {id} instead of deleting it, and archived conversions still count toward the {} limit of {account}, so no room was made and the new one was not created",
                    crate::ACCOUNT_CAP
                ));
                no_room.insert(
                    account_index,
                    format!(
                        "not started: deleting in {account} only archives (see {}), so it would lose the conversion without making room. Make room in Events Manager, then apply again",
                        crate::render::quoted(action.name())
                    ),
                );
            }
            Ok(_) => {}
        }
    }
}

/// What a create sent twice must say: the client lists the account and sends a create again
/// only when the listing is whole and shows nothing like it, but a listing that left out
/// exactly the first attempt's conversion cannot be told from the truth (docs/api-fidelity.md).
fn resent_note(p: &Track) -> &'static str {
    if p.resent {
        " (sent twice: its first answer was lost and the account, listed again, did not show it; \
         had that listing left it out, the account holds a second copy: `convctl plan` shows it)"
    } else {
        ""
    }
}

fn report(account: &str, action: &Action, p: Track) -> ActionReport {
    let id_text = |id: &Option<ConversionId>| {
        id.as_ref()
            .map(|i| i.to_string())
            .unwrap_or_else(|| "?".into())
    };
    let quoted = crate::render::quoted(action.name());
    let (marker, what) = match action {
        Action::Create { .. } => ("+", format!("create {quoted}")),
        Action::Update { id, .. } => ("~", format!("update {quoted} (id {id})")),
        Action::Replace { id, .. } => ("-/+", format!("replace {quoted} (id {id})")),
        Action::Delete { id, reason, .. } => (
            "-",
            format!(
                "delete {quoted} (id {id}, {})",
                match reason {
                    DeleteReason::Absent => "ensure: absent",
                    DeleteReason::Prune => "prune",
                    DeleteReason::Replaced => "old half of an interrupted replacement",
                    DeleteReason::Duplicate => "duplicate",
                }
            ),
        ),
    };
    let status = match (action, &p.failed) {
        (_, None) if p.done => Status::Done(match action {
            Action::Create { .. } => {
                format!("created, id {}{}", id_text(&p.new_id), resent_note(&p))
            }
            Action::Update { .. } => "updated".into(),
            Action::Replace { id, .. } if p.already_gone => format!(
                "new id {}, old id {id} already gone{}",
                id_text(&p.new_id),
                resent_note(&p)
            ),
            Action::Replace { id, .. } => format!(
                "new id {}, old id {id} deleted{}",
                id_text(&p.new_id),
                resent_note(&p)
            ),
            Action::Delete { .. } if p.already_gone => "already gone".into(),
            Action::Delete { .. } => "deleted".into(),
        }),
        (_, None) => Status::NotDone(p.skipped.clone().unwrap_or_else(|| "not reached".into())),
        (Action::Replace { .. }, Some(e)) if p.archived_only => Status::Failed(format!(
            "{e}. The old conversion is archived (restore it in Events Manager if needed)"
        )),
        (
            Action::Replace {
                id,
                order,
                pinned_at,
                ..
            },
            Some(e),
        ) => match (order, p.new_id.is_some(), p.old_deleted) {
            (_, true, false) => Status::Failed(format!(
                "the new conversion was created (id {}) but deleting the old id {id} failed: {e}",
                id_text(&p.new_id)
            )),
            (_, false, true) => Status::Failed(format!(
                "the old id {id} was {} (account at its limit) but creating the new one failed: {e}. {}",
                if p.already_gone {
                    "already gone"
                } else {
                    "deleted"
                },
                match pinned_at {
                    Some(at) => format!(
                        "Run apply again: it creates the conversion (the pin at {at} names the deleted id, which is accepted with a warning while no live conversion has this name); then update the pin to the new id apply prints"
                    ),
                    None => "Run apply again: it creates the conversion".to_string(),
                }
            )),
            (ReplaceOrder::CreateBeforeDelete, _, _) => Status::Failed(format!(
                "creating the new conversion failed, so the old id {id} was kept: {e}"
            )),
            (ReplaceOrder::DeleteBeforeCreate, _, _) => Status::Failed(format!(
                "deleting the old id {id} failed, so nothing was created: {e}"
            )),
        },
        (_, Some(e)) => Status::Failed(e.clone()),
    };
    let repin = match (action, &status, &p.new_id) {
        (
            Action::Replace {
                pinned_at: Some(at),
                ..
            },
            _,
            Some(new),
        ) => Some((new.clone(), at.clone())),
        _ => None,
    };
    ActionReport {
        account: account.to_string(),
        what,
        marker,
        status,
        repin,
        new_id: p.new_id,
    }
}

#[cfg(test)]
mod tests;
