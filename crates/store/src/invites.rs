//! Invites: one survey sent (or deliberately not sent) to one recipient for one case.

use closeloop_domain::status::{InviteStatus, ResponseStatus};

use crate::analytics::{cached_score, ScoreQuestions};
use crate::{from_json, Fields, Result, Store, StoreError, StoreTx};

/// An invite to create.
#[derive(Clone, Debug)]
pub struct NewInvite {
    /// Unique id (`inv_…`).
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Survey id.
    pub survey: String,
    /// Distribution id.
    pub distribution: String,
    /// Channel (`whatsapp`).
    pub channel: String,
    /// Initial status (`pending`, or a final not-sent status).
    pub status: InviteStatus,
    /// Language of the invite.
    pub language: String,
    /// Which rule of SPEC §4.1 chose it.
    pub language_source: String,
    /// E.164 recipient, None when it could not be resolved.
    pub recipient: Option<String>,
    /// Where the recipient came from.
    pub recipient_source: String,
    /// Sender account id.
    pub account: String,
    /// The link token (≥128 bits of randomness).
    pub token: String,
    /// When the link expires, unix ms.
    pub expires_at: i64,
    /// A test invite (excluded from analytics, not once-per-case).
    pub test: bool,
    /// Whether the distribution allows one invite per case.
    pub once_per_case: bool,
    /// Why nothing was sent, for not-sent statuses.
    pub reason: Option<String>,
    /// Case attributes analytics group by, as they were.
    pub snapshot: serde_json::Value,
    /// The distribution's settings as they were.
    pub settings: serde_json::Value,
    /// Creation time, unix ms.
    pub now: i64,
}

/// A stored invite.
#[derive(Clone, Debug, PartialEq)]
pub struct InviteRow {
    /// Unique id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Survey id.
    pub survey: String,
    /// Distribution id.
    pub distribution: String,
    /// Channel.
    pub channel: String,
    /// Invite status.
    pub status: InviteStatus,
    /// Response status.
    pub response_status: ResponseStatus,
    /// Language.
    pub language: String,
    /// How the language was chosen.
    pub language_source: String,
    /// E.164 recipient.
    pub recipient: Option<String>,
    /// Where the recipient came from.
    pub recipient_source: String,
    /// Sender account.
    pub account: String,
    /// Link token.
    pub token: String,
    /// Link expiry, unix ms.
    pub expires_at: i64,
    /// Reminders sent so far.
    pub reminders_sent: i64,
    /// Test invite.
    pub test: bool,
    /// Why nothing was sent.
    pub reason: Option<String>,
    /// Provider error code, when the provider refused.
    pub error_code: Option<i64>,
    /// Provider error title.
    pub error_title: Option<String>,
    /// Case attributes as they were.
    pub snapshot: serde_json::Value,
    /// Distribution settings as they were.
    pub settings: serde_json::Value,
    /// Answers given so far.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Last time an invitation or reminder was accepted by the provider, unix ms.
    pub last_sent_at: Option<i64>,
    /// When the thank-you was queued, unix ms.
    pub thanked_at: Option<i64>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
}

/// Filters of `GET /invites`.
#[derive(Clone, Debug, Default)]
pub struct InviteFilter {
    /// Only this case.
    pub case_id: Option<String>,
    /// Only this distribution.
    pub distribution: Option<String>,
    /// Only this status.
    pub status: Option<InviteStatus>,
    /// Only ids after this one (paging cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
}

const INVITE_COLUMNS: &str =
    "id, case_id, survey, distribution, channel, status, response_status, \
    language, language_source, recipient, recipient_source, account, token, expires_at, \
    reminders_sent, test, reason, error_code, error_title, snapshot, settings, answers, \
    last_sent_at, thanked_at, created_at, updated_at";

impl StoreTx {
    /// Creates an invite. Returns false, writing nothing, when the case already has an
    /// invite of that distribution under once-per-case (the unique index decides, so it
    /// holds across processes; the transaction goes on).
    ///
    /// # Errors
    /// On database failure.
    pub async fn insert_invite(&mut self, invite: &NewInvite) -> Result<bool> {
        let inserted = on_tx!(self, c => sqlx::query(
            "INSERT INTO invites (id, case_id, survey, distribution, channel, status, response_status, \
               language, language_source, recipient, recipient_source, account, token, expires_at, \
               test, once_per_case, reason, snapshot, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'not_started', $7, $8, $9, $10, $11, $12, $13, $14, $15, \
               $16, $17, $18, $19, $19) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&invite.id)
        .bind(&invite.case_id)
        .bind(&invite.survey)
        .bind(&invite.distribution)
        .bind(&invite.channel)
        .bind(invite.status.as_str())
        .bind(&invite.language)
        .bind(&invite.language_source)
        .bind(&invite.recipient)
        .bind(&invite.recipient_source)
        .bind(&invite.account)
        .bind(&invite.token)
        .bind(invite.expires_at)
        .bind(invite.test)
        .bind(invite.once_per_case)
        .bind(&invite.reason)
        .bind(invite.snapshot.to_string())
        .bind(invite.settings.to_string())
        .bind(invite.now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// The non-test invites of a case, oldest first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn case_invites(&mut self, case_id: &str) -> Result<Vec<InviteRow>> {
        on_tx!(self, c => {
            let rows = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE case_id = $1 AND test = FALSE ORDER BY created_at, id"
            ))
            .bind(case_id)
            .fetch_all(c)
            .await?;
            rows.iter().map(invite_row).collect()
        })
    }

    /// Whether `recipient` got a (sent or pending) invitation from `distribution` since `since`.
    ///
    /// # Errors
    /// On database failure.
    pub async fn invited_since(
        &mut self,
        recipient: &str,
        distribution: &str,
        since: i64,
    ) -> Result<bool> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "SELECT 1 FROM invites WHERE recipient = $1 AND distribution = $2 AND created_at >= $3 \
                 AND test = FALSE AND status NOT IN ('quarantined', 'suppressed') LIMIT 1",
            )
            .bind(recipient)
            .bind(distribution)
            .bind(since)
            .fetch_optional(c)
            .await?;
            Ok(row.is_some())
        })
    }

    /// The invite with that id.
    ///
    /// # Errors
    /// On database failure.
    pub async fn invite(&mut self, id: &str) -> Result<Option<InviteRow>> {
        on_tx!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(c)
            .await?;
            row.as_ref().map(invite_row).transpose()
        })
    }

    /// Sets an invite's status (the caller decided the transition is allowed), with the
    /// provider error when there is one.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_invite_status(
        &mut self,
        id: &str,
        status: InviteStatus,
        error: Option<(Option<i64>, &str)>,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE invites SET status = $2, error_code = COALESCE($3, error_code), \
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

    /// Records why an invite was not sent, when that is decided after it was created (its
    /// number was suppressed before the invitation went out).
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_invite_reason(&mut self, id: &str, reason: &str, now: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE invites SET reason = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(reason)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records that the provider accepted an invitation or reminder of this invite.
    ///
    /// # Errors
    /// On database failure.
    pub async fn touch_invite_sent(&mut self, id: &str, now: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE invites SET last_sent_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl StoreTx {
    /// Stores the answers of a response with its new status; `partial_due_at` is when an
    /// in-progress response turns partially completed if nothing more arrives.
    ///
    /// `scored` names the survey's rating and NPS questions: their answers are also kept
    /// as numbers for analytics (see [`ScoreQuestions`]).
    ///
    /// # Errors
    /// On database failure.
    pub async fn save_answers(
        &mut self,
        id: &str,
        answers: &serde_json::Map<String, serde_json::Value>,
        status: ResponseStatus,
        partial_due_at: Option<i64>,
        scored: ScoreQuestions<'_>,
        now: i64,
    ) -> Result<()> {
        let (rating_question, rating) = cached_score(answers, scored.rating);
        let (nps_question, nps) = cached_score(answers, scored.nps);
        on_tx!(self, c => sqlx::query(
            "UPDATE invites SET answers = $2, response_status = $3, partial_due_at = $4, \
             last_activity_at = $5, updated_at = $5, \
             rating_question = $6, rating = $7, nps_question = $8, nps = $9 WHERE id = $1",
        )
        .bind(id)
        .bind(serde_json::Value::Object(answers.clone()).to_string())
        .bind(status.as_str())
        .bind(partial_due_at)
        .bind(now)
        .bind(rating_question)
        .bind(rating)
        .bind(nps_question)
        .bind(nps)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Moves in-progress responses whose `partial_due_at` passed to partially completed;
    /// returns `(invite_id, case_id)` of each (at most `limit`).
    ///
    /// # Errors
    /// On database failure.
    pub async fn expire_partials(&mut self, now: i64, limit: i64) -> Result<Vec<(String, String)>> {
        on_tx!(self, c, db => {
            let rows = sqlx::query(db.pick(
                "UPDATE invites SET response_status = 'partially_completed', partial_due_at = NULL, updated_at = $1 \
                 WHERE id IN (SELECT id FROM invites WHERE response_status = 'in_progress' \
                              AND partial_due_at <= $1 ORDER BY partial_due_at LIMIT $2) \
                 RETURNING id, case_id",
                "UPDATE invites SET response_status = 'partially_completed', partial_due_at = NULL, updated_at = $1 \
                 WHERE id IN (SELECT id FROM invites WHERE response_status = 'in_progress' \
                              AND partial_due_at <= $1 ORDER BY partial_due_at LIMIT $2 \
                              FOR UPDATE SKIP LOCKED) \
                 RETURNING id, case_id",
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| Ok((r.text("id")?, r.text("case_id")?)))
                .collect()
        })
    }

    /// Counts a queued reminder.
    ///
    /// # Errors
    /// On database failure.
    pub async fn count_reminder(&mut self, id: &str, now: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE invites SET reminders_sent = reminders_sent + 1, updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records that the thank-you was queued (at most once per invite).
    ///
    /// # Errors
    /// On database failure.
    pub async fn mark_thanked(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = on_tx!(self, c => sqlx::query("UPDATE invites SET thanked_at = $2, updated_at = $2 WHERE id = $1 AND thanked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Sets the response status (the caller checked the transition).
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_response_status(
        &mut self,
        id: &str,
        status: ResponseStatus,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE invites SET response_status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets (or, with None, clears) the question of an in-chat survey whose answer is the
    /// customer's next text message.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_chat_awaiting(
        &mut self,
        id: &str,
        question: Option<&str>,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE invites SET chat_awaiting = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(question)
            .bind(now)
            .execute(c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Invites to `recipient` that can still be acted on (not final, not test).
    ///
    /// # Errors
    /// On database failure.
    pub async fn open_invites_to(&mut self, recipient: &str) -> Result<Vec<InviteRow>> {
        on_tx!(self, c => {
            let rows = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE recipient = $1 \
                 AND status IN ('pending', 'sent', 'delivered', 'opened') ORDER BY created_at"
            ))
            .bind(recipient)
            .fetch_all(c)
            .await?;
            rows.iter().map(invite_row).collect()
        })
    }
}

impl Store {
    /// The most recent invite to `recipient` waiting for a text answer in the chat, with
    /// the question it waits for.
    ///
    /// # Errors
    /// On database failure.
    pub async fn chat_awaiting(&self, recipient: &str) -> Result<Option<(String, String)>> {
        on_read!(self, c => {
            let row = sqlx::query(
                "SELECT id, chat_awaiting FROM invites WHERE recipient = $1 \
                 AND chat_awaiting IS NOT NULL AND response_status <> 'completed' \
                 ORDER BY updated_at DESC LIMIT 1",
            )
            .bind(recipient)
            .fetch_optional(c)
            .await?;
            row.map(|r| Ok((r.text("id")?, r.text("chat_awaiting")?)))
                .transpose()
        })
    }

    /// The invite with that id.
    ///
    /// # Errors
    /// On database failure.
    pub async fn get_invite(&self, id: &str) -> Result<Option<InviteRow>> {
        on_read!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(c)
            .await?;
            row.as_ref().map(invite_row).transpose()
        })
    }

    /// The invite whose link has that token.
    ///
    /// # Errors
    /// On database failure.
    pub async fn invite_by_token(&self, token: &str) -> Result<Option<InviteRow>> {
        on_read!(self, c => {
            let row = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE token = $1"
            ))
            .bind(token)
            .fetch_optional(c)
            .await?;
            row.as_ref().map(invite_row).transpose()
        })
    }

    /// Invites matching a filter, in id order.
    ///
    /// # Errors
    /// On database failure.
    pub async fn list_invites(&self, filter: &InviteFilter) -> Result<Vec<InviteRow>> {
        on_read!(self, c => {
            let rows = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites \
                 WHERE ($1 IS NULL OR case_id = $1) AND ($2 IS NULL OR distribution = $2) \
                   AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id > $4) \
                 ORDER BY id LIMIT $5"
            ))
            .bind(&filter.case_id)
            .bind(&filter.distribution)
            .bind(filter.status.map(|s| s.as_str()))
            .bind(&filter.after)
            .bind(filter.limit)
            .fetch_all(c)
            .await?;
            rows.iter().map(invite_row).collect()
        })
    }

    /// The invites of a case, oldest first (test invites included).
    ///
    /// # Errors
    /// On database failure.
    pub async fn invites_of_case(&self, case_id: &str) -> Result<Vec<InviteRow>> {
        on_read!(self, c => {
            let rows = sqlx::query(&format!(
                "SELECT {INVITE_COLUMNS} FROM invites WHERE case_id = $1 ORDER BY created_at, id"
            ))
            .bind(case_id)
            .fetch_all(c)
            .await?;
            rows.iter().map(invite_row).collect()
        })
    }

    /// Count of invites per status (for metrics).
    ///
    /// # Errors
    /// On database failure.
    pub async fn invite_status_counts(&self) -> Result<Vec<(String, i64)>> {
        on_read!(self, c => {
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM invites GROUP BY status")
                .fetch_all(c)
                .await?;
            rows.iter()
                .map(|r| Ok((r.text("status")?, r.int("n")?)))
                .collect()
        })
    }
}

fn invite_row(r: &impl Fields) -> Result<InviteRow> {
    let status = r.text("status")?;
    let response_status = r.text("response_status")?;
    Ok(InviteRow {
        id: r.text("id")?,
        case_id: r.text("case_id")?,
        survey: r.text("survey")?,
        distribution: r.text("distribution")?,
        channel: r.text("channel")?,
        status: status
            .parse()
            .map_err(|_| StoreError::UnknownValue(status.to_string()))?,
        response_status: response_status
            .parse()
            .map_err(|_| StoreError::UnknownValue(response_status.to_string()))?,
        language: r.text("language")?,
        language_source: r.text("language_source")?,
        recipient: r.opt_text("recipient")?,
        recipient_source: r.text("recipient_source")?,
        account: r.text("account")?,
        token: r.text("token")?,
        expires_at: r.int("expires_at")?,
        reminders_sent: r.int("reminders_sent")?,
        test: r.flag("test")?,
        reason: r.opt_text("reason")?,
        error_code: r.opt_int("error_code")?,
        error_title: r.opt_text("error_title")?,
        snapshot: from_json(&r.text("snapshot")?)?,
        settings: from_json(&r.text("settings")?)?,
        answers: from_json(&r.text("answers")?)?,
        last_sent_at: r.opt_int("last_sent_at")?,
        thanked_at: r.opt_int("thanked_at")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}
