//! Sender-account state shared by every process: health (stopped after auth or account
//! errors) and pacing (the per-account messages-per-second limit).

use sqlx::Row;

use crate::{Fields, Result, Store, StoreTx};

/// An account's health as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountHealth {
    /// Account id.
    pub account: String,
    /// False once the provider refused the account's credentials or the account.
    pub healthy: bool,
    /// Why it was stopped.
    pub reason: Option<String>,
    /// The provider error code that stopped it.
    pub error_code: Option<i64>,
    /// When it changed, unix ms.
    pub changed_at: i64,
}

impl StoreTx {
    /// Stops an account: nothing more is sent from it until it is reset.
    ///
    /// # Errors
    /// On database failure.
    pub async fn mark_account_unhealthy(
        &mut self,
        account: &str,
        code: Option<i64>,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO account_health (account, healthy, reason, error_code, changed_at) \
             VALUES ($1, FALSE, $2, $3, $4) ON CONFLICT (account) DO UPDATE SET healthy = FALSE, \
             reason = excluded.reason, error_code = excluded.error_code, changed_at = excluded.changed_at",
        )
        .bind(account)
        .bind(reason)
        .bind(code)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl StoreTx {
    /// Whether the account was stopped.
    ///
    /// # Errors
    /// On database failure.
    pub async fn account_stopped(&mut self, account: &str) -> Result<Option<String>> {
        Ok(on_tx!(self, c => sqlx::query(
            "SELECT reason FROM account_health WHERE account = $1 AND healthy = FALSE"
        )
        .bind(account)
        .fetch_optional(c)
        .await?
        .map(|r| r.get::<Option<String>, _>(0).unwrap_or_default())))
    }
}

impl Store {
    /// Every account with a recorded health.
    ///
    /// # Errors
    /// On database failure.
    pub async fn account_health(&self) -> Result<Vec<AccountHealth>> {
        on_read!(self, c => sqlx::query(
            "SELECT account, healthy, reason, error_code, changed_at FROM account_health ORDER BY account",
        )
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(AccountHealth {
                account: r.text("account")?,
                healthy: r.flag("healthy")?,
                reason: r.opt_text("reason")?,
                error_code: r.opt_int("error_code")?,
                changed_at: r.int("changed_at")?,
            })
        })
        .collect())
    }

    /// Marks an account healthy again (after its credentials were replaced).
    ///
    /// # Errors
    /// On database failure.
    pub async fn reset_account_health(&self, account: &str) -> Result<()> {
        on_write!(self, c => sqlx::query("DELETE FROM account_health WHERE account = $1")
            .bind(account)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Reserves `count` consecutive send slots of `account`, paced at one per
    /// `interval_us`, and returns the time of the first (unix µs); slot `i` is at
    /// `first + i * interval_us`. Pacing (no bursts) keeps every sliding one-second window
    /// at or under the limit, and being one row in the database it holds across processes.
    ///
    /// # Errors
    /// On database failure.
    pub async fn reserve_send_slots(
        &self,
        account: &str,
        count: i64,
        interval_us: i64,
        now_us: i64,
    ) -> Result<i64> {
        let span = count * interval_us;
        let next: i64 = on_write!(self, c, db => sqlx::query(db.pick(
            "INSERT INTO rate_limits (account, next_at_us) VALUES ($1, $2 + $3) \
             ON CONFLICT (account) DO UPDATE SET next_at_us = MAX(rate_limits.next_at_us, $2) + $3 \
             RETURNING next_at_us",
            "INSERT INTO rate_limits (account, next_at_us) VALUES ($1, $2 + $3) \
             ON CONFLICT (account) DO UPDATE SET next_at_us = GREATEST(rate_limits.next_at_us, $2) + $3 \
             RETURNING next_at_us",
        ))
        .bind(account)
        .bind(now_us)
        .bind(span)
        .fetch_one(c)
        .await?
        .try_get(0)?);
        Ok(next - span)
    }
}
