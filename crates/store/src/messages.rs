//! The message outbox: WhatsApp messages to send, claimed by dispatchers with a lease,
//! committed before the provider is called, and settled in a second short transaction.

use closeloop_domain::config::MessageKind;
use closeloop_domain::status::InviteStatus;
use sqlx::Row;

use crate::{from_json, to_json, Fields, Result, Store, StoreError, StoreTx};

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Unique id (`msg_…`).
    pub id: String,
    /// The invite it belongs to.
    pub invite_id: String,
    /// Invitation, reminder or thank-you.
    pub kind: MessageKind,
    /// Sender account id.
    pub account: String,
    /// E.164 recipient.
    pub recipient: String,
    /// The exact Cloud API request body.
    pub payload: serde_json::Value,
    /// The body as the customer reads it.
    pub text: String,
    /// Creation time, unix ms (also the first attempt time).
    pub now: i64,
}

/// Where a message is in the outbox. The SQL of this module writes these names as
/// literals (the partial index `messages_due` is on `outbox <> 'done'`); rows are parsed
/// here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outbox {
    /// Waiting for its send time or a dispatcher.
    Queued,
    /// Claimed by a dispatcher under a lease.
    Sending,
    /// Settled: accepted by the provider or failed for good.
    Done,
}

impl Outbox {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outbox::Queued => "queued",
            Outbox::Sending => "sending",
            Outbox::Done => "done",
        }
    }

    fn parse(stored: &str) -> Result<Outbox> {
        [Outbox::Queued, Outbox::Sending, Outbox::Done]
            .into_iter()
            .find(|o| o.as_str() == stored)
            .ok_or_else(|| StoreError::UnknownValue(stored.to_string()))
    }
}

fn message_kind(stored: &str) -> Result<MessageKind> {
    stored
        .parse()
        .map_err(|_| StoreError::UnknownValue(stored.to_string()))
}

/// A message claimed for sending.
#[derive(Clone, Debug)]
pub struct ClaimedMessage {
    /// Unique id.
    pub id: String,
    /// The invite.
    pub invite_id: String,
    /// Message kind.
    pub kind: MessageKind,
    /// Sender account id.
    pub account: String,
    /// E.164 recipient.
    pub recipient: String,
    /// The request body.
    pub payload: serde_json::Value,
    /// The body as the customer reads it.
    pub text: String,
    /// Attempts including this one.
    pub attempts: i64,
    /// When it was queued, unix ms.
    pub created_at: i64,
}

/// How a send attempt ended, to record.
#[derive(Clone, Debug)]
pub enum SendResult {
    /// The provider accepted the message.
    Accepted {
        /// The provider's message id (wamid).
        provider_message_id: String,
    },
    /// Try again at `at` (unix ms); the error that made it wait.
    Retry {
        /// Next attempt, unix ms.
        at: i64,
        /// Provider error code.
        code: Option<i64>,
        /// Provider error title.
        title: String,
    },
    /// Put back without counting the attempt (the account was stopped; nothing is lost).
    Requeue {
        /// Provider error code.
        code: Option<i64>,
        /// Provider error title.
        title: String,
    },
    /// Given up: permanent error, or retries exhausted.
    Failed {
        /// Provider error code.
        code: Option<i64>,
        /// Provider error title.
        title: String,
    },
    /// Not sent: the recipient was suppressed after the message was queued.
    Suppressed,
}

/// The error title of a message not sent because its recipient was suppressed.
pub const SUPPRESSED_TITLE: &str = "recipient is suppressed; not sent";

/// A message as the API shows it (send history).
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    /// Unique id.
    pub id: String,
    /// The invite.
    pub invite_id: String,
    /// Message kind.
    pub kind: MessageKind,
    /// Sender account.
    pub account: String,
    /// Recipient.
    pub recipient: String,
    /// The request body.
    pub payload: serde_json::Value,
    /// The body as the customer reads it.
    pub text: String,
    /// Delivery status.
    pub status: InviteStatus,
    /// Where the message is in the outbox.
    pub outbox: Outbox,
    /// The wamid.
    pub provider_message_id: Option<String>,
    /// Attempts made.
    pub attempts: i64,
    /// Provider error code.
    pub error_code: Option<i64>,
    /// Provider error title.
    pub error_title: Option<String>,
    /// When the provider accepted it, unix ms.
    pub sent_at: Option<i64>,
    /// When it was queued, unix ms.
    pub created_at: i64,
}

const MESSAGE_COLUMNS: &str =
    "id, invite_id, kind, account, recipient, payload, text, status, outbox, \
    provider_message_id, attempts, error_code, error_title, sent_at, created_at";

impl StoreTx {
    /// Queues a message.
    ///
    /// # Errors
    /// On database failure.
    pub async fn insert_message(&mut self, message: &NewMessage) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO messages (id, invite_id, kind, account, recipient, payload, text, status, outbox, \
               next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 'queued', $8, $8, $8)",
        )
        .bind(&message.id)
        .bind(&message.invite_id)
        .bind(message.kind.as_str())
        .bind(&message.account)
        .bind(&message.recipient)
        .bind(to_json(&message.payload)?)
        .bind(&message.text)
        .bind(message.now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records how a send attempt of a claimed message ended. Returns false when the
    /// message was no longer leased to `owner` (settled already, or its lease expired and
    /// another dispatcher claimed it): then nothing is written.
    ///
    /// # Errors
    /// On database failure.
    pub async fn settle_message(
        &mut self,
        id: &str,
        owner: &str,
        result: &SendResult,
        now: i64,
    ) -> Result<bool> {
        const OURS: &str = "WHERE id = $1 AND outbox = 'sending' AND lease_owner = $2";
        let settled = on_tx!(self, c, db => {
            let query = match result {
                SendResult::Accepted { provider_message_id } => {
                    let sql = format!(
                        "UPDATE messages SET outbox = 'done', status = 'sent', provider_message_id = $3, \
                         sent_at = $4, lease_until = NULL, lease_owner = NULL, error_code = NULL, \
                         error_title = NULL, updated_at = $4 {OURS}"
                    );
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(owner)
                        .bind(provider_message_id)
                        .bind(now)
                        .execute(c)
                        .await
                }
                SendResult::Retry { at, code, title } => {
                    let sql = format!(
                        "UPDATE messages SET outbox = 'queued', next_attempt_at = $3, error_code = $4, \
                         error_title = $5, lease_until = NULL, lease_owner = NULL, updated_at = $6 {OURS}"
                    );
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(owner)
                        .bind(at)
                        .bind(code)
                        .bind(title)
                        .bind(now)
                        .execute(c)
                        .await
                }
                SendResult::Requeue { code, title } => {
                    let attempts = db.pick("MAX(attempts - 1, 0)", "GREATEST(attempts - 1, 0)");
                    let sql = format!(
                        "UPDATE messages SET outbox = 'queued', attempts = {attempts}, error_code = $3, \
                         error_title = $4, lease_until = NULL, lease_owner = NULL, updated_at = $5 {OURS}"
                    );
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(owner)
                        .bind(code)
                        .bind(title)
                        .bind(now)
                        .execute(c)
                        .await
                }
                SendResult::Failed { .. } | SendResult::Suppressed => {
                    let (code, title) = match result {
                        SendResult::Failed { code, title } => (*code, title.as_str()),
                        _ => (None, SUPPRESSED_TITLE),
                    };
                    let sql = format!(
                        "UPDATE messages SET outbox = 'done', status = 'failed', error_code = $3, \
                         error_title = $4, lease_until = NULL, lease_owner = NULL, updated_at = $5 {OURS}"
                    );
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(owner)
                        .bind(code)
                        .bind(title)
                        .bind(now)
                        .execute(c)
                        .await
                }
            };
            query.map(|r| r.rows_affected())
        })?;
        Ok(settled == 1)
    }

    /// The message the provider knows by that wamid.
    ///
    /// # Errors
    /// On database failure.
    pub async fn message_by_provider_id(&mut self, wamid: &str) -> Result<Option<MessageRow>> {
        on_tx!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE provider_message_id = $1"
            ))
            .bind(wamid)
            .fetch_optional(c)
            .await?;
            row.as_ref().map(message_row).transpose()
        })
    }

    /// Sets a message's delivery status (the caller checked the transition), with the
    /// provider error when there is one.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_message_status(
        &mut self,
        id: &str,
        status: InviteStatus,
        error: Option<(Option<i64>, &str)>,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE messages SET status = $2, error_code = COALESCE($3, error_code), \
             error_title = COALESCE($4, error_title), updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(error.and_then(|e| e.0))
        .bind(error.map(|e| e.1.to_string()))
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Holds every message to `recipient` from `account` until `until` (pair rate limit).
    ///
    /// # Errors
    /// On database failure.
    pub async fn hold_recipient(
        &mut self,
        account: &str,
        recipient: &str,
        until: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO recipient_holds (account, recipient, until_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account, recipient) DO UPDATE SET until_at = excluded.until_at",
        )
        .bind(account)
        .bind(recipient)
        .bind(until)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// Claims up to `limit` due messages until `lease_until`, skipping stopped accounts
    /// and held recipients. A message whose sender died mid-send (lease expired) is
    /// claimed again: the one window where a message can go out twice (SPEC §4.10).
    ///
    /// # Errors
    /// On database failure.
    pub async fn claim_messages(
        &self,
        account: &str,
        owner: &str,
        limit: i64,
        lease_until: i64,
        now: i64,
    ) -> Result<Vec<ClaimedMessage>> {
        const DUE: &str = "SELECT m.id FROM messages m \
             WHERE m.account = $4 AND m.outbox <> 'done' AND m.next_attempt_at <= $2 \
               AND (m.outbox = 'queued' OR m.lease_until < $2) \
               AND NOT EXISTS (SELECT 1 FROM account_health a WHERE a.account = m.account AND a.healthy = FALSE) \
               AND NOT EXISTS (SELECT 1 FROM recipient_holds h \
                               WHERE h.account = m.account AND h.recipient = m.recipient AND h.until_at > $2) \
             ORDER BY m.next_attempt_at LIMIT $3";
        on_write!(self, c, db => {
            let due = match db {
                crate::Backend::Sqlite => DUE.to_owned(),
                crate::Backend::Postgres => format!("{DUE} FOR UPDATE OF m SKIP LOCKED"),
            };
            let sql = format!(
                "UPDATE messages SET outbox = 'sending', lease_until = $1, lease_owner = $5, \
                 attempts = attempts + 1, updated_at = $2 WHERE id IN ({due}) \
                 RETURNING id, invite_id, kind, account, recipient, payload, text, attempts, created_at"
            );
            let rows = sqlx::query(&sql)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .bind(account)
                .bind(owner)
                .fetch_all(c)
                .await?;
            let mut claimed = rows
                .iter()
                .map(|r| {
                    Ok(ClaimedMessage {
                        id: r.text("id")?,
                        invite_id: r.text("invite_id")?,
                        kind: message_kind(&r.text("kind")?)?,
                        account: r.text("account")?,
                        recipient: r.text("recipient")?,
                        payload: from_json(&r.text("payload")?)?,
                        text: r.text("text")?,
                        attempts: r.int("attempts")?,
                        created_at: r.int("created_at")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            claimed.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
            Ok(claimed)
        })
    }

    /// The earliest time a queued message of `account` becomes due, if any.
    ///
    /// # Errors
    /// On database failure.
    pub async fn next_message_due(&self, account: &str) -> Result<Option<i64>> {
        on_read!(self, c => {
            Ok(sqlx::query(
                "SELECT MIN(next_attempt_at) FROM messages WHERE account = $1 AND outbox = 'queued'",
            )
            .bind(account)
            .fetch_one(c)
            .await?
            .get(0))
        })
    }

    /// Messages not settled yet (queued or being sent).
    ///
    /// # Errors
    /// On database failure.
    pub async fn outbox_depth(&self) -> Result<i64> {
        on_read!(self, c => Ok(sqlx::query("SELECT COUNT(*) FROM messages WHERE outbox <> 'done'")
            .fetch_one(c)
            .await?
            .try_get(0)?))
    }

    /// The send history of an invite, oldest first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn invite_messages(&self, invite_id: &str) -> Result<Vec<MessageRow>> {
        on_read!(self, c => {
            let rows = sqlx::query(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE invite_id = $1 ORDER BY created_at, id"
            ))
            .bind(invite_id)
            .fetch_all(c)
            .await?;
            rows.iter().map(message_row).collect()
        })
    }
}

fn message_row(r: &impl Fields) -> Result<MessageRow> {
    let status = r.text("status")?;
    Ok(MessageRow {
        id: r.text("id")?,
        invite_id: r.text("invite_id")?,
        kind: message_kind(&r.text("kind")?)?,
        account: r.text("account")?,
        recipient: r.text("recipient")?,
        payload: from_json(&r.text("payload")?)?,
        text: r.text("text")?,
        status: status
            .parse()
            .map_err(|_| StoreError::UnknownValue(status.to_string()))?,
        outbox: Outbox::parse(&r.text("outbox")?)?,
        provider_message_id: r.opt_text("provider_message_id")?,
        attempts: r.int("attempts")?,
        error_code: r.opt_int("error_code")?,
        error_title: r.opt_text("error_title")?,
        sent_at: r.opt_int("sent_at")?,
        created_at: r.int("created_at")?,
    })
}
