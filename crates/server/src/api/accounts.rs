//! `POST /accounts/{id}/resume`: an operator restarts an account the provider stopped.
//! (Reading and writing accounts is the config objects API, `api::objects`.)

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::error::ApiError;

/// `POST /api/v1/accounts/{id}/resume`: an operator says the account's credentials or
/// standing are fixed; its queued messages go out again. Admins only (when users exist).
#[utoipa::path(post, path = "/accounts/{id}/resume", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "Healthy again; kept messages go out", body = Value),
              (status = 403, description = "Needs the admin role", body = ErrorBody),
              (status = 404, description = "No such account", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    if matches!(caller, crate::auth::Caller::User { admin: false, .. }) {
        return Err(ApiError::forbidden(
            "resuming an account needs the admin role",
        ));
    }
    if state.config().account(&id).is_none() {
        return Err(ApiError::not_found("account", &id));
    }
    state.store.reset_account_health(&id).await?;
    state.wake_dispatch.notify_waiters();
    tracing::info!(account = %id, "account resumed by an operator");
    Ok(Json(json!({"id": id, "healthy": true})))
}
