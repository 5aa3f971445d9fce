//! The queue-rule schedule: which case each `on: {queue, every}` rule looks at next, and
//! when. Rows follow the case's queue (written with the case change), so a run reads only
//! the rows that are due, whatever the number of cases stored.

use std::collections::HashMap;

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use sqlx::Row;

use crate::events::NewEvent;
use crate::{Backend, Fields, Result, Store, StoreTx};

/// A queue rule as the schedule needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRule {
    /// The rule id.
    pub id: String,
    /// How often it runs on a case, in ms (`every`).
    pub every_ms: i64,
    /// How long after a case entered the queue it stops running on it, in ms (`for`).
    pub for_ms: i64,
}

/// Queue rules by queue.
pub type QueueRules = HashMap<String, Vec<QueueRule>>;

/// The schedule of one queue rule on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSchedule {
    /// The rule id.
    pub rule_id: String,
    /// The next run (unix ms).
    pub due_at: i64,
    /// When the rule stops running on the case (unix ms).
    pub ends_at: i64,
    /// Runs that matched nothing and changed nothing since the last stored event.
    pub skipped_runs: i64,
    /// The last run (unix ms), stored or skipped.
    pub last_run_at: Option<i64>,
    /// What the last run did, in a word.
    pub last_outcome: Option<String>,
}

impl Store {
    /// Reconciles the schedule with the queue rules in force and the cases already in
    /// their queues (rules added, removed or changed since the last start or config
    /// change). Costs one pass over the scheduled queues.
    ///
    /// # Errors
    /// On database failure.
    pub async fn set_queue_rules(&self, rules: &QueueRules, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let known: Vec<&str> = rules.values().flatten().map(|r| r.id.as_str()).collect();
        let existing: Vec<String> = on_tx!(tx, c => {
            sqlx::query("SELECT DISTINCT rule_id FROM queue_schedule")
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, ::sqlx::Error>>()
        })?;
        for stale in existing.iter().filter(|r| !known.contains(&r.as_str())) {
            on_tx!(tx, c => sqlx::query("DELETE FROM queue_schedule WHERE rule_id = $1")
                .bind(stale)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        for (queue, queue_rules) in rules {
            for rule in queue_rules {
                on_tx!(tx, c => {
                    sqlx::query(
                        "DELETE FROM queue_schedule WHERE rule_id = $1 AND case_id NOT IN \
                         (SELECT id FROM cases WHERE queue = $2)",
                    )
                    .bind(&rule.id)
                    .bind(queue)
                    .execute(&mut *c)
                    .await?;
                    sqlx::query(
                        "INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms, entered_at, for_ms) \
                         SELECT $1, id, $3 + $4, $4, $3, $5 FROM cases WHERE queue = $2 \
                         ON CONFLICT (rule_id, case_id) DO UPDATE SET every_ms = excluded.every_ms, \
                         for_ms = excluded.for_ms",
                    )
                    .bind(&rule.id)
                    .bind(queue)
                    .bind(now)
                    .bind(rule.every_ms)
                    .bind(rule.for_ms)
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
        let rows: Vec<(&QueueRule, &str)> = cases
            .iter()
            .filter_map(|(case_id, queue)| Some((*case_id, rules.get((*queue)?)?)))
            .flat_map(|(case_id, rules)| rules.iter().map(move |rule| (rule, case_id)))
            .collect();
        for chunk in rows.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            on_tx!(self, c, db => {
                let sql = format!(
                    "INSERT INTO queue_schedule (rule_id, case_id, due_at, every_ms, entered_at, for_ms) \
                     VALUES {} ON CONFLICT (rule_id, case_id) DO NOTHING",
                    db.placeholders(chunk.len(), 6, 1)
                );
                let mut query = sqlx::query(&sql);
                for (rule, case_id) in chunk {
                    query = query
                        .bind(&rule.id)
                        .bind(*case_id)
                        .bind(now + rule.every_ms)
                        .bind(rule.every_ms)
                        .bind(now)
                        .bind(rule.for_ms);
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
            // A case in the queue longer than the rule's `for` leaves its schedule when
            // its next run falls due.
            let ended = "SELECT rule_id, case_id FROM queue_schedule \
                 WHERE due_at <= $1 AND entered_at + for_ms <= $1 ORDER BY due_at LIMIT $2";
            let due = "SELECT rule_id, case_id FROM queue_schedule \
                 WHERE due_at <= $1 AND (entered_at IS NULL OR entered_at + for_ms > $1) \
                 ORDER BY due_at LIMIT $2";
            let (ended, due) = match db {
                Backend::Sqlite => (ended.to_owned(), due.to_owned()),
                Backend::Postgres => (
                    format!("{ended} FOR UPDATE SKIP LOCKED"),
                    format!("{due} FOR UPDATE SKIP LOCKED"),
                ),
            };
            sqlx::query(&format!(
                "DELETE FROM queue_schedule WHERE (rule_id, case_id) IN ({ended})"
            ))
            .bind(now)
            .bind(limit)
            .execute(&mut *c)
            .await?;
            sqlx::query(&format!(
                "UPDATE queue_schedule SET due_at = $1 + every_ms \
                 WHERE (rule_id, case_id) IN ({due}) RETURNING rule_id, case_id"
            ))
                .bind(now)
                .bind(limit)
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<(String, String)>, ::sqlx::Error>>()
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
                note: None,
                now,
            })
            .await?;
            emitted += 1;
        }
        Ok(emitted)
    }
}

impl StoreTx {
    /// Records a scheduled run that matched nothing and changed nothing: its event (still
    /// leased to `owner`) is removed instead of kept, and the schedule row counts the run.
    /// Returns false when the event was not ours any more.
    ///
    /// # Errors
    /// On database failure.
    pub async fn skip_scheduled_run(
        &mut self,
        seq: i64,
        owner: &str,
        rule_id: &str,
        case_id: &str,
        outcome: &str,
        now: i64,
    ) -> Result<bool> {
        let removed = on_tx!(self, c => {
            sqlx::query("DELETE FROM events WHERE seq = $1 AND lease_owner = $2 AND done_at IS NULL")
                .bind(seq)
                .bind(owner)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if removed != 1 {
            return Ok(false);
        }
        on_tx!(self, c => {
            sqlx::query(
                "UPDATE queue_schedule SET skipped_runs = skipped_runs + 1, last_run_at = $3, \
                 last_outcome = $4 WHERE rule_id = $1 AND case_id = $2",
            )
            .bind(rule_id)
            .bind(case_id)
            .bind(now)
            .bind(outcome)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(true)
    }

    /// Records a scheduled run that was stored as an event: the count of skipped runs
    /// starts again.
    ///
    /// # Errors
    /// On database failure.
    pub async fn stored_scheduled_run(
        &mut self,
        rule_id: &str,
        case_id: &str,
        outcome: &str,
        now: i64,
    ) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "UPDATE queue_schedule SET skipped_runs = 0, last_run_at = $3, last_outcome = $4 \
                 WHERE rule_id = $1 AND case_id = $2",
            )
            .bind(rule_id)
            .bind(case_id)
            .bind(now)
            .bind(outcome)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

impl Store {
    /// The queue-rule schedules of a case, by rule id.
    ///
    /// # Errors
    /// On database failure.
    pub async fn case_schedules(&self, case_id: &str) -> Result<Vec<CaseSchedule>> {
        on_read!(self, c => {
            let rows = sqlx::query(
                "SELECT rule_id, due_at, COALESCE(entered_at, 0) + for_ms AS ends_at, skipped_runs, \
                 last_run_at, last_outcome FROM queue_schedule WHERE case_id = $1 ORDER BY rule_id",
            )
            .bind(case_id)
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(CaseSchedule {
                        rule_id: r.text("rule_id")?,
                        due_at: r.int("due_at")?,
                        ends_at: r.int("ends_at")?,
                        skipped_runs: r.int("skipped_runs")?,
                        last_run_at: r.opt_int("last_run_at")?,
                        last_outcome: r.opt_text("last_outcome")?,
                    })
                })
                .collect()
        })
    }
}
