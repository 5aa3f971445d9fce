//! Bulk intake goes first on the one SQLite writer. While `POST /cases:batch` requests are
//! being applied (and for a short grace period after each, the gap before an import's next
//! chunk), the event worker holds off starting a batch, for a bounded time, so an import is
//! not slowed by evaluating the events it has just created; they are evaluated right after.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long after a batch request the writer stays reserved for the next one.
const GRACE: Duration = Duration::from_millis(50);

/// Counts the batch requests in progress.
#[derive(Default)]
pub struct IntakeGate {
    busy: AtomicUsize,
    last_exit: Mutex<Option<Instant>>,
    changed: Notify,
}

/// Held while a batch request is applied.
pub struct IntakeGuard<'a>(&'a IntakeGate);

impl IntakeGate {
    /// Marks a batch request as in progress until the guard is dropped.
    pub fn enter(&self) -> IntakeGuard<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        IntakeGuard(self)
    }

    /// Waits until no batch request is in progress or in its grace period, at most
    /// `at_most` (rules are delayed during an import, never starved).
    pub async fn wait_idle(&self, at_most: Duration) {
        let deadline = Instant::now() + at_most;
        loop {
            let notified = self.changed.notified();
            let wait = match self.reserved_for() {
                None => return,
                Some(wait) => wait,
            };
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let wait = wait.min(deadline - now);
            let _ = tokio::time::timeout(wait, notified).await;
        }
    }

    /// How much longer the writer is reserved for intake (None: not reserved).
    fn reserved_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return Some(GRACE);
        }
        let last = *self.last_exit.lock().unwrap_or_else(|p| p.into_inner());
        let left = GRACE.checked_sub(last?.elapsed())?;
        (!left.is_zero()).then_some(left)
    }
}

impl Drop for IntakeGuard<'_> {
    fn drop(&mut self) {
        *self.0.last_exit.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_while_busy_and_through_the_grace_period_but_never_past_the_bound() {
        let gate = IntakeGate::default();
        let started = Instant::now();
        gate.wait_idle(Duration::from_secs(1)).await;
        assert!(
            started.elapsed() < Duration::from_millis(20),
            "idle: no wait"
        );

        let guard = gate.enter();
        let started = Instant::now();
        gate.wait_idle(Duration::from_millis(100)).await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(100),
            "busy: waits the bound ({waited:?})"
        );
        drop(guard);

        let started = Instant::now();
        gate.wait_idle(Duration::from_secs(1)).await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(30) && waited < Duration::from_millis(500),
            "after a request: the grace period ({waited:?})"
        );
    }
}
