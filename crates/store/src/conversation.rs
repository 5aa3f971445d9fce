//! The conversation of a case: messages the helpdesk reports and inbound WhatsApp
//! messages, and the case's last inbound message (its language and the 24-hour window).

use sqlx::Row;

use crate::{Result, Store, StoreTx};

/// A conversation message to record.
#[derive(Clone, Debug)]
pub struct NewConversationMessage {
    /// Unique id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// `inbound` (from the customer) or `outbound`.
    pub direction: String,
    /// The text.
    pub text: String,
    /// The channel account it came in on.
    pub account: Option<String>,
    /// When it was sent, unix ms.
    pub at: i64,
    /// When it was recorded, unix ms.
    pub now: i64,
}

/// The customer's last inbound message on a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastInbound {
    /// When, unix ms.
    pub at: i64,
    /// The text.
    pub text: String,
    /// The account it came in on.
    pub account: Option<String>,
}

impl StoreTx {
    /// Remembers an inbound message's wamid; false when it was already seen (Meta
    /// redelivered the webhook), so its effects are not recorded twice.
    ///
    /// # Errors
    /// On database failure.
    pub async fn first_delivery(&mut self, wamid: &str, now: i64) -> Result<bool> {
        let inserted = on_tx!(self, c => sqlx::query(
            "INSERT INTO inbound_wamids (wamid, received_at) VALUES ($1, $2) \
             ON CONFLICT (wamid) DO NOTHING",
        )
        .bind(wamid)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Records a conversation message; an inbound one newer than the last becomes the
    /// case's last inbound message.
    ///
    /// # Errors
    /// On database failure.
    pub async fn record_message(&mut self, m: &NewConversationMessage) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO conversation_messages (id, case_id, direction, text, account, at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.id)
        .bind(&m.case_id)
        .bind(&m.direction)
        .bind(&m.text)
        .bind(&m.account)
        .bind(m.at)
        .bind(m.now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        if m.direction == "inbound" {
            on_tx!(self, c => sqlx::query(
                "UPDATE cases SET last_inbound_at = $2, last_inbound_text = $3, last_inbound_account = $4 \
                 WHERE id = $1 AND (last_inbound_at IS NULL OR last_inbound_at <= $2)",
            )
            .bind(&m.case_id)
            .bind(m.at)
            .bind(&m.text)
            .bind(&m.account)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// The case's last inbound message.
    ///
    /// # Errors
    /// On database failure.
    pub async fn last_inbound(&mut self, case_id: &str) -> Result<Option<LastInbound>> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT last_inbound_at, last_inbound_text, last_inbound_account FROM cases \
                 WHERE id = $1 AND last_inbound_at IS NOT NULL",
            )
            .bind(case_id)
            .fetch_optional(c)
            .await?;
            Ok(row.map(|r| LastInbound {
                at: r.get(0),
                text: r.get::<Option<String>, _>(1).unwrap_or_default(),
                account: r.get(2),
            }))
        })
    }

    /// The most recently updated cases of a customer's phone (E.164).
    ///
    /// # Errors
    /// On database failure.
    pub async fn cases_of_phone(&mut self, phone: &str, limit: i64) -> Result<Vec<String>> {
        on_tx!(self, c => {
            let rows =
                sqlx::query("SELECT id FROM cases WHERE phone = $1 ORDER BY updated_at DESC LIMIT $2")
                    .bind(phone)
                    .bind(limit)
                    .fetch_all(c)
                    .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}

impl Store {
    /// The case's last inbound message (read outside a transaction).
    ///
    /// # Errors
    /// On database failure.
    pub async fn last_inbound(&self, case_id: &str) -> Result<Option<LastInbound>> {
        on_read!(self, c => {
            let row = sqlx::query(
                "SELECT last_inbound_at, last_inbound_text, last_inbound_account FROM cases \
                 WHERE id = $1 AND last_inbound_at IS NOT NULL",
            )
            .bind(case_id)
            .fetch_optional(c)
            .await?;
            Ok(row.map(|r| LastInbound {
                at: r.get(0),
                text: r.get::<Option<String>, _>(1).unwrap_or_default(),
                account: r.get(2),
            }))
        })
    }
}
