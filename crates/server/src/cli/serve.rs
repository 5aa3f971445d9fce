//! `closeloop serve`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::app::{self, StartOptions};
use crate::cli::config_file;
use crate::runtime::clock::Clock;
use crate::runtime::secret::KEY_VARIABLE;

/// Runs the service until Ctrl-C or SIGTERM, then shuts down gracefully.
pub(crate) async fn run(
    config: &Path,
    database: &str,
    listen: SocketAddr,
) -> anyhow::Result<ExitCode> {
    let secret_key = super::secret_key_from_env(KEY_VARIABLE)?;
    let loaded = match config_file::load(config) {
        Ok(l) => l,
        Err(e) => {
            for line in e.lines(config) {
                eprintln!("{line}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    for warning in &loaded.warnings {
        tracing::warn!(path = %warning.path, "{}", warning.message);
    }
    let running = app::start(StartOptions {
        document: loaded.document,
        database_url: database.to_string(),
        listen,
        clock: Clock::real(),
        secret_key,
    })
    .await?;
    println!("closeloop serving on {}", running.url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
