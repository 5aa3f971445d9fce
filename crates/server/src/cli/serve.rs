//! `closeloop serve`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use closeloop_domain::duration::Duration;
use closeloop_store::WalCheckpoint;

use crate::app::{self, HttpLimits, StartOptions};
use crate::cli::config_file;
use crate::runtime::clock::Clock;
use crate::runtime::secret::KEY_VARIABLE;

/// Runs the service until Ctrl-C or SIGTERM, then shuts down gracefully.
pub(crate) async fn run(
    config: &Path,
    database: &str,
    listen: SocketAddr,
    http: HttpLimits,
    wal_checkpoint: WalCheckpoint,
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
        http,
        wal_checkpoint,
    })
    .await?;
    println!("closeloop serving on {}", running.url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// The HTTP server's connection limits and timeouts.
#[derive(Debug, clap::Args)]
pub(crate) struct HttpArgs {
    /// Connections served at once; more clients wait in the listen backlog until one
    /// closes.
    #[arg(long, env = "CLOSELOOP_MAX_CONNECTIONS", default_value_t = HttpLimits::default().max_connections,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// How long a client may take to send a request's headers (e.g. `10s`).
    #[arg(long, env = "CLOSELOOP_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive)]
    header_read_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests.
    #[arg(long, env = "CLOSELOOP_IDLE_TIMEOUT", default_value = "60s", value_parser = positive)]
    idle_timeout: Duration,
    /// How long a request's body may take to arrive (408 after it).
    #[arg(long, env = "CLOSELOOP_BODY_TIMEOUT", default_value = "60s", value_parser = positive)]
    body_timeout: Duration,
}

impl HttpArgs {
    /// The limits these flags give.
    pub(crate) fn limits(&self) -> HttpLimits {
        HttpLimits {
            max_connections: self.max_connections,
            header_read_timeout: self.header_read_timeout.as_std(),
            idle_timeout: self.idle_timeout.as_std(),
            body_timeout: self.body_timeout.as_std(),
        }
    }
}

/// A duration of at least a second (a zero timeout would close every connection).
fn positive(text: &str) -> Result<Duration, String> {
    let duration: Duration = text.parse().map_err(|e| format!("{e}"))?;
    if duration.as_secs() == 0 {
        return Err("must be at least 1s".to_string());
    }
    Ok(duration)
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
