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
pub(crate) struct IntakeGate {
    busy: AtomicUsize,
    last_exit: Mutex<Option<Instant>>,
    changed: Notify,
}

/// Held while a batch request is applied.
pub(crate) struct IntakeGuard<'a>(&'a IntakeGate);

impl IntakeGate {
    /// Marks a batch request as in progress until the guard is dropped.
    pub(crate) fn enter(&self) -> IntakeGuard<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        IntakeGuard(self)
    }

    /// Waits until no batch request is in progress or in its grace period, at most
    /// `at_most` (rules are delayed during an import, never starved).
    pub(crate) async fn wait_idle(&self, at_most: Duration) {
        let deadline = Instant::now() + at_most;
        loop {
            let notified = self.changed.notified();
            let wait = match self.reserved_at(Instant::now()) {
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

    /// How much longer, from `now`, the writer is reserved for intake (None: not reserved).
    fn reserved_at(&self, now: Instant) -> Option<Duration> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            return Some(GRACE);
        }
        let last = (*self.last_exit.lock().unwrap_or_else(|p| p.into_inner()))?;
        let left = GRACE.checked_sub(now.saturating_duration_since(last))?;
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

    #[test]
    fn reserved_while_busy_and_for_the_grace_period_after() {
        let gate = IntakeGate::default();
        assert_eq!(
            gate.reserved_at(Instant::now()),
            None,
            "nothing happened yet"
        );
        let guard = gate.enter();
        assert_eq!(
            gate.reserved_at(Instant::now()),
            Some(GRACE),
            "a batch is being applied"
        );
        drop(guard);
        let exit = gate.last_exit.lock().unwrap().expect("the exit is noted");
        let soon = exit + Duration::from_millis(10);
        assert_eq!(
            gate.reserved_at(soon),
            Some(GRACE - Duration::from_millis(10))
        );
        assert_eq!(
            gate.reserved_at(exit + GRACE),
            None,
            "the grace period is over"
        );
    }

    #[tokio::test]
    async fn a_waiting_worker_goes_on_after_the_bound_even_if_intake_continues() {
        let gate = IntakeGate::default();
        let _busy = gate.enter();
        let started = Instant::now();
        gate.wait_idle(Duration::from_millis(100)).await;
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
