//! Cases: the latest state of each support case, and its change history as events.

use std::collections::HashMap;

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use sqlx::Row;

use crate::events::EventColumns;
use crate::{from_json, to_json, Fields, QueueRules, Result, Store, StoreTx};

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
        on_read!(self, c => {
            let row =
                sqlx::query("SELECT state, version, created_at, updated_at FROM cases WHERE id = $1")
                    .bind(id)
                    .fetch_optional(c)
                    .await?;
            row.map(|r| stored_case(&r)).transpose()
        })
    }

    /// The cases whose id or number is `text`, or whose customer's phone is `phone` (the
    /// E.164 form of `text`, when it is a number), most recently updated first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn find_cases(
        &self,
        text: &str,
        phone: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredCase>> {
        on_read!(self, c, db => {
            let number = db.pick("json_extract(state, '$.number')", "(state::jsonb ->> 'number')");
            let sql = format!(
                "SELECT state, version, created_at, updated_at FROM cases \
                 WHERE id = $1 OR phone = $2 OR {number} = $1 ORDER BY updated_at DESC LIMIT $3"
            );
            let rows = sqlx::query(&sql)
                .bind(text)
                .bind(phone)
                .bind(limit)
                .fetch_all(c)
                .await?;
            rows.iter().map(stored_case).collect()
        })
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
        on_read!(self, c => {
            let rows =
                sqlx::query("SELECT id FROM cases WHERE queue = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(queue)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(c)
                    .await?;
            Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
        })
    }
}

impl StoreTx {
    /// The stored case, read inside this transaction.
    ///
    /// # Errors
    /// On database failure.
    pub async fn case(&mut self, id: &str) -> Result<Option<StoredCase>> {
        on_tx!(self, c => {
            let row =
                sqlx::query("SELECT state, version, created_at, updated_at FROM cases WHERE id = $1")
                    .bind(id)
                    .fetch_optional(c)
                    .await?;
            row.map(|r| stored_case(&r)).transpose()
        })
    }

    /// The stored cases with these ids, read in a few statements.
    ///
    /// # Errors
    /// On database failure.
    pub async fn cases(&mut self, ids: &[&str]) -> Result<HashMap<String, StoredCase>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "SELECT id, state, version, created_at, updated_at FROM cases WHERE id IN {}",
                    db.placeholders(1, chunk.len(), 1)
                );
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                for row in query.fetch_all(c).await? {
                    found.insert(row.text("id")?, stored_case(&row)?);
                }
            });
        }
        Ok(found)
    }

    /// Writes `after` as the case's state when it differs from `before`, and emits the
    /// event describing the change (same transaction: the outbox pattern).
    ///
    /// `kind` is the event kind to emit when the case existed; a new case always emits
    /// `case_created`. `depth` counts rule-made changes in a cascade.
    ///
    /// # Errors
    /// On database failure.
    #[allow(clippy::too_many_arguments)]
    pub async fn write_case(
        &mut self,
        before: Option<&StoredCase>,
        after: &Case,
        kind: EventKind,
        depth: u32,
        event_id: String,
        rules: &QueueRules,
        now: i64,
    ) -> Result<CaseChange> {
        let Some(update) = CaseUpdate::new(before, after.clone(), kind, depth, event_id) else {
            return Ok(CaseChange::Unchanged);
        };
        self.write_case_updates(std::slice::from_ref(&update), rules, now)
            .await?;
        Ok(update.change())
    }

    /// Writes changes of cases in the order given (several may be of one case), each with
    /// its event, in a few statements: the final state of each case, every event, and the
    /// queue schedules of the cases whose queue changed.
    ///
    /// # Errors
    /// On database failure.
    pub async fn write_case_updates(
        &mut self,
        updates: &[CaseUpdate],
        rules: &QueueRules,
        now: i64,
    ) -> Result<()> {
        // The last update of each case carries its final state and version.
        let mut last: HashMap<&str, usize> = HashMap::new();
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, u) in updates.iter().enumerate() {
            last.insert(&u.after.id, i);
            first.entry(&u.after.id).or_insert(i);
        }
        let mut finals: Vec<usize> = last.values().copied().collect();
        finals.sort_unstable();
        let mut rows = Vec::with_capacity(updates.len());
        for u in updates {
            rows.push(EventColumns {
                id: &u.event_id,
                case_id: &u.after.id,
                kind: u.kind,
                changed: &u.changed,
                before_patch: u
                    .before
                    .as_ref()
                    .map(|before| crate::events::before_patch(before, &u.after))
                    .transpose()?,
                after: to_json(&u.after)?,
                depth: u.depth,
                rule_id: None,
                note: None,
                now,
            });
        }
        const COLUMNS: usize = 7;
        for chunk in finals.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "INSERT INTO cases (id, state, queue, phone, version, created_at, updated_at) VALUES {} \
                     ON CONFLICT (id) DO UPDATE SET state = excluded.state, queue = excluded.queue, \
                     phone = excluded.phone, version = excluded.version, updated_at = excluded.updated_at",
                    db.placeholders(chunk.len(), COLUMNS, 1)
                );
                let mut query = sqlx::query(&sql);
                for &i in chunk {
                    let u = &updates[i];
                    query = query
                        .bind(&u.after.id)
                        .bind(rows[i].after.as_str())
                        .bind(&u.after.queue)
                        .bind(normalized_phone(&u.after))
                        .bind(u.version)
                        .bind(now)
                        .bind(now);
                }
                query.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        self.insert_event_columns(&rows).await?;
        let requeued: Vec<(&str, Option<&str>)> = finals
            .iter()
            .map(|&i| &updates[i])
            .filter(|u| {
                let before = updates[first[u.after.id.as_str()]].before.as_ref();
                before.map(|b| &b.queue) != Some(&u.after.queue)
            })
            .map(|u| (u.after.id.as_str(), u.after.queue.as_deref()))
            .collect();
        self.reschedule_queues(&requeued, rules, now).await
    }
}

/// One change of a case, ready to be written with its event.
#[derive(Clone, Debug)]
pub struct CaseUpdate {
    /// The case before (None: a new case).
    pub before: Option<Case>,
    /// The case after.
    pub after: Case,
    /// The version the case has after this change.
    pub version: i64,
    /// The event kind.
    pub kind: EventKind,
    /// Cascade depth of the event.
    pub depth: u32,
    /// The event id.
    pub event_id: String,
    /// The changed field names.
    pub changed: Vec<String>,
}

impl CaseUpdate {
    /// The change from `before` to `after`, or None when nothing changed. `kind` is the
    /// event kind when the case existed; a new case is `case_created`.
    pub fn new(
        before: Option<&StoredCase>,
        after: Case,
        kind: EventKind,
        depth: u32,
        event_id: String,
    ) -> Option<CaseUpdate> {
        let changed = closeloop_domain::case::diff(before.map(|s| &s.case), &after);
        if changed.is_empty() {
            return None;
        }
        Some(CaseUpdate {
            before: before.map(|s| s.case.clone()),
            version: before.map_or(1, |s| s.version + 1),
            kind: if before.is_some() {
                kind
            } else {
                EventKind::CaseCreated
            },
            after,
            depth,
            event_id,
            changed,
        })
    }

    /// The case as stored after this change (for the next update of the same case in a
    /// batch).
    pub fn stored(&self, created_at: i64, now: i64) -> StoredCase {
        StoredCase {
            case: self.after.clone(),
            version: self.version,
            created_at,
            updated_at: now,
        }
    }

    /// What the change did, as answered to the caller.
    pub fn change(&self) -> CaseChange {
        CaseChange::Changed {
            event_id: self.event_id.clone(),
            kind: self.kind,
            changed: self.changed.clone(),
        }
    }
}

fn stored_case(row: &impl Fields) -> Result<StoredCase> {
    Ok(StoredCase {
        case: from_json(&row.text("state")?)?,
        version: row.int("version")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// The profile phone in E.164 when it parses, so inbound messages find their cases. A number
/// already written in E.164 (`+`, then 7–15 digits) is kept as written: checking it against
/// the numbering plan cost more than the rest of a bulk import's line, and only a real
/// number can ever send the inbound message it would be matched with.
fn normalized_phone(case: &Case) -> Option<String> {
    let raw = case.profile.as_ref()?.phone.as_deref()?.trim();
    if is_written_in_e164(raw) {
        return Some(raw.to_owned());
    }
    closeloop_domain::phone::E164::parse(raw, None)
        .ok()
        .map(|p| p.as_str().to_string())
}

fn is_written_in_e164(raw: &str) -> bool {
    raw.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_written_in_e164;

    #[test]
    fn only_plus_and_digits_count_as_written_in_e164() {
        for ok in ["+34600111222", "+1555010", "+123456789012345"] {
            assert!(is_written_in_e164(ok), "{ok}");
        }
        for not in [
            "34600111222",
            "+34 600 111 222",
            "+0600111222",
            "+123456",
            "+1234567890123456",
            "+3460011122a",
        ] {
            assert!(!is_written_in_e164(not), "{not}");
        }
    }
}
