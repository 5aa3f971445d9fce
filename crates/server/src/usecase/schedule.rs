//! Time-driven work that no request triggers: `scheduled` events for queue rules whose
//! cases are due (SPEC §3 `on: {queue, every, for}`), in-progress responses idle longer
//! than `partial_after` (or past their link's expiry) turned `partially_completed`
//! (SPEC §1.2), each a `survey_updated` event, and finished events past their retention
//! removed.

use closeloop_store::StoreError;

use crate::runtime::ids::new_id;
use crate::usecase::status;
use crate::usecase::Context;

/// Most due items taken per transaction.
pub(crate) const BATCH: i64 = 500;

/// One round of due work; true when a batch was full (more may be due right now).
///
/// # Errors
/// On database failure.
pub(crate) async fn run_due(ctx: &Context) -> Result<bool, StoreError> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    let scheduled = tx.run_due_schedules(now, BATCH, &|| new_id("evt")).await?;
    let partials = status::expire_partials(&mut tx, BATCH, now).await?;
    tx.commit().await?;
    if scheduled > 0 || partials > 0 {
        ctx.wake_events.notify_one();
    }
    Ok(scheduled as i64 == BATCH || partials as i64 == BATCH)
}

/// Removes finished events (and their traces) and remembered inbound wamids older than the
/// config's retention, at most one batch of each. Returns how many events.
///
/// # Errors
/// On database failure.
pub(crate) async fn prune(ctx: &Context) -> Result<u64, StoreError> {
    let keep_ms = i64::try_from(ctx.config().retention.events.as_secs().saturating_mul(1000))
        .unwrap_or(i64::MAX / 4);
    let mut tx = ctx.store.begin().await?;
    let before = ctx.clock.now_ms() - keep_ms;
    let removed = tx.prune_finished_events(before, BATCH).await?;
    tx.prune_inbound_wamids(before, BATCH).await?;
    tx.commit().await?;
    Ok(removed)
}
