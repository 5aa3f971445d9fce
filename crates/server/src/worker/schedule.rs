//! The scheduler: time-driven work that no request triggers. It emits `scheduled` events
//! for queue rules whose cases are due (SPEC §3 `on: {queue, every}`), and turns
//! in-progress responses idle longer than `partial_after` (or past their link's expiry)
//! into `partially_completed` (SPEC §1.2), each a `survey_updated` event.

use std::time::Duration;

use closeloop_domain::config::Config;
use closeloop_domain::rule::Trigger;
use closeloop_store::{QueueRules, StoreError};
use tokio::sync::watch;

use crate::app::AppState;
use crate::ids::new_id;
use crate::status::emit_survey_event;

/// Most due items taken per transaction.
const BATCH: i64 = 500;
/// How often the scheduler looks, in clock time.
const TICK: Duration = Duration::from_millis(250);
/// The shortest real pause between rounds, however fast the clock runs.
const MIN_REAL_TICK: Duration = Duration::from_millis(20);

/// The queue rules of the config, by queue.
pub fn queue_rules(config: &Config) -> QueueRules {
    let mut rules = QueueRules::new();
    for rule in &config.rules {
        if let Trigger::Queue { queue, every } = &rule.on {
            let every_ms =
                i64::try_from(every.as_secs().saturating_mul(1000)).unwrap_or(i64::MAX / 4);
            rules
                .entry(queue.clone())
                .or_default()
                .push((rule.id.clone(), every_ms.max(1)));
        }
    }
    rules
}

/// Runs until `stop`.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let never = tokio::sync::Notify::new();
    loop {
        match tick(&state).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "scheduler round failed; retrying"),
        }
        let wait = state.clock.real_duration(TICK).max(MIN_REAL_TICK);
        if super::idle(&never, wait, &mut stop).await {
            return;
        }
    }
}

/// One round; true when a batch was full (more may be due right now).
///
/// # Errors
/// On database failure.
pub async fn tick(state: &AppState) -> Result<bool, StoreError> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let scheduled = tx.run_due_schedules(now, BATCH, &|| new_id("evt")).await?;
    let partials = tx.expire_partials(now, BATCH).await?;
    for (_, case_id) in &partials {
        emit_survey_event(&mut tx, case_id, "survey.response_status", now).await?;
    }
    tx.commit().await?;
    if scheduled > 0 || !partials.is_empty() {
        state.wake_events.notify_one();
    }
    Ok(scheduled as i64 == BATCH || partials.len() as i64 == BATCH)
}
