//! The YAML configuration (SPEC §3): loading, validation (SPEC §3.3) and lint.
//!
//! Pipeline: `${NAME}` substitution on the raw text ([`env`]) → serde into raw structs that
//! deny unknown fields ([`raw`]) → typed objects with defaults and cross-references checked
//! ([`build`], conditions in [`when`], actions in [`then`]) → lint warnings ([`lint`]).
//! Every problem carries its path in the file, and all of them are reported at once.

mod build;
pub mod document;
mod env;
mod error;
pub mod lint;
mod model;
mod raw;
mod scope;
mod then;
mod when;
mod yaml;

#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use model::*;
pub use scope::CHANNEL_WHATSAPP;
pub use yaml::{MAX_ALIAS_REPLAY, MAX_DEPTH, MAX_VALUES};

use std::collections::BTreeSet;

use time::OffsetDateTime;

use error::{serde_path, Problems};

/// A loaded config and its lint warnings.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// Lint warnings (the config is usable).
    pub warnings: Vec<ConfigError>,
    /// The config as a JSON document (after `${NAME}` substitution): what the management
    /// API edits (see [`document`]).
    pub document: serde_json::Value,
}

/// A config that cannot be used: its errors, and the lint warnings of the part that could be
/// read (SPEC §3.3: lints are shown together with errors).
#[derive(Clone, Debug)]
pub struct Rejected {
    /// Every problem found, each with its path.
    pub errors: Vec<ConfigError>,
    /// Lint warnings of the objects that were read.
    pub warnings: Vec<ConfigError>,
}

/// Loads a config from YAML text. `env` resolves `${NAME}`; `now` decides whether
/// distributions named by rules have expired.
///
/// # Errors
/// Every problem found, each with its path: a missing variable, a YAML/shape error (unknown
/// key, wrong type — these stop at the first), or all validation errors.
pub fn load_str(
    yaml: &str,
    env: &dyn Fn(&str) -> Option<String>,
    now: OffsetDateTime,
) -> Result<Loaded, Vec<ConfigError>> {
    check_str(yaml, env, now).map_err(|r| r.errors)
}

/// [`load_str`], with the lint warnings of what could be read when the config has errors.
///
/// # Errors
/// As [`load_str`]; an empty text (or one holding only comments) is an error too.
pub fn check_str(
    yaml: &str,
    env: &dyn Fn(&str) -> Option<String>,
    now: OffsetDateTime,
) -> Result<Loaded, Rejected> {
    let rejected = |errors| Rejected {
        errors,
        warnings: Vec::new(),
    };
    let text = env::substitute(yaml, env).map_err(rejected)?;
    let document: serde_json::Value = yaml::from_str(&text).map_err(|e| rejected(vec![e]))?;
    if document.is_null() {
        return Err(rejected(vec![ConfigError::new(
            "",
            "the config is empty: it holds no accounts, surveys, distributions or rules",
        )]));
    }
    let raw: raw::RawConfig = yaml::from_str(&text).map_err(|e| rejected(vec![e]))?;
    finish(raw, document, now, &Validation::File)
}

/// One object of a config written as YAML (the console's rule editor), read with the
/// config file's parser into the document's JSON form.
///
/// # Errors
/// The parser's message (with the line and column) when the text is not YAML, or a
/// sentence when it is not a mapping.
pub fn object_from_yaml(text: &str) -> Result<serde_json::Value, ConfigError> {
    let value: serde_json::Value = yaml::from_str(text).map_err(|e| {
        let at = if e.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", e.path)
        };
        ConfigError::new("", format!("not valid YAML: {at}{}", e.message))
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ConfigError::new("", "expected a mapping of keys to values"))
    }
}

/// One object of the document written as the config file's YAML.
pub fn object_to_yaml(object: &serde_json::Value) -> String {
    yaml::to_string(object)
}

/// How the rules of a config are checked (see [`load_document`]).
#[derive(Clone, Copy, Debug)]
pub enum Validation<'a> {
    /// A config file: every rule is checked at every load, as its `author` or the file's
    /// `owner`, and none may send through an expired distribution.
    File,
    /// The live config (the file with the changes made through the API): only
    /// `checked_rule`, the rule being written, is checked for its author's permission and
    /// for sending through a distribution that is expired, paused or failed (its account in
    /// `failed_accounts`); the other rules were checked when they were written.
    Live {
        /// The rule being written, if the write is a rule.
        checked_rule: Option<&'a str>,
        /// Accounts the provider stopped.
        failed_accounts: &'a BTreeSet<String>,
    },
}

/// Loads a config document already in JSON form (the file after `${NAME}` substitution,
/// with the API's changes applied; see [`document`]).
///
/// # Errors
/// Every problem found, each with its path in the document.
pub fn load_document(
    doc: &serde_json::Value,
    now: OffsetDateTime,
    validation: &Validation<'_>,
) -> Result<Loaded, Vec<ConfigError>> {
    let raw: raw::RawConfig =
        serde_path_to_error::deserialize(doc).map_err(|e| vec![shape_error(&e)])?;
    finish(raw, doc.clone(), now, validation).map_err(|r| r.errors)
}

fn finish(
    raw: raw::RawConfig,
    document: serde_json::Value,
    now: OffsetDateTime,
    validation: &Validation<'_>,
) -> Result<Loaded, Rejected> {
    let mut problems = Problems::default();
    let config = build::build(raw, now, validation, &mut problems);
    let warnings = lint::lint_config(&config);
    if !problems.0.is_empty() {
        return Err(Rejected {
            errors: problems.0,
            warnings,
        });
    }
    Ok(Loaded {
        config,
        warnings,
        document,
    })
}

/// A serde error as a config error. A message that starts with its own (shorter) path
/// loses it, since the path is reported separately.
fn shape_error<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> ConfigError {
    let path = serde_path(e.path());
    let message = e.inner().to_string();
    let message = match message.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => rest.to_owned(),
        _ => message,
    };
    ConfigError::new(path, message)
}
