//! Bearer-token authentication of the API. With no users configured the API is open
//! (and `serve` refuses to listen beyond loopback); with users, every request needs one
//! of their tokens.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use closeloop_domain::config::{Config, Role, User};

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
    /// The user's id (`None` on an open API).
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::Open => None,
            Caller::User { id, .. } => Some(id),
        }
    }

    /// Whether the caller has every right (an admin, or anyone on an open API).
    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Open | Caller::User { admin: true, .. })
    }

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
    let config = state.config();
    if config.users.is_empty() {
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
    let user = match user_for_token(&state, &config, presented).await {
        Ok(Some(user)) => user,
        Ok(None) => return ApiError::unauthorized("the token is not valid").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let caller = Caller::User {
        admin: user.role == Role::Admin,
        id: user.id.clone(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The SHA-256 digest of a token, hex: what is stored and looked up, never the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The user holding `token`: a token of the config file, or a live one issued through
/// the API whose user still exists. Tokens are compared through their SHA-256 digests, so
/// the comparison time says nothing about the token.
///
/// # Errors
/// On database failure.
pub async fn user_for_token(
    state: &AppState,
    config: &Config,
    token: &str,
) -> Result<Option<User>, closeloop_store::StoreError> {
    let presented = Sha256::digest(token.as_bytes());
    let from_file = config.users.iter().find(|u| {
        u.token
            .as_ref()
            .is_some_and(|t| Sha256::digest(t.expose().as_bytes()) == presented)
    });
    if let Some(user) = from_file {
        return Ok(Some(user.clone()));
    }
    let issued = state.store.api_token_user(&hex::encode(presented)).await?;
    Ok(issued.and_then(|id| config.user(&id).cloned()))
}
