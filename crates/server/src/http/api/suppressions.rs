//! `GET|POST /suppressions`, `DELETE /suppressions/{phone}`: numbers never messaged.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use closeloop_store::Suppression;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::extract::parse_json;
use crate::http::openapi::ErrorBody;
use crate::http::schemas;
use crate::http::AppState;
use crate::runtime::clock::rfc3339;
use crate::usecase::access::Caller;
use crate::usecase::error::ApiError;
use crate::usecase::suppressions;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSuppression {
    phone: String,
    reason: Option<String>,
    account: Option<String>,
}

/// `GET /api/v1/suppressions`.
#[utoipa::path(get, path = "/suppressions", tag = "suppressions", operation_id = "list_suppressions",
    responses((status = 200, description = "Numbers never messaged", body = schemas::SuppressionList)))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = suppressions::list(&state)
        .await?
        .iter()
        .map(suppression_json)
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `POST /api/v1/suppressions` `{"phone","reason","account"}`.
#[utoipa::path(post, path = "/suppressions", tag = "suppressions", operation_id = "create_suppression",
    request_body(content = schemas::NewSuppression, description = "`{phone, reason, account}`"),
    responses((status = 201, description = "Suppressed", body = schemas::Suppression),
              (status = 422, description = "Not an E.164 number, or unknown account", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let request: NewSuppression = parse_json(&body)?;
    let suppression =
        suppressions::add(&state, &request.phone, request.reason, request.account).await?;
    Ok((StatusCode::CREATED, Json(suppression_json(&suppression))))
}

/// `DELETE /api/v1/suppressions/{phone}`.
#[utoipa::path(delete, path = "/suppressions/{phone}", tag = "suppressions", operation_id = "delete_suppression",
    params(("phone" = String, Path, description = "E.164 number")),
    responses((status = 204, description = "The number may be messaged again"),
              (status = 403, description = "Needs the admin role", body = ErrorBody),
              (status = 404, description = "Not suppressed", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    suppressions::remove(&state, &caller, &phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/suppressions/{phone}`.
///
/// # Errors
/// 404 when the number is not suppressed.
#[utoipa::path(get, path = "/suppressions/{phone}", tag = "suppressions", operation_id = "get_suppression",
    params(("phone" = String, Path, description = "E.164 number")),
    responses((status = 200, description = "The suppression", body = schemas::Suppression),
              (status = 404, description = "Not suppressed", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let normalized = suppressions::normalize(&phone);
    suppressions::list(&state)
        .await?
        .iter()
        .find(|s| s.phone == normalized)
        .map(|s| Json(suppression_json(s)))
        .ok_or_else(|| ApiError::not_found("suppression", &phone))
}

fn suppression_json(s: &Suppression) -> Value {
    json!({"phone": s.phone, "reason": s.reason, "account": s.account, "created_at": rfc3339(s.created_at)})
}
