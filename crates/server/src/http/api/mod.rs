//! The JSON API under `/api/v1` (SPEC §5): one module per resource, each handler a thin
//! translation between HTTP and the operations in `usecase`.

pub(crate) mod accounts;
pub(crate) mod analytics;
pub(crate) mod cases;
pub(crate) mod distributions;
pub(crate) mod invites;
pub(crate) mod messages;
pub(crate) mod objects;
pub(crate) mod resources;
pub(crate) mod sandbox;
pub(crate) mod suppressions;
pub(crate) mod trace;
pub(crate) mod users;
