//! SQLite's one writing connection, driven in place.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends it every statement:
//! two thread hand-offs per statement, which made the single writer the service's
//! bottleneck (issue 11's profile: about 50 context switches per case update). This
//! connection is a `rusqlite` one owned by the [`Writer`]: whoever holds the writer runs
//! its statements directly on its own thread, so a unit of work costs one hand-off (taking
//! the writer) however many statements it has.
//!
//! The statements are the ones written for sqlx: inside `on_tx!`/`on_write!` the name
//! `sqlx` means this module, whose [`query`] takes the same `$n` placeholders, binds and
//! fetch calls, and answers rows that [`crate::Fields`] reads; its errors are sqlx's, with
//! SQLite's own as [`sqlx::Error::Database`].

use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, ToSql};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// sqlx's error, so that a statement's result is the same type on both backends.
type Result<T> = std::result::Result<T, sqlx::Error>;

/// The writer's page cache: the pages its writes touch again and again (the tails of the
/// tables and indexes). 32 MiB took no more writes per second under load and held 30 MiB
/// more memory.
const WRITER_CACHE_KIB: i64 = 16_000;

/// Statements kept prepared: every distinct statement the store writes with, with room.
const STATEMENT_CACHE: usize = 512;

/// The writing connection, taken by one unit of work at a time.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    conn: Arc<Mutex<Lite>>,
}

/// The connection, held.
pub(crate) type Held = OwnedMutexGuard<Lite>;

impl Writer {
    /// Opens the database file for writing, with the settings every connection of the store
    /// has (WAL, `synchronous=NORMAL`, a 10 s busy timeout). The [`crate::checkpointer`]
    /// copies the log into the database beside it; its own commits do so only when they
    /// leave more than `backstop_pages` pages in the log (a burst that outran the copy).
    pub(crate) fn open(path: &std::path::Path, backstop_pages: u32) -> Result<Writer> {
        Self::configure(path, backstop_pages).map_err(database_error)
    }

    fn configure(path: &std::path::Path, backstop_pages: u32) -> rusqlite::Result<Writer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        conn.pragma_update(None, "wal_autocheckpoint", backstop_pages)?;
        // A unit of work in a group commit runs in a savepoint, whose journal of the pages
        // it changed would otherwise be a temporary file: a write call per page.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Writer {
            conn: Arc::new(Mutex::new(Lite { conn })),
        })
    }

    /// Waits for the connection (units of work take it in arrival order). It first lets
    /// the thread's other tasks run: the statements never wait, so a task looping over units
    /// of work would otherwise keep its thread from them.
    pub(crate) async fn take(&self) -> Held {
        tokio::task::yield_now().await;
        Arc::clone(&self.conn).lock_owned().await
    }

    /// Waits for the connection from a thread outside the async runtime, in the same line
    /// as [`Writer::take`]'s callers.
    pub(crate) fn take_blocking(&self) -> Held {
        Arc::clone(&self.conn).blocking_lock_owned()
    }
}

/// The connection a unit of work holds.
#[derive(Debug)]
pub(crate) struct Lite {
    conn: Connection,
}

impl Lite {
    /// Runs statements that take no parameters and answer no rows (transaction control).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(database_error)
    }

    /// Whether a transaction is open on the connection.
    pub(crate) fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }
}

/// A statement and its parameters, as `sqlx::query` builds one.
pub(crate) fn query(sql: &str) -> Query<'_> {
    Query {
        sql,
        args: Vec::new(),
        bad_arg: None,
    }
}

/// A statement with the values bound to its `$n` (or `?`) placeholders, in order.
pub(crate) struct Query<'q> {
    sql: &'q str,
    args: Vec<Value>,
    bad_arg: Option<rusqlite::Error>,
}

/// What running a statement did.
pub(crate) struct Done {
    rows: u64,
}

impl Done {
    /// Rows the statement inserted, updated or deleted.
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows
    }
}

impl<'q> Query<'q> {
    /// Binds the next parameter.
    #[must_use]
    pub(crate) fn bind<T: ToSql>(mut self, value: T) -> Self {
        match value.to_sql() {
            Ok(output) => self.args.push(owned(output)),
            Err(e) => {
                self.bad_arg.get_or_insert(e);
                self.args.push(Value::Null);
            }
        }
        self
    }

    /// Runs the statement to its end.
    pub(crate) async fn execute(self, c: &mut Lite) -> Result<Done> {
        self.run(c, |_| Ok(())).map_err(database_error)?;
        Ok(Done {
            rows: c.conn.changes(),
        })
    }

    /// Every row the statement answers.
    pub(crate) async fn fetch_all(self, c: &mut Lite) -> Result<Vec<LiteRow>> {
        let mut rows = Vec::new();
        self.run(c, |row| {
            rows.push(row);
            Ok(())
        })
        .map_err(database_error)?;
        Ok(rows)
    }

    /// The first row the statement answers, if any.
    pub(crate) async fn fetch_optional(self, c: &mut Lite) -> Result<Option<LiteRow>> {
        Ok(self.fetch_all(c).await?.into_iter().next())
    }

    /// The first row the statement answers.
    pub(crate) async fn fetch_one(self, c: &mut Lite) -> Result<LiteRow> {
        self.fetch_optional(c)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Binds the parameters and steps the statement through every row.
    fn run(
        self,
        c: &mut Lite,
        mut each: impl FnMut(LiteRow) -> Result<()>,
    ) -> rusqlite::Result<()> {
        if let Some(e) = self.bad_arg {
            return Err(e);
        }
        let mut statement = c.conn.prepare_cached(self.sql)?;
        for index in 1..=statement.parameter_count() {
            let position = parameter_position(statement.parameter_name(index), index);
            let value = self
                .args
                .get(position - 1)
                .ok_or_else(|| rusqlite::Error::InvalidParameterCount(position, self.args.len()))?;
            statement.raw_bind_parameter(index, value)?;
        }
        let names: Arc<[String]> = statement
            .column_names()
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        let width = names.len();
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(Value::from(row.get_ref(i)?));
            }
            each(LiteRow {
                names: Arc::clone(&names),
                values,
            })
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        }
        Ok(())
    }
}

/// Which bound value a placeholder takes: `$n` and `?n` the n-th, an anonymous `?` the
/// one at its own position.
fn parameter_position(name: Option<&str>, index: usize) -> usize {
    name.and_then(|n| n.strip_prefix(['$', '?']))
        .and_then(|n| n.parse().ok())
        .unwrap_or(index)
}

fn owned(output: rusqlite::types::ToSqlOutput<'_>) -> Value {
    use rusqlite::types::ToSqlOutput;
    match output {
        ToSqlOutput::Borrowed(value) => value.into(),
        ToSqlOutput::Owned(value) => value,
        _ => Value::Null,
    }
}

/// One answered row, owned.
pub(crate) struct LiteRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// A column of a [`LiteRow`]: its position, or its name.
pub(crate) trait Column {
    /// The column's position in `row`.
    fn position(&self, row: &LiteRow) -> Result<usize>;
}

impl Column for usize {
    fn position(&self, row: &LiteRow) -> Result<usize> {
        if *self < row.values.len() {
            Ok(*self)
        } else {
            Err(sqlx::Error::ColumnIndexOutOfBounds {
                index: *self,
                len: row.values.len(),
            })
        }
    }
}

impl Column for &str {
    fn position(&self, row: &LiteRow) -> Result<usize> {
        row.names
            .iter()
            .position(|n| n == self)
            .ok_or_else(|| sqlx::Error::ColumnNotFound((*self).to_owned()))
    }
}

/// A Rust value read from a column.
pub(crate) trait Decode<'r>: Sized {
    /// The value, or `None` when the column holds another type.
    fn decode(value: &'r Value) -> Option<Self>;
}

impl<'r> Decode<'r> for &'r str {
    fn decode(value: &'r Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Decode<'_> for String {
    fn decode(value: &Value) -> Option<Self> {
        <&str>::decode(value).map(str::to_owned)
    }
}

impl Decode<'_> for i64 {
    fn decode(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl Decode<'_> for f64 {
    fn decode(value: &Value) -> Option<Self> {
        match value {
            Value::Real(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl Decode<'_> for bool {
    fn decode(value: &Value) -> Option<Self> {
        i64::decode(value).map(|i| i != 0)
    }
}

impl<'r, T: Decode<'r>> Decode<'r> for Option<T> {
    fn decode(value: &'r Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::decode(other).map(Some),
        }
    }
}

impl LiteRow {
    /// The column's value.
    pub(crate) fn try_get<'r, T: Decode<'r>, I: Column>(&'r self, column: I) -> Result<T> {
        let i = column.position(self)?;
        let value = &self.values[i];
        T::decode(value).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: self.names[i].clone(),
            source: format!("a {} value is not the type read", value.data_type()).into(),
        })
    }

    /// The column's value; a missing column or another type is a bug in the statement.
    pub(crate) fn get<'r, T: Decode<'r>, I: Column>(&'r self, column: I) -> T {
        match self.try_get(column) {
            Ok(value) => value,
            Err(e) => panic!("a statement's row does not have the column read from it: {e}"),
        }
    }
}

impl crate::Fields for LiteRow {
    fn text(&self, column: &str) -> crate::Result<String> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: &str) -> crate::Result<Option<String>> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: &str) -> crate::Result<i64> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> crate::Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
    fn flag(&self, column: &str) -> crate::Result<bool> {
        Ok(self.try_get(column)?)
    }
}

/// SQLite's error as sqlx reports a database's.
pub(crate) fn database_error(error: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Database(Box::new(SqliteError {
        message: error.to_string(),
        error,
    }))
}

/// An error of the writing connection, with the kind sqlx would have given it.
#[derive(Debug)]
struct SqliteError {
    message: String,
    error: rusqlite::Error,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        let rusqlite::Error::SqliteFailure(failure, _) = &self.error else {
            return ErrorKind::Other;
        };
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parameter_position;

    #[test]
    fn numbered_placeholders_take_their_own_value_wherever_they_stand() {
        assert_eq!(parameter_position(Some("$2"), 1), 2);
        assert_eq!(parameter_position(Some("?3"), 1), 3);
        assert_eq!(parameter_position(None, 4), 4);
    }
}
