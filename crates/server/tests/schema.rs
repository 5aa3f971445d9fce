//! Schema versions: `migrate` creates the schema on the run's backend (SQLite, or the
//! PostgreSQL server `CLOSELOOP_TEST_POSTGRES` names), and a database migrated by a newer
//! closeloop is refused by `migrate` and `serve` alike, naming the problem.

mod common;

use std::process::Command;

use common::*;
use sqlx::Connection;

fn closeloop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_closeloop"))
        .args(args)
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .output()
        .expect("closeloop runs")
}

/// Records a migration this build does not know, as a newer closeloop would have.
async fn migrate_from_the_future(database: &TestDatabase) {
    let future = "INSERT INTO _sqlx_migrations \
                  (version, description, success, checksum, execution_time) \
                  VALUES (99990101000000, 'from a newer closeloop', TRUE, $1, 0)";
    let checksum = vec![0u8; 48];
    if database.is_postgres() {
        let mut c = sqlx::PgConnection::connect(database.url()).await.unwrap();
        sqlx::query(future)
            .bind(checksum)
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(database.url())
            .await
            .unwrap();
        sqlx::query(future)
            .bind(checksum)
            .execute(&mut c)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_closeloop_is_refused() {
    let database = TestDatabase::fresh().await;
    let migrated = closeloop(&["migrate", "--database", database.url()]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let again = closeloop(&["migrate", "--database", database.url()]);
    assert!(again.status.success(), "migrate is idempotent");

    migrate_from_the_future(&database).await;
    let dir = tempfile::tempdir().unwrap();
    let config = unreachable_config_file(dir.path());
    for args in [
        vec!["migrate", "--database", database.url()],
        vec![
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--database",
            database.url(),
            "--listen",
            "127.0.0.1:0",
        ],
    ] {
        let refused = closeloop(&args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the database schema is newer than this closeloop")
                && stderr.contains("upgrade closeloop"),
            "{args:?}: {stderr}"
        );
    }
    database.remove().await;
}
