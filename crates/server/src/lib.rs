//! closeloop: customer-feedback surveys over WhatsApp when support cases change.
//!
//! This crate is the service around the pure domain (`closeloop_domain`): the HTTP API,
//! Meta's webhooks, survey pages, the workers that evaluate rules and send messages, the
//! sandbox provider, and the command line. See `ARCHITECTURE.md` for the map.

pub mod actions;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config_file;
pub mod conversation;
pub mod error;
pub mod extract;
pub mod ids;
pub mod inbound;
pub mod ingest;
pub mod intake;
pub mod live;
pub mod metrics;
pub mod ops;
pub mod rate;
pub mod sandbox;
pub mod snapshot;
pub mod status;
pub mod survey_page;
pub mod webhook;
pub mod worker;
