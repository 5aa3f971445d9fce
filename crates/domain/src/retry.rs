//! Retry schedule as data (STYLE pattern 6): exponential backoff with a cap, ± jitter and a
//! bounded number of attempts. The caller supplies the random number, keeping this pure.

use std::time::Duration;

/// How failed deliveries are retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub initial: Duration,
    /// Growth per further failure.
    pub factor: f64,
    /// Upper bound of any delay.
    pub cap: Duration,
    /// Relative spread: `0.2` draws the delay from ±20% of the nominal value.
    pub jitter: f64,
    /// Attempts in total, the first included; after that the failure is final.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 1 s, doubling, capped at 5 min, ±20% jitter, 8 attempts.
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(1),
            factor: 2.0,
            cap: Duration::from_secs(300),
            jitter: 0.2,
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// Delay before the next try after attempt number `attempt` (1-based) failed.
    /// `jitter_unit` is a caller-drawn random number in `[0, 1)`: `0.5` gives the nominal
    /// delay, `0` the shortest and values near `1` the longest. The result never exceeds `cap`.
    pub fn delay(&self, attempt: u32, jitter_unit: f64) -> Duration {
        let exponent = i32::try_from(attempt.max(1) - 1).unwrap_or(i32::MAX);
        let cap = self.cap.as_secs_f64();
        let nominal = (self.initial.as_secs_f64() * self.factor.powi(exponent)).min(cap);
        let unit = if jitter_unit.is_finite() {
            jitter_unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let spread = 1.0 + self.jitter * (2.0 * unit - 1.0);
        let secs = (nominal * spread).clamp(0.0, cap);
        Duration::try_from_secs_f64(secs).unwrap_or(self.cap)
    }

    /// Whether `attempts` tries used up the budget.
    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn backoff_table_without_jitter_spread() {
        let p = RetryPolicy::default();
        let table: &[(u32, u128)] = &[
            (0, 1_000),
            (1, 1_000),
            (2, 2_000),
            (3, 4_000),
            (8, 128_000),
            (9, 256_000),
            (10, 300_000),
            (1_000, 300_000),
        ];
        for (attempt, want) in table {
            assert_eq!(ms(p.delay(*attempt, 0.5)), *want, "attempt {attempt}");
        }
    }

    #[test]
    fn jitter_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(ms(p.delay(3, 0.0)), 3_200);
        assert!(ms(p.delay(3, 0.999_999)) >= 4_799);
        assert!(ms(p.delay(3, 0.999_999)) <= 4_800);
        assert_eq!(ms(p.delay(3, f64::NAN)), 4_000);
        // never above the cap, even with upward jitter
        assert_eq!(p.delay(20, 0.99), p.cap);
        assert!(p.delay(20, 0.0) < p.cap);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        assert!(!p.exhausted(0));
        assert!(!p.exhausted(7));
        assert!(p.exhausted(8));
        assert!(p.exhausted(9));
    }
}
