//! Retention: finished events (with their traces) and the wamids of inbound messages
//! older than the configured time are removed, a bounded batch at a time. Pending events,
//! invites, answers and analytics are never touched.

use crate::{Result, StoreTx};

impl StoreTx {
    /// Removes up to `limit` events finished before `before` (unix ms), oldest first.
    /// Returns how many.
    ///
    /// # Errors
    /// On database failure.
    pub async fn prune_finished_events(&mut self, before: i64, limit: i64) -> Result<u64> {
        self.delete_batch(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE done_at IS NOT NULL AND done_at < $1 ORDER BY seq LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Removes up to `limit` remembered inbound wamids received before `before` (unix ms).
    /// Returns how many.
    ///
    /// # Errors
    /// On database failure.
    pub async fn prune_inbound_wamids(&mut self, before: i64, limit: i64) -> Result<u64> {
        self.delete_batch(
            "DELETE FROM inbound_wamids WHERE wamid IN (SELECT wamid FROM inbound_wamids \
             WHERE received_at < $1 ORDER BY received_at LIMIT $2)",
            before,
            limit,
        )
        .await
    }

    /// Runs a batch delete whose `$1` is the cut-off time and `$2` the batch size.
    async fn delete_batch(&mut self, sql: &str, before: i64, limit: i64) -> Result<u64> {
        Ok(on_tx!(self, c => {
            sqlx::query(sql)
                .bind(before)
                .bind(limit)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}
