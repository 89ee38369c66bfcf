//! Executes a plan through a [`LiveApi`], in phases, and reports exactly what was and was not
//! done.
//!
//! Each account goes through the phases on its own, side by side with the other accounts (their
//! actions never depend on each other), so an account is settled, and its report told, as soon
//! as its own last write is answered, not when the slowest account's phase ends.
//!
//! Phases of an account ([`Phase`]; within each, writes are independent and run in parallel,
//! batched by the client):
//! 1. the deletes that must come before the creates: the old halves of `delete_before_create`
//!    replacements (at the account cap, or where the new one keeps the old one's rule) and
//!    deletes that free a rule a create needs. (1a) The first runs alone and the account is
//!    listed again: where DELETE only archives (archived conversions still count
//!    toward the cap and hold their rule), deleting freed nothing, and (1b) the account's other
//!    such deletes are not started, so one conversion is lost, not all;
//! 2. creates (new conversions and the new halves of replacements) and in-place updates; a
//!    create whose rule a delete of phase 1 failed to free is not tried (Meta would refuse it);
//! 3. the removals of `create_before_delete` replacements' old halves, tombstones, prunes and
//!    duplicates: deleted, or retired (renamed `[retired YYYY-MM-DD] ...`, see
//!    [`crate::model::retired`]) where the plan says so.
//!
//! Most apps may not delete custom conversions: a delete refused for permission (codes
//! 200-299, 10) is retired instead (phases 1c and 4), with the reason in its description, and
//! the account's later deletes in this apply are retired without trying. Not where retiring
//! would not do what the delete was for: a replacement deleting first for room or to free its
//! own rule keeps its old conversion untouched and fails, saying what to change; a flagged
//! conversion cannot be renamed (Meta refuses every edit of it).
//!
//! A step runs only when the step it depends on succeeded: the old half of a replacement is
//! never removed unless its new half exists. It never changes the plan and never decides what
//! to do; running `apply` again after a failure finishes the job (the diff recognises what was
//! done, including a replacement cut off half way), so nothing is duplicated.

mod report;

pub use report::ApplyReport;
pub(crate) use report::{ActionReport, Removed, Status, render_lines_to};

use crate::graph::{ErrorKind, GraphError};
use crate::model::ids::ConversionId;
use crate::model::{ConversionUpdate, WriteOp, WriteOutcome};
use crate::plan::{
    AccountPlan, Action, ConversionState, DeleteFirst, DeleteReason, PlanDocument, ReplaceOrder,
    RequestError, RetireWhy, Retirement, update_request,
};
use crate::reconcile::{LiveApi, Progress};

/// Where one action is in its steps.
#[derive(Default)]
struct Track {
    new_id: Option<ConversionId>,
    old_deleted: bool,
    /// The conversion to delete was found gone already ("does not exist", confirmed by a
    /// listing): the delete is done, nothing was deleted by this apply.
    already_gone: bool,
    /// The delete was answered "does not exist" (100/33): to be confirmed by listing the
    /// account (`failed` holds the answer meanwhile).
    gone_unconfirmed: bool,
    /// A delete before the creates only archived the conversion: nothing was freed.
    archived_only: bool,
    /// Meta refused to delete the conversion (its answer): it is to be retired instead
    /// (`retire_pending`), or the action fails.
    delete_refused: Option<String>,
    /// To be retired, and why (a plan's retirement, or a refused delete).
    retire_pending: Option<Retirement>,
    /// The name the conversion was retired under.
    retired_as: Option<String>,
    failed: Option<String>,
    /// It failed in a way running apply again does not fix.
    needs_change: bool,
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
    /// Rename the old conversion `[retired ...]` (an update).
    RetireOld,
}

/// The phases of an account's apply, in order (the module documentation numbers them). Within
/// a phase, writes are independent: they go to the client together and run in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// 1a. The account's first delete that must come before the creates runs alone;
    ///     then the account is listed again, to check that it freed what it was for.
    ProbeRoom,
    /// 1b. The account's other deletes that must come before the creates.
    DeleteFirst,
    /// 1c. Those of phase 1 that Meta refused to delete, where retiring serves (see
    ///     [`fallback_refused`]).
    RetireRefusedFirst,
    /// 2. Creates (new conversions and the new halves of replacements) and in-place updates.
    CreateAndUpdate,
    /// 3. The old halves of `create_before_delete` replacements, tombstones, prunes and
    ///    duplicates: deleted or retired.
    RemoveLast,
    /// 4. Those of phase 3 that Meta refused to delete: retired.
    RetireRefused,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::ProbeRoom,
        Phase::DeleteFirst,
        Phase::RetireRefusedFirst,
        Phase::CreateAndUpdate,
        Phase::RemoveLast,
        Phase::RetireRefused,
    ];
}

/// Executes every action of `doc`. `on_done` ticks once per write of the plan
/// ([`Action::writes`]) as it is settled: as its answer arrives (done or failed), or, for one
/// that will not be sent, when its account is settled; so it ticks exactly as many times as
/// the plan has writes. A conversion retired because Meta refused to delete it is dated
/// `today`.
///
/// It takes the plan: a create's request is moved out of its action instead of copied, so that
/// 50,000 creates do not hold every name and rule twice while the writes run. What the report
/// needs (names, ids) stays.
///
/// When the API says it is halted (the command is stopping), no further phase starts: what
/// was not started is reported as not done, and a step cut off part way as failed with what
/// it did.
pub async fn execute<A: LiveApi>(
    api: &A,
    doc: PlanDocument,
    on_done: Progress,
    today: jiff::civil::Date,
) -> ApplyReport {
    execute_streamed(api, doc, on_done, today, |_| {}).await
}

/// [`execute`], telling each account's report as soon as all its actions are settled (done,
/// failed or not done): `settled` gets that account's lines, in plan order, while the other
/// accounts' writes go on. Each account runs its phases on its own, side by side with the
/// others (no phase waits for another account), so accounts are told in the order they
/// finish; the report returned keeps plan order.
pub(crate) async fn execute_streamed<A: LiveApi>(
    api: &A,
    doc: PlanDocument,
    on_done: Progress,
    today: jiff::civil::Date,
    mut settled: impl FnMut(&[ActionReport]),
) -> ApplyReport {
    let mut reports: Vec<Vec<ActionReport>> = doc.accounts.iter().map(|_| Vec::new()).collect();
    let mut runs: futures::stream::FuturesUnordered<_> = doc
        .accounts
        .into_iter()
        .enumerate()
        .map(|(index, plan)| {
            let run = Execution::new(api, plan, on_done.clone(), today);
            async move { (index, run.run().await) }
        })
        .collect();
    while let Some((index, actions)) = futures::StreamExt::next(&mut runs).await {
        settled(&actions);
        reports[index] = actions;
    }
    let mut report = ApplyReport {
        actions: reports.into_iter().flatten().collect(),
        stopped: false,
    };
    report.stopped = api.halted() && !report.is_complete();
    report
}

/// `on_done` for the first `answers` calls only.
fn at_most(on_done: &Progress, answers: usize) -> Progress {
    let left = std::sync::atomic::AtomicUsize::new(answers);
    let on_done = on_done.clone();
    std::sync::Arc::new(move || {
        let counted = left.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |n| n.checked_sub(1),
        );
        if counted.is_ok() {
            on_done();
        }
    })
}

/// Why an action was not started when the command was stopped.
const NOT_STARTED_STOPPED: &str = "not started: apply was stopped (a signal) before it";

/// One account's apply under way: its plan, where each action is, and what the probe found.
struct Execution<'a, A> {
    api: &'a A,
    plan: AccountPlan,
    on_done: Progress,
    today: jiff::civil::Date,
    /// Per action of `plan`, in plan order.
    progress: Vec<Track>,
    /// The account's first delete that must come before the creates (an index into the
    /// actions): it probes whether deleting frees anything before the others run.
    probe: Option<usize>,
    /// Deleting freed nothing in the account: why its other deletes are not started.
    no_room: Option<String>,
    /// Meta refused a delete in the account during this apply (the refused id): its later
    /// deletes are retired without trying.
    refusing: Option<ConversionId>,
    /// The rule (meaning key) each delete-first action's conversion holds, per action.
    held_rules: Vec<Option<String>>,
    /// Per action, how many of its writes ([`Action::writes`]) progress has counted or will
    /// count as their answers arrive.
    counted: Vec<usize>,
}

impl<'a, A: LiveApi> Execution<'a, A> {
    fn new(api: &'a A, plan: AccountPlan, on_done: Progress, today: jiff::civil::Date) -> Self {
        let progress = plan.actions.iter().map(|_| Track::default()).collect();
        let probe = plan.actions.iter().position(Action::runs_before_creates);
        let held_rules = plan
            .actions
            .iter()
            .map(|action| {
                action
                    .runs_before_creates()
                    .then(|| old_state(action).and_then(rule_key))
                    .flatten()
            })
            .collect();
        Execution {
            api,
            on_done,
            today,
            progress,
            probe,
            no_room: None,
            refusing: None,
            held_rules,
            counted: plan.actions.iter().map(|_| 0).collect(),
            plan,
        }
    }

    /// Runs the account's phases in order, then says how each action ended.
    async fn run(mut self) -> Vec<ActionReport> {
        for phase in Phase::ALL {
            if self.api.halted() {
                break;
            }
            if phase == Phase::CreateAndUpdate {
                self.block_creates_on_held_rules();
            }
            self.run_phase(phase).await;
            if phase == Phase::ProbeRoom && !self.api.halted() {
                self.check_room().await;
            }
        }
        if self.api.halted() {
            self.not_started(NOT_STARTED_STOPPED);
        }
        // The account is settled: its writes that were not sent (not done, or the second
        // half of a replacement that failed) are settled too, so the count reaches the total.
        let unsent: usize = (self.plan.actions.iter().zip(&self.counted))
            .map(|(action, &counted)| action.writes().saturating_sub(counted))
            .sum();
        for _ in 0..unsent {
            (self.on_done)();
        }
        self.report()
    }

    fn action(&self, k: usize) -> &Action {
        &self.plan.actions[k]
    }

    /// Sends every write the phase holds, together, and records the results.
    async fn run_phase(&mut self, phase: Phase) {
        let mut ops = Vec::new();
        let mut owners = Vec::new();
        for k in 0..self.plan.actions.len() {
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
        // Progress counts the plan's writes, each as its answer arrives. A write beyond its
        // action's share (the rename that retires a conversion Meta refused to delete, whose
        // refused delete was counted) is not counted again: the count never passes the total.
        let mut shares = 0;
        for &(k, _) in &owners {
            if self.counted[k] < self.plan.actions[k].writes() {
                self.counted[k] += 1;
                shares += 1;
            }
        }
        let results = self.api.write(ops, at_most(&self.on_done, shares)).await;
        for ((k, step), result) in owners.into_iter().zip(results) {
            self.record(k, step, result);
        }
        self.confirm_gone().await;
    }

    /// The write action `k` makes in `phase`, if any (a delete-first action whose account has
    /// no room, or refuses deletes, is settled here instead).
    fn step_for(&mut self, phase: Phase, k: usize) -> Option<Step> {
        let refused_in_account = self.refusing.clone();
        let action = &self.plan.actions[k];
        let p = &mut self.progress[k];
        let first = action.runs_before_creates();
        match phase {
            Phase::ProbeRoom | Phase::DeleteFirst if first => {
                if (phase == Phase::ProbeRoom) != (self.probe == Some(k)) {
                    None
                } else if let Some(why) = &self.no_room {
                    p.skipped = Some(why.clone());
                    None
                } else if let Some(refused) = refused_in_account {
                    // Meta refused a delete in this account already: not tried again.
                    refuse(p, action, self.today, Refusal::Earlier(&refused));
                    None
                } else {
                    Some(Step::DeleteOld)
                }
            }
            Phase::RetireRefusedFirst | Phase::RetireRefused => {
                p.retire_pending.is_some().then_some(Step::RetireOld)
            }
            Phase::CreateAndUpdate => match action {
                Action::Create { .. } => Some(Step::CreateNew),
                Action::Update { .. } => Some(Step::Update),
                Action::Replace {
                    order: ReplaceOrder::DeleteBeforeCreate,
                    ..
                } => (p.old_deleted || p.retired_as.is_some()).then_some(Step::CreateNew),
                Action::Replace { .. } => Some(Step::CreateNew),
                _ => None,
            },
            Phase::RemoveLast if !first => match action {
                Action::Replace {
                    retire_old: Some(retirement),
                    ..
                } if p.new_id.is_some() => {
                    p.retire_pending = Some((**retirement).clone());
                    Some(Step::RetireOld)
                }
                Action::Retire { retirement, .. } => {
                    p.retire_pending = Some((**retirement).clone());
                    Some(Step::RetireOld)
                }
                Action::Replace { .. } if p.new_id.is_none() => None,
                Action::Replace { .. } | Action::Delete { .. } => match refused_in_account {
                    Some(refused) => {
                        refuse(p, action, self.today, Refusal::Earlier(&refused));
                        p.retire_pending.is_some().then_some(Step::RetireOld)
                    }
                    None => Some(Step::DeleteOld),
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// Before the creates: a create whose rule a delete of phase 1 did not free (failed,
    /// skipped, or only retired) is not tried: Meta refuses a second conversion with a rule
    /// the account holds.
    fn block_creates_on_held_rules(&mut self) {
        for k in 0..self.plan.actions.len() {
            let action = self.action(k);
            let Some(key) = new_state(action).and_then(rule_key) else {
                continue;
            };
            let own = matches!(action, Action::Replace { .. }).then_some(k);
            let holder = (0..self.plan.actions.len()).find(|&m| {
                Some(m) != own
                    && self.held_rules[m].as_deref() == Some(key.as_str())
                    && !self.progress[m].old_deleted
            });
            let Some(m) = holder else { continue };
            let holder_action = self.action(m);
            let how = match &self.progress[m] {
                t if t.retired_as.is_some() => {
                    "was retired instead of deleted (a retired conversion keeps its rule)"
                }
                t if t.failed.is_some() || t.delete_refused.is_some() => "could not be deleted",
                _ => "was not deleted",
            };
            let why = format!(
                "not tried: {} (id {}) holds its rule and {how}, and Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002); change this entry's rule, or remove the other one in Events Manager",
                crate::render::quoted(holder_action.name()),
                holder_action.id().expect("a delete has an id"),
            );
            let p = &mut self.progress[k];
            if p.failed.is_none() && !p.done && p.skipped.is_none() {
                p.skipped = Some(why);
                p.needs_change = true;
            }
        }
    }

    /// The request of one step. Each create is sent by one phase only: its state is moved out
    /// of the plan, not copied.
    fn request(&mut self, k: usize, step: Step) -> Result<WriteOp, RequestError> {
        let AccountPlan {
            account, actions, ..
        } = &mut self.plan;
        let id = actions[k].id().cloned();
        let id = || id.expect("deletes, retirements and replaces have an id");
        match (step, &mut actions[k]) {
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
            (Step::DeleteOld, _) => Ok(WriteOp::Delete { id: id() }),
            (Step::RetireOld, _) => {
                let retirement = self.progress[k]
                    .retire_pending
                    .as_ref()
                    .expect("a retirement is pending when it is sent");
                Ok(WriteOp::Update {
                    id: id(),
                    update: ConversionUpdate {
                        name: Some(retirement.name.clone()),
                        description: Some(retirement.description.clone()),
                        default_conversion_value: None,
                    },
                })
            }
            _ => unreachable!("steps are chosen per action kind in step_for"),
        }
    }

    /// What one write's result means for its action.
    fn record(&mut self, k: usize, step: Step, result: Result<WriteOutcome, GraphError>) {
        let action = &self.plan.actions[k];
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
            Err(e) if matches!(step, Step::DeleteOld) && e.is_permission_refusal() => {
                let id = action.id().expect("a delete has an id").clone();
                self.refusing.get_or_insert(id);
                // Quoted inside the line that says what convctl did: its own hint would repeat it.
                let answer = e.without_hint().to_string();
                refuse(p, action, self.today, Refusal::Answered(&answer));
            }
            Err(e) if matches!(step, Step::RetireOld) => {
                p.retire_pending = None;
                p.failed = Some(match &p.delete_refused {
                    Some(refused) => format!(
                        "Meta refused to delete it ({refused}), and retiring it (a rename) failed too: {e}"
                    ),
                    None => format!("retiring it (a rename) failed: {e}"),
                });
            }
            Err(e) => {
                // A rule the account holds, a flagged conversion: running apply again does not
                // help until something changes.
                p.needs_change = matches!(e.kind, ErrorKind::DuplicateRule | ErrorKind::Flagged);
                p.failed = Some(e.to_string());
            }
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
                        || (matches!(action, Action::Replace { .. })
                            && (p.old_deleted || p.retired_as.is_some()));
                }
                Step::Update => p.done = true,
                Step::DeleteOld => {
                    p.already_gone = outcome == WriteOutcome::AlreadyGone;
                    deleted(action, p);
                }
                Step::RetireOld => {
                    let retirement = p.retire_pending.take().expect("a retirement was sent");
                    p.retired_as = Some(retirement.name);
                    p.done = !matches!(action, Action::Replace { .. }) || p.new_id.is_some();
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
        let pending: Vec<usize> = (0..self.plan.actions.len())
            .filter(|&k| self.progress[k].gone_unconfirmed)
            .collect();
        if pending.is_empty() {
            return;
        }
        let listed = self
            .api
            .list_many(std::slice::from_ref(&self.plan.account))
            .await
            .pop()
            .expect("one listing per account asked");
        for k in pending {
            let action = &self.plan.actions[k];
            let id = action.id().expect("deletes and replaces have an id");
            let p = &mut self.progress[k];
            p.gone_unconfirmed = false;
            let answer = p.failed.take().unwrap_or_default();
            match &listed {
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

    /// After the probing delete: the account is listed again. Its deleted id still listed
    /// (archived) freed nothing (no room, and archived conversions keep their rule): its
    /// create is not tried, and the account's other deletes before the creates are skipped
    /// (`no_room` says why), so that they keep their conversions.
    async fn check_room(&mut self) {
        let Some(k) = self.probe.filter(|&k| self.progress[k].old_deleted) else {
            return;
        };
        let account = &self.plan.account;
        let listed = self
            .api
            .list_many(std::slice::from_ref(account))
            .await
            .pop()
            .expect("one listing per account asked");
        let action = &self.plan.actions[k];
        let id = action.id().expect("a delete has an id");
        match listed {
            Err(e) => {
                self.no_room = Some(format!(
                    "could not check that deleting made room in {account} ({e}); run apply again"
                ));
            }
            Ok(live) if live.iter().any(|c| &c.id == id) => {
                let p = &mut self.progress[k];
                p.archived_only = true;
                p.old_deleted = false;
                p.done = false;
                p.failed = Some(format!(
                    "the API archived id {id} instead of deleting it, and archived conversions still count toward the {} limit of {account} and hold their rule, so nothing was freed{}",
                    crate::ACCOUNT_CAP,
                    match action {
                        Action::Replace { .. } => " and the new one was not created",
                        _ => "",
                    }
                ));
                self.no_room = Some(format!(
                    "not started: deleting in {account} only archives (see {}), so it would lose the conversion without freeing anything. Make room in Events Manager, then apply again",
                    crate::render::quoted(action.name())
                ));
            }
            Ok(_) => {}
        }
    }

    /// One line per action, in plan order.
    fn report(self) -> Vec<ActionReport> {
        let account = self.plan.account.as_str();
        self.plan
            .actions
            .iter()
            .zip(self.progress)
            .map(|(action, p)| report(account, action, p))
            .collect()
    }
}

/// How Meta's refusal to delete reached an action: its own DELETE's answer, or the refusal of
/// another delete of the account earlier in this apply (then it is not tried).
enum Refusal<'t> {
    Answered(&'t str),
    Earlier(&'t ConversionId),
}

/// Meta refused to delete `action`'s conversion: retire it instead where that serves (see
/// [`fallback_refused`]); otherwise the action fails (or, not tried, is not done), untouched,
/// saying why.
fn refuse(p: &mut Track, action: &Action, today: jiff::civil::Date, refusal: Refusal<'_>) {
    let answer = match refusal {
        Refusal::Answered(answer) => answer.to_string(),
        Refusal::Earlier(id) => {
            format!("Meta refused to delete id {id} of this account earlier in this apply")
        }
    };
    p.delete_refused = Some(answer.clone());
    match fallback_refused(action) {
        None => {
            let before = old_state(action);
            p.retire_pending = Some(Retirement::new(
                RetireWhy::Refused,
                today,
                before.map_or(action.name(), |b| b.name.as_str()),
                before
                    .and_then(|b| b.description.as_deref())
                    .unwrap_or_default(),
            ));
        }
        Some(why) => {
            p.needs_change = true;
            match refusal {
                Refusal::Answered(_) => {
                    p.failed = Some(format!("Meta refused to delete it ({answer}): {why}"));
                }
                Refusal::Earlier(_) => p.skipped = Some(format!("not tried: {answer}: {why}")),
            }
        }
    }
}

/// Why retiring (a rename) would not do what a refused delete was for, saying what happened
/// and what to do; `None` when it would. It would not for a replacement that deletes first for
/// room (a retired conversion still counts toward the limit) or to free its own rule (a
/// retired one keeps its rule), never for a flagged conversion (Meta refuses to rename it), and
/// not for one retired already.
fn fallback_refused(action: &Action) -> Option<String> {
    if old_state(action).is_some_and(|b| crate::model::retired::retired_on(&b.name).is_some()) {
        return Some(
            "it is retired already (a tombstone pinned it), and this app may not delete custom conversions: archive it in Events Manager".to_string(),
        );
    }
    match action {
        Action::Delete { flagged: true, .. } => Some(
            "this app may not delete custom conversions, and Meta refuses to rename a flagged one, so convctl could not retire it either: archive it in Events Manager".to_string(),
        ),
        Action::Replace {
            order: ReplaceOrder::DeleteBeforeCreate,
            delete_first,
            before,
            after,
            forced_by,
            ..
        } => {
            let own_rule_kept = delete_first == &Some(DeleteFirst::SameRule)
                && rule_key(before).is_some()
                && rule_key(before) == rule_key(after);
            if own_rule_kept {
                let fields: Vec<&str> = forced_by.iter().map(|f| f.as_str()).collect();
                Some(format!(
                    "nothing was changed. The new conversion keeps the old one's rule, and Meta refuses a second conversion with a rule the account holds, so the old one must go first, and this app may not delete it. Keep {} as live, or change the rule too (a new rule is created first, then the old one retired); set `deletion: retire` in the manifest so that plans say this before any write",
                    fields.join(", ")
                ))
            } else if delete_first == &Some(DeleteFirst::SameRule) {
                None
            } else {
                Some("nothing was changed. The account is at its limit and the old one had to go first to make room, but this app may not delete it, and a retired conversion still counts toward the limit. Make room in Events Manager, or set `deletion: retire` in the manifest so that plans say this before any write".to_string())
            }
        }
        _ => None,
    }
}

/// The state of the conversion an action removes, as the plan recorded it.
fn old_state(action: &Action) -> Option<&ConversionState> {
    match action {
        Action::Replace { before, .. } => Some(before),
        Action::Delete { before, .. } | Action::Retire { before, .. } => before.as_deref(),
        _ => None,
    }
}

/// The state of the conversion an action creates.
fn new_state(action: &Action) -> Option<&ConversionState> {
    match action {
        Action::Replace { after, .. } => Some(after),
        Action::Create { after, .. } => Some(after),
        _ => None,
    }
}

/// The meaning key of a state's rule (see `rule::stored_rule_key`).
fn rule_key(state: &ConversionState) -> Option<String> {
    match (&state.rule, &state.advanced_rule) {
        (Some(rule), _) => crate::rule::Rule::from_value(&rule.to_value())
            .ok()
            .map(|r| r.meaning_key()),
        (None, Some(advanced)) => Some(crate::rule::advanced_key(&advanced.to_value())),
        (None, None) => None,
    }
}

/// The old conversion of `action` is gone (deleted now, or found gone).
fn deleted(action: &Action, p: &mut Track) {
    p.old_deleted = true;
    p.done = matches!(action, Action::Delete { .. }) || p.new_id.is_some();
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
    let reason_text = |reason: &DeleteReason| match reason {
        DeleteReason::Absent => "ensure: absent",
        DeleteReason::Prune => "prune",
        DeleteReason::Replaced => "old half of an interrupted replacement",
        DeleteReason::Duplicate => "duplicate",
    };
    let (marker, what) = match action {
        Action::Create { .. } => ("+", format!("create {quoted}")),
        Action::Update { id, .. } => ("~", format!("update {quoted} (id {id})")),
        Action::Replace { id, .. } => ("-/+", format!("replace {quoted} (id {id})")),
        Action::Delete { id, reason, .. } => (
            "-",
            format!("delete {quoted} (id {id}, {})", reason_text(reason)),
        ),
        Action::Retire { id, reason, .. } => (
            "~",
            format!("retire {quoted} (id {id}, {})", reason_text(reason)),
        ),
    };
    // What became of a retired conversion, in the words every line uses.
    let retired = |name: &str| {
        let why = if p.delete_refused.is_some() {
            " (this app may not delete custom conversions: Meta refused a delete in this account)"
        } else {
            ""
        };
        format!(
            "retired: renamed {}{why}; archive it in Events Manager",
            crate::render::quoted(name)
        )
    };
    let status = match (action, &p.failed) {
        (_, None) if p.done => Status::Done(match (action, &p.retired_as) {
            (Action::Create { .. }, _) => {
                format!("created, id {}{}", id_text(&p.new_id), resent_note(&p))
            }
            (Action::Update { .. }, _) => "updated".into(),
            (Action::Replace { id, .. }, Some(name)) => format!(
                "new id {}, old id {id} {}{}",
                id_text(&p.new_id),
                retired(name),
                resent_note(&p)
            ),
            (Action::Replace { id, .. }, None) if p.already_gone => format!(
                "new id {}, old id {id} already gone{}",
                id_text(&p.new_id),
                resent_note(&p)
            ),
            (Action::Replace { id, .. }, None) => format!(
                "new id {}, old id {id} deleted{}",
                id_text(&p.new_id),
                resent_note(&p)
            ),
            (Action::Delete { .. } | Action::Retire { .. }, Some(name)) => retired(name),
            (Action::Delete { .. } | Action::Retire { .. }, None) if p.already_gone => {
                "already gone".into()
            }
            (Action::Delete { .. } | Action::Retire { .. }, None) => "deleted".into(),
        }),
        (_, None) => Status::NotDone(match (&p.skipped, &p.retired_as) {
            (Some(why), _) => why.clone(),
            // A delete-first replacement retired for another entry, whose create then did
            // not run.
            (None, Some(name)) => format!(
                "the old one was {}; the new one was not created",
                retired(name)
            ),
            (None, None) => "not reached".into(),
        }),
        (Action::Replace { .. }, Some(e)) if p.archived_only => Status::Failed(format!(
            "{e}. The old conversion is archived (restore it in Events Manager if needed)"
        )),
        (Action::Replace { .. }, Some(e)) if p.delete_refused.is_some() && p.new_id.is_none() => {
            Status::Failed(e.clone())
        }
        (
            Action::Replace {
                id,
                order,
                pinned_at,
                delete_first,
                ..
            },
            Some(e),
        ) => match (
            order,
            p.new_id.is_some(),
            p.old_deleted || p.retired_as.is_some(),
        ) {
            (_, true, false) => Status::Failed(format!(
                "the new conversion was created (id {}) but deleting the old id {id} failed: {e}",
                id_text(&p.new_id)
            )),
            (_, false, true) => Status::Failed(format!(
                "the old id {id} was {} ({}) but creating the new one failed: {e}. {}",
                match (&p.retired_as, p.already_gone) {
                    (Some(name), _) => retired(name),
                    (None, true) => "already gone".to_string(),
                    (None, false) => "deleted".to_string(),
                },
                match delete_first {
                    Some(DeleteFirst::SameRule) =>
                        "first: it held the rule Meta refuses to hold twice",
                    _ => "account at its limit",
                },
                match pinned_at {
                    Some(at) => format!(
                        "Run apply again: it creates the conversion (the pin at {at} names the {} id, which is accepted with a warning while no live conversion has this name); then update the pin to the new id apply prints",
                        if p.retired_as.is_some() {
                            "retired"
                        } else {
                            "deleted"
                        }
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
    let removed = match (&p.retired_as, p.old_deleted && !p.already_gone) {
        (Some(_), _) => Some(Removed::Retired),
        (None, true) => Some(Removed::Deleted),
        (None, false) => None,
    };
    ActionReport {
        account: account.to_string(),
        what,
        marker,
        status,
        repin,
        removed,
        needs_change: p.needs_change,
        delete_refused: p.delete_refused.is_some(),
        new_id: p.new_id,
        retired_as: p.retired_as,
    }
}

#[cfg(test)]
mod tests;
