//! The command line (SPEC §2).

mod check;
mod config_file;
mod demo;
mod explain;
mod import;
mod out;
mod serve;
mod simulate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::app::SecretKey;
use crate::runtime::secret::{self, KEY_VARIABLE, NEW_KEY_VARIABLE};

/// closeloop: customer-feedback surveys over WhatsApp when support cases change.
#[derive(Debug, Parser)]
#[command(name = "closeloop", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole loop on a fresh SQLite file with the sandbox provider.
    Demo {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The demo config.
        #[arg(long, default_value = "examples/closeloop.yaml")]
        config: PathBuf,
        /// Exit after printing the summary instead of serving until Ctrl-C.
        #[arg(long)]
        no_serve: bool,
        /// How many times faster than real time the demo's clock runs.
        #[arg(long, default_value_t = demo::DEMO_SPEED, value_parser = demo::parse_speed)]
        speed: f64,
        /// Serve for this long (e.g. `10m`) after the summary, then exit.
        #[arg(long, conflicts_with = "no_serve")]
        stop_after: Option<closeloop_domain::duration::Duration>,
        /// Keep the accelerated clock after the summary (to watch days pass; the survey
        /// links then expire at that speed too) instead of returning to real time.
        #[arg(long, conflicts_with = "no_serve")]
        keep_speed: bool,
    },
    /// Run the service: HTTP API, webhooks, survey pages, workers.
    Serve {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// Database URL.
        #[arg(
            long,
            env = "CLOSELOOP_DATABASE",
            default_value = "sqlite://closeloop.db"
        )]
        database: String,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        http: serve::HttpArgs,
        /// Pages of SQLite write-ahead log kept before the log is restarted (which holds
        /// the writer for a moment): fewer restarts, at the cost of a larger `-wal` file
        /// (4 KiB a page). PostgreSQL ignores it.
        #[arg(long, env = "CLOSELOOP_WAL_CHECKPOINT_PAGES", default_value_t = closeloop_store::WalCheckpoint::LARGE.pages(),
              value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
        wal_checkpoint_pages: u32,
    },
    /// Validate a config file: errors (exit 1) and lint warnings (exit 0).
    Check {
        /// The config file.
        file: PathBuf,
    },
    /// Dry run: which rules would fire for a case and what would be sent; nothing is
    /// stored or sent.
    Simulate {
        /// The config file.
        file: PathBuf,
        /// The case (JSON, as `PUT /api/v1/cases/{id}` takes it).
        #[arg(long = "case")]
        case: PathBuf,
        /// The case before the update (then the event is `case_updated`).
        #[arg(long)]
        before: Option<PathBuf>,
    },
    /// Bulk case updates from an NDJSON file, with a progress bar and a summary.
    Import {
        /// The NDJSON file: one case per line.
        file: PathBuf,
        /// The server to send to.
        #[arg(
            long,
            env = "CLOSELOOP_SERVER",
            default_value = "http://127.0.0.1:8080"
        )]
        server: String,
        /// API token, when the server has users.
        #[arg(long, env = "CLOSELOOP_TOKEN")]
        token: Option<String>,
        /// Lines per request.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        batch: u32,
    },
    /// Show the trace of a case.
    Explain {
        /// The case id.
        case_id: String,
        /// The server to ask.
        #[arg(
            long,
            env = "CLOSELOOP_SERVER",
            default_value = "http://127.0.0.1:8080"
        )]
        server: String,
        /// API token, when the server has users.
        #[arg(long, env = "CLOSELOOP_TOKEN")]
        token: Option<String>,
    },
    /// Seal every secret stored through the API with a new key: the old key from
    /// CLOSELOOP_SECRET_KEY, the new one from CLOSELOOP_NEW_SECRET_KEY (64 hex characters
    /// each). One transaction; then the database is compacted so no old ciphertext stays
    /// in its files. Stop `closeloop serve` first, and start it again with the new key.
    RotateKey {
        /// Database URL.
        #[arg(
            long,
            env = "CLOSELOOP_DATABASE",
            default_value = "sqlite://closeloop.db"
        )]
        database: String,
    },
    /// Apply schema migrations.
    Migrate {
        /// Database URL.
        #[arg(
            long,
            env = "CLOSELOOP_DATABASE",
            default_value = "sqlite://closeloop.db"
        )]
        database: String,
    },
}

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Demo { .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("closeloop: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo {
                listen,
                config,
                no_serve,
                speed,
                stop_after,
                keep_speed,
            } => {
                let serving = match (no_serve, stop_after) {
                    (true, _) => demo::Serving::No,
                    (false, Some(d)) => demo::Serving::For(d.as_std()),
                    (false, None) => demo::Serving::UntilCtrlC,
                };
                let after = if keep_speed {
                    demo::AfterSummary::KeepSpeed
                } else {
                    demo::AfterSummary::RealTime
                };
                demo::run(listen, &config, speed, serving, after).await
            }
            Command::Serve {
                config,
                database,
                listen,
                http,
                wal_checkpoint_pages,
            } => {
                let checkpoint = closeloop_store::WalCheckpoint::pages_of(wal_checkpoint_pages);
                serve::run(&config, &database, listen, http.limits(), checkpoint).await
            }
            Command::Check { file } => Ok(check::run(&file)),
            Command::Simulate { file, case, before } => {
                Ok(simulate::run(&file, &case, before.as_deref()))
            }
            Command::Import {
                file,
                server,
                token,
                batch,
            } => {
                let target = import::Target {
                    server: &server,
                    token: token.as_deref(),
                    batch: batch as usize,
                };
                import::run(&file, &target).await
            }
            Command::Explain {
                case_id,
                server,
                token,
            } => explain::run(&case_id, &server, token.as_deref()).await,
            Command::Migrate { database } => migrate(&database).await,
            Command::RotateKey { database } => rotate_key(&database).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("closeloop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database: &str) -> anyhow::Result<ExitCode> {
    let store = closeloop_store::Store::open(database).await?;
    store.migrate().await?;
    store.close().await;
    out::print("migrations applied\n")?;
    Ok(ExitCode::SUCCESS)
}

/// The secret key in the environment variable `name`: none when it is unset or empty.
///
/// # Errors
/// When it is set and is not 64 hex characters (the message names the variable, never
/// the value).
pub(crate) fn secret_key_from_env(name: &str) -> anyhow::Result<Option<SecretKey>> {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text
            .parse()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{name}: {e}")),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            anyhow::bail!("{name}: a secret key is 64 hex characters; this one is not text")
        }
    }
}

async fn rotate_key(database: &str) -> anyhow::Result<ExitCode> {
    let old = secret_key_from_env(KEY_VARIABLE)?;
    let new = secret_key_from_env(NEW_KEY_VARIABLE)?
        .with_context(|| format!("{NEW_KEY_VARIABLE} is not set: set it to the new key (64 hex characters, e.g. from `openssl rand -hex 32`)"))?;
    let store = closeloop_store::Store::open(database).await?;
    store.migrate().await?;
    let rotated = secret::rotate(&store, old.as_ref(), &new).await;
    store.close().await;
    let sealed = rotated?;
    println!("{sealed} secret(s) sealed with the new key; start closeloop serve with {KEY_VARIABLE} set to the value of {NEW_KEY_VARIABLE}");
    Ok(ExitCode::SUCCESS)
}

/// Structured logs to stderr; `RUST_LOG` overrides the level. The demo is quieter so its
/// table stays readable.
fn init_logging(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
