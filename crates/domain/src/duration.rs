//! Human-written durations (SPEC §1.3): `30s`, `15m`, `24h`, `7d`, `2w`, `1y` (= 365 days).
//!
//! A [`Duration`] is parsed once at the config edge and keeps its canonical short form for
//! display and serialization, so a config round-trips without surprises.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A non-negative span of whole seconds written with one unit suffix.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// The input was empty.
    #[error("empty duration")]
    Empty,
    /// A number without a unit, e.g. `5`.
    #[error("duration `{0}` has no unit (use s, m, h, d, w or y)")]
    MissingUnit(String),
    /// The suffix is not one of `s m h d w y`.
    #[error("duration `{0}` has an unknown unit (use s, m, h, d, w or y)")]
    UnknownUnit(String),
    /// The numeric part is missing, signed or not an integer.
    #[error("duration `{0}` must be a whole non-negative number followed by a unit")]
    BadNumber(String),
    /// The value does not fit in 64-bit seconds (or in a signed timestamp offset).
    #[error("duration `{0}` is too large")]
    Overflow(String),
}

/// Units from largest to smallest; `Display` picks the first that divides exactly.
const UNITS: [(char, u64); 6] = [
    ('y', 365 * 86_400),
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Duration {
    /// Parses `"<digits><unit>"` where unit is one of `s m h d w y`.
    ///
    /// # Errors
    /// Empty input, a missing or unknown unit, a signed/decimal number, or overflow.
    pub fn parse(s: &str) -> Result<Duration, DurationError> {
        let s = s.trim();
        let Some(unit) = s.chars().last() else {
            return Err(DurationError::Empty);
        };
        if unit.is_ascii_digit() {
            return Err(DurationError::MissingUnit(s.to_owned()));
        }
        let Some(&(_, factor)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(DurationError::UnknownUnit(s.to_owned()));
        };
        let digits = &s[..s.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DurationError::BadNumber(s.to_owned()));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_owned()))?;
        let secs = n
            .checked_mul(factor)
            // Keep every value representable as a signed `time::Duration` too.
            .filter(|secs| i64::try_from(*secs).is_ok())
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
        Ok(Duration::from_secs(secs))
    }

    /// The value as a standard library duration.
    pub fn as_std(&self) -> std::time::Duration {
        self.0
    }

    /// Whole seconds.
    pub fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration(std::time::Duration::from_secs(secs))
    }

    /// The value as a `time::Duration`, for arithmetic with `OffsetDateTime`
    /// (saturating at `i64::MAX` seconds, which `parse` never produces).
    pub fn to_time(&self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.as_secs()).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.as_secs();
        if secs == 0 {
            return f.write_str("0s");
        }
        // 's' divides everything, so a unit is always found.
        let (unit, factor) = UNITS
            .iter()
            .find(|(_, factor)| secs.is_multiple_of(*factor))
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{}", secs / factor, unit)
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok: &[(&str, u64, &str)] = &[
            ("30s", 30, "30s"),
            ("15m", 900, "15m"),
            ("24h", 86_400, "1d"),
            ("7d", 604_800, "1w"),
            ("2w", 1_209_600, "2w"),
            ("1y", 31_536_000, "1y"),
            ("90m", 5_400, "90m"),
            ("0s", 0, "0s"),
            ("365d", 31_536_000, "1y"),
        ];
        for (input, secs, canonical) in ok {
            let d = Duration::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d.as_secs(), *secs, "{input}");
            assert_eq!(d.to_string(), *canonical, "{input}");
        }
        let bad: &[(&str, DurationError)] = &[
            ("", DurationError::Empty),
            ("0x", DurationError::UnknownUnit("0x".into())),
            ("5", DurationError::MissingUnit("5".into())),
            ("-5m", DurationError::BadNumber("-5m".into())),
            ("+5m", DurationError::BadNumber("+5m".into())),
            ("1.5h", DurationError::BadNumber("1.5h".into())),
            ("m", DurationError::BadNumber("m".into())),
            ("5 m", DurationError::BadNumber("5 m".into())),
            (
                "99999999999999999999s",
                DurationError::Overflow("99999999999999999999s".into()),
            ),
            (
                "999999999999999y",
                DurationError::Overflow("999999999999999y".into()),
            ),
        ];
        for (input, err) in bad {
            assert_eq!(Duration::parse(input).as_ref(), Err(err), "{input}");
        }
    }

    #[test]
    fn conversions_agree() {
        let d = Duration::parse("2h").unwrap();
        assert_eq!(d.as_std(), std::time::Duration::from_secs(7_200));
        assert_eq!(d.to_time(), time::Duration::hours(2));
        assert_eq!(Duration::from_secs(7_200), d);
        assert!(Duration::parse("1m").unwrap() < Duration::parse("61s").unwrap());
    }

    #[test]
    fn serde_uses_the_short_form() {
        let d: Duration = serde_json::from_str("\"14d\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2w\"");
        assert!(serde_json::from_str::<Duration>("\"5\"").is_err());
        assert!(serde_json::from_str::<Duration>("5").is_err());
    }
}
