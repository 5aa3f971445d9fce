//! `POST /accounts/{id}/resume`: an operator restarts an account the provider stopped.
//! (Reading and writing accounts is the config objects API, `api::objects`.)

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::http::openapi::ErrorBody;
use crate::http::schemas::Resumed;
use crate::http::AppState;
use crate::usecase::accounts;
use crate::usecase::error::ApiError;

/// `POST /api/v1/accounts/{id}/resume`: an operator says the account's credentials or
/// standing are fixed; its queued messages go out again. Admins only (when users exist).
#[utoipa::path(post, path = "/accounts/{id}/resume", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "Healthy again; kept messages go out", body = Resumed),
              (status = 403, description = "Needs the admin role", body = ErrorBody),
              (status = 404, description = "No such account", body = ErrorBody)))]
pub(crate) async fn resume(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::usecase::access::Caller>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    accounts::resume(&state, &caller, &id).await?;
    Ok(Json(json!({"id": id, "healthy": true})))
}
