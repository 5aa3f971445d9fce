//! Operator console sessions: a row per signed-in browser, found by the digest of the
//! cookie's random id, so the table never holds what a browser presents.

use sqlx::Row;

use crate::{Result, Store};

/// A console session that has not expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The user signed in; `None` on a console open because no users are configured.
    pub user_id: Option<String>,
    /// The token every state-changing form of this session must carry.
    pub csrf: String,
    /// When it expires (unix ms).
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session under the digest of its id, and deletes the sessions that
    /// expired by `now` (so the table holds at most a session lifetime of sign-ins).
    ///
    /// # Errors
    /// On database failure.
    pub async fn create_console_session(
        &self,
        id_digest: &str,
        session: &ConsoleSession,
        now: i64,
    ) -> Result<()> {
        on_write!(self, c => sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
        on_write!(self, c => sqlx::query(
            "INSERT INTO console_sessions (id_digest, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_digest)
        .bind(&session.user_id)
        .bind(&session.csrf)
        .bind(session.expires_at)
        .execute(c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The session with that id digest, unless it expired by `now`.
    ///
    /// # Errors
    /// On database failure.
    pub async fn console_session(
        &self,
        id_digest: &str,
        now: i64,
    ) -> Result<Option<ConsoleSession>> {
        on_read!(self, c => {
            let row = sqlx::query(
                "SELECT user_id, csrf, expires_at FROM console_sessions WHERE id_digest = $1 AND expires_at > $2",
            )
            .bind(id_digest)
            .bind(now)
            .fetch_optional(c)
            .await?;
            Ok(row.map(|r| ConsoleSession {
                user_id: r.get("user_id"),
                csrf: r.get("csrf"),
                expires_at: r.get("expires_at"),
            }))
        })
    }

    /// Ends a session (logout).
    ///
    /// # Errors
    /// On database failure.
    pub async fn end_console_session(&self, id_digest: &str) -> Result<()> {
        on_write!(self, c => sqlx::query("DELETE FROM console_sessions WHERE id_digest = $1")
        .bind(id_digest)
        .execute(c)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
