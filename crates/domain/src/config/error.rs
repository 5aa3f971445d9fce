//! Config errors and warnings, each tied to a path in the file (`rules[2].then[0].distribution`).

use std::fmt;

/// One problem in a config, at a path like `distributions[0].messages.invitation.body_params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where in the file; empty for problems about the whole text.
    pub path: String,
    /// What is wrong, as a sentence for a person.
    pub message: String,
}

impl ConfigError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// `base.key`, or `key` at the root.
pub(crate) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// `base[i]`.
pub(crate) fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// The `a[0].b` form of a serde path (the root is the empty string).
pub(crate) fn serde_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index: i } => out = index(&out, *i),
            Segment::Map { key } => out = join(&out, key),
            Segment::Enum { variant } => out = join(&out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

/// Collects problems so validation reports all of them, not just the first.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<ConfigError>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError::new(path, message));
    }

    /// Reports a missing required field and passes the value through.
    pub fn required<'v, T>(
        &mut self,
        value: &'v Option<T>,
        base: &str,
        key: &str,
    ) -> Option<&'v T> {
        if value.is_none() {
            self.add(join(base, key), "missing required field");
        }
        value.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_paths() {
        assert_eq!(ConfigError::new("a[0].b", "bad").to_string(), "a[0].b: bad");
        assert_eq!(ConfigError::new("", "bad").to_string(), "bad");
        assert_eq!(join("", "rules"), "rules");
        assert_eq!(join(&index("rules", 2), "then"), "rules[2].then");
    }
}
