//! closeloop: customer-feedback surveys over WhatsApp when support cases change.
//!
//! This crate is the service around the pure domain (`closeloop_domain`) and the store
//! (`closeloop_store`), in layers: the transports (`cli`, `http`, `worker`) call the
//! operations in `usecase`, which use the process's shared handles in `runtime`; `app`
//! wires them together. See `ARCHITECTURE.md` for the map and the rules between layers.

pub mod app;
pub mod cli;
pub(crate) mod http;
pub(crate) mod runtime;
pub(crate) mod usecase;
pub(crate) mod worker;
