//! Bearer-token authentication of the API. With no users configured the API is open
//! (and `serve` refuses to listen beyond loopback); with users, every request needs one
//! of their tokens.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::usecase::access::{user_for_token, Caller};
use crate::usecase::error::ApiError;

/// The middleware: passes the request on, with its [`Caller`], when it carries a valid
/// token (or when no users are configured).
pub(crate) async fn require_token(
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
    let user = match user_for_token(&state.store, &config, presented).await {
        Ok(Some(user)) => user,
        Ok(None) => return ApiError::unauthorized("the token is not valid").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    request.extensions_mut().insert(Caller::of(&user));
    next.run(request).await
}
