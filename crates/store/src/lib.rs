//! Durable storage of closeloop: cases, the event outbox, invites, the message outbox,
//! suppressions, account health and pacing, idempotency keys.
//!
//! Every query of the service lives here. Work is claimed with leases written to the
//! database (never in-process locks), so a second backend (PostgreSQL, `FOR UPDATE SKIP
//! LOCKED`) can provide the same semantics across processes. Times are unix milliseconds
//! passed in by the caller: the store never reads the clock, so tests and the demo can
//! run on an accelerated one.

mod accounts;
mod analytics;
mod cases;
mod config_changes;
mod conversation;
mod error;
mod events;
mod idempotency;
mod invites;
mod messages;
mod schedule;
mod suppressions;

use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub use accounts::AccountHealth;
pub use analytics::{AnalyticsQuery, AnalyticsRow, GroupBy, ScoreQuestions};
pub use cases::{CaseChange, CaseUpdate, StoredCase};
pub use config_changes::{ApiToken, ConfigChange};
pub use conversation::{LastInbound, NewConversationMessage};
pub use error::StoreError;
pub use events::{CaseEvent, EventRow, NewEvent};
pub use idempotency::StoredAnswer;
pub use invites::{InviteFilter, InviteRow, NewInvite};
pub use messages::{ClaimedMessage, MessageRow, NewMessage, Outbox, SendResult};
pub use schedule::QueueRules;
pub use suppressions::Suppression;

/// Result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind closeloop.
///
/// SQLite allows one writer at a time; the store keeps a pool of exactly one writing
/// connection (writes queue in-process instead of failing with `SQLITE_BUSY`) and a
/// separate pool of readers that run concurrently thanks to WAL.
#[derive(Clone, Debug)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    queue_rules: Arc<RwLock<QueueRules>>,
}

/// One write transaction. All effects of one unit of work (a case update and its
/// event; an event's trace, invites and messages) commit together or not at all.
pub struct StoreTx {
    tx: Transaction<'static, Sqlite>,
    queue_rules: Arc<RwLock<QueueRules>>,
}

impl Store {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or
    /// `sqlite::memory:`), in WAL mode.
    ///
    /// `synchronous=NORMAL` with WAL makes a committed transaction survive a killed
    /// process (the durability SPEC §4.10 asks for); only an operating-system crash or
    /// power loss can drop the last commits before a checkpoint.
    ///
    /// # Errors
    /// When the URL is not a SQLite URL or the file cannot be opened.
    pub async fn open(url: &str) -> Result<Store> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(false)
            .pragma("cache_size", "-32000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options.read_only(false))
            .await?;
        Ok(Store {
            write,
            read,
            queue_rules: Arc::default(),
        })
    }

    /// Applies the schema migrations that have not run yet.
    ///
    /// # Errors
    /// When a migration fails or the database has migrations this binary does not know.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.write)
            .await?;
        Ok(())
    }

    /// Starts a write transaction.
    ///
    /// # Errors
    /// When the writing connection cannot be had.
    pub async fn begin(&self) -> Result<StoreTx> {
        Ok(StoreTx {
            tx: self.write.begin().await?,
            queue_rules: self.queue_rules.clone(),
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    /// Closes both pools, waiting for running queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

impl StoreTx {
    /// Marks a point inside the transaction to roll back to, so one unit of work in a
    /// batch can fail without undoing the others.
    ///
    /// # Errors
    /// On database failure.
    pub async fn savepoint(&mut self) -> Result<()> {
        sqlx::query("SAVEPOINT unit").execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Keeps the work since the last [`StoreTx::savepoint`].
    ///
    /// # Errors
    /// On database failure.
    pub async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::query("RELEASE SAVEPOINT unit")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Undoes the work since the last [`StoreTx::savepoint`] (the transaction goes on).
    ///
    /// # Errors
    /// On database failure.
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        sqlx::query("ROLLBACK TO SAVEPOINT unit")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("RELEASE SAVEPOINT unit")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Commits every effect of this transaction.
    ///
    /// # Errors
    /// When the commit fails; then nothing of it is kept.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "…".to_string(),
    }
}

/// Rows per multi-row statement: well under SQLite's 32,766 bound variables.
pub(crate) const MAX_ROWS_PER_STATEMENT: usize = 500;

/// `(?, ?, ?), (?, ?, ?)` for `rows` rows of `columns` values. Multi-row statements use
/// SQLite's anonymous `?`: sqlx resolves each numbered `$n` through
/// `sqlite3_bind_parameter_name`, a linear scan, which made a 500-row insert quadratic
/// (half of an import's time). The PostgreSQL backend renders `$n` here instead.
pub(crate) fn values_placeholders(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(StoreError::Encode)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(StoreError::Decode)
}
