//! Background workers: the event processor (rules) and the dispatcher (WhatsApp sends).
//! Each claims its work from the database with a lease, so several processes can share
//! one database and a dead worker's work is picked up again.

pub mod dispatch;
pub mod events;
pub mod schedule;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// Starts every worker; they stop when `stop` turns true.
pub fn spawn_all(state: &AppState, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(events::run(state.clone(), stop.clone())),
        tokio::spawn(dispatch::run(state.clone(), stop.clone())),
        tokio::spawn(schedule::run(state.clone(), stop.clone())),
    ]
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
