//! The scheduler loop: runs the due time-driven work (`usecase::schedule`) every tick of
//! the service clock, and prunes finished events past their retention every minute.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::schedule::{prune, run_due};
use crate::usecase::Context;

/// How often the scheduler looks, in clock time: queue rules run every minute or more and
/// partial answers expire after hours, so a second's lateness is nothing, and an idle
/// service's writer stays quiet.
const TICK: Duration = Duration::from_secs(1);
/// The shortest real pause between rounds, however fast the clock runs.
const MIN_REAL_TICK: Duration = Duration::from_millis(20);
/// How often, in clock time, finished events past their retention are looked for.
const PRUNE_EVERY_MS: i64 = 60_000;

/// Runs until `stop`.
pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let never = tokio::sync::Notify::new();
    let mut next_prune = 0;
    loop {
        if ctx.clock.now_ms() >= next_prune {
            match prune(&ctx).await {
                // A full batch: more may be past their retention; look again next round.
                Ok(n) if n as i64 >= crate::usecase::schedule::BATCH => {}
                Ok(_) => next_prune = ctx.clock.now_ms() + PRUNE_EVERY_MS,
                Err(e) => tracing::error!(error = %e, "pruning old events failed; retrying"),
            }
        }
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
