//! Deserializers that accept the shapes Meta has actually been seen to send.

use serde::{Deserialize, Deserializer};

/// Reads an optional string that may also arrive as a JSON number. Meta documents webhook
/// timestamps as strings, but one lenient branch costs less than a dropped webhook.
pub(crate) fn string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Text(String),
        Int(i64),
        Float(f64),
    }
    Ok(match Option::<Loose>::deserialize(deserializer)? {
        None => None,
        Some(Loose::Text(s)) => Some(s),
        Some(Loose::Int(n)) => Some(n.to_string()),
        Some(Loose::Float(f)) => Some(f.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "super::string_or_number")]
        t: Option<String>,
    }

    fn t(json: &str) -> Option<String> {
        serde_json::from_str::<Probe>(json).unwrap().t
    }

    #[test]
    fn accepts_string_number_null_and_absent() {
        assert_eq!(t(r#"{"t":"1764590400"}"#).as_deref(), Some("1764590400"));
        assert_eq!(t(r#"{"t":1764590400}"#).as_deref(), Some("1764590400"));
        assert_eq!(t(r#"{"t":null}"#), None);
        assert_eq!(t(r#"{}"#), None);
    }
}
