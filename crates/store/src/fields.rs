//! Reading a column by name from a row of either backend, so a row mapper is written
//! once for both.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::Result;

/// The column reads the row mappers need.
pub(crate) trait Fields {
    /// A text column.
    fn text(&self, column: &str) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    /// A flag column (SQLite 0/1, PostgreSQL BOOLEAN).
    fn flag(&self, column: &str) -> Result<bool>;
}

macro_rules! fields_of {
    ($row:ty) => {
        impl Fields for $row {
            fn text(&self, column: &str) -> Result<String> {
                Ok(self.try_get(column)?)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>> {
                Ok(self.try_get(column)?)
            }
            fn int(&self, column: &str) -> Result<i64> {
                Ok(self.try_get(column)?)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>> {
                Ok(self.try_get(column)?)
            }
            fn flag(&self, column: &str) -> Result<bool> {
                Ok(self.try_get(column)?)
            }
        }
    };
}

fields_of!(SqliteRow);
fields_of!(PgRow);
