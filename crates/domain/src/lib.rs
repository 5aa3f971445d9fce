//! The pure core of closeloop: domain types, the YAML config loader and validator, the
//! condition evaluator and the rules engine.
//!
//! **Architecture invariant:** this crate performs no I/O, spawns nothing, reads no clock and
//! draws no random numbers. Time (`now`), randomness (`jitter_unit`) and environment lookups
//! are passed in by the caller, so every function here is deterministic and unit-testable.

#![warn(missing_docs)]

pub mod action;
pub mod answer;
pub mod case;
pub mod chat;
pub mod condition;
pub mod config;
pub mod detect;
pub mod duration;
pub mod engine;
pub mod field;
pub mod language;
pub mod page_text;
pub mod phone;
pub mod resolve;
pub mod retry;
pub mod rule;
pub mod status;
pub mod template;
