//! The JSON API under `/api/v1` (SPEC §5).

pub mod access;
pub mod accounts;
pub mod analytics;
pub mod cases;
pub mod distributions;
pub mod invites;
pub mod messages;
pub mod objects;
pub mod openapi;
pub mod resources;
pub mod sandbox;
pub mod suppressions;
pub mod trace;
pub mod users;

use crate::error::ApiError;

/// Any path no route serves.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found("path", uri.path())
}
