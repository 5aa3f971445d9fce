//! The config as a JSON document: the form the file is written in and the management API
//! reads and writes. An API change edits the document (put or remove one object by id) and
//! the whole document is loaded again, so the file and the API share one validation.

use serde_json::{Map, Value};

use super::error::ConfigError;

/// The kinds of object the management API writes into the config.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `accounts`.
    Accounts,
    /// `users`.
    Users,
    /// `surveys`.
    Surveys,
    /// `distributions`.
    Distributions,
    /// `rules`.
    Rules,
}

impl Kind {
    /// Every kind, in the order the document lists them.
    pub const ALL: [Kind; 5] = [
        Kind::Accounts,
        Kind::Users,
        Kind::Surveys,
        Kind::Distributions,
        Kind::Rules,
    ];

    /// The document key (and the API path segment).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Accounts => "accounts",
            Kind::Users => "users",
            Kind::Surveys => "surveys",
            Kind::Distributions => "distributions",
            Kind::Rules => "rules",
        }
    }

    /// One object of the kind, for messages.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Accounts => "account",
            Kind::Users => "user",
            Kind::Surveys => "survey",
            Kind::Distributions => "distribution",
            Kind::Rules => "rule",
        }
    }

    /// The kind stored under `key`.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Fields that are written but never read back.
    pub fn secret_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Accounts => &["access_token", "app_secret", "verify_token"],
            Kind::Users => &["token"],
            Kind::Surveys | Kind::Distributions | Kind::Rules => &[],
        }
    }
}

/// The `id` of an object, if it has a string one.
pub fn id_of(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
}

/// The objects of a kind in the document (none when the key is absent or not a list).
pub fn items(doc: &Value, kind: Kind) -> &[Value] {
    doc.get(kind.key())
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The object of a kind with this id, with its index in the list.
pub fn find<'a>(doc: &'a Value, kind: Kind, id: &str) -> Option<(usize, &'a Value)> {
    items(doc, kind)
        .iter()
        .enumerate()
        .find(|(_, item)| id_of(item) == Some(id))
}

/// Runs `f` on the list of a kind, creating it (and the document object) when missing.
fn with_list<R>(doc: &mut Value, kind: Kind, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
    let mut list = match doc.get_mut(kind.key()).map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let result = f(&mut list);
    match doc {
        Value::Object(map) => {
            map.insert(kind.key().to_owned(), Value::Array(list));
        }
        other => {
            let mut map = Map::new();
            map.insert(kind.key().to_owned(), Value::Array(list));
            *other = Value::Object(map);
        }
    }
    result
}

/// Puts `item` under `id`: replaces the object with that id in place, or appends it.
/// Returns its index.
pub fn put(doc: &mut Value, kind: Kind, id: &str, item: Value) -> usize {
    with_list(doc, kind, |list| {
        match list.iter().position(|x| id_of(x) == Some(id)) {
            Some(i) => {
                list[i] = item;
                i
            }
            None => {
                list.push(item);
                list.len() - 1
            }
        }
    })
}

/// Removes the object with this id; returns it.
pub fn remove(doc: &mut Value, kind: Kind, id: &str) -> Option<Value> {
    with_list(doc, kind, |list| {
        let i = list.iter().position(|x| id_of(x) == Some(id))?;
        Some(list.remove(i))
    })
}

/// Applies one stored change: `Some(item)` puts it, `None` removes the id.
pub fn apply(doc: &mut Value, kind: Kind, id: &str, item: Option<Value>) {
    match item {
        Some(item) => {
            put(doc, kind, id, item);
        }
        None => {
            remove(doc, kind, id);
        }
    }
}

/// The object as the API shows it: without its secret fields.
pub fn public(kind: Kind, item: &Value) -> Value {
    let mut out = item.clone();
    if let Some(map) = out.as_object_mut() {
        for field in kind.secret_fields() {
            map.remove(*field);
        }
    }
    out
}

/// A replacement that leaves a secret out keeps the stored one: secrets are write-only,
/// so a client that read an object cannot send them back.
pub fn keep_secrets(kind: Kind, old: &Value, new: &mut Value) {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object_mut()) else {
        return;
    };
    for field in kind.secret_fields() {
        if let (Some(secret), false) = (old.get(*field), new.contains_key(*field)) {
            new.insert((*field).to_owned(), secret.clone());
        }
    }
}

/// Splits load errors into those about the object at `kind[index]` (with paths relative
/// to it, `messages.invitation.body_params`) and the others (full paths: objects that the
/// change broke, such as a distribution naming a survey being deleted).
pub fn split_errors(
    errors: Vec<ConfigError>,
    kind: Kind,
    index: usize,
) -> (Vec<ConfigError>, Vec<ConfigError>) {
    let prefix = format!("{}[{index}]", kind.key());
    let mut own = Vec::new();
    let mut others = Vec::new();
    for e in errors {
        match e.path.strip_prefix(&prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with('.') => {
                own.push(ConfigError::new(rest.trim_start_matches('.'), e.message))
            }
            _ => others.push(e),
        }
    }
    (own, others)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn put_replaces_in_place_or_appends_and_remove_takes_out() {
        let mut doc = json!({"rules": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(
            put(&mut doc, Kind::Rules, "a", json!({"id": "a", "x": 1})),
            0
        );
        assert_eq!(put(&mut doc, Kind::Rules, "c", json!({"id": "c"})), 2);
        assert_eq!(doc["rules"][0]["x"], 1);
        assert_eq!(find(&doc, Kind::Rules, "c").map(|(i, _)| i), Some(2));
        assert_eq!(remove(&mut doc, Kind::Rules, "b"), Some(json!({"id": "b"})));
        assert_eq!(remove(&mut doc, Kind::Rules, "b"), None);
        assert_eq!(items(&doc, Kind::Rules).len(), 2);
        let mut empty = json!({});
        apply(&mut empty, Kind::Users, "u", Some(json!({"id": "u"})));
        assert_eq!(items(&empty, Kind::Users).len(), 1);
        apply(&mut empty, Kind::Users, "u", None);
        assert!(items(&empty, Kind::Users).is_empty());
    }

    #[test]
    fn secrets_are_hidden_and_kept_when_left_out() {
        let stored = json!({"id": "wa", "access_token": "t", "app_secret": "s", "api_base": "x"});
        assert_eq!(
            public(Kind::Accounts, &stored),
            json!({"id": "wa", "api_base": "x"})
        );
        let mut replacement = json!({"id": "wa", "app_secret": "new", "api_base": "y"});
        keep_secrets(Kind::Accounts, &stored, &mut replacement);
        assert_eq!(replacement["access_token"], "t");
        assert_eq!(replacement["app_secret"], "new");
        assert_eq!(
            public(Kind::Users, &json!({"id": "u", "token": "x"})),
            json!({"id": "u"})
        );
    }

    #[test]
    fn errors_split_into_the_object_and_the_rest() {
        let errors = vec![
            ConfigError::new("distributions[1].messages.invitation", "bad"),
            ConfigError::new("distributions[1]", "whole"),
            ConfigError::new("distributions[10].survey", "other index"),
            ConfigError::new("rules[0].then[0].survey", "dependent"),
        ];
        let (own, others) = split_errors(errors, Kind::Distributions, 1);
        let own: Vec<_> = own.iter().map(|e| e.path.as_str()).collect();
        let others: Vec<_> = others.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(own, vec!["messages.invitation", ""]);
        assert_eq!(
            others,
            vec!["distributions[10].survey", "rules[0].then[0].survey"]
        );
    }
}
