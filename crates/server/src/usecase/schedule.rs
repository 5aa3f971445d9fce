//! Time-driven work that no request triggers: `scheduled` events for queue rules whose
//! cases are due (SPEC §3 `on: {queue, every}`), and in-progress responses idle longer
//! than `partial_after` (or past their link's expiry) turned `partially_completed`
//! (SPEC §1.2), each a `survey_updated` event.

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
