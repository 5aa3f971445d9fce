//! `GET /surveys`, `GET /surveys/{id}`: the surveys the caller may see.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::api::access::require_view;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// `GET /api/v1/surveys`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let items = state
        .config
        .surveys
        .iter()
        .filter(|s| caller.can_view(s))
        .map(|s| serde_json::to_value(s).map_err(ApiError::internal))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `GET /api/v1/surveys/{id}`.
pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let survey = state
        .config
        .survey(&id)
        .ok_or_else(|| ApiError::not_found("survey", &id))?;
    require_view(&caller, survey)?;
    Ok(Json(
        serde_json::to_value(survey).map_err(ApiError::internal)?,
    ))
}
