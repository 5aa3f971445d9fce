//! The process's shared handles: the clock, ids and tokens, metrics, the live config,
//! the per-process sending windows, the intake gate, the sandbox's record and the sealing
//! of secrets at rest. They hold
//! state or talk to the OS, and know nothing of HTTP, workers or operations.

pub(crate) mod clock;
pub(crate) mod ids;
pub(crate) mod intake;
pub(crate) mod live;
pub(crate) mod metrics;
pub(crate) mod rate;
pub(crate) mod sandbox;
pub(crate) mod secret;
