//! Secrets at rest (SPEC §7, issue 14): access tokens, app secrets and verify tokens
//! written through the API are stored sealed under `CLOSELOOP_SECRET_KEY`, never in plain
//! text (the database files, WAL included, are searched byte by byte), still work for
//! sending and for checking webhook signatures, are never answered, and can be sealed
//! again with a new key by `closeloop rotate-key`.
//!
//! The file's account starts with stale credentials, so only the ones written through the
//! API make the Cloud API mock accept a send (it checks the bearer token) and make the
//! service accept the mock's signed status webhooks (an invite reaches `opened` only
//! through them).

mod common;

use closeloop_testdb::{postgres_server, HOW_TO_RUN_ON_POSTGRES};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// A second key (the harness's own is `SECRET_KEY`).
const NEW_KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const VERIFY_TOKEN: &str = "verify-token-written-through-the-api";

/// The test config with stale credentials for `support-wa` in the file.
fn stale_file_credentials(text: String) -> String {
    text.replacen("access_token: ${WA_TOKEN}", "access_token: stale-token", 1)
        .replacen(
            "app_secret: ${WA_APP_SECRET}",
            "app_secret: stale-secret",
            1,
        )
}

async fn spawn(secret_key: Option<&'static str>) -> TestApp {
    spawn_app_with(Options {
        edit: Some(stale_file_credentials),
        secret_key,
        ..Options::default()
    })
    .await
}

/// The secrets the tests write through the API.
fn written_secrets() -> [&'static str; 3] {
    [TOKEN, APP_SECRET, VERIFY_TOKEN]
}

/// Writes the mock's real credentials to `support-wa` through the API.
async fn write_credentials(app: &TestApp) -> (u16, Value) {
    let patch =
        json!({"access_token": TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN});
    call(
        app,
        Method::PATCH,
        "/accounts/support-wa",
        None,
        Some(patch),
    )
    .await
}

/// Puts a resolved case and waits until its invite was sent with the right token and its
/// signed status webhooks were accepted.
async fn sends(app: &TestApp, case_id: &str, phone: &str) {
    let response = app.put_case(&resolved_case(case_id, phone)).await;
    assert!(response.status().is_success(), "{}", response.status());
    app.invite_reaches(case_id, "opened").await;
    assert_eq!(
        app.messages_to(phone.trim_start_matches('+'), "csat_invite"),
        1,
        "the Cloud API mock accepted the token"
    );
}

/// Where the bytes of `needle` occur in the stored data: on SQLite the database file, its
/// WAL and its shared-memory index, as raw bytes; on PostgreSQL every stored config change.
async fn stored_occurrences(database: &TestDatabase, needle: &str) -> Vec<String> {
    if database.is_postgres() {
        return stored_rows(database)
            .await
            .into_iter()
            .filter(|(_, body)| body.contains(needle))
            .map(|(id, _)| format!("config_changes row {id}"))
            .collect();
    }
    let path = database
        .url()
        .strip_prefix("sqlite://")
        .expect("a SQLite URL")
        .to_owned();
    let mut found = Vec::new();
    let main = std::fs::read(&path).expect("the database file");
    assert!(main.starts_with(b"SQLite format 3"), "{path} is a database");
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(file);
        }
    }
    found
}

/// Runs `$body` with `$pool` connected to the test database, whichever backend it is on.
macro_rules! with_pool {
    ($database:expr, |$pool:ident| $body:expr) => {
        if $database.is_postgres() {
            let $pool = sqlx::PgPool::connect($database.url())
                .await
                .expect("connect");
            let out = $body;
            $pool.close().await;
            out
        } else {
            let $pool = sqlx::SqlitePool::connect($database.url())
                .await
                .expect("connect");
            let out = $body;
            $pool.close().await;
            out
        }
    };
}

/// Every stored config change as `(kind/id, body)`, read with SQL.
async fn stored_rows(database: &TestDatabase) -> Vec<(String, String)> {
    let query = "SELECT kind, id, COALESCE(body, '') AS body FROM config_changes";
    let rows: Vec<(String, String, String)> = with_pool!(database, |pool| {
        sqlx::query_as(query)
            .fetch_all(&pool)
            .await
            .expect("select")
    });
    rows.into_iter()
        .map(|(kind, id, body)| (format!("{kind}/{id}"), body))
        .collect()
}

async fn assert_no_plain_secret_stored(database: &TestDatabase) {
    for secret in written_secrets() {
        let found = stored_occurrences(database, secret).await;
        assert!(
            found.is_empty(),
            "{secret:?} is stored in plain text in {found:?}"
        );
    }
}

/// An account that is not in the file, with its secrets.
fn new_account() -> Value {
    json!({
        "id": "new-wa", "provider": "whatsapp_cloud", "phone_number_id": "300000000003",
        "access_token": "new-access-token", "app_secret": "new-app-secret",
        "verify_token": "new-verify-token",
    })
}

/// `closeloop rotate-key` on the database with the two keys (awaited, so a service
/// running in this test goes on serving meanwhile).
async fn rotate_key(database: &str, old: Option<&str>, new: &str) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_closeloop"));
    command
        .args(["rotate-key", "--database", database])
        .env_remove("CLOSELOOP_SECRET_KEY")
        .env("CLOSELOOP_NEW_SECRET_KEY", new)
        .env("RUST_LOG", "warn");
    if let Some(old) = old {
        command.env("CLOSELOOP_SECRET_KEY", old);
    }
    command.output().await.expect("closeloop runs")
}

/// Runs `rotate-key`, which must succeed, and answers what it printed.
async fn rotated(database: &str, old: Option<&str>, new: &str) -> String {
    let output = rotate_key(database, old, new).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn secrets_written_through_the_api_are_stored_sealed_and_still_work() {
    let mut app = spawn(Some(SECRET_KEY)).await;
    let (status, body) = write_credentials(&app).await;
    assert_eq!(status, 200, "{body}");
    // Searched while the service runs: the write is in the WAL, not yet checkpointed.
    assert_no_plain_secret_stored(&app.database).await;
    let rows = stored_rows(&app.database).await;
    let (_, account) = rows
        .iter()
        .find(|(id, _)| id == "accounts/support-wa")
        .expect("the account's change is stored");
    assert_eq!(account.matches("\"sealed:v1:").count(), 3, "{account}");

    // After a restart the credentials come from the sealed rows alone.
    app.restart().await;
    sends(&app, "C-8101", "+34600811101").await;
    let verified = app
        .http
        .get(format!("{}/webhooks/whatsapp", app.url))
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "challenge-8101"),
        ])
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(verified.status(), 200);
    assert_eq!(verified.text().await.unwrap(), "challenge-8101");
    assert_no_plain_secret_stored(&app.database).await;

    let refused = app.restart_with_key(None).await.unwrap_err().to_string();
    assert!(refused.contains("CLOSELOOP_SECRET_KEY"), "{refused}");
    let refused = app
        .restart_with_key(Some(NEW_KEY))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("CLOSELOOP_SECRET_KEY"), "{refused}");
    assert!(
        !refused.contains(SECRET_KEY) && !refused.contains(NEW_KEY),
        "{refused}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_key_a_secret_is_refused_and_everything_else_is_served() {
    let mut app = spawn(None).await;
    let (status, body) = write_credentials(&app).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "secret_key_missing", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("CLOSELOOP_SECRET_KEY"), "{message}");

    let (status, body) = call(&app, Method::POST, "/accounts", None, Some(new_account())).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "secret_key_missing", "{body}");
    assert_eq!(
        stored_occurrences(&app.database, "new-access-token").await,
        Vec::<String>::new()
    );

    // A write without a new secret goes through: the file keeps its own secrets.
    let patch = json!({"messages_per_second": 40, "app_secret": "stale-secret"});
    let (status, body) = call(
        &app,
        Method::PATCH,
        "/accounts/support-wa",
        None,
        Some(patch),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages_per_second"], 40);
    let (status, accounts) = app.get_json("/accounts").await;
    assert_eq!(status, 200, "{accounts}");
    let response = app.put_case(&resolved_case("C-8201", "+34600821101")).await;
    assert_eq!(response.status().as_u16(), 202);
    app.settled("C-8201").await;

    // Nothing sealed is stored, so the service starts again without a key.
    app.restart().await;
    let (status, account) = app.get_json("/accounts/support-wa").await;
    assert_eq!((status, &account["messages_per_second"]), (200, &json!(40)));
    app.stop().await;
}

#[tokio::test]
async fn serve_refuses_a_malformed_key_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = unreachable_config_file(dir.path());
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let output = serve_command(&config, &database, free_port())
        .env("CLOSELOOP_SECRET_KEY", "not-a-key")
        .output()
        .expect("closeloop runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CLOSELOOP_SECRET_KEY") && stderr.contains("64 hex"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-key"), "{stderr}");
}

#[tokio::test]
async fn rotate_key_seals_every_secret_with_the_new_key() {
    let mut app = spawn(Some(SECRET_KEY)).await;
    // The rotation runs beside the running service, which keeps the WAL open: old
    // ciphertexts (an account deleted since, the credentials' first sealing) stay in the
    // log and in free pages until the rotation compacts the database.
    let (status, body) = call(&app, Method::POST, "/accounts", None, Some(new_account())).await;
    assert_eq!(status, 201, "{body}");
    let superseded = stored_rows(&app.database).await;
    let (status, body) = call(&app, Method::DELETE, "/accounts/new-wa", None, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = write_credentials(&app).await;
    assert_eq!(status, 200, "{body}");
    let mut before = stored_rows(&app.database).await;
    before.extend(superseded);

    let stdout = rotated(app.database.url(), Some(SECRET_KEY), NEW_KEY).await;
    assert!(stdout.contains("3 secret(s)"), "{stdout}");

    let after = stored_rows(&app.database).await;
    let (_, account) = after
        .iter()
        .find(|(id, _)| id == "accounts/support-wa")
        .expect("the account's change is stored");
    assert_eq!(account.matches("\"sealed:v1:").count(), 3, "{account}");
    assert_no_plain_secret_stored(&app.database).await;
    // Not one old ciphertext is left in the files (free pages, WAL) or rows.
    for (id, old_body) in before
        .iter()
        .filter(|(id, body)| id.starts_with("accounts/") && !body.is_empty())
    {
        let old: Value = serde_json::from_str(old_body).unwrap();
        for field in ["access_token", "app_secret", "verify_token"] {
            let Some(sealed) = old[field].as_str() else {
                continue;
            };
            let ciphertext = sealed.trim_start_matches("sealed:v1:");
            let found = stored_occurrences(&app.database, ciphertext).await;
            assert!(
                found.is_empty(),
                "an old {field} of {id} is still in {found:?}"
            );
        }
    }

    let refused = app.restart_with_key(Some(SECRET_KEY)).await.unwrap_err();
    assert!(
        refused.to_string().contains("CLOSELOOP_SECRET_KEY"),
        "{refused}"
    );
    app.restart_with_key(Some(NEW_KEY))
        .await
        .expect("starts with the new key");
    sends(&app, "C-8301", "+34600831101").await;

    // A wrong old key changes nothing.
    app.halt().await;
    let output = rotate_key(app.database.url(), Some(SECRET_KEY), NEW_KEY).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CLOSELOOP_SECRET_KEY"), "{stderr}");
    assert_eq!(stored_rows(&app.database).await, after);
    app.stop().await;
}

#[tokio::test]
async fn rotate_key_seals_secrets_an_earlier_version_stored_in_plain_text() {
    let mut app = spawn(None).await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        "/accounts/support-wa",
        None,
        Some(json!({"messages_per_second": 40})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.halt().await;
    // What a closeloop without sealing stored: the credentials in plain text.
    let (_, stored) = stored_rows(&app.database)
        .await
        .into_iter()
        .find(|(id, _)| id == "accounts/support-wa")
        .expect("stored");
    let mut plain: Value = serde_json::from_str(&stored).unwrap();
    plain["access_token"] = json!(TOKEN);
    plain["app_secret"] = json!(APP_SECRET);
    plain["verify_token"] = json!(VERIFY_TOKEN);
    set_stored_body(&app.database, "support-wa", &plain.to_string()).await;
    assert!(!stored_occurrences(&app.database, TOKEN).await.is_empty());

    let stdout = rotated(app.database.url(), None, NEW_KEY).await;
    assert!(stdout.contains("3 secret(s)"), "{stdout}");
    assert_no_plain_secret_stored(&app.database).await;
    app.restart_with_key(Some(NEW_KEY))
        .await
        .expect("starts with the new key");
    sends(&app, "C-8501", "+34600851101").await;
    app.stop().await;
}

/// Overwrites an account's stored body with SQL, as an earlier version would have stored it.
async fn set_stored_body(database: &TestDatabase, id: &str, body: &str) {
    let query = "UPDATE config_changes SET body = $1 WHERE kind = 'accounts' AND id = $2";
    with_pool!(database, |pool| {
        sqlx::query(query)
            .bind(body)
            .bind(id)
            .execute(&pool)
            .await
            .expect("update");
    });
}

#[tokio::test]
async fn postgres_stores_only_sealed_secrets() {
    if postgres_server().is_none() {
        println!("postgres_stores_only_sealed_secrets: skipped: needs PostgreSQL; {HOW_TO_RUN_ON_POSTGRES}");
        return;
    }
    let mut app = spawn(Some(SECRET_KEY)).await;
    assert!(app.database.is_postgres());
    let (status, body) = write_credentials(&app).await;
    assert_eq!(status, 200, "{body}");
    let rows = stored_rows(&app.database).await;
    for (id, body) in &rows {
        for secret in written_secrets() {
            assert!(!body.contains(secret), "{id} stores {secret:?}: {body}");
        }
    }
    assert!(rows.iter().any(|(_, body)| body.contains("\"sealed:v1:")));
    app.halt().await;
    rotated(app.database.url(), Some(SECRET_KEY), NEW_KEY).await;
    assert_no_plain_secret_stored(&app.database).await;
    app.restart_with_key(Some(NEW_KEY))
        .await
        .expect("starts with the new key");
    sends(&app, "C-8401", "+34600841101").await;
    app.stop().await;
}

#[tokio::test]
async fn the_api_never_answers_a_secret() {
    let app = spawn(Some(SECRET_KEY)).await;
    let (status, written) = write_credentials(&app).await;
    assert_eq!(status, 200, "{written}");
    let (status, created) = call(&app, Method::POST, "/accounts", None, Some(new_account())).await;
    assert_eq!(status, 201, "{created}");
    let mut answers = vec![written.to_string(), created.to_string()];
    for path in ["/accounts", "/accounts/support-wa", "/accounts/new-wa"] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        answers.push(body.to_string());
    }
    for answer in answers {
        for secret in written_secrets().into_iter().chain([
            "new-access-token",
            "new-app-secret",
            "new-verify-token",
            "sealed:v1:",
        ]) {
            assert!(
                !answer.contains(secret),
                "an answer holds {secret:?}: {answer}"
            );
        }
    }
    assert!(stored_occurrences(&app.database, "new-app-secret")
        .await
        .is_empty());
    app.stop().await;
}
