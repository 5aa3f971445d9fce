//! The one place YAML is read and written: `serde-saphyr` (safe Rust, no `unsafe-libyaml`)
//! with bounds, so any file — a config, or an object pasted in the console — is judged in
//! time and memory proportional to its size, whatever it holds.
//!
//! The bounds are far above any real config (the demo's nests 9 deep and holds about 300
//! values) and low enough that 100,000 nesting levels or a "billion laughs" of aliases are
//! refused at once instead of being expanded.

use serde::de::DeserializeOwned;

use super::error::{serde_path, ConfigError};

/// Deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 64;
/// Most values (mappings, sequences and scalars) in one text.
pub const MAX_VALUES: usize = 250_000;
/// Most events aliases may replay in one text: what `*anchor` copies counts, so a few
/// kilobytes of nested aliases cannot stand for gigabytes of values.
pub const MAX_ALIAS_REPLAY: usize = 100_000;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_VALUES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_REPLAY,
        },
        // One line per problem: `check` prefixes each with the file's name.
        with_snippet: false,
    }
}

/// Reads `text` as a `T`, naming the path of the failing field and the line of the problem.
///
/// # Errors
/// A syntax error, a bound exceeded, or a value of the wrong shape; `path` is where in the
/// document (empty for the whole text, and for a bound: the path to it says nothing useful).
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let mut path = String::new();
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = serde_path(e.path());
            e.into_inner()
        })
    })
    .map_err(|e| match bound(&e) {
        Some(bound) => ConfigError::new("", with_line(&e, bound)),
        None => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default().trim();
            ConfigError::new(path, with_line(&e, first.to_owned()))
        }
    })
}

/// The bound a text exceeded, said for its author, if that is the error.
fn bound(e: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach;
    match e {
        serde_saphyr::Error::WithSnippet { error, .. }
        | serde_saphyr::Error::AliasError { error, .. } => bound(error),
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => Some(format!("nested deeper than {MAX_DEPTH} levels")),
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Nodes { .. },
            ..
        } => Some(format!("more than {MAX_VALUES} values")),
        serde_saphyr::Error::AliasReplayLimitExceeded { .. } => Some(format!(
            "aliases (*name) repeat more than {MAX_ALIAS_REPLAY} values"
        )),
        _ => None,
    }
}

/// `message at line L, column C` unless it already says where.
fn with_line(e: &serde_saphyr::Error, message: String) -> String {
    match e.location() {
        Some(at) if at.line() > 0 && !message.contains(" line ") => {
            format!("{message} at line {}, column {}", at.line(), at.column())
        }
        _ => message,
    }
}

/// `value` as YAML text.
pub(crate) fn to_string<T: serde::Serialize>(value: &T) -> String {
    serde_saphyr::to_string(value).unwrap_or_default()
}
