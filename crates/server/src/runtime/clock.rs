//! The service clock. Real time in production; the demo runs it faster so a day of
//! reminders fits in a minute. Everything that schedules reads time from here.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock time, possibly accelerated. Clones share one pace, so a change of speed
/// (the demo's return to real time) is seen by every worker at once.
#[derive(Clone, Debug)]
pub struct Clock {
    pace: Arc<RwLock<Pace>>,
}

/// Clock time `origin_us` at the real instant `origin_real`, running `speed` times faster
/// than real time since.
#[derive(Clone, Copy, Debug)]
struct Pace {
    origin_real: Instant,
    origin_us: i64,
    speed: f64,
}

impl Pace {
    fn now_us(&self) -> i64 {
        let elapsed = self.origin_real.elapsed().as_micros() as f64 * self.speed;
        self.origin_us + elapsed as i64
    }
}

impl Clock {
    /// The real clock.
    pub fn real() -> Clock {
        Clock::accelerated(1.0)
    }

    /// A clock running `speed` times faster than real time from now on.
    pub fn accelerated(speed: f64) -> Clock {
        let origin_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Clock {
            pace: Arc::new(RwLock::new(Pace {
                origin_real: Instant::now(),
                origin_us,
                speed: if speed > 0.0 { speed } else { 1.0 },
            })),
        }
    }

    fn pace(&self) -> Pace {
        *self.pace.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on the clock runs at real speed, on from the time it shows (it never goes
    /// back): the demo's accelerated scenario ends, and its links keep their lifetime.
    pub(crate) fn run_at_real_speed(&self) {
        let mut pace = self.pace.write().unwrap_or_else(PoisonError::into_inner);
        *pace = Pace {
            origin_us: pace.now_us(),
            origin_real: Instant::now(),
            speed: 1.0,
        };
    }

    /// Now, in unix microseconds.
    pub(crate) fn now_us(&self) -> i64 {
        self.pace().now_us()
    }

    /// Now, in unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        self.now_us() / 1000
    }

    /// Now as a timestamp.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        ms_to_datetime(self.now_ms())
    }

    /// How long to really sleep for `d` of clock time to pass.
    pub(crate) fn real_duration(&self, d: Duration) -> Duration {
        d.div_f64(self.pace().speed)
    }

    /// Sleeps until clock time `at_us` (returns at once when it has passed).
    pub(crate) async fn sleep_until_us(&self, at_us: i64) {
        let wait = at_us - self.now_us();
        if wait > 0 {
            let d = Duration::from_micros(u64::try_from(wait).unwrap_or(0));
            tokio::time::sleep(self.real_duration(d)).await;
        }
    }
}

/// Unix ms to a timestamp (saturating at the epoch for nonsense).
pub(crate) fn ms_to_datetime(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Unix ms as RFC 3339.
pub(crate) fn rfc3339(ms: i64) -> String {
    ms_to_datetime(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerated_clock_runs_faster_and_sleeps_shorter() {
        let clock = Clock::accelerated(100.0);
        assert_eq!(
            clock.real_duration(Duration::from_secs(10)),
            Duration::from_millis(100)
        );
        let a = clock.now_us();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            clock.now_us() - a >= 400_000,
            "5 ms real should be ≥ 0.4 s of clock time"
        );
    }

    #[test]
    fn back_at_real_speed_the_clock_goes_on_from_where_it_was() {
        let clock = Clock::accelerated(100_000.0);
        std::thread::sleep(Duration::from_millis(5));
        let shared = clock.clone();
        let ahead = shared.now_us();
        clock.run_at_real_speed();
        let after = shared.now_us();
        assert!(after >= ahead, "never back");
        assert_eq!(
            shared.real_duration(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        std::thread::sleep(Duration::from_millis(5));
        let later = shared.now_us() - after;
        assert!((5_000..500_000).contains(&later), "real time: {later} µs");
    }

    #[test]
    fn rfc3339_formats_unix_ms() {
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
