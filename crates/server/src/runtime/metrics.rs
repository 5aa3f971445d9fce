//! Prometheus metrics of the service (`GET /metrics`).

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric closeloop exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Events processed, by kind.
    pub events: IntCounterVec,
    /// Rule evaluations, by rule and whether it matched.
    pub rule_runs: IntCounterVec,
    /// Invites created, by initial status.
    pub invites_created: IntCounterVec,
    /// Send attempts, by outcome and provider error code.
    pub messages: IntCounterVec,
    /// Webhook requests, by result.
    pub webhooks: IntCounterVec,
    /// Time from a message being queued to the provider accepting it.
    pub dispatch_latency: Histogram,
    /// Messages not settled yet (refreshed at scrape).
    pub outbox_depth: IntGauge,
    /// Events not processed yet (refreshed at scrape).
    pub events_pending: IntGauge,
    /// Invites by current status (refreshed at scrape).
    pub invites_by_status: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    ///
    /// # Panics
    /// Never in practice: names are static and registered once into a new registry.
    #[allow(clippy::expect_used)]
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let events = counter("closeloop_events_total", "Case events processed", &["kind"]);
        let rule_runs = counter(
            "closeloop_rule_runs_total",
            "Rule evaluations",
            &["rule", "matched"],
        );
        let invites_created = counter(
            "closeloop_invites_created_total",
            "Invites created",
            &["status"],
        );
        let messages = counter(
            "closeloop_messages_total",
            "WhatsApp send attempts by outcome",
            &["outcome", "code"],
        );
        let webhooks = counter("closeloop_webhooks_total", "Webhook requests", &["result"]);
        let dispatch_latency = Histogram::with_opts(
            HistogramOpts::new(
                "closeloop_dispatch_latency_seconds",
                "From message queued to accepted by the provider",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
            ]),
        )
        .expect("valid metric");
        registry
            .register(Box::new(dispatch_latency.clone()))
            .expect("unique metric");
        let outbox_depth = IntGauge::new("closeloop_outbox_depth", "Messages not settled yet")
            .expect("valid metric");
        registry
            .register(Box::new(outbox_depth.clone()))
            .expect("unique metric");
        let events_pending = IntGauge::new("closeloop_events_pending", "Events not processed yet")
            .expect("valid metric");
        registry
            .register(Box::new(events_pending.clone()))
            .expect("unique metric");
        let invites_by_status = IntGaugeVec::new(
            Opts::new("closeloop_invites", "Invites by current status"),
            &["status"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(invites_by_status.clone()))
            .expect("unique metric");
        Metrics {
            registry,
            events,
            rule_runs,
            invites_created,
            messages,
            webhooks,
            dispatch_latency,
            outbox_depth,
            events_pending,
            invites_by_status,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if encoder
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
