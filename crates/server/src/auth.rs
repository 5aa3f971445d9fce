//! Bearer-token authentication of the API. With no users configured the API is open
//! (and `serve` refuses to listen beyond loopback); with users, every request needs one
//! of their tokens.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;

/// The middleware: passes the request on when it carries a valid token.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.config.users.is_empty() {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return ApiError::unauthorized("an Authorization: Bearer <token> header is required")
            .into_response();
    };
    if user_for_token(&state, presented).is_none() {
        return ApiError::unauthorized("the token is not valid").into_response();
    }
    next.run(request).await
}

/// The id of the user holding `token`. Tokens are compared through their SHA-256 digests
/// so the comparison time says nothing about the token.
pub fn user_for_token(state: &AppState, token: &str) -> Option<String> {
    let presented = Sha256::digest(token.as_bytes());
    state
        .config
        .users
        .iter()
        .find(|u| Sha256::digest(u.token.expose().as_bytes()) == presented)
        .map(|u| u.id.clone())
}
