//! `closeloop simulate FILE --case CASE.json [--before OLD.json]`: a dry run of the rules.
//!
//! Loads the config and prints `usecase::simulate`'s report (the console's rule "try"
//! shows the same): the rules evaluated against the case exactly as the event worker does
//! (`closeloop_domain::engine::evaluate`), every rule's outcome with its
//! conditions, the actions it chose and, for invitations, the message as the customer
//! would read it. No database, no network: nothing is stored or sent. What needs the
//! database (suppression list, quarantine, once-per-case, account health, the case's
//! conversation and invites) is not known here and is said so.

use std::path::Path;
use std::process::ExitCode;

use closeloop_domain::case::Case;
use time::OffsetDateTime;

use crate::cli::config_file::{self, LoadError};
use crate::cli::out;
use crate::usecase::simulate::simulate;

/// Runs the simulation; exit 1 (with a message naming the file) on bad input.
pub(crate) fn run(config_path: &Path, case_path: &Path, before_path: Option<&Path>) -> ExitCode {
    let config = match config_file::load(config_path) {
        Ok(loaded) => loaded.config,
        Err(e @ (LoadError::Io(_) | LoadError::Invalid(_))) => {
            for line in e.lines(config_path) {
                eprintln!("{line}");
            }
            return ExitCode::FAILURE;
        }
    };
    let after = match read_case(case_path) {
        Ok(case) => case,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let before = match before_path.map(read_case).transpose() {
        Ok(before) => before,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(before) = &before {
        if before.id != after.id {
            eprintln!(
                "{}: id: the case before is {:?} but the case is {:?}",
                before_path.map_or_else(String::new, |p| p.display().to_string()),
                before.id,
                after.id
            );
            return ExitCode::FAILURE;
        }
    }
    let report = simulate(&config, before.as_ref(), &after, OffsetDateTime::now_utc());
    match out::print(&report.to_string()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("closeloop simulate: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a case file; the error names the file and the failing field's path.
fn read_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let case: Case = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if field.is_empty() || field == "." {
            format!("{}: invalid case: {inner}", path.display())
        } else {
            format!("{}: {field}: {inner}", path.display())
        }
    })?;
    // The same checks the API makes (a case is accepted whatever its phone fields hold).
    if case.id.trim().is_empty() {
        return Err(format!("{}: id: must not be empty", path.display()));
    }
    if case.status.trim().is_empty() {
        return Err(format!("{}: status: must not be empty", path.display()));
    }
    Ok(case)
}
