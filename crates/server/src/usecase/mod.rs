//! The operations a user, Meta or the clock triggers, each in one module, called by every
//! transport alike (the REST API, the survey page, the webhook, the workers, the CLI):
//! they decide, write through the store, and wake the workers. They never import a
//! transport; what they need is a [`Context`] of narrow handles.

pub(crate) mod access;
pub(crate) mod accounts;
pub(crate) mod actions;
pub(crate) mod analytics;
pub(crate) mod answers;
pub(crate) mod case_search;
pub(crate) mod case_view;
pub(crate) mod config_change;
pub(crate) mod conversation;
pub(crate) mod delivery;
pub(crate) mod distributions;
pub(crate) mod error;
pub(crate) mod evaluate;
pub(crate) mod in_chat;
pub(crate) mod inbound;
pub(crate) mod ingest;
pub(crate) mod opt_out;
pub(crate) mod quick_reply;
pub(crate) mod rule_trial;
pub(crate) mod schedule;
pub(crate) mod sessions;
pub(crate) mod settle;
pub(crate) mod simulate;
pub(crate) mod snapshot;
pub(crate) mod status;
pub(crate) mod suppressions;

use std::sync::Arc;

use closeloop_domain::config::Config;
use closeloop_store::Store;
use tokio::sync::Notify;

use crate::runtime::clock::Clock;
use crate::runtime::live::LiveConfig;
use crate::runtime::metrics::Metrics;

/// What an operation may use: the database, the config in force, the clock, the metrics
/// and the signals that wake the workers after a commit.
pub(crate) struct Context {
    /// The configuration in force (the file with the API's changes).
    pub(crate) live: LiveConfig,
    /// The database.
    pub(crate) store: Store,
    /// Prometheus metrics.
    pub(crate) metrics: Metrics,
    /// The service clock.
    pub(crate) clock: Clock,
    /// Wakes the event worker when an event was committed.
    pub(crate) wake_events: Notify,
    /// Wakes the dispatcher when a message was queued or the config changed.
    pub(crate) wake_dispatch: Notify,
    /// Group commit of case updates, webhook statuses and send outcomes.
    pub(crate) ingest: ingest::Ingest,
}

impl Context {
    /// The configuration in force now.
    pub(crate) fn config(&self) -> Arc<Config> {
        self.live.get()
    }

    /// The customer's survey link for a token.
    pub(crate) fn survey_link(&self, token: &str) -> String {
        format!(
            "{}/s/{token}",
            self.config().public_url.trim_end_matches('/')
        )
    }
}
