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
