//! E.164 phone numbers, validated with the `phonenumber` crate (libphonenumber metadata).
//!
//! Case data holds phone numbers as raw strings; they become an [`E164`] only when an invite
//! resolves its recipient (SPEC §4.2), so messy helpdesk data never blocks a case update.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id as Region;
use phonenumber::Mode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A valid phone number in E.164 form: `+` followed by country code and national digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct E164(String);

/// Why a raw phone number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// Nothing but whitespace.
    #[error("empty phone number")]
    Empty,
    /// `default_region` is not an ISO 3166 alpha-2 code the library knows.
    #[error("unknown region `{0}`")]
    UnknownRegion(String),
    /// A national number (no `+`) and no region to interpret it with.
    #[error("`{0}` has no country code and no default region is configured")]
    NationalWithoutRegion(String),
    /// Not a phone number at all.
    #[error("`{0}` is not a phone number")]
    Unparsable(String),
    /// Looks like a number but is not a valid one for its country.
    #[error("`{0}` is not a valid phone number")]
    Invalid(String),
}

/// Whether `region` is an ISO 3166 alpha-2 code known to the phone metadata (case-insensitive).
pub fn is_known_region(region: &str) -> bool {
    parse_region(region).is_ok()
}

fn parse_region(region: &str) -> Result<Region, PhoneError> {
    Region::from_str(&region.trim().to_ascii_uppercase())
        .map_err(|_| PhoneError::UnknownRegion(region.to_owned()))
}

/// Parses and validates; `Ok(None)` means "parsed but not valid".
fn try_parse(region: Option<Region>, raw: &str) -> Result<Option<E164>, PhoneError> {
    match phonenumber::parse(region, raw) {
        Ok(number) if number.is_valid() => {
            Ok(Some(E164(number.format().mode(Mode::E164).to_string())))
        }
        Ok(_) => Ok(None),
        Err(_) => Err(PhoneError::Unparsable(raw.to_owned())),
    }
}

impl E164 {
    /// Parses an international (`+34 600 11 12 22`), national (`600111222` with
    /// `default_region = Some("ES")`) or WhatsApp `wa_id` (`34600111222`) number.
    ///
    /// # Errors
    /// Empty, unknown region, national number without region, unparsable, or invalid.
    pub fn parse(raw: &str, default_region: Option<&str>) -> Result<E164, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        let region = default_region.map(parse_region).transpose()?;
        if raw.starts_with('+') {
            return try_parse(None, raw)?.ok_or_else(|| PhoneError::Invalid(raw.to_owned()));
        }
        // National reading first: with a region, `600111222` is Spanish, not Malaysian.
        if let Some(region) = region {
            if let Ok(Some(number)) = try_parse(Some(region), raw) {
                return Ok(number);
            }
        }
        // WhatsApp reports senders as bare international digits (wa_id).
        let digits_only = raw.bytes().all(|b| b.is_ascii_digit());
        if digits_only {
            if let Ok(Some(number)) = try_parse(None, &format!("+{raw}")) {
                return Ok(number);
            }
        }
        match region {
            None if looks_numeric(raw) => Err(PhoneError::NationalWithoutRegion(raw.to_owned())),
            None => Err(PhoneError::Unparsable(raw.to_owned())),
            Some(region) => {
                try_parse(Some(region), raw)?;
                Err(PhoneError::Invalid(raw.to_owned()))
            }
        }
    }

    /// The `+<digits>` form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+`, as the WhatsApp Cloud API `to` field wants them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

/// Digits with the usual separators only: a national number someone typed.
fn looks_numeric(raw: &str) -> bool {
    raw.bytes().any(|b| b.is_ascii_digit())
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        E164::parse(&s, None).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok: &[(&str, Option<&str>, &str)] = &[
            ("+34600111222", None, "+34600111222"),
            ("+34 600 11 12 22", None, "+34600111222"),
            ("+1 415 555 2671", None, "+14155552671"),
            ("+34600111222", Some("US"), "+34600111222"),
            ("600111222", Some("ES"), "+34600111222"),
            ("600 111 222", Some("es"), "+34600111222"),
            ("(415) 555-2671", Some("US"), "+14155552671"),
            ("34600111222", None, "+34600111222"),
            ("34600111222", Some("ES"), "+34600111222"),
            ("5511987654321", None, "+5511987654321"),
        ];
        for (raw, region, want) in ok {
            let n = E164::parse(raw, *region).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(n.as_str(), *want, "{raw}");
            assert_eq!(n.digits(), &want[1..], "{raw}");
        }
        let bad: &[(&str, Option<&str>, PhoneError)] = &[
            ("", None, PhoneError::Empty),
            ("   ", Some("ES"), PhoneError::Empty),
            (
                "600111222",
                None,
                PhoneError::NationalWithoutRegion("600111222".into()),
            ),
            (
                "not a phone",
                None,
                PhoneError::Unparsable("not a phone".into()),
            ),
            ("+34 600", None, PhoneError::Invalid("+34 600".into())),
            (
                "+34600111222",
                Some("XX"),
                PhoneError::UnknownRegion("XX".into()),
            ),
            ("123", Some("ES"), PhoneError::Invalid("123".into())),
        ];
        for (raw, region, want) in bad {
            assert_eq!(E164::parse(raw, *region).as_ref(), Err(want), "{raw}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let n: E164 = serde_json::from_str("\"+34600111222\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"+34600111222\"");
        assert!(serde_json::from_str::<E164>("\"garbage\"").is_err());
    }

    #[test]
    fn regions() {
        assert!(is_known_region("ES"));
        assert!(is_known_region("br"));
        assert!(!is_known_region("ZZ"));
    }
}
