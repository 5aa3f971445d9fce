//! API tokens of users: `GET|POST /users/{id}/tokens` and
//! `DELETE /users/{id}/tokens/{token_id}`. A token is shown once, when issued; only its
//! SHA-256 digest is stored. A user (or an admin) can issue and revoke their own.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::http::openapi::ErrorBody;
use crate::http::schemas::TokenList;
use crate::http::AppState;
use crate::runtime::clock::rfc3339;
use crate::usecase::access::require_admin;
use crate::usecase::access::Caller;
use crate::usecase::config_change::IssuedToken;
use crate::usecase::error::ApiError;

/// 404 for an unknown user; 403 unless the caller is that user or an admin.
fn require_self_or_admin(state: &AppState, caller: &Caller, user: &str) -> Result<(), ApiError> {
    if state.config().user(user).is_none() {
        return Err(ApiError::not_found("user", user));
    }
    if caller.user_id() == Some(user) {
        return Ok(());
    }
    require_admin(caller, &format!("managing the tokens of user {user}"))
}

/// `POST /api/v1/users/{id}/tokens`: a new token, shown only in this answer.
///
/// # Errors
/// 403, 404.
#[utoipa::path(post, path = "/users/{id}/tokens", tag = "users", operation_id = "issue_user_token",
    params(("id" = String, Path, description = "User id")),
    responses((status = 201, description = "The new token (`token`), shown only this once", body = crate::http::schemas::IssuedToken),
              (status = 403, description = "Only the user or an admin", body = ErrorBody),
              (status = 404, description = "No such user", body = ErrorBody)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_self_or_admin(&state, &caller, &user)?;
    let issued = IssuedToken::new(&user);
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    issued.effect().apply(&mut tx, now).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": issued.id, "user": user, "token": issued.token, "created_at": rfc3339(now)}),
        ),
    ))
}

/// `GET /api/v1/users/{id}/tokens`: the user's tokens (never the tokens themselves).
///
/// # Errors
/// 403, 404.
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "users", operation_id = "list_user_tokens",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "Token ids with when they were issued and revoked", body = TokenList),
              (status = 403, description = "Only the user or an admin", body = ErrorBody),
              (status = 404, description = "No such user", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_self_or_admin(&state, &caller, &user)?;
    let items: Vec<Value> = state
        .store
        .api_tokens(&user)
        .await?
        .iter()
        .map(|t| {
            json!({"id": t.id, "user": t.user, "created_at": rfc3339(t.created_at),
                   "revoked_at": t.revoked_at.map(rfc3339)})
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `DELETE /api/v1/users/{id}/tokens/{token_id}`: revokes one token at once.
///
/// # Errors
/// 403, 404 (unknown user, or no live token with that id).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "users", operation_id = "revoke_user_token",
    params(("id" = String, Path, description = "User id"),
           ("token_id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked: the token no longer authenticates"),
              (status = 403, description = "Only the user or an admin", body = ErrorBody),
              (status = 404, description = "No such user or live token", body = ErrorBody)))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((user, token)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_self_or_admin(&state, &caller, &user)?;
    let mut tx = state.store.begin().await?;
    let revoked = tx
        .revoke_api_tokens(&user, Some(&token), state.clock.now_ms())
        .await?;
    tx.commit().await?;
    if revoked == 0 {
        return Err(ApiError::not_found("token", &token));
    }
    Ok(StatusCode::NO_CONTENT)
}
