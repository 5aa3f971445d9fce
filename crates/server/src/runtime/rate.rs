//! The per-account sending window inside one process: whatever the planned pacing slots,
//! a send starts only if fewer than `messages_per_second` sends of that account started in
//! the last second (plus a guard for network jitter). Planned slots spread the load across
//! processes; this log makes the limit exact for each process even when a send runs late
//! because the machine is busy.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the limit applies to, with a guard for jitter between our send and Meta's
/// receipt.
pub(crate) const WINDOW: Duration = Duration::from_millis(1_050);

/// Decides whether a send may start at `now` given the start times of recent sends.
/// Returns `Ok` (and records `now`) or the instant to try again.
pub(crate) fn admit(
    log: &mut VecDeque<Instant>,
    now: Instant,
    limit: usize,
    window: Duration,
) -> Result<(), Instant> {
    while log
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        log.pop_front();
    }
    if log.len() < limit.max(1) {
        log.push_back(now);
        return Ok(());
    }
    Err(log[log.len() - limit.max(1)] + window)
}

/// Recent send starts per account.
#[derive(Default)]
pub(crate) struct SendWindows {
    logs: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SendWindows {
    /// Waits until `account` may start a send, and records it.
    pub(crate) async fn acquire(&self, account: &str, limit: u32) {
        loop {
            let decision = match self.logs.lock() {
                Ok(mut logs) => admit(
                    logs.entry(account.to_string()).or_default(),
                    Instant::now(),
                    limit as usize,
                    WINDOW,
                ),
                Err(_) => Ok(()),
            };
            match decision {
                Ok(()) => return,
                Err(at) => tokio::time::sleep_until(at.into()).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_limit_sends_start_in_any_window() {
        let start = Instant::now();
        let mut log = VecDeque::new();
        let window = Duration::from_millis(1000);
        for i in 0..3 {
            assert!(admit(&mut log, start + Duration::from_millis(i), 3, window).is_ok());
        }
        let retry = admit(&mut log, start + Duration::from_millis(10), 3, window).unwrap_err();
        assert_eq!(
            retry,
            start + window,
            "the next slot frees when the oldest send leaves the window"
        );
        assert!(admit(&mut log, start + window, 3, window).is_ok());
    }

    #[test]
    fn a_late_send_pushes_the_following_ones() {
        let start = Instant::now();
        let mut log = VecDeque::new();
        let window = Duration::from_millis(1000);
        assert!(admit(&mut log, start + Duration::from_millis(300), 1, window).is_ok());
        assert_eq!(
            admit(&mut log, start + Duration::from_millis(1000), 1, window),
            Err(start + Duration::from_millis(1300))
        );
    }
}
