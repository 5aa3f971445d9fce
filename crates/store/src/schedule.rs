//! The queue-rule schedule: which case each `on: {queue, every}` rule looks at next, and
//! when. Rows follow the case's queue (written with the case change), so a run reads only
//! the rows that are due, whatever the number of cases stored.

use std::collections::HashMap;

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use sqlx::Row;

use crate::events::NewEvent;
use crate::{Result, Store, StoreTx};

/// Queue rules by queue: `(rule id, period in ms)`.
pub type QueueRules = HashMap<String, Vec<(String, i64)>>;

impl Store {
    /// Reconciles the schedule with the queue rules in force and the cases already in
    /// their queues (rules added, removed or changed since the last start or config
    /// change). Costs one pass over the scheduled queues.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_queue_rules(&self, rules: &QueueRules, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let known: Vec<&str> = rules
            .values()
            .flatten()
            .map(|(id, _)| id.as_str())
            .collect();
        let existing: Vec<String> = on_tx!(tx, c => {
            sqlx::query("SELECT DISTINCT rule_id FROM queue_schedule")
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, sqlx::Error>>()
        })?;
        for stale in existing.iter().filter(|r| !known.contains(&r.as_str())) {
            on_tx!(tx, c => sqlx::query("DELETE FROM queue_schedule WHERE rule_id = $1")
                .bind(stale)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        for (queue, queue_rules) in rules {
            for (rule_id, every_ms) in queue_rules {
                on_tx!(tx, c => {
                    sqlx::query(
                        "DELETE FROM queue_schedule WHERE rule_id = $1 AND case_id NOT IN \
                         (SELECT id FROM cases WHERE queue = $2)",
                    )
                    .bind(rule_id)
                    .bind(queue)
                    .execute(&mut *c)
                    .await?;
                    sqlx::query(
                        "INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms) \
                         SELECT $1, id, $3 + $4, $4 FROM cases WHERE queue = $2 \
                         ON CONFLICT (rule_id, case_id) DO UPDATE SET every_ms = excluded.every_ms",
                    )
                    .bind(rule_id)
                    .bind(queue)
                    .bind(now)
                    .bind(every_ms)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
                })?;
            }
        }
        tx.commit().await
    }

    /// Number of scheduled (rule, case) pairs.
    ///
    /// # Errors
    /// On database failure.
    pub async fn scheduled_count(&self) -> Result<i64> {
        on_read!(self, c => {
            Ok(sqlx::query("SELECT COUNT(*) FROM queue_schedule")
                .fetch_one(c)
                .await?
                .get(0))
        })
    }
}

impl StoreTx {
    /// Re-points the schedule rows of cases whose queue changed at their new queue's
    /// rules, in a few statements.
    ///
    /// # Errors
    /// On database failure.
    pub async fn reschedule_queues(
        &mut self,
        cases: &[(&str, Option<&str>)],
        rules: &QueueRules,
        now: i64,
    ) -> Result<()> {
        for chunk in cases.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "DELETE FROM queue_schedule WHERE case_id IN {}",
                    db.placeholders(1, chunk.len(), 1)
                );
                let mut query = sqlx::query(&sql);
                for (case_id, _) in chunk {
                    query = query.bind(*case_id);
                }
                query.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        let rows: Vec<(&str, &str, i64)> = cases
            .iter()
            .filter_map(|(case_id, queue)| Some((*case_id, rules.get((*queue)?)?)))
            .flat_map(|(case_id, rules)| {
                rules
                    .iter()
                    .map(move |(rule_id, every_ms)| (rule_id.as_str(), case_id, *every_ms))
            })
            .collect();
        for chunk in rows.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms) VALUES {} \
                     ON CONFLICT (rule_id, case_id) DO NOTHING",
                    db.placeholders(chunk.len(), 4, 1)
                );
                let mut query = sqlx::query(&sql);
                for (rule_id, case_id, every_ms) in chunk {
                    query = query
                        .bind(rule_id)
                        .bind(*case_id)
                        .bind(now + every_ms)
                        .bind(every_ms);
                }
                query.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Takes up to `limit` due (rule, case) pairs, moves each one period ahead, and emits a
    /// `scheduled` event for it (same transaction: a run is never lost or doubled).
    /// Returns how many events were emitted.
    ///
    /// # Errors
    /// On database failure.
    pub async fn run_due_schedules(
        &mut self,
        now: i64,
        limit: i64,
        new_id: &(dyn Fn() -> String + Sync),
    ) -> Result<usize> {
        let due: Vec<(String, String)> = on_tx!(self, c, db => {
            let sql = db.pick(
                "UPDATE queue_schedule SET due_at = $1 + every_ms \
                 WHERE (rule_id, case_id) IN (SELECT rule_id, case_id FROM queue_schedule \
                                              WHERE due_at <= $1 ORDER BY due_at LIMIT $2) \
                 RETURNING rule_id, case_id",
                "UPDATE queue_schedule SET due_at = $1 + every_ms \
                 WHERE (rule_id, case_id) IN (SELECT rule_id, case_id FROM queue_schedule \
                                              WHERE due_at <= $1 ORDER BY due_at LIMIT $2 \
                                              FOR UPDATE SKIP LOCKED) \
                 RETURNING rule_id, case_id",
            );
            sqlx::query(sql)
                .bind(now)
                .bind(limit)
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        let mut emitted = 0;
        for (rule_id, case_id) in due {
            let Some(stored) = self.case(&case_id).await? else {
                continue;
            };
            let case: Case = stored.case;
            self.insert_event(&NewEvent {
                id: new_id(),
                case_id,
                kind: EventKind::Scheduled,
                changed: Vec::new(),
                before: Some(case.clone()),
                after: case,
                depth: 0,
                rule_id: Some(rule_id),
                now,
            })
            .await?;
            emitted += 1;
        }
        Ok(emitted)
    }
}
