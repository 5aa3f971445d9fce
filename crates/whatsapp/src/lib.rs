//! Our own thin client for Meta's WhatsApp Cloud API.
//!
//! The crate owns the wire format (SPEC §6; templates, text and interactive messages, with
//! Meta's size limits checked before sending), one HTTP call (`send`), the policy that turns a
//! provider error into a retry class, the `X-Hub-Signature-256` check and the flattening of
//! webhook payloads into events. It holds no state and knows nothing of invites or surveys.
//!
//! Inbound models are deliberately lenient: every field is optional, unknown fields are ignored
//! and unknown enum values are kept as strings, because Meta changes this platform often.

pub mod classify;
pub mod client;
pub mod signature;
pub mod webhook;
pub mod wire;

pub use classify::{classify, classify_code, ErrorClass};
pub use client::{Accepted, CloudClient, Outbound, SendError};
pub use webhook::{DeliveryStatus, InboundContent, InboundEvent, StatusEvent, WebhookEvent};
