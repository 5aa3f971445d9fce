//! The event outbox: every case change (helpdesk update, rule action, survey status) is an
//! event row written with the change. Workers claim events with a lease, in case order.

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use sqlx::Row;

use crate::{from_json, to_json, Backend, Fields, Result, Store, StoreError, StoreTx};

/// An event to append.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Unique id.
    pub id: String,
    /// The case it belongs to.
    pub case_id: String,
    /// What happened.
    pub kind: EventKind,
    /// Changed field names.
    pub changed: Vec<String>,
    /// The case before (None for a new case).
    pub before: Option<Case>,
    /// The case after.
    pub after: Case,
    /// How many rule-made changes led here (loop guard).
    pub depth: u32,
    /// For a scheduled event: the queue rule it runs.
    pub rule_id: Option<String>,
    /// What the trace should say beyond the rules (why a chat reply recorded nothing).
    pub note: Option<String>,
    /// Creation time, unix ms.
    pub now: i64,
}

/// An event with its case states serialized (each state once, shared with the case row):
/// the case after the change in full, the case before it as a merge patch over that.
pub(crate) struct EventColumns<'a> {
    pub id: &'a str,
    pub case_id: &'a str,
    pub kind: EventKind,
    pub changed: &'a [String],
    pub before_patch: Option<String>,
    pub after: String,
    pub depth: u32,
    pub rule_id: Option<&'a str>,
    pub note: Option<&'a str>,
    pub now: i64,
}

/// A claimed event, ready to be evaluated.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// Order of the event in the log.
    pub seq: i64,
    /// Unique id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// What happened.
    pub kind: EventKind,
    /// Changed field names.
    pub changed: Vec<String>,
    /// The case before.
    pub before: Option<Case>,
    /// The case after.
    pub after: Case,
    /// Cascade depth.
    pub depth: u32,
    /// For a scheduled event: the queue rule it runs.
    pub rule_id: Option<String>,
    /// How many times it was claimed (1 on the first claim).
    pub attempts: i64,
    /// Creation time, unix ms.
    pub created_at: i64,
}

/// A processed event with its trace, for `GET /cases/{id}/trace`.
#[derive(Clone, Debug)]
pub struct TracedEvent {
    /// Unique id.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// Changed field names.
    pub changed: Vec<String>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// What the trace says beyond the rules.
    pub note: Option<String>,
    /// The trace JSON; None while the event is not processed yet.
    pub trace: Option<serde_json::Value>,
}

impl StoreTx {
    /// Appends an event.
    ///
    /// # Errors
    /// On database failure.
    pub async fn insert_event(&mut self, event: &NewEvent) -> Result<()> {
        self.insert_events(std::slice::from_ref(event)).await
    }

    /// Appends events in the order given, a few hundred per statement.
    ///
    /// # Errors
    /// On database failure.
    pub async fn insert_events(&mut self, events: &[NewEvent]) -> Result<()> {
        let rows = events
            .iter()
            .map(|e| {
                Ok(EventColumns {
                    id: &e.id,
                    case_id: &e.case_id,
                    kind: e.kind,
                    changed: &e.changed,
                    before_patch: e
                        .before
                        .as_ref()
                        .map(|before| before_patch(before, &e.after))
                        .transpose()?,
                    after: to_json(&e.after)?,
                    depth: e.depth,
                    rule_id: e.rule_id.as_deref(),
                    note: e.note.as_deref(),
                    now: e.now,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.insert_event_columns(&rows).await
    }

    /// Appends events whose case states are already serialized.
    pub(crate) async fn insert_event_columns(&mut self, rows: &[EventColumns<'_>]) -> Result<()> {
        const COLUMNS: usize = 10;
        for chunk in rows.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "INSERT INTO events (id, case_id, kind, changed, before_patch, after_state, depth, rule_id, note, created_at) VALUES {}",
                    db.placeholders(chunk.len(), COLUMNS, 1)
                );
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query
                        .bind(row.id)
                        .bind(row.case_id)
                        .bind(row.kind.as_str())
                        .bind(to_json(&row.changed)?)
                        .bind(row.before_patch.as_deref())
                        .bind(row.after.as_str())
                        .bind(i64::from(row.depth))
                        .bind(row.rule_id)
                        .bind(row.note)
                        .bind(row.now);
                }
                query.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Marks a claimed event done with its trace. Returns false when the event was not
    /// ours any more (already done elsewhere): the caller must then roll back.
    ///
    /// # Errors
    /// On database failure.
    pub async fn finish_event(
        &mut self,
        seq: i64,
        owner: &str,
        trace: &serde_json::Value,
        now: i64,
    ) -> Result<bool> {
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE events SET done_at = $1, trace = $2, lease_owner = NULL, lease_until = NULL \
             WHERE seq = $3 AND done_at IS NULL AND lease_owner = $4",
        )
        .bind(now)
        .bind(to_json(&crate::trace_codec::compact(trace))?)
        .bind(seq)
        .bind(owner)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

impl StoreTx {
    /// Claims, inside this transaction, the event with that id for `owner` until
    /// `lease_until`, when it is pending, unleased and its case's oldest pending event (so
    /// the event that wrote it can have it evaluated at once, in order).
    ///
    /// # Errors
    /// On database failure.
    pub async fn claim_event(
        &mut self,
        id: &str,
        owner: &str,
        lease_until: i64,
    ) -> Result<Option<EventRow>> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "UPDATE events SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                 WHERE id = $3 AND done_at IS NULL AND lease_owner IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM events p \
                                   WHERE p.case_id = events.case_id AND p.done_at IS NULL AND p.seq < events.seq) \
                 RETURNING seq, id, case_id, kind, changed, before_state, before_patch, after_state, depth, \
                 rule_id, attempts, created_at",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(id)
            .fetch_optional(c)
            .await?;
            row.as_ref().map(event_row).transpose()
        })
    }
}

impl Store {
    /// Claims up to `limit` events for `owner` until `lease_until`: the oldest pending
    /// event of each case whose earlier events are all done (per-case order), including
    /// events whose previous lease expired (their worker died).
    ///
    /// # Errors
    /// On database failure.
    pub async fn claim_events(
        &self,
        owner: &str,
        limit: i64,
        lease_until: i64,
        now: i64,
    ) -> Result<Vec<EventRow>> {
        on_write!(self, c, db => {
            // Only the head of each case's pending events is claimable, and a batch holds
            // at most one event of a case: the second waits until the first is done.
            let claimable = "SELECT e.seq FROM events e \
                 WHERE e.done_at IS NULL AND (e.lease_until IS NULL OR e.lease_until < $3) \
                   AND NOT EXISTS (SELECT 1 FROM events p \
                                   WHERE p.case_id = e.case_id AND p.done_at IS NULL AND p.seq < e.seq) \
                 ORDER BY e.seq LIMIT $4";
            let claimable = match db {
                Backend::Sqlite => claimable.to_owned(),
                Backend::Postgres => format!("{claimable} FOR UPDATE OF e SKIP LOCKED"),
            };
            let rows = sqlx::query(&format!(
                "UPDATE events SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                 WHERE seq IN ({claimable}) \
                 RETURNING seq, id, case_id, kind, changed, before_state, before_patch, after_state, depth, \
                 rule_id, attempts, created_at"
            ))
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await?;
            let mut events = rows.iter().map(event_row).collect::<Result<Vec<_>>>()?;
            events.sort_by_key(|e| e.seq);
            Ok(events)
        })
    }

    /// Number of events not processed yet.
    ///
    /// # Errors
    /// On database failure.
    pub async fn pending_events(&self) -> Result<i64> {
        on_read!(self, c => Ok(sqlx::query("SELECT COUNT(*) FROM events WHERE done_at IS NULL")
            .fetch_one(c)
            .await?
            .try_get(0)?))
    }

    /// The events of a case in order, with their traces.
    ///
    /// # Errors
    /// On database failure.
    pub async fn case_events(&self, case_id: &str) -> Result<Vec<TracedEvent>> {
        on_read!(self, c => {
            let rows = sqlx::query(
                "SELECT id, kind, changed, created_at, note, trace FROM events WHERE case_id = $1 ORDER BY seq",
            )
            .bind(case_id)
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(TracedEvent {
                        id: r.get("id"),
                        kind: parse_kind(r.get("kind"))?,
                        changed: from_json(r.get::<&str, _>("changed"))?,
                        created_at: r.get("created_at"),
                        note: r.get("note"),
                        trace: r
                            .get::<Option<&str>, _>("trace")
                            .map(from_json)
                            .transpose()?
                            .map(crate::trace_codec::expand),
                    })
                })
                .collect()
        })
    }
}

pub use TracedEvent as CaseEvent;

fn parse_kind(s: &str) -> Result<EventKind> {
    s.parse()
        .map_err(|_| StoreError::UnknownValue(s.to_string()))
}

fn event_row(r: &impl Fields) -> Result<EventRow> {
    let after_text = r.text("after_state")?;
    let after: Case = from_json(&after_text)?;
    let before = match (r.opt_text("before_patch")?, r.opt_text("before_state")?) {
        (Some(patch), _) => Some(apply_before_patch(&after_text, &patch)?),
        (None, Some(full)) => Some(from_json(&full)?),
        (None, None) => None,
    };
    Ok(EventRow {
        seq: r.int("seq")?,
        id: r.text("id")?,
        case_id: r.text("case_id")?,
        kind: parse_kind(&r.text("kind")?)?,
        changed: from_json(&r.text("changed")?)?,
        before,
        after,
        depth: u32::try_from(r.int("depth")?).unwrap_or(0),
        rule_id: r.opt_text("rule_id")?,
        attempts: r.int("attempts")?,
        created_at: r.int("created_at")?,
    })
}

/// The case before a change as a JSON merge patch (RFC 7396) over the case after it: only
/// what the change touched, `{}` when nothing did (a survey or message event).
pub(crate) fn before_patch(before: &Case, after: &Case) -> Result<String> {
    let before = serde_json::to_value(before).map_err(StoreError::Encode)?;
    let after = serde_json::to_value(after).map_err(StoreError::Encode)?;
    to_json(&merge_diff(&after, &before))
}

/// The case before, from the stored case after and the patch.
fn apply_before_patch(after: &str, patch: &str) -> Result<Case> {
    let mut before: serde_json::Value = from_json(after)?;
    let patch: serde_json::Value = from_json(patch)?;
    json_patch::merge(&mut before, &patch);
    serde_json::from_value(before).map_err(StoreError::Decode)
}

/// The merge patch that turns `from` into `to`. A key `to` lacks becomes `null` (merge
/// patches remove with null), so a `null` in `to` comes back as an absent key, which a
/// case reads the same way.
fn merge_diff(from: &serde_json::Value, to: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match (from, to) {
        (Value::Object(from), Value::Object(to)) => {
            let mut patch = serde_json::Map::new();
            for (key, value) in to {
                match from.get(key) {
                    Some(old) if old == value => {}
                    Some(old) => {
                        patch.insert(key.clone(), merge_diff(old, value));
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in from.keys().filter(|k| !to.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(value: serde_json::Value) -> Case {
        serde_json::from_value(value).expect("a case")
    }

    #[test]
    fn the_before_patch_holds_only_what_changed_and_gives_the_case_back() {
        let before = case(json!({"id": "C-1", "status": "Open", "queue": "tier1",
            "profile": {"name": "Ana", "phone": "+34600000001", "language": "es"}, "tags": ["a"]}));
        let after = case(json!({"id": "C-1", "status": "Resolved",
            "profile": {"name": "Ana", "phone": "+34600000002", "language": "es"}, "tags": ["a", "b"]}));
        let patch = before_patch(&before, &after).expect("patch");
        let value: serde_json::Value = serde_json::from_str(&patch).expect("json");
        assert_eq!(value["status"], "Open");
        assert_eq!(value["queue"], "tier1");
        assert_eq!(value["profile"], json!({"phone": "+34600000001"}));
        assert!(
            value.get("id").is_none(),
            "unchanged fields are left out: {patch}"
        );
        let after_text = to_json(&after).expect("after");
        assert_eq!(
            apply_before_patch(&after_text, &patch).expect("before"),
            before
        );
        let same = before_patch(&after, &after).expect("patch");
        assert_eq!(same, "{}");
        assert_eq!(apply_before_patch(&after_text, &same).expect("same"), after);
    }
}
