//! Idempotency keys: the first answer to a keyed write, stored in the same transaction as
//! its effect, so a retried request replays the answer and does nothing again.

use sqlx::Row;

use crate::{Result, StoreTx};

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;

/// The stored first answer to a keyed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON text).
    pub body: String,
}

impl StoreTx {
    /// The answer stored for `key` within the last 24 hours.
    ///
    /// # Errors
    /// On database failure.
    pub async fn idempotent_answer(&mut self, key: &str, now: i64) -> Result<Option<StoredAnswer>> {
        on_tx!(self, c => {
            let row =
                sqlx::query("SELECT status, body FROM idempotency WHERE key = $1 AND created_at > $2")
                    .bind(key)
                    .bind(now - IDEMPOTENCY_TTL_MS)
                    .fetch_optional(c)
                    .await?;
            Ok(row.map(|r| StoredAnswer {
                status: u16::try_from(r.get::<i64, _>("status")).unwrap_or(200),
                body: r.get("body"),
            }))
        })
    }

    /// Remembers the answer given to `key`.
    ///
    /// # Errors
    /// On database failure.
    pub async fn remember_answer(
        &mut self,
        key: &str,
        answer: &StoredAnswer,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO idempotency (key, status, body, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body, \
             created_at = excluded.created_at",
        )
        .bind(key)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
