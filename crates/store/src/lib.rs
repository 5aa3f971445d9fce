//! Durable storage of closeloop: cases, the event outbox, invites, the message outbox,
//! suppressions, account health and pacing, idempotency keys.
//!
//! Every query of the service lives here, for two backends behind one [`Store`]: SQLite
//! (embedded, one process) and PostgreSQL (several processes on one database). Each query
//! runs on the backend's own sqlx driver; SQL that is the same on both is written once,
//! and the few statements that differ (claims with `FOR UPDATE SKIP LOCKED`, `GREATEST`,
//! JSON and date functions, placeholders of multi-row statements) are written per backend
//! side by side. Work is claimed with leases written to the database (never in-process
//! locks), so the semantics hold across processes. Times are unix milliseconds passed in
//! by the caller: the store never reads the clock, so tests and the demo can run on an
//! accelerated one.

/// Runs `$body` once per backend with `$c` bound to the write transaction's connection
/// (and `$db` to the [`Backend`], for the statements that differ). On SQLite the body's
/// `sqlx::query` is [`lite::query`]: the statements run in place on the held writer.
macro_rules! on_tx {
    ($tx:expr, $c:ident, $db:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::Conn::Sqlite(t) => {
                #[allow(unused_imports)]
                use $crate::lite as sqlx;
                let $c: &mut $crate::lite::Lite = &mut t.0;
                let $db = $crate::Backend::Sqlite;
                $body
            }
            $crate::Conn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut **t;
                let $db = $crate::Backend::Postgres;
                $body
            }
        }
    };
    ($tx:expr, $c:ident => $body:expr) => {
        on_tx!($tx, $c, _db => $body)
    };
}

/// Runs `$body` once per backend with `$c` bound to a pool of readers (SQLite's, which
/// run concurrently thanks to WAL, or PostgreSQL's one pool).
macro_rules! on_read {
    ($store:expr, $c:ident, $db:ident => $body:expr) => {
        match &$store.pools {
            $crate::Pools::Sqlite { read, .. } => {
                let $c: &sqlx::SqlitePool = read;
                let $db = $crate::Backend::Sqlite;
                $body
            }
            $crate::Pools::Postgres(pool) => {
                let $c: &sqlx::PgPool = pool;
                let $db = $crate::Backend::Postgres;
                $body
            }
        }
    };
    ($store:expr, $c:ident => $body:expr) => {
        on_read!($store, $c, _db => $body)
    };
}

/// Runs `$body`, a write of one statement, once per backend: on SQLite with `$c` bound to
/// the writer (held for the statement, which commits on its own), on PostgreSQL to its
/// pool.
macro_rules! on_write {
    ($store:expr, $c:ident, $db:ident => $body:expr) => {
        match &$store.pools {
            $crate::Pools::Sqlite { writer, .. } => {
                #[allow(unused_imports)]
                use $crate::lite as sqlx;
                let mut held = writer.take().await;
                let $c: &mut $crate::lite::Lite = &mut held;
                let $db = $crate::Backend::Sqlite;
                $body
            }
            $crate::Pools::Postgres(pool) => {
                let $c: &sqlx::PgPool = pool;
                let $db = $crate::Backend::Postgres;
                $body
            }
        }
    };
    ($store:expr, $c:ident => $body:expr) => {
        on_write!($store, $c, _db => $body)
    };
}

mod accounts;
mod analytics;
mod cases;
mod checkpointer;
mod config_changes;
mod conversation;
mod error;
mod events;
mod fields;
mod idempotency;
mod invites;
mod lite;
mod messages;
mod retention;
mod schedule;
mod sessions;
mod suppressions;
mod trace_codec;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, Postgres, SqlitePool, Transaction};

pub use accounts::AccountHealth;
pub use analytics::{AnalyticsQuery, AnalyticsRow, GroupBy, ScoreQuestions};
pub use cases::{CaseChange, CaseUpdate, StoredCase};
pub use config_changes::{ApiToken, ConfigChange};
pub use conversation::{LastInbound, NewConversationMessage};
pub use error::StoreError;
pub use events::{CaseEvent, EventRow, NewEvent};
pub(crate) use fields::Fields;
pub use idempotency::StoredAnswer;
pub use invites::{InviteFilter, InviteRow, NewInvite};
pub use messages::{ClaimedMessage, MessageRow, NewMessage, Outbox, SendResult, SUPPRESSED_TITLE};
pub use schedule::{CaseSchedule, QueueRule, QueueRules};
pub use sessions::ConsoleSession;
pub use suppressions::Suppression;

/// Result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file: the embedded default, one process.
    Sqlite,
    /// A PostgreSQL database that several processes share.
    Postgres,
}

impl Backend {
    /// The statement for this backend, of two that differ.
    pub(crate) fn pick<'a>(self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// The placeholders of a multi-row statement: `rows` rows of `columns` values, the
    /// first numbered `first` on PostgreSQL (`($3, $4), ($5, $6)`). SQLite takes its
    /// anonymous `?`: sqlx resolves each numbered `$n` there through
    /// `sqlite3_bind_parameter_name`, a linear scan, which made a 500-row insert
    /// quadratic (half of an import's time).
    pub(crate) fn placeholders(self, rows: usize, columns: usize, first: usize) -> String {
        match self {
            Backend::Sqlite => {
                let row = format!("({})", vec!["?"; columns].join(", "));
                vec![row; rows].join(", ")
            }
            Backend::Postgres => (0..rows)
                .map(|r| {
                    let row: Vec<String> = (0..columns)
                        .map(|c| format!("${}", first + r * columns + c))
                        .collect();
                    format!("({})", row.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The connection pools of a backend.
#[derive(Clone, Debug)]
pub(crate) enum Pools {
    /// SQLite allows one writer at a time: one writing connection that units of work take
    /// in turn (writes queue in-process instead of failing with `SQLITE_BUSY`), and a pool
    /// of readers that run concurrently thanks to WAL. `options` opens the connection the
    /// migrations run on.
    Sqlite {
        writer: lite::Writer,
        read: SqlitePool,
        options: Box<SqliteConnectOptions>,
        checkpointer: Arc<checkpointer::Checkpointer>,
    },
    /// PostgreSQL: one pool; concurrent writers are kept apart by row locks, `SKIP
    /// LOCKED` claims and per-case advisory locks.
    Postgres(PgPool),
}

/// The database behind closeloop.
#[derive(Clone, Debug)]
pub struct Store {
    pools: Pools,
}

/// The connection of a write transaction.
pub(crate) enum Conn {
    Sqlite(LiteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// SQLite's writer, held with a transaction open on it: one dropped before its commit
/// (an error, a cancelled request) is rolled back, as sqlx's transactions are.
pub(crate) struct LiteTx(lite::Held);

impl Drop for LiteTx {
    fn drop(&mut self) {
        if self.0.in_transaction() {
            // Nothing to report to: the unit of work that held it has already failed.
            let _ = self.0.batch("ROLLBACK");
        }
    }
}

/// One write transaction. All effects of one unit of work (a case update and its
/// event; an event's trace, invites and messages) commit together or not at all.
pub struct StoreTx {
    conn: Conn,
}

/// Connections to a PostgreSQL database per process: enough for the HTTP handlers'
/// transactions, the group-commit writer and the workers at once.
const POSTGRES_CONNECTIONS: u32 = 16;

/// How often `compact` tries to empty SQLite's log, 50 ms apart, before it reports it busy.
const COMPACT_TRIES: u32 = 40;

/// SQLite's reading connections, and the page cache of each (KiB, as SQLite's negative
/// `cache_size`): reads are small lookups, and four 32 MiB caches beside the writer's made
/// most of the process's memory under load (peak RSS 112 MiB against 80 MiB with these).
const READERS: u32 = 4;
const READER_CACHE: &str = "-4000";

/// How many pages SQLite's write-ahead log may hold before it is restarted from its
/// beginning. The log is copied into the database in the background all the time (see
/// `checkpointer`); a restart holds the writer for a moment, so a larger log takes fewer
/// of them and a smaller one keeps the files small. Should a burst of writes outrun the
/// background copy, a commit that leaves twice as many pages copies the log itself, as
/// SQLite's automatic checkpoint does: the log never grows much past that. PostgreSQL
/// ignores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalCheckpoint(u32);

impl WalCheckpoint {
    /// 500 pages (about 2 MB), and never much past SQLite's own 1,000 (about 4 MB): the
    /// smallest files.
    pub const SMALL: WalCheckpoint = WalCheckpoint(500);
    /// 10,000 pages (about 40 MB of log): what `serve` uses, for fewer restarts.
    pub const LARGE: WalCheckpoint = WalCheckpoint(10_000);

    /// A log of `pages` pages (at least 100).
    pub fn pages_of(pages: u32) -> WalCheckpoint {
        WalCheckpoint(pages.max(100))
    }

    /// The pages.
    pub fn pages(self) -> u32 {
        self.0
    }

    /// The pages past which a commit copies the log itself.
    fn backstop(self) -> u32 {
        self.0.saturating_mul(2)
    }
}

impl Default for WalCheckpoint {
    fn default() -> Self {
        WalCheckpoint::SMALL
    }
}

impl Store {
    /// Opens the database at `url`: `sqlite://path` (created if missing, in WAL mode) or
    /// `postgres://user@host/db` (which must exist). `sqlite::memory:` is refused: the
    /// writer and the readers are separate connections, and each would see a database of
    /// its own.
    ///
    /// SQLite: `synchronous=NORMAL` with WAL makes a committed transaction survive a
    /// killed process (the durability SPEC §4.10 asks for); only an operating-system
    /// crash or power loss can drop the last commits before a checkpoint.
    ///
    /// # Errors
    /// When the URL names no supported backend or the database cannot be opened.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, WalCheckpoint::default()).await
    }

    /// [`Store::open`], with SQLite's log copied into the database every `checkpoint`.
    ///
    /// # Errors
    /// When the URL names no supported backend or the database cannot be opened.
    pub async fn open_with(url: &str, checkpoint: WalCheckpoint) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Store::open_postgres(url).await;
        }
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
        let path = options.get_filename();
        if path.as_os_str() == ":memory:" {
            // Its readers would each see a database of their own.
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        }
        let writer = lite::Writer::open(path, checkpoint.backstop())?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("cache_size", READER_CACHE))
            .await?;
        let checkpointer =
            checkpointer::Checkpointer::start(path, writer.clone(), checkpoint.pages())?;
        Ok(Store {
            pools: Pools::Sqlite {
                writer,
                read,
                options: Box::new(options),
                checkpointer: Arc::new(checkpointer),
            },
        })
    }

    async fn open_postgres(url: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Store {
            pools: Pools::Postgres(pool),
        })
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Takes back, at start, the leases a previous process left on events and messages.
    /// One SQLite file is served by one process, so every lease found at start belongs to
    /// one that died: its work is due again now instead of when the leases expire (a
    /// message in flight at the death may go twice, the window SPEC §4.10 allows). On
    /// PostgreSQL other processes may hold live leases, so they expire as before and this
    /// does nothing. Returns how many were taken back.
    ///
    /// # Errors
    /// On database failure.
    pub async fn take_back_leases(&self) -> Result<u64> {
        if self.backend() != Backend::Sqlite {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let taken = on_tx!(tx, c => {
            let events = sqlx::query(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL \
                 WHERE done_at IS NULL AND lease_owner IS NOT NULL",
            )
            .execute(&mut *c)
            .await?
            .rows_affected();
            let messages = sqlx::query(
                "UPDATE messages SET outbox = 'queued', lease_owner = NULL, lease_until = NULL \
                 WHERE outbox = 'sending'",
            )
            .execute(c)
            .await?
            .rows_affected();
            events + messages
        });
        tx.commit().await?;
        Ok(taken)
    }

    /// Applies the schema migrations that have not run yet (each backend has its own).
    ///
    /// # Errors
    /// When a migration fails, or [`StoreError::SchemaTooNew`] when the database has a
    /// migration this binary does not know (a newer closeloop migrated it).
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend() {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let ran = match &self.pools {
            Pools::Sqlite {
                writer, options, ..
            } => {
                // The writer waits, so the migrations' connection writes alone.
                let _held = writer.take().await;
                let mut conn = options.connect().await?;
                let ran = migrator.run(&mut conn).await;
                conn.close().await?;
                ran
            }
            Pools::Postgres(pool) => migrator.run(pool).await,
        };
        match ran {
            Err(sqlx::migrate::MigrateError::VersionMissing(found)) => {
                Err(StoreError::SchemaTooNew {
                    found,
                    known: migrator.iter().map(|m| m.version).max().unwrap_or(0),
                })
            }
            other => Ok(other?),
        }
    }

    /// Rewrites the database so that rows changed or deleted before no longer linger in
    /// its files: on SQLite `VACUUM` (no free pages keep old contents) and a truncating
    /// WAL checkpoint (the log keeps no old page); on PostgreSQL `VACUUM FULL` of
    /// `config_changes` (the table is written anew and its old files removed).
    ///
    /// # Errors
    /// On database failure.
    pub async fn compact(&self) -> Result<()> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => {
                let mut held = writer.take().await;
                // VACUUM copies the whole database into a temporary one: on disk, not in
                // the memory the writer's savepoint journals use.
                held.batch("PRAGMA temp_store = FILE")?;
                let vacuumed = held.batch("VACUUM");
                held.batch("PRAGMA temp_store = MEMORY")?;
                vacuumed?;
                // The pragma answers (busy, log pages, checkpointed pages); busy means a
                // reader, or the checkpointer's copy in progress, kept the log from being
                // emptied: both end soon.
                let mut tries = 0;
                loop {
                    let busy: i64 = lite::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&mut held)
                        .await?
                        .try_get(0)?;
                    if busy == 0 {
                        break;
                    }
                    tries += 1;
                    if tries == COMPACT_TRIES {
                        return Err(StoreError::Busy("the WAL checkpoint was blocked"));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Pools::Postgres(pool) => {
                sqlx::query("VACUUM FULL config_changes")
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Starts a write transaction.
    ///
    /// # Errors
    /// When a connection cannot be had.
    pub async fn begin(&self) -> Result<StoreTx> {
        let conn = match &self.pools {
            Pools::Sqlite { writer, .. } => {
                let mut held = writer.take().await;
                // IMMEDIATE: another process's writer (`rotate-key`) is waited for at the
                // start, by the busy timeout, rather than failing at the first write.
                held.batch("BEGIN IMMEDIATE")?;
                Conn::Sqlite(LiteTx(held))
            }
            Pools::Postgres(pool) => Conn::Postgres(pool.begin().await?),
        };
        Ok(StoreTx { conn })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        on_read!(self, c => sqlx::query("SELECT 1").execute(c).await.is_ok())
    }

    /// Closes the pools, waiting for running queries.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite {
                writer,
                read,
                checkpointer,
                ..
            } => {
                checkpointer.stop();
                drop(writer.take().await);
                read.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl StoreTx {
    /// Marks a point inside the transaction to roll back to, so one unit of work in a
    /// batch can fail without undoing the others.
    ///
    /// # Errors
    /// On database failure.
    pub async fn savepoint(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("SAVEPOINT unit").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Keeps the work since the last [`StoreTx::savepoint`].
    ///
    /// # Errors
    /// On database failure.
    pub async fn release_savepoint(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("RELEASE SAVEPOINT unit").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Undoes the work since the last [`StoreTx::savepoint`] (the transaction goes on).
    ///
    /// # Errors
    /// On database failure.
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query("ROLLBACK TO SAVEPOINT unit").execute(&mut *c).await?;
            sqlx::query("RELEASE SAVEPOINT unit").execute(c).await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Keeps other processes' writers of these keys (case ids, or a named resource such
    /// as the config) out until this transaction ends: PostgreSQL advisory locks, taken in
    /// one order so two transactions locking several keys at once cannot deadlock. SQLite
    /// has one writer, so there is nothing to do.
    ///
    /// # Errors
    /// On database failure.
    pub async fn lock(&mut self, ids: &[&str]) -> Result<()> {
        let Conn::Postgres(t) = &mut self.conn else {
            return Ok(());
        };
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        sqlx::query(
            "SELECT pg_advisory_xact_lock(k) FROM \
             (SELECT DISTINCT hashtextextended(id, 0) AS k FROM unnest($1::text[]) AS id ORDER BY k) AS keys \
             ORDER BY k",
        )
        .bind(&ids)
        .execute(&mut **t)
        .await?;
        Ok(())
    }

    /// Commits every effect of this transaction.
    ///
    /// # Errors
    /// When the commit fails; then nothing of it is kept.
    pub async fn commit(self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(mut t) => t.0.batch("COMMIT")?,
            Conn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "…".to_string(),
    }
}

/// Rows per multi-row statement: well under SQLite's 32,766 bound variables and
/// PostgreSQL's 65,535.
pub(crate) const MAX_ROWS_PER_STATEMENT: usize = 500;

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(StoreError::Encode)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(StoreError::Decode)
}
