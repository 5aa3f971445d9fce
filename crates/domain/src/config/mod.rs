//! The YAML configuration (SPEC §3): loading, validation (SPEC §3.3) and lint.
//!
//! Pipeline: `${NAME}` substitution on the raw text ([`env`]) → serde into raw structs that
//! deny unknown fields ([`raw`]) → typed objects with defaults and cross-references checked
//! ([`build`], conditions in [`when`], actions in [`then`]) → lint warnings ([`lint`]).
//! Every problem carries its path in the file, and all of them are reported at once.

mod build;
mod env;
mod error;
pub mod lint;
mod model;
mod raw;
mod scope;
mod then;
mod when;

#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use model::*;
pub use scope::CHANNEL_WHATSAPP;

use time::OffsetDateTime;

use error::{serde_path, Problems};
use scope::Scope;

use crate::rule::Rule;

/// A loaded config and its lint warnings.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// Lint warnings (the config is usable).
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
    let text = env::substitute(yaml, env)?;
    let raw: raw::RawConfig = if text.trim().is_empty() {
        raw::RawConfig::default()
    } else {
        let de = serde_yaml_ng::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| vec![shape_error(&e)])?
    };
    let mut problems = Problems::default();
    let config = build::build(raw, now, &mut problems);
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    let warnings = lint::lint_rules(&config.rules);
    Ok(Loaded { config, warnings })
}

/// A serde error as a config error. serde_yaml_ng prefixes its message with its own (shorter)
/// path; drop that, since the path is reported separately.
fn shape_error<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> ConfigError {
    let path = serde_path(e.path());
    let message = e.inner().to_string();
    let message = match message.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => rest.to_owned(),
        _ => message,
    };
    ConfigError::new(path, message)
}

/// Parses and validates one rule given as JSON (the config form), for rules created through
/// the API: `author` is the caller, who must own or hold `edit_distribution` on every survey
/// the rule sends (admins may do anything). Error paths are relative to the rule
/// (`then[0].trigger_survey_invitation.distribution`); the warnings are the rule's lint.
///
/// # Errors
/// Every problem found in the rule.
pub fn parse_rule(
    value: &serde_json::Value,
    author: &str,
    config: &Config,
    now: OffsetDateTime,
) -> Result<(Rule, Vec<ConfigError>), Vec<ConfigError>> {
    let raw: raw::RawRule =
        serde_path_to_error::deserialize(value).map_err(|e| vec![shape_error(&e)])?;
    let scope = Scope {
        surveys: &config.surveys,
        distributions: &config.distributions,
        users: &config.users,
        declared_surveys: config.surveys.iter().map(|s| s.id.clone()).collect(),
        declared_distributions: config.distributions.iter().map(|d| d.id.clone()).collect(),
        author: Some(author),
        now,
    };
    let mut problems = Problems::default();
    let rule = build::rule(&raw, "", &scope, &mut problems);
    match rule {
        Some(rule) if problems.0.is_empty() => {
            let warnings = lint::lint_rule(&rule, "");
            Ok((rule, warnings))
        }
        _ => Err(problems.0),
    }
}
