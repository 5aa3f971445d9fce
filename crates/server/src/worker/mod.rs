//! The background transports: the event processor (rules), the dispatcher (WhatsApp
//! sends), the scheduler (time-driven work) and the config watcher. Each loop claims its work from the
//! database with a lease, so several processes can share one database and a dead
//! worker's work is picked up again; what a unit of work does is an operation in
//! `usecase`.

pub(crate) mod config;
pub(crate) mod dispatch;
pub(crate) mod events;
pub(crate) mod schedule;

use std::sync::Arc;
use std::time::Duration;

use closeloop_store::Backend;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::runtime::intake::IntakeGate;
use crate::usecase::Context;

/// What the workers are started with.
pub(crate) struct Workers {
    /// The operations' handles.
    pub(crate) ctx: Arc<Context>,
    /// This process's id as a lease owner.
    pub(crate) instance: String,
    /// Bulk intake's claim on the writer, which the event worker yields to.
    pub(crate) intake: Arc<IntakeGate>,
    /// The send loops' handles.
    pub(crate) dispatch: dispatch::Dispatcher,
}

impl Workers {
    /// Starts every worker; they stop when `stop` turns true.
    pub(crate) fn spawn_all(self, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(events::run(
                self.ctx.clone(),
                self.instance,
                self.intake,
                stop.clone(),
            )),
            tokio::spawn(dispatch::run(Arc::new(self.dispatch), stop.clone())),
            tokio::spawn(schedule::run(self.ctx.clone(), stop.clone())),
            tokio::spawn(config::run(self.ctx, stop.clone())),
        ]
    }
}

/// Waits for a wake-up, the poll interval, or the stop signal; true when stopping.
pub(crate) async fn idle(
    notify: &tokio::sync::Notify,
    poll: std::time::Duration,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = notify.notified() => false,
        _ = tokio::time::sleep(poll) => false,
        _ = stop.wait_for(|s| *s) => true,
    }
}

/// How long an idle loop waits for a wake-up before it looks again anyway. On SQLite one
/// process owns the file, so whatever adds work wakes the loop and the poll is only a safety
/// net; on PostgreSQL other processes add work without waking this one.
pub(crate) fn fallback_poll(ctx: &Context) -> Duration {
    match ctx.store.backend() {
        Backend::Sqlite => Duration::from_secs(2),
        Backend::Postgres => Duration::from_millis(250),
    }
}
