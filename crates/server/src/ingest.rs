//! Group commit of case updates. `PUT`/`PATCH /cases/{id}` hand their update to one writer
//! task, which applies every update waiting at that moment in a single transaction (each in
//! its own savepoint, so a bad one cannot spoil the others) and answers each request only
//! after the commit. Under concurrency this turns N small transactions into one, which is
//! what a single SQLite writer needs; with one client it adds no wait.

use axum::http::StatusCode;
use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use closeloop_store::{CaseChange, StoreTx, StoredAnswer};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::new_id;

/// Most updates committed together.
const MAX_GROUP: usize = 256;
/// Updates that may wait for the writer before callers are slowed down.
const QUEUE: usize = 4096;

/// Builds the new case state from the stored one (None for a new case).
pub type MakeCase = Box<dyn FnOnce(Option<&Case>) -> Result<Case, ApiError> + Send>;

/// The answer to one update.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status: 202 changed, 200 unchanged, or the replayed one.
    pub status: StatusCode,
    /// JSON body.
    pub body: Value,
    /// Replayed from an earlier request with the same idempotency key.
    pub replayed: bool,
}

struct Job {
    id: String,
    key: Option<String>,
    make: MakeCase,
    reply: oneshot::Sender<Result<Answer, ApiError>>,
}

/// The handle requests submit updates through.
pub struct Ingest {
    sender: mpsc::Sender<Job>,
}

/// The writer's end of the queue.
pub struct IngestQueue {
    receiver: mpsc::Receiver<Job>,
}

/// A connected handle and queue.
pub fn channel() -> (Ingest, IngestQueue) {
    let (sender, receiver) = mpsc::channel(QUEUE);
    (Ingest { sender }, IngestQueue { receiver })
}

impl Ingest {
    /// Submits one update of case `id` and waits until it is committed (or refused).
    ///
    /// # Errors
    /// The update's own error (4xx), or 503 while the service is shutting down.
    pub async fn submit(
        &self,
        id: String,
        key: Option<String>,
        make: MakeCase,
    ) -> Result<Answer, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            id,
            key,
            make,
            reply,
        };
        if self.sender.send(job).await.is_err() {
            return Err(ApiError::unavailable("the service is shutting down; retry"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::unavailable("the service is shutting down; retry")))
    }
}

/// The writer: runs until `stop`, then commits what is already queued and ends.
pub async fn run(state: AppState, mut queue: IngestQueue, mut stop: watch::Receiver<bool>) {
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
        write_group(&state, jobs).await;
    }
    queue.receiver.close();
    let mut rest = Vec::new();
    while let Ok(job) = queue.receiver.try_recv() {
        rest.push(job);
    }
    if !rest.is_empty() {
        write_group(&state, rest).await;
    }
}

async fn write_group(state: &AppState, jobs: Vec<Job>) {
    let now = state.clock.now_ms();
    let mut tx = match state.store.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let error = ApiError::internal(&e);
            for job in jobs {
                let _ = job.reply.send(Err(error.clone()));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    let mut changed = false;
    for job in jobs {
        let result = apply_in_savepoint(&mut tx, job.id, job.key, job.make, now).await;
        if let Ok(answer) = &result {
            changed |= answer.status == StatusCode::ACCEPTED && !answer.replayed;
        }
        results.push((job.reply, result));
    }
    if let Err(e) = tx.commit().await {
        let error = ApiError::internal(&e);
        for (reply, _) in results {
            let _ = reply.send(Err(error.clone()));
        }
        return;
    }
    for (reply, result) in results {
        let _ = reply.send(result);
    }
    if changed {
        state.wake_events.notify_one();
    }
}

async fn apply_in_savepoint(
    tx: &mut StoreTx,
    id: String,
    key: Option<String>,
    make: MakeCase,
    now: i64,
) -> Result<Answer, ApiError> {
    tx.savepoint().await?;
    match apply(tx, &id, key.as_deref(), make, now).await {
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
pub async fn apply(
    tx: &mut StoreTx,
    id: &str,
    key: Option<&str>,
    make: MakeCase,
    now: i64,
) -> Result<Answer, ApiError> {
    if let Some(key) = key {
        if let Some(stored) = tx.idempotent_answer(key, now).await? {
            return Ok(Answer {
                status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
                body: serde_json::from_str(&stored.body).unwrap_or(Value::Null),
                replayed: true,
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
            now,
        )
        .await?;
    let (status, body) = change_answer(&change);
    if let Some(key) = key {
        let answer = StoredAnswer {
            status: status.as_u16(),
            body: body.to_string(),
        };
        tx.remember_answer(key, &answer, now).await?;
    }
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}

/// The answer describing a case change.
pub fn change_answer(change: &CaseChange) -> (StatusCode, Value) {
    match change {
        CaseChange::Unchanged => (StatusCode::OK, json!({"changed": []})),
        CaseChange::Changed {
            event_id,
            kind,
            changed,
        } => (
            StatusCode::ACCEPTED,
            json!({"event_id": event_id, "kind": kind.as_str(), "changed": changed}),
        ),
    }
}
