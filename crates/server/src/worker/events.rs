//! The event worker: claims case events in per-case order and has them evaluated
//! (`usecase::evaluate`), yielding the writer to bulk intake for a bounded time first.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::runtime::intake::IntakeGate;
use crate::usecase::evaluate::process_batch;
use crate::usecase::Context;

/// Longest a batch waits for bulk intake to leave the writer (`runtime::intake`).
const MAX_YIELD_TO_INTAKE: Duration = Duration::from_millis(250);

/// Runs until `stop`.
pub(crate) async fn run(
    ctx: Arc<Context>,
    instance: String,
    intake: Arc<IntakeGate>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        intake.wait_idle(MAX_YIELD_TO_INTAKE).await;
        match process_batch(&ctx, &instance).await {
            Ok(0) => {
                if super::idle(&ctx.wake_events, super::fallback_poll(&ctx), &mut stop).await {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "event processing failed; retrying");
                if super::idle(&ctx.wake_events, Duration::from_secs(1), &mut stop).await {
                    return;
                }
            }
        }
    }
}
