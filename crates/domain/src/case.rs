//! The case as the helpdesk pushes it (SPEC §5.1), field access by [`FieldPath`], and the diff
//! between two versions of a case that drives `changed` conditions.
//!
//! Phone numbers stay raw strings here on purpose: messy helpdesk data is accepted and judged
//! only when an invite resolves its recipient (SPEC §4.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::field::{CaseField, FieldError, FieldPath, ProfileField};

/// A support case: the full state as last pushed by the helpdesk (or changed by rules).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Helpdesk id of the case.
    pub id: String,
    /// Human-facing case number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Helpdesk status, e.g. `Resolved`.
    pub status: String,
    /// Priority label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Case type, e.g. `billing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_type: Option<String>,
    /// Queue the case sits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Agent the case is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Region label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Tags, in helpdesk order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Free-form custom fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
    /// The customer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "object_or_null"
    )]
    pub profile: Option<Profile>,
    /// The channel conversation the case came in on.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "object_or_null"
    )]
    pub conversation: Option<Conversation>,
}

/// Reads a nested object or `null`. serde's derive would also read a struct from an array
/// of its fields in order (`"profile": [null, "Ana"]`), which no client means.
fn object_or_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrNull<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOrNull<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, inner: D) -> Result<Option<T>, D::Error> {
            inner.deserialize_map(self)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_option(ObjectOrNull(std::marker::PhantomData))
}

/// The customer of a case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Helpdesk id of the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First name, for greetings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Raw phone number as the helpdesk holds it; validated only when used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Preferred language, raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Free-form custom fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
}

/// The conversation a case came in on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// Id of the sender account the customer wrote to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

/// Absent, null and empty list all mean "no value", so `[]` → `null` is not a change.
fn normalized(v: Value) -> Value {
    match v {
        Value::Array(a) if a.is_empty() => Value::Null,
        other => other,
    }
}

/// Writes an optional string field: a string sets it, null clears it.
fn write_opt(slot: &mut Option<String>, path: &FieldPath, value: Value) -> Result<(), FieldError> {
    match value {
        Value::String(s) => *slot = Some(s),
        Value::Null => *slot = None,
        _ => return Err(type_error(path, "a string or null")),
    }
    Ok(())
}

fn type_error(path: &FieldPath, expected: &'static str) -> FieldError {
    FieldError::Type {
        field: path.as_string(),
        expected,
    }
}

fn write_custom(map: &mut Map<String, Value>, key: &str, value: Value) {
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_owned(), value);
    }
}

impl Case {
    /// The value of a field, `Null` when absent. `case.tags` is always a list;
    /// `event.kind` is not a case fact and reads as `Null` here.
    pub fn field(&self, path: &FieldPath) -> Value {
        match path {
            FieldPath::Case(f) => match f {
                CaseField::Id => Value::String(self.id.clone()),
                CaseField::Number => opt_str(&self.number),
                CaseField::Status => Value::String(self.status.clone()),
                CaseField::Priority => opt_str(&self.priority),
                CaseField::CaseType => opt_str(&self.case_type),
                CaseField::Queue => opt_str(&self.queue),
                CaseField::Assignee => opt_str(&self.assignee),
                CaseField::Region => opt_str(&self.region),
                CaseField::Tags => {
                    Value::Array(self.tags.iter().cloned().map(Value::String).collect())
                }
            },
            FieldPath::CaseCustom(k) => self.custom.get(k).cloned().unwrap_or(Value::Null),
            FieldPath::Profile(f) => self.profile.as_ref().map_or(Value::Null, |p| match f {
                ProfileField::Id => opt_str(&p.id),
                ProfileField::Name => opt_str(&p.name),
                ProfileField::FirstName => opt_str(&p.first_name),
                ProfileField::Phone => opt_str(&p.phone),
                ProfileField::Language => opt_str(&p.language),
            }),
            FieldPath::ProfileCustom(k) => self
                .profile
                .as_ref()
                .and_then(|p| p.custom.get(k).cloned())
                .unwrap_or(Value::Null),
            FieldPath::EventKind => Value::Null,
        }
    }

    /// Writes a field (used by `set_field` actions). `Null` clears optional fields and custom
    /// keys; writing a profile field creates the profile if the case had none.
    ///
    /// # Errors
    /// [`FieldError::ReadOnly`] for `case.id` and `event.kind`; [`FieldError::Type`] when the
    /// value's JSON type does not fit (status and optional fields take strings, tags a list of
    /// strings).
    pub fn set_field(&mut self, path: &FieldPath, value: Value) -> Result<(), FieldError> {
        match path {
            FieldPath::EventKind | FieldPath::Case(CaseField::Id) => {
                Err(FieldError::ReadOnly(path.as_string()))
            }
            FieldPath::Case(CaseField::Status) => match value {
                Value::String(s) => {
                    self.status = s;
                    Ok(())
                }
                _ => Err(type_error(path, "a string")),
            },
            FieldPath::Case(CaseField::Tags) => {
                self.tags = tags_from(path, value)?;
                Ok(())
            }
            FieldPath::Case(f) => {
                let slot = match f {
                    CaseField::Number => &mut self.number,
                    CaseField::Priority => &mut self.priority,
                    CaseField::CaseType => &mut self.case_type,
                    CaseField::Queue => &mut self.queue,
                    CaseField::Assignee => &mut self.assignee,
                    // Id, Status and Tags are handled above.
                    _ => &mut self.region,
                };
                write_opt(slot, path, value)
            }
            FieldPath::CaseCustom(k) => {
                write_custom(&mut self.custom, k, value);
                Ok(())
            }
            FieldPath::Profile(f) => {
                // Validate before creating an empty profile as a side effect.
                if !matches!(value, Value::String(_) | Value::Null) {
                    return Err(type_error(path, "a string or null"));
                }
                let p = self.profile.get_or_insert_with(Profile::default);
                let slot = match f {
                    ProfileField::Id => &mut p.id,
                    ProfileField::Name => &mut p.name,
                    ProfileField::FirstName => &mut p.first_name,
                    ProfileField::Phone => &mut p.phone,
                    ProfileField::Language => &mut p.language,
                };
                write_opt(slot, path, value)
            }
            FieldPath::ProfileCustom(k) => {
                let p = self.profile.get_or_insert_with(Profile::default);
                write_custom(&mut p.custom, k, value);
                Ok(())
            }
        }
    }

    /// Every present (non-null, non-empty) field keyed by its diff name.
    fn entries(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut put = |name: String, v: Value| {
            let v = normalized(v);
            if !v.is_null() {
                out.insert(name, v);
            }
        };
        for f in CaseField::ALL {
            put(f.as_str().to_owned(), self.field(&FieldPath::Case(f)));
        }
        for (k, v) in &self.custom {
            put(format!("custom.{k}"), v.clone());
        }
        if let Some(p) = &self.profile {
            for f in ProfileField::ALL {
                let name = format!("profile.{}", f.as_str());
                put(name, self.field(&FieldPath::Profile(f)));
            }
            for (k, v) in &p.custom {
                put(format!("profile.custom.{k}"), v.clone());
            }
        }
        if let Some(c) = &self.conversation {
            put("conversation.account".to_owned(), opt_str(&c.account));
        }
        out
    }
}

fn tags_from(path: &FieldPath, value: Value) -> Result<Vec<String>, FieldError> {
    let expected = "a list of strings";
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(type_error(path, expected)),
            })
            .collect(),
        _ => Err(type_error(path, expected)),
    }
}

/// The fields that differ between two versions of a case, as dotted names relative to the
/// case (`status`, `tags`, `custom.alt_phone`, `profile.phone`, `profile.custom.mobile`,
/// `conversation.account`). With no `before`, every present field counts as changed.
/// Sorted and without duplicates; empty when the versions are equal.
pub fn diff(before: Option<&Case>, after: &Case) -> Vec<String> {
    // Equal versions (a helpdesk resending a case) are the common case of a bulk import;
    // comparing the structs is far cheaper than building both entry maps.
    if before == Some(after) {
        return Vec::new();
    }
    let old = before.map(Case::entries).unwrap_or_default();
    let new = after.entries();
    let mut names: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether one field differs between the versions, by the same rule as [`diff`]
/// (without computing the whole diff).
pub fn field_changed(before: Option<&Case>, after: &Case, path: &FieldPath) -> bool {
    if *path == FieldPath::EventKind {
        return false;
    }
    let old = before.map_or(Value::Null, |c| normalized(c.field(path)));
    old != normalized(after.field(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Case {
        serde_json::from_value(json!({
            "id":"C-1001","number":"1001","status":"Resolved","priority":"high",
            "case_type":"billing","queue":"tier1","assignee":"agent-7","region":"EMEA",
            "tags":["vip"],"custom":{"alt_phone":"+34600111222"},
            "profile":{"id":"P-55","name":"Ana López","first_name":"Ana",
                       "phone":"+34600000000","language":"es","custom":{"mobile":"+34611222333"}},
            "conversation":{"account":"support-wa"}
        }))
        .unwrap()
    }

    fn path(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn spec_shape_round_trips_and_rejects_unknown_fields() {
        let case = sample();
        let back: Case = serde_json::from_value(serde_json::to_value(&case).unwrap()).unwrap();
        assert_eq!(back, case);
        let minimal: Case = serde_json::from_value(json!({"id":"C-1","status":"New"})).unwrap();
        assert_eq!(
            serde_json::to_value(&minimal).unwrap(),
            json!({"id":"C-1","status":"New"})
        );
        let err = serde_json::from_value::<Case>(json!({"id":"C","status":"x","colour":"red"}))
            .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        assert!(serde_json::from_value::<Case>(json!({"id":"C"})).is_err());
        // messy phone data is accepted
        let messy: Case = serde_json::from_value(
            json!({"id":"C","status":"x","profile":{"phone":"call me maybe"}}),
        )
        .unwrap();
        assert_eq!(messy.field(&path("profile.phone")), json!("call me maybe"));
    }

    #[test]
    fn field_reads() {
        let case = sample();
        let table: &[(&str, Value)] = &[
            ("case.id", json!("C-1001")),
            ("case.status", json!("Resolved")),
            ("case.tags", json!(["vip"])),
            ("case.custom.alt_phone", json!("+34600111222")),
            ("case.custom.missing", Value::Null),
            ("profile.first_name", json!("Ana")),
            ("profile.custom.mobile", json!("+34611222333")),
            ("event.kind", Value::Null),
        ];
        for (p, want) in table {
            assert_eq!(&case.field(&path(p)), want, "{p}");
        }
        let bare = Case::default();
        assert_eq!(bare.field(&path("profile.phone")), Value::Null);
        assert_eq!(bare.field(&path("case.tags")), json!([]));
    }

    #[test]
    fn field_writes() {
        let mut case = Case::default();
        case.set_field(&path("case.queue"), json!("q")).unwrap();
        assert_eq!(case.queue.as_deref(), Some("q"));
        case.set_field(&path("case.queue"), Value::Null).unwrap();
        assert_eq!(case.queue, None);
        case.set_field(&path("case.tags"), json!(["a", "b"]))
            .unwrap();
        assert_eq!(case.tags, vec!["a", "b"]);
        case.set_field(&path("case.custom.n"), json!(3)).unwrap();
        assert_eq!(case.custom["n"], json!(3));
        case.set_field(&path("profile.custom.k"), json!(true))
            .unwrap();
        assert_eq!(case.field(&path("profile.custom.k")), json!(true));
        case.set_field(&path("case.custom.n"), Value::Null).unwrap();
        assert!(case.custom.is_empty());

        let errors: &[(&str, Value)] = &[
            ("case.id", json!("x")),
            ("event.kind", json!("x")),
            ("case.status", Value::Null),
            ("case.queue", json!(1)),
            ("case.tags", json!("vip")),
            ("case.tags", json!([1])),
        ];
        for (p, v) in errors {
            assert!(case.set_field(&path(p), v.clone()).is_err(), "{p} = {v}");
        }
        let mut fresh = Case::default();
        assert!(fresh.set_field(&path("profile.name"), json!(5)).is_err());
        assert_eq!(
            fresh.profile, None,
            "a rejected write must not create a profile"
        );
    }

    #[test]
    fn diff_cases() {
        let base = sample();
        assert!(diff(Some(&base), &base).is_empty());

        let mut changed = base.clone();
        changed.status = "Closed".into();
        changed.tags.push("angry".into());
        changed
            .custom
            .insert("alt_phone".into(), json!("+34600999888"));
        changed.profile.as_mut().unwrap().phone = None;
        changed
            .profile
            .as_mut()
            .unwrap()
            .custom
            .insert("mobile".into(), json!("x"));
        changed.conversation = None;
        assert_eq!(
            diff(Some(&base), &changed),
            vec![
                "conversation.account",
                "custom.alt_phone",
                "profile.custom.mobile",
                "profile.phone",
                "status",
                "tags"
            ]
        );

        let created = diff(None, &base);
        assert_eq!(created.len(), 17, "{created:?}");
        assert!(created.contains(&"id".to_owned()));
        assert!(created.contains(&"profile.custom.mobile".to_owned()));

        // empty tags and an empty profile are "nothing there", not a change
        let minimal = Case {
            id: "C".into(),
            status: "New".into(),
            ..Case::default()
        };
        let mut with_empty = minimal.clone();
        with_empty.profile = Some(Profile::default());
        assert!(diff(Some(&minimal), &with_empty).is_empty());
        assert_eq!(diff(None, &minimal), vec!["id", "status"]);
    }

    #[test]
    fn field_changed_agrees_with_diff() {
        let base = sample();
        let mut after = base.clone();
        after.status = "Closed".into();
        after.tags.clear();
        let names = diff(Some(&base), &after);
        for p in [
            "case.status",
            "case.tags",
            "case.queue",
            "profile.phone",
            "event.kind",
        ] {
            let fp = path(p);
            let in_diff = fp.diff_name().is_some_and(|n| names.contains(&n));
            assert_eq!(field_changed(Some(&base), &after, &fp), in_diff, "{p}");
        }
        assert!(field_changed(None, &after, &path("case.status")));
        assert!(!field_changed(None, &after, &path("case.tags")));
    }
}
