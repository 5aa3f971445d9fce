//! A fresh database for each test, on the backend the run asks for.
//!
//! By default a test gets a new SQLite file. When `CLOSELOOP_TEST_POSTGRES` names a
//! PostgreSQL server (`postgres://postgres@127.0.0.1:5432`), it gets a new database on
//! that server instead, so the same suite runs on both backends. Tests that only make
//! sense on PostgreSQL ask [`postgres_server`] and are skipped, saying why, without it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sqlx::{Connection, PgConnection};

/// The variable naming the PostgreSQL server tests run on.
pub const POSTGRES_ENV: &str = "CLOSELOOP_TEST_POSTGRES";

/// How to run the PostgreSQL half, for skip messages.
pub const HOW_TO_RUN_ON_POSTGRES: &str = "set CLOSELOOP_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432 (a PostgreSQL 15 server where that user may create databases) to run it";

static NEXT: AtomicUsize = AtomicUsize::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);

/// The PostgreSQL server the run names, without a trailing slash or database.
pub fn postgres_server() -> Option<String> {
    let server = std::env::var(POSTGRES_ENV).ok()?;
    let server = server.trim().trim_end_matches('/');
    (!server.is_empty()).then(|| server.to_owned())
}

/// Whether this run uses PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// A database made for one test.
pub struct TestDatabase {
    url: String,
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new database on the backend of this run.
    ///
    /// # Panics
    /// When the PostgreSQL server cannot be reached or refuses to create a database: the
    /// run asked for it, so that is a failure, not a skip.
    pub async fn fresh() -> TestDatabase {
        match postgres_server() {
            Some(server) => TestDatabase::fresh_postgres(&server).await,
            None => TestDatabase::fresh_sqlite(),
        }
    }

    /// A new SQLite file, whatever the run asks for.
    ///
    /// # Panics
    /// When no temporary directory can be made.
    pub fn fresh_sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        TestDatabase {
            url: format!("sqlite://{}", dir.path().join("test.db").display()),
            postgres: None,
            _dir: Some(dir),
        }
    }

    /// A new database on the PostgreSQL server `server`.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create the database.
    pub async fn fresh_postgres(server: &str) -> TestDatabase {
        let name = format!(
            "closeloop_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = admin(server).await;
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep_leftovers(&mut admin).await;
        }
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: dropping {name}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: creating {name}: {e}"));
        let _ = admin.close().await;
        TestDatabase {
            url: format!("{server}/{name}"),
            postgres: Some((server.to_owned(), name)),
            _dir: None,
        }
    }

    /// The URL `closeloop` takes (`--database`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Drops a PostgreSQL database (its connections are ended first); a SQLite file goes
    /// with its temporary directory.
    pub async fn remove(self) {
        let Some((server, name)) = &self.postgres else {
            return;
        };
        let mut admin = admin(server).await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
    }
}

/// Drops the databases earlier test processes left behind (a test that failed before
/// removing its database): those whose process is gone.
async fn sweep_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'closeloop\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        let alive = std::path::Path::new("/proc").join(pid).exists();
        if !alive && pid.chars().all(|c| c.is_ascii_digit()) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

async fn admin(server: &str) -> PgConnection {
    PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={server}: cannot connect: {e}"))
}
