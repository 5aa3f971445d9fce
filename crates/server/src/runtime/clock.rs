//! The service clock. Real time in production; the demo runs it faster so a day of
//! reminders fits in a minute. Everything that schedules reads time from here.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock time, possibly accelerated.
#[derive(Clone, Debug)]
pub struct Clock {
    origin_real: Instant,
    origin_us: i64,
    speed: f64,
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
            origin_real: Instant::now(),
            origin_us,
            speed: if speed > 0.0 { speed } else { 1.0 },
        }
    }

    /// Now, in unix microseconds.
    pub(crate) fn now_us(&self) -> i64 {
        let elapsed = self.origin_real.elapsed().as_micros() as f64 * self.speed;
        self.origin_us + elapsed as i64
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
        d.div_f64(self.speed)
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
    fn rfc3339_formats_unix_ms() {
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
