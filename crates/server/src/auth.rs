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

/// Who is calling, as the handlers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No users are configured: the API is open (and `serve` listens on loopback only).
    Open,
    /// A configured user.
    User {
        /// The user id.
        id: String,
        /// Admins have every right.
        admin: bool,
    },
}

impl Caller {
    /// Whether the caller may read a survey's distributions, invites and analytics.
    pub fn can_view(&self, survey: &closeloop_domain::config::Survey) -> bool {
        match self {
            Caller::Open => true,
            Caller::User { id, admin } => *admin || survey.can_view(id),
        }
    }

    /// Whether the caller may change, clone, test and pause a survey's distributions.
    pub fn can_edit(&self, survey: &closeloop_domain::config::Survey) -> bool {
        match self {
            Caller::Open => true,
            Caller::User { id, admin } => *admin || survey.can_edit(id),
        }
    }
}

/// The middleware: passes the request on, with its [`Caller`], when it carries a valid
/// token (or when no users are configured).
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if state.config.users.is_empty() {
        request.extensions_mut().insert(Caller::Open);
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
    let Some(id) = user_for_token(&state, presented) else {
        return ApiError::unauthorized("the token is not valid").into_response();
    };
    let admin = state
        .config
        .user(&id)
        .is_some_and(|u| u.role == closeloop_domain::config::Role::Admin);
    request.extensions_mut().insert(Caller::User { id, admin });
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
