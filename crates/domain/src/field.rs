//! Names of the case facts a condition, an action or a template may refer to (SPEC §3.1).
//!
//! A [`FieldPath`] is parsed once from its dotted form (`case.status`, `profile.custom.mobile`)
//! so an unknown name is a config error, never a silent `null` at evaluation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Errors about field names and about writing values into a case.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// Not one of the known field names.
    #[error("unknown field `{0}` (expected case.<id|number|status|priority|case_type|queue|assignee|region|tags>, case.custom.<key>, profile.<id|name|first_name|phone|language>, profile.custom.<key> or event.kind)")]
    Unknown(String),
    /// The field cannot be written by an action (`case.id`, `event.kind`).
    #[error("field `{0}` cannot be set")]
    ReadOnly(String),
    /// The value has the wrong JSON type for the field.
    #[error("field `{field}` needs {expected}")]
    Type {
        /// The field written.
        field: String,
        /// What it accepts.
        expected: &'static str,
    },
}

/// A built-in case attribute.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseField {
    /// `case.id`
    Id,
    /// `case.number`
    Number,
    /// `case.status`
    Status,
    /// `case.priority`
    Priority,
    /// `case.case_type`
    CaseType,
    /// `case.queue`
    Queue,
    /// `case.assignee`
    Assignee,
    /// `case.region`
    Region,
    /// `case.tags` (a list)
    Tags,
}

impl CaseField {
    /// Every case field.
    pub const ALL: [CaseField; 9] = [
        CaseField::Id,
        CaseField::Number,
        CaseField::Status,
        CaseField::Priority,
        CaseField::CaseType,
        CaseField::Queue,
        CaseField::Assignee,
        CaseField::Region,
        CaseField::Tags,
    ];

    /// The name after `case.`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseField::Id => "id",
            CaseField::Number => "number",
            CaseField::Status => "status",
            CaseField::Priority => "priority",
            CaseField::CaseType => "case_type",
            CaseField::Queue => "queue",
            CaseField::Assignee => "assignee",
            CaseField::Region => "region",
            CaseField::Tags => "tags",
        }
    }
}

/// A built-in profile (customer) attribute.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfileField {
    /// `profile.id`
    Id,
    /// `profile.name`
    Name,
    /// `profile.first_name`
    FirstName,
    /// `profile.phone`
    Phone,
    /// `profile.language`
    Language,
}

impl ProfileField {
    /// Every profile field.
    pub const ALL: [ProfileField; 5] = [
        ProfileField::Id,
        ProfileField::Name,
        ProfileField::FirstName,
        ProfileField::Phone,
        ProfileField::Language,
    ];

    /// The name after `profile.`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileField::Id => "id",
            ProfileField::Name => "name",
            ProfileField::FirstName => "first_name",
            ProfileField::Phone => "phone",
            ProfileField::Language => "language",
        }
    }
}

/// A parsed field name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldPath {
    /// `case.<field>`
    Case(CaseField),
    /// `case.custom.<key>`
    CaseCustom(String),
    /// `profile.<field>`
    Profile(ProfileField),
    /// `profile.custom.<key>`
    ProfileCustom(String),
    /// `event.kind`: the kind of event being evaluated, not a case fact.
    EventKind,
}

impl FieldPath {
    /// Parses a dotted field name.
    ///
    /// # Errors
    /// [`FieldError::Unknown`] naming the input when it is not a known field.
    pub fn parse(s: &str) -> Result<FieldPath, FieldError> {
        let unknown = || FieldError::Unknown(s.to_owned());
        let custom_key = |key: &str| {
            // Keys are free-form, but must not be empty.
            (!key.is_empty())
                .then(|| key.to_owned())
                .ok_or_else(unknown)
        };
        if s == "event.kind" {
            return Ok(FieldPath::EventKind);
        }
        if let Some(key) = s.strip_prefix("case.custom.") {
            return custom_key(key).map(FieldPath::CaseCustom);
        }
        if let Some(key) = s.strip_prefix("profile.custom.") {
            return custom_key(key).map(FieldPath::ProfileCustom);
        }
        if let Some(name) = s.strip_prefix("case.") {
            return CaseField::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .map(FieldPath::Case)
                .ok_or_else(unknown);
        }
        if let Some(name) = s.strip_prefix("profile.") {
            return ProfileField::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .map(FieldPath::Profile)
                .ok_or_else(unknown);
        }
        Err(unknown())
    }

    /// The dotted form, as written in config.
    pub fn as_string(&self) -> String {
        match self {
            FieldPath::Case(f) => format!("case.{}", f.as_str()),
            FieldPath::CaseCustom(k) => format!("case.custom.{k}"),
            FieldPath::Profile(f) => format!("profile.{}", f.as_str()),
            FieldPath::ProfileCustom(k) => format!("profile.custom.{k}"),
            FieldPath::EventKind => "event.kind".to_owned(),
        }
    }

    /// The name [`crate::case::diff`] reports for this field (relative to the case);
    /// `None` for `event.kind`, which is not part of the case.
    pub fn diff_name(&self) -> Option<String> {
        match self {
            FieldPath::Case(f) => Some(f.as_str().to_owned()),
            FieldPath::CaseCustom(k) => Some(format!("custom.{k}")),
            FieldPath::Profile(f) => Some(format!("profile.{}", f.as_str())),
            FieldPath::ProfileCustom(k) => Some(format!("profile.custom.{k}")),
            FieldPath::EventKind => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl FromStr for FieldPath {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldPath::parse(s)
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        FieldPath::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok: &[(&str, FieldPath, Option<&str>)] = &[
            (
                "case.status",
                FieldPath::Case(CaseField::Status),
                Some("status"),
            ),
            (
                "case.case_type",
                FieldPath::Case(CaseField::CaseType),
                Some("case_type"),
            ),
            ("case.tags", FieldPath::Case(CaseField::Tags), Some("tags")),
            (
                "case.custom.alt_phone",
                FieldPath::CaseCustom("alt_phone".into()),
                Some("custom.alt_phone"),
            ),
            (
                "profile.first_name",
                FieldPath::Profile(ProfileField::FirstName),
                Some("profile.first_name"),
            ),
            (
                "profile.custom.mobile",
                FieldPath::ProfileCustom("mobile".into()),
                Some("profile.custom.mobile"),
            ),
            ("event.kind", FieldPath::EventKind, None),
        ];
        for (input, want, diff) in ok {
            let got = FieldPath::parse(input).unwrap();
            assert_eq!(&got, want);
            assert_eq!(got.as_string(), *input);
            assert_eq!(got.diff_name().as_deref(), *diff);
        }
        for bad in [
            "case.colour",
            "case.custom.",
            "status",
            "profile.email",
            "event",
            "",
        ] {
            assert_eq!(FieldPath::parse(bad), Err(FieldError::Unknown(bad.into())));
        }
        assert!(FieldPath::parse("case.colour")
            .unwrap_err()
            .to_string()
            .contains("case.colour"));
    }
}
