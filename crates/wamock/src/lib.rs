//! A local stand-in for Meta's WhatsApp Cloud API, for integration tests and benchmarks.
//!
//! It answers sends like Meta does (templates validated against a registry of their buttons and
//! header, text and interactive messages against Meta's limits and the 24-hour customer
//! service window, real-shaped bodies and Graph errors, the pair rate limit), records what it
//! accepted, and posts signed webhooks (statuses, and inbound messages and taps that open the
//! window) to the service under test, re-delivering when the service does not answer 200.
//!
//! **Architecture Invariant:** the mock speaks only through `closeloop-whatsapp`'s wire types
//! and signature function, so a drift between client and mock shows up as a failing test.

mod api;
mod cloud;
mod config;
mod deliver;
mod escape;
mod failure;
mod ids;
mod outgoing;
mod payload;
mod state;
mod storm;
mod validate;

pub use cloud::{Inbound, MockCloud, Posted};
pub use config::{
    HeaderFormat, MockAccount, MockConfig, TemplateButton, TemplateDef, WindowRefusal,
};
pub use failure::Failure;
pub use outgoing::Outgoing;
pub use state::Received;
pub use storm::FaultStorm;
