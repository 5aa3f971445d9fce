//! Reading the config file: the I/O edge in front of the pure parser in
//! `closeloop_domain::config`. Errors name the file and the field path.

use std::path::Path;

use closeloop_domain::config::{self, Loaded, Rejected};

/// Why a config file could not be used.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The file could not be read.
    Io(String),
    /// The file has errors (each with its path in the file), and the lint warnings of
    /// what could be read.
    Invalid(Rejected),
}

/// Reads and validates the config file at `path`, substituting `${VAR}` from the
/// process environment.
pub(crate) fn load(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Io(format!("{}: cannot read: {e}", path.display())))?;
    load_text(&text)
}

/// Validates config text (environment from the process).
pub(crate) fn load_text(text: &str) -> Result<Loaded, LoadError> {
    let env = |name: &str| std::env::var(name).ok();
    config::check_str(text, &env, time::OffsetDateTime::now_utc()).map_err(LoadError::Invalid)
}

impl LoadError {
    /// Human-readable lines, each prefixed with the file name.
    pub(crate) fn lines(&self, file: &Path) -> Vec<String> {
        match self {
            LoadError::Io(message) => vec![message.clone()],
            LoadError::Invalid(rejected) => rejected
                .errors
                .iter()
                .map(|e| format!("{}: error: {e}", file.display()))
                .collect(),
        }
    }
}
