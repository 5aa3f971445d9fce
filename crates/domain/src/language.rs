//! Survey and message languages: `en`, `es`, `pt_BR`.
//!
//! Written `xx` or `xx_RR`; `pt-BR` and `PT_br` are accepted at the edge and normalised to
//! `pt_BR`, so comparisons between config, case data and detected languages are exact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A normalised language tag: 2–3 lowercase letters, optionally `_` and a 2-letter
/// uppercase region or a 3-digit area code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language(String);

/// The input is not a language tag.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not a language code (expected e.g. en, es, pt_BR)")]
pub struct LanguageError(pub String);

impl Language {
    /// Parses and normalises a tag.
    ///
    /// # Errors
    /// When the input is not `xx`, `xxx`, `xx_RR` or `xx-RR` (or a 3-digit region).
    pub fn parse(s: &str) -> Result<Language, LanguageError> {
        let err = || LanguageError(s.to_owned());
        let trimmed = s.trim();
        let (lang, region) = match trimmed.split_once(['_', '-']) {
            Some((l, r)) => (l, Some(r)),
            None => (trimmed, None),
        };
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err());
        }
        let mut out = lang.to_ascii_lowercase();
        if let Some(region) = region {
            let letters = region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic());
            let digits = region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit());
            if !letters && !digits {
                return Err(err());
            }
            out.push('_');
            out.push_str(&region.to_ascii_uppercase());
        }
        Ok(Language(out))
    }

    /// English, the language of pages that belong to no invite.
    pub fn english() -> Language {
        Language("en".to_owned())
    }

    /// The normalised tag, e.g. `pt_BR`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language without its region: `pt` for `pt_BR`.
    pub fn base(&self) -> &str {
        self.0.split('_').next().unwrap_or(&self.0)
    }

    /// The language without its region: `pt` for `pt_BR`.
    pub fn primary(&self) -> &str {
        self.0.split('_').next().unwrap_or(&self.0)
    }

    /// The BCP 47 form HTML's `lang` attribute wants: `pt-BR` for `pt_BR`.
    pub fn bcp47(&self) -> String {
        self.0.replace('_', "-")
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Language {
    type Err = LanguageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::parse(s)
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Language::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("en", Some("en")),
            ("es", Some("es")),
            ("pt_BR", Some("pt_BR")),
            ("pt-br", Some("pt_BR")),
            ("EN", Some("en")),
            ("fil", Some("fil")),
            ("es_419", Some("es_419")),
            ("", None),
            ("e", None),
            ("english", None),
            ("pt_BRA", None),
            ("p1", None),
            ("pt_", None),
            ("en_US_x", None),
        ];
        for (input, want) in cases {
            let got = Language::parse(input).ok();
            assert_eq!(got.as_ref().map(Language::as_str), *want, "{input}");
        }
    }

    #[test]
    fn primary_and_order() {
        let pt = Language::parse("pt_BR").unwrap();
        assert_eq!(pt.primary(), "pt");
        assert_eq!(pt.bcp47(), "pt-BR");
        assert_eq!(Language::parse("es_419").unwrap().bcp47(), "es-419");
        assert!(Language::parse("en").unwrap() < Language::parse("es").unwrap());
        let json = serde_json::to_string(&pt).unwrap();
        assert_eq!(json, "\"pt_BR\"");
        assert_eq!(serde_json::from_str::<Language>(&json).unwrap(), pt);
    }
}
