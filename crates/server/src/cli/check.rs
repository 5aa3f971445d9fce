//! `closeloop check FILE`.

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::config_file::{self, LoadError};
use crate::cli::out;

/// Prints lint warnings (stdout) and errors (stderr, exit 1), each with its path in the
/// file; the warnings are shown with the errors too (SPEC §3.3).
pub(crate) fn run(file: &Path) -> ExitCode {
    let name = file.display();
    let mut report = String::new();
    let code = match config_file::load(file) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                let _ = writeln!(report, "{name}: warning: {warning}");
            }
            let c = &loaded.config;
            let _ = writeln!(
                report,
                "{name}: ok: {} accounts, {} surveys, {} distributions, {} rules, {} warnings",
                c.accounts.len(),
                c.surveys.len(),
                c.distributions.len(),
                c.rules.len(),
                loaded.warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let LoadError::Invalid(rejected) = &e {
                for warning in &rejected.warnings {
                    let _ = writeln!(report, "{name}: warning: {warning}");
                }
            }
            for line in e.lines(file) {
                eprintln!("{line}");
            }
            ExitCode::FAILURE
        }
    };
    match out::print(&report) {
        Ok(()) => code,
        Err(e) => {
            eprintln!("closeloop check: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}
