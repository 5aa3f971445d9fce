//! `GET /cases/{id}/trace`: for every event of a case, which rules ran, what each
//! condition saw, and what each action did and why; and for each queue rule on the case,
//! the runs that did nothing since its last stored one (`skipped_runs`).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use crate::http::openapi::ErrorBody;
use crate::http::schemas::Trace;
use crate::http::AppState;
use crate::usecase::case_view;
use crate::usecase::error::ApiError;

/// `GET /api/v1/cases/{id}/trace`.
#[utoipa::path(get, path = "/cases/{id}/trace", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "Every event: rules, conditions with the values seen, actions with outcome and reason", body = Trace),
              (status = 404, description = "No such case", body = ErrorBody)))]
pub(crate) async fn get_trace(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    case_view::trace(&state, &id).await.map(Json)
}
