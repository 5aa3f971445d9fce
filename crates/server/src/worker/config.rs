//! The config watcher: every second, puts in force the config changes another process
//! stored (`usecase::config_change::refresh`), so a change made through any process's
//! API holds on every process within a few seconds (SPEC §7).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::usecase::config_change::refresh;
use crate::usecase::Context;

/// How often the database's config revision is compared with the one in force.
const POLL: Duration = Duration::from_secs(1);

/// Runs until `stop`.
pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let never = tokio::sync::Notify::new();
    loop {
        if let Err(e) = refresh(&ctx).await {
            tracing::error!(error = ?e, "could not load the config changed by another process; the one in force stays");
        }
        if super::idle(&never, POLL, &mut stop).await {
            return;
        }
    }
}
