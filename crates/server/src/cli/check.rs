//! `closeloop check FILE`.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::config_file::{self, LoadError};

/// Prints errors (exit 1) or lint warnings (exit 0), each with its path in the file.
pub(crate) fn run(file: &Path) -> ExitCode {
    match config_file::load(file) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                println!("{}: warning: {warning}", file.display());
            }
            let c = &loaded.config;
            println!(
                "{}: ok: {} accounts, {} surveys, {} distributions, {} rules, {} warnings",
                file.display(),
                c.accounts.len(),
                c.surveys.len(),
                c.distributions.len(),
                c.rules.len(),
                loaded.warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e @ (LoadError::Io(_) | LoadError::Invalid(_))) => {
            for line in e.lines(file) {
                eprintln!("{line}");
            }
            ExitCode::FAILURE
        }
    }
}
