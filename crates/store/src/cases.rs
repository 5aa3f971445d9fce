//! Cases: the latest state of each support case, and its change history as events.

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use sqlx::Row;

use crate::events::NewEvent;
use crate::{from_json, to_json, Result, Store, StoreTx};

/// A case as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCase {
    /// The case state.
    pub case: Case,
    /// Bumped on every stored change.
    pub version: i64,
    /// When the case was first stored (unix ms).
    pub created_at: i64,
    /// When the case last changed (unix ms).
    pub updated_at: i64,
}

/// What writing a case did.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseChange {
    /// The new state equals the stored one: nothing written, no event.
    Unchanged,
    /// The state was written and an event emitted.
    Changed {
        /// The id of the emitted event.
        event_id: String,
        /// `case_created` or `case_updated`.
        kind: EventKind,
        /// The changed field names.
        changed: Vec<String>,
    },
}

impl Store {
    /// The stored case with that id.
    ///
    /// # Errors
    /// On database failure.
    pub async fn get_case(&self, id: &str) -> Result<Option<StoredCase>> {
        let row =
            sqlx::query("SELECT state, version, created_at, updated_at FROM cases WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| stored_case(&r)).transpose()
    }

    /// Ids of the cases in a queue, in id order, after `after` (for paging).
    ///
    /// # Errors
    /// On database failure.
    pub async fn cases_in_queue(
        &self,
        queue: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT id FROM cases WHERE queue = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(queue)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.read)
                .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }
}

impl StoreTx {
    /// The stored case, read inside this transaction.
    ///
    /// # Errors
    /// On database failure.
    pub async fn case(&mut self, id: &str) -> Result<Option<StoredCase>> {
        let row =
            sqlx::query("SELECT state, version, created_at, updated_at FROM cases WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        row.map(|r| stored_case(&r)).transpose()
    }

    /// Writes `after` as the case's state when it differs from `before`, and emits the
    /// event describing the change (same transaction: the outbox pattern).
    ///
    /// `kind` is the event kind to emit when the case existed; a new case always emits
    /// `case_created`. `depth` counts rule-made changes in a cascade.
    ///
    /// # Errors
    /// On database failure.
    pub async fn write_case(
        &mut self,
        before: Option<&StoredCase>,
        after: &Case,
        kind: EventKind,
        depth: u32,
        event_id: String,
        now: i64,
    ) -> Result<CaseChange> {
        let changed = closeloop_domain::case::diff(before.map(|s| &s.case), after);
        if changed.is_empty() {
            return Ok(CaseChange::Unchanged);
        }
        let state = to_json(after)?;
        let kind = match before {
            None => EventKind::CaseCreated,
            Some(_) => kind,
        };
        match before {
            None => {
                sqlx::query(
                    "INSERT INTO cases (id, state, queue, phone, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 1, $5, $5)",
                )
                .bind(&after.id)
                .bind(&state)
                .bind(&after.queue)
                .bind(normalized_phone(after))
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
            }
            Some(stored) => {
                sqlx::query(
                    "UPDATE cases SET state = $2, queue = $3, phone = $6, version = $4, updated_at = $5 \
                     WHERE id = $1",
                )
                .bind(&after.id)
                .bind(&state)
                .bind(&after.queue)
                .bind(stored.version + 1)
                .bind(now)
                .bind(normalized_phone(after))
                .execute(&mut *self.tx)
                .await?;
            }
        }
        self.insert_event(&NewEvent {
            id: event_id.clone(),
            case_id: after.id.clone(),
            kind,
            changed: changed.clone(),
            before: before.map(|s| s.case.clone()),
            after: after.clone(),
            depth,
            rule_id: None,
            now,
        })
        .await?;
        if before.map(|s| &s.case.queue) != Some(&after.queue) {
            self.reschedule_queue(&after.id, after.queue.as_deref(), now)
                .await?;
        }
        Ok(CaseChange::Changed {
            event_id,
            kind,
            changed,
        })
    }
}

fn stored_case(row: &sqlx::sqlite::SqliteRow) -> Result<StoredCase> {
    Ok(StoredCase {
        case: from_json(row.get::<&str, _>("state"))?,
        version: row.get("version"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

/// The profile phone in E.164 when it parses, so inbound messages find their cases.
fn normalized_phone(case: &Case) -> Option<String> {
    let raw = case.profile.as_ref()?.phone.as_deref()?;
    closeloop_domain::phone::E164::parse(raw, None)
        .ok()
        .map(|p| p.as_str().to_string())
}
