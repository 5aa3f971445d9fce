//! Ingesting case updates from the helpdesk (SPEC §5.1): one update at a time through
//! group commit, or a batch of lines in bulk.
//!
//! Group commit of the small writes that arrive together: case updates (`PUT`/`PATCH
//! /cases/{id}`), the delivery statuses of Meta's webhooks and the dispatcher's settles of
//! finished sends. Callers hand their work to one writer task,
//! which applies everything waiting at that moment in a single transaction (each unit in
//! its own savepoint, so a bad one cannot spoil the others) and answers each request only
//! after the commit. Under concurrency this turns N small transactions into one, which is
//! what a single SQLite writer needs; with one client it adds no wait.

use std::sync::Arc;

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use closeloop_store::{CaseChange, CaseUpdate, QueueRules, StoreError, StoreTx, StoredAnswer};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use crate::runtime::ids::new_id;
use crate::usecase::delivery::{self, Status};
use crate::usecase::error::ApiError;
use crate::usecase::evaluate;
use crate::usecase::settle::{self, Settle};
use crate::usecase::Context;

/// Most updates committed together.
const MAX_GROUP: usize = 256;
/// Updates that may wait for the writer before callers are slowed down.
const QUEUE: usize = 4096;

/// The status the idempotency record keeps for an answer that changed the case (202) or
/// did not (200): a replay answers exactly what the first request was answered.
const CHANGED: u16 = 202;
const UNCHANGED: u16 = 200;

/// Builds the new case state from the stored one (None for a new case).
pub(crate) type MakeCase = Box<dyn FnOnce(Option<&Case>) -> Result<Case, ApiError> + Send>;

/// The answer to one update.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// Whether the case changed (an event was emitted), or the replayed answer's.
    pub(crate) changed: bool,
    /// JSON body.
    pub(crate) body: Value,
    /// Replayed from an earlier request with the same idempotency key.
    pub(crate) replayed: bool,
    /// The event the update emitted (None when unchanged or replayed).
    pub(crate) event_id: Option<String>,
}

/// One unit of work waiting for the writer.
enum Job {
    Case(CaseJob),
    Statuses(StatusJob),
    Settle(SettleJob),
}

/// A send outcome; the answer says whether an invite changed.
struct SettleJob {
    settle: Box<Settle>,
    reply: oneshot::Sender<Result<bool, ApiError>>,
}

struct CaseJob {
    id: String,
    key: Option<String>,
    make: MakeCase,
    reply: oneshot::Sender<Result<Answer, ApiError>>,
}

/// The statuses of one webhook delivery; the answer says whether any changed something.
struct StatusJob {
    statuses: Vec<Status>,
    reply: oneshot::Sender<Result<bool, ApiError>>,
}

/// The handle requests submit updates through.
pub(crate) struct Ingest {
    sender: mpsc::Sender<Job>,
}

/// The writer's end of the queue.
pub(crate) struct IngestQueue {
    receiver: mpsc::Receiver<Job>,
}

/// A connected handle and queue.
pub(crate) fn channel() -> (Ingest, IngestQueue) {
    let (sender, receiver) = mpsc::channel(QUEUE);
    (Ingest { sender }, IngestQueue { receiver })
}

impl Ingest {
    /// Submits one update of case `id` and waits until it is committed (or refused).
    ///
    /// # Errors
    /// The update's own error (4xx), or 503 while the service is shutting down.
    pub(crate) async fn submit(
        &self,
        id: String,
        key: Option<String>,
        make: MakeCase,
    ) -> Result<Answer, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Case(CaseJob {
            id,
            key,
            make,
            reply,
        });
        self.send(job, answer).await
    }

    /// Submits the delivery statuses of one webhook and waits until they are committed;
    /// answers whether any of them changed something.
    ///
    /// # Errors
    /// 500 on database failure (Meta redelivers; statuses are idempotent), or 503 while the
    /// service is shutting down.
    pub(crate) async fn submit_statuses(&self, statuses: Vec<Status>) -> Result<bool, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Statuses(StatusJob { statuses, reply }), answer)
            .await
    }

    /// Submits a send outcome and waits until it is committed; answers whether an invite
    /// changed.
    ///
    /// # Errors
    /// 500 on database failure, or 503 while the service is shutting down.
    pub(crate) async fn submit_settle(&self, settle: Settle) -> Result<bool, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.send(
            Job::Settle(SettleJob {
                settle: Box::new(settle),
                reply,
            }),
            answer,
        )
        .await
    }

    async fn send<T>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        if self.sender.send(job).await.is_err() {
            return Err(ApiError::unavailable("the service is shutting down; retry"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the service is shutting down; retry")))
    }
}

/// The writer: runs until `stop`, then commits what is already queued and ends.
pub(crate) async fn run(
    state: Arc<Context>,
    mut queue: IngestQueue,
    mut stop: watch::Receiver<bool>,
) {
    // The lease owner of the events this writer evaluates where it writes them.
    let owner = new_id("ingest");
    loop {
        let first = tokio::select! {
            job = queue.receiver.recv() => job,
            _ = stop.wait_for(|s| *s) => None,
        };
        let Some(first) = first else {
            break;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match queue.receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        write_group(&state, &owner, jobs).await;
    }
    queue.receiver.close();
    let mut rest = Vec::new();
    while let Ok(job) = queue.receiver.try_recv() {
        rest.push(job);
    }
    if !rest.is_empty() {
        write_group(&state, &owner, rest).await;
    }
}

/// A transaction that holds the write locks of these cases.
async fn begin_locked(state: &Context, ids: &[&str]) -> Result<StoreTx, StoreError> {
    let mut tx = state.store.begin().await?;
    tx.lock(ids).await?;
    Ok(tx)
}

/// Where a job's answer goes once the group has committed.
enum Reply {
    Case(
        oneshot::Sender<Result<Answer, ApiError>>,
        Result<Answer, ApiError>,
    ),
    /// Statuses and settles: whether something changed.
    Changed(
        oneshot::Sender<Result<bool, ApiError>>,
        Result<bool, ApiError>,
    ),
}

impl Reply {
    fn send(self) {
        match self {
            Reply::Case(to, result) => {
                let _ = to.send(result);
            }
            Reply::Changed(to, result) => {
                let _ = to.send(result);
            }
        }
    }

    fn fail(self, error: &ApiError) {
        match self {
            Reply::Case(to, _) => Reply::Case(to, Err(error.clone())).send(),
            Reply::Changed(to, _) => Reply::Changed(to, Err(error.clone())).send(),
        }
    }

    fn changed(&self) -> bool {
        match self {
            Reply::Case(_, Ok(answer)) => answer.changed && !answer.replayed,
            Reply::Changed(_, Ok(changed)) => *changed,
            _ => false,
        }
    }
}

impl Job {
    /// Answers `error` without running: the group's transaction could not begin.
    fn fail(self, error: &ApiError) {
        match self {
            Job::Case(c) => {
                let _ = c.reply.send(Err(error.clone()));
            }
            Job::Statuses(StatusJob { reply, .. }) | Job::Settle(SettleJob { reply, .. }) => {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

async fn write_group(state: &Context, owner: &str, jobs: Vec<Job>) {
    let now = state.clock.now_ms();
    let snapshot = state.live.snapshot();
    let ids: Vec<&str> = jobs
        .iter()
        .filter_map(|j| match j {
            Job::Case(c) => Some(c.id.as_str()),
            Job::Statuses(_) | Job::Settle(_) => None,
        })
        .collect();
    let mut tx = match begin_locked(state, &ids).await {
        Ok(tx) => tx,
        Err(e) => {
            let error = ApiError::internal(&e);
            for job in jobs {
                job.fail(&error);
            }
            return;
        }
    };
    let mut replies: Vec<Reply> = Vec::with_capacity(jobs.len());
    let (mut queued, mut cascaded, mut left_pending) = (false, false, false);
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        let reply = match job {
            Job::Case(job) => {
                let update = Update {
                    id: job.id,
                    key: job.key,
                    make: job.make,
                };
                let result = apply_in_savepoint(&mut tx, update, &snapshot.queue_rules, now).await;
                if let Ok(Answer {
                    event_id: Some(event),
                    ..
                }) = &result
                {
                    match evaluate::process_written(&mut tx, state, owner, event).await {
                        Ok(Some(outcome)) => {
                            queued |= outcome.queued;
                            cascaded |= outcome.cascaded;
                        }
                        Ok(None) => left_pending = true,
                        Err(e) => {
                            // The transaction is broken: nothing of the group is kept.
                            let error = ApiError::internal(&e);
                            let _ = job.reply.send(Err(error.clone()));
                            for reply in replies {
                                reply.fail(&error);
                            }
                            for job in jobs {
                                job.fail(&error);
                            }
                            return;
                        }
                    }
                }
                Reply::Case(job.reply, result)
            }
            Job::Statuses(job) => {
                let result = statuses_in_savepoint(&mut tx, &job.statuses, now).await;
                Reply::Changed(job.reply, result)
            }
            Job::Settle(job) => {
                let result = settle_in_savepoint(&mut tx, &job.settle, now).await;
                Reply::Changed(job.reply, result)
            }
        };
        replies.push(reply);
    }
    if let Err(e) = tx.commit().await {
        let error = ApiError::internal(&e);
        for reply in replies {
            reply.fail(&error);
        }
        return;
    }
    // A status or settle that changed an invite emitted an event for the worker; so did a
    // rule-made change, or an update whose event waits behind an earlier one.
    let statuses_changed = replies
        .iter()
        .any(|r| matches!(r, Reply::Changed(..)) && r.changed());
    for reply in replies {
        reply.send();
    }
    if queued {
        state.wake_dispatch.notify_waiters();
    }
    if statuses_changed || cascaded || left_pending {
        state.wake_events.notify_one();
    }
}

async fn settle_in_savepoint(tx: &mut StoreTx, job: &Settle, now: i64) -> Result<bool, ApiError> {
    tx.savepoint().await?;
    match settle::settle_in(tx, job, now).await {
        Ok(changed) => {
            tx.release_savepoint().await?;
            Ok(changed)
        }
        Err(e) => {
            tx.rollback_to_savepoint().await?;
            Err(ApiError::internal(&e))
        }
    }
}

async fn statuses_in_savepoint(
    tx: &mut StoreTx,
    statuses: &[Status],
    now: i64,
) -> Result<bool, ApiError> {
    tx.savepoint().await?;
    let mut changed = false;
    for status in statuses {
        match delivery::apply_in(tx, status, now).await {
            Ok(c) => changed |= c,
            Err(e) => {
                tx.rollback_to_savepoint().await?;
                return Err(ApiError::internal(&e));
            }
        }
    }
    tx.release_savepoint().await?;
    Ok(changed)
}

/// One case update as it was submitted.
struct Update {
    id: String,
    key: Option<String>,
    make: MakeCase,
}

async fn apply_in_savepoint(
    tx: &mut StoreTx,
    update: Update,
    rules: &QueueRules,
    now: i64,
) -> Result<Answer, ApiError> {
    tx.savepoint().await?;
    match apply(tx, update, rules, now).await {
        Ok(answer) => {
            tx.release_savepoint().await?;
            Ok(answer)
        }
        Err(error) => {
            tx.rollback_to_savepoint().await?;
            Err(error)
        }
    }
}

/// One update: replay a known idempotency key, else build the new state, write it with its
/// event, and remember the answer under the key. Also used line by line by `cases:batch`.
///
/// # Errors
/// The update's own error (4xx) or a database failure (500).
async fn apply(
    tx: &mut StoreTx,
    update: Update,
    rules: &QueueRules,
    now: i64,
) -> Result<Answer, ApiError> {
    let Update { id, key, make } = update;
    let (id, key) = (id.as_str(), key.as_deref());
    if let Some(key) = key {
        if let Some(stored) = tx.idempotent_answer(key, now).await? {
            return Ok(Answer {
                changed: stored.status == CHANGED,
                body: serde_json::from_str(&stored.body).unwrap_or(Value::Null),
                replayed: true,
                event_id: None,
            });
        }
    }
    let stored = tx.case(id).await?;
    let case = make(stored.as_ref().map(|s| &s.case))?;
    let change = tx
        .write_case(
            stored.as_ref(),
            &case,
            EventKind::CaseUpdated,
            0,
            new_id("evt"),
            rules,
            now,
        )
        .await?;
    let (changed, body) = change_answer(&change);
    if let Some(key) = key {
        let answer = StoredAnswer {
            status: if changed { CHANGED } else { UNCHANGED },
            body: body.to_string(),
        };
        tx.remember_answer(key, &answer, now).await?;
    }
    let event_id = match change {
        CaseChange::Changed { event_id, .. } => Some(event_id),
        CaseChange::Unchanged => None,
    };
    Ok(Answer {
        changed,
        body,
        replayed: false,
        event_id,
    })
}

/// The answer describing a case change: whether it changed, and the body.
fn change_answer(change: &CaseChange) -> (bool, Value) {
    match change {
        CaseChange::Unchanged => (false, json!({"changed": []})),
        CaseChange::Changed {
            event_id,
            kind,
            changed,
        } => (
            true,
            json!({"event_id": event_id, "kind": kind.as_str(), "changed": changed}),
        ),
    }
}

/// The queue is closeloop's routing state (rules move cases between queues): a full
/// update from the helpdesk that does not mention it keeps the stored queue; an explicit
/// `"queue": null` clears it.
pub(crate) fn keep_rule_owned_fields(
    stored: Option<&Case>,
    mut incoming: Case,
    queue_given: bool,
) -> Case {
    if !queue_given {
        incoming.queue = stored.and_then(|s| s.queue.clone());
    }
    incoming
}

/// A line of a batch: its number and the case it holds (with whether it named `queue`),
/// or why it was rejected.
pub(crate) type BatchLine = (usize, Result<(Case, bool), ApiError>);

/// What a batch did, line by line.
pub(crate) struct BatchOutcome {
    /// Lines applied (changed or not).
    pub(crate) accepted: usize,
    /// Lines rejected.
    pub(crate) rejected: usize,
    /// Each line's answer, with `line`, `status` and (when accepted) `id`.
    pub(crate) results: Vec<Value>,
}

/// Applies a batch of lines in one transaction, written in bulk: the chunk's cases are
/// read at once, and every changed case's final state, its events and its queue schedule
/// are written in multi-row statements.
///
/// # Errors
/// On database failure (nothing of the batch is written).
pub(crate) async fn apply_batch(
    ctx: &Context,
    lines: Vec<BatchLine>,
) -> Result<BatchOutcome, StoreError> {
    let now = ctx.clock.now_ms();
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|(_, case)| case.as_ref().ok().map(|(c, _)| c.id.as_str()))
        .collect();
    let mut tx = begin_locked(ctx, &ids).await?;
    let snapshot = ctx.live.snapshot();
    let mut current = tx.cases(&ids).await?;
    let mut updates = Vec::new();
    let mut outcome = BatchOutcome {
        accepted: 0,
        rejected: 0,
        results: Vec::with_capacity(lines.len()),
    };
    for (line, case) in lines {
        let (case, queue_given) = match case {
            Ok(parsed) => parsed,
            Err(error) => {
                outcome.rejected += 1;
                let mut body = error.body();
                body["line"] = json!(line);
                body["status"] = json!(error.status());
                outcome.results.push(body);
                continue;
            }
        };
        outcome.accepted += 1;
        let id = case.id.clone();
        let stored = current.get(&id);
        let after = keep_rule_owned_fields(stored.map(|s| &s.case), case, queue_given);
        let update = CaseUpdate::new(stored, after, EventKind::CaseUpdated, 0, new_id("evt"));
        let (changed, mut body) = match update {
            Some(update) => {
                let created_at = stored.map_or(now, |s| s.created_at);
                current.insert(id.clone(), update.stored(created_at, now));
                let answer = change_answer(&update.change());
                updates.push(update);
                answer
            }
            None => change_answer(&CaseChange::Unchanged),
        };
        body["line"] = json!(line);
        body["id"] = json!(id);
        body["status"] = json!(if changed { CHANGED } else { UNCHANGED });
        outcome.results.push(body);
    }
    tx.write_case_updates(&updates, &snapshot.queue_rules, now)
        .await?;
    tx.commit().await?;
    if !updates.is_empty() {
        ctx.wake_events.notify_one();
    }
    Ok(outcome)
}
