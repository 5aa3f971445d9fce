//! The scheduler loop: runs the due time-driven work (`usecase::schedule`) every tick of
//! the service clock.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::schedule::run_due;
use crate::usecase::Context;

/// How often the scheduler looks, in clock time.
const TICK: Duration = Duration::from_millis(250);
/// The shortest real pause between rounds, however fast the clock runs.
const MIN_REAL_TICK: Duration = Duration::from_millis(20);

/// Runs until `stop`.
pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let never = tokio::sync::Notify::new();
    loop {
        match run_due(&ctx).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "scheduler round failed; retrying"),
        }
        let wait = ctx.clock.real_duration(TICK).max(MIN_REAL_TICK);
        if super::idle(&never, wait, &mut stop).await {
            return;
        }
    }
}
