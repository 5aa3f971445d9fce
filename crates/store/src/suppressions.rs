//! The suppression list: numbers that are never messaged, whatever the rules say.

use sqlx::Row;

use crate::{Result, Store, StoreTx};

/// A suppressed number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// E.164 number.
    pub phone: String,
    /// Why (`opt_out`, `operator`, `marketing_opt_out`, `unsubscribe_link`…).
    pub reason: String,
    /// Only for this sender account; None = every account.
    pub account: Option<String>,
    /// When, unix ms.
    pub created_at: i64,
}

impl StoreTx {
    /// Whether `phone` may not be messaged from `account`.
    ///
    /// # Errors
    /// On database failure.
    pub async fn is_suppressed(&mut self, phone: &str, account: &str) -> Result<bool> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT 1 FROM suppressions WHERE phone = $1 AND (account IS NULL OR account = $2)",
            )
            .bind(phone)
            .bind(account)
            .fetch_optional(c)
            .await?;
            Ok(row.is_some())
        })
    }

    /// Suppresses a number (keeps the first record when it is already suppressed).
    ///
    /// # Errors
    /// On database failure.
    pub async fn suppress(&mut self, s: &Suppression) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO suppressions (phone, reason, account, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (phone) DO NOTHING",
        )
        .bind(&s.phone)
        .bind(&s.reason)
        .bind(&s.account)
        .bind(s.created_at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// Whether `phone` may not be messaged from `account` (read outside a transaction,
    /// as a last check right before sending).
    ///
    /// # Errors
    /// On database failure.
    pub async fn is_suppressed(&self, phone: &str, account: &str) -> Result<bool> {
        on_read!(self, c => {
            let row = sqlx::query(
                "SELECT 1 FROM suppressions WHERE phone = $1 AND (account IS NULL OR account = $2)",
            )
            .bind(phone)
            .bind(account)
            .fetch_optional(c)
            .await?;
            Ok(row.is_some())
        })
    }

    /// Every suppression, by number.
    ///
    /// # Errors
    /// On database failure.
    pub async fn list_suppressions(&self) -> Result<Vec<Suppression>> {
        on_read!(self, c => {
            let rows = sqlx::query(
                "SELECT phone, reason, account, created_at FROM suppressions ORDER BY phone",
            )
            .fetch_all(c)
            .await?;
            Ok(rows
                .iter()
                .map(|r| Suppression {
                    phone: r.get("phone"),
                    reason: r.get("reason"),
                    account: r.get("account"),
                    created_at: r.get("created_at"),
                })
                .collect())
        })
    }

    /// Removes a suppression; true when there was one.
    ///
    /// # Errors
    /// On database failure.
    pub async fn remove_suppression(&self, phone: &str) -> Result<bool> {
        Ok(
            on_write!(self, c => sqlx::query("DELETE FROM suppressions WHERE phone = $1")
            .bind(phone)
            .execute(c)
            .await.map(|r| r.rows_affected()))?
                == 1,
        )
    }
}
