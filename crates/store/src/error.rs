//! The store's error type.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend this build cannot open.
    #[error("unsupported database URL {0}: use sqlite://FILE or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value could not be encoded as JSON for storage.
    #[error("could not encode a stored value: {0}")]
    Encode(serde_json::Error),
    /// A stored JSON value no longer parses (a schema drift).
    #[error("could not decode a stored value: {0}")]
    Decode(serde_json::Error),
    /// The database was migrated by a newer closeloop: its schema has migrations this
    /// binary does not know, so it refuses to run on it.
    #[error("the database schema is newer than this closeloop (it has migration {found}, this build knows up to {known}): upgrade closeloop")]
    SchemaTooNew {
        /// A migration version the database has and this build does not.
        found: i64,
        /// The newest migration this build knows.
        known: i64,
    },
    /// A claimed unit of work was taken over by another worker (its lease expired).
    #[error("lease lost: {0}")]
    LeaseLost(String),
    /// Another connection holds the database, so an operation that needs it alone did
    /// not finish.
    #[error(
        "the database is in use by another connection ({0}); stop closeloop serve and try again"
    )]
    Busy(&'static str),
    /// A stored enum value is not one this build knows.
    #[error("unknown stored value {0:?}")]
    UnknownValue(String),
}
