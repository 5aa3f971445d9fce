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
    /// Tells the store which queues have rules, and reconciles the schedule with the
    /// cases already in those queues (rules added, removed or changed since the last
    /// start). Costs one pass over the scheduled queues; runs at start-up.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_queue_rules(&self, rules: QueueRules, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let known: Vec<&str> = rules
            .values()
            .flatten()
            .map(|(id, _)| id.as_str())
            .collect();
        let existing: Vec<String> = sqlx::query("SELECT DISTINCT rule_id FROM queue_schedule")
            .fetch_all(&mut *tx.tx)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for stale in existing.iter().filter(|r| !known.contains(&r.as_str())) {
            sqlx::query("DELETE FROM queue_schedule WHERE rule_id = $1")
                .bind(stale)
                .execute(&mut *tx.tx)
                .await?;
        }
        for (queue, queue_rules) in &rules {
            for (rule_id, every_ms) in queue_rules {
                sqlx::query(
                    "DELETE FROM queue_schedule WHERE rule_id = $1 AND case_id NOT IN \
                     (SELECT id FROM cases WHERE queue = $2)",
                )
                .bind(rule_id)
                .bind(queue)
                .execute(&mut *tx.tx)
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
                .execute(&mut *tx.tx)
                .await?;
            }
        }
        tx.commit().await?;
        if let Ok(mut current) = self.queue_rules.write() {
            *current = rules;
        }
        Ok(())
    }

    /// Number of scheduled (rule, case) pairs.
    ///
    /// # Errors
    /// On database failure.
    pub async fn scheduled_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM queue_schedule")
            .fetch_one(&self.read)
            .await?
            .get(0))
    }
}

impl StoreTx {
    /// Re-points a case's schedule rows at its new queue (called when the queue changes).
    ///
    /// # Errors
    /// On database failure.
    pub async fn reschedule_queue(
        &mut self,
        case_id: &str,
        queue: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.reschedule_queues(&[(case_id, queue)], now).await
    }

    /// [`StoreTx::reschedule_queue`] for many cases, in a few statements.
    ///
    /// # Errors
    /// On database failure.
    pub async fn reschedule_queues(
        &mut self,
        cases: &[(&str, Option<&str>)],
        now: i64,
    ) -> Result<()> {
        for chunk in cases.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM queue_schedule WHERE case_id IN {}",
                crate::values_placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for (case_id, _) in chunk {
                query = query.bind(*case_id);
            }
            query.execute(&mut *self.tx).await?;
        }
        let rows: Vec<(String, &str, i64)> = {
            let rules = self
                .queue_rules
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cases
                .iter()
                .filter_map(|(case_id, queue)| Some((*case_id, rules.get((*queue)?)?)))
                .flat_map(|(case_id, rules)| {
                    rules
                        .iter()
                        .map(move |(rule_id, every_ms)| (rule_id.clone(), case_id, *every_ms))
                })
                .collect()
        };
        for chunk in rows.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms) VALUES {} \
                 ON CONFLICT (rule_id, case_id) DO NOTHING",
                crate::values_placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for (rule_id, case_id, every_ms) in chunk {
                query = query
                    .bind(rule_id)
                    .bind(*case_id)
                    .bind(now + every_ms)
                    .bind(every_ms);
            }
            query.execute(&mut *self.tx).await?;
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
        let due = sqlx::query(
            "UPDATE queue_schedule SET due_at = $1 + every_ms \
             WHERE (rule_id, case_id) IN (SELECT rule_id, case_id FROM queue_schedule \
                                          WHERE due_at <= $1 ORDER BY due_at LIMIT $2) \
             RETURNING rule_id, case_id",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut emitted = 0;
        for row in &due {
            let rule_id: String = row.get(0);
            let case_id: String = row.get(1);
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
