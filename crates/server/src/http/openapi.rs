//! The OpenAPI document of the service (`GET /api/v1/openapi.json`): assembled by
//! `utoipa-axum` from the `#[utoipa::path]` of every handler as the router is built, so a
//! route cannot be served without being described.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::usecase::error::Code;

/// The error shape of every 4xx/5xx answer (SPEC §5).
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// The error.
    pub(crate) error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable snake_case code; every code the service answers is listed.
    pub(crate) code: Code,
    /// A sentence for a person.
    pub(crate) message: String,
    /// The field the error is about (`messages.invitation.body_params`).
    pub(crate) path: Option<String>,
    /// Every problem, when a validation found several: `{"path","message"}`.
    pub(crate) details: Option<Vec<Value>>,
}

/// A list answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct ObjectList {
    /// The objects.
    pub(crate) items: Vec<Value>,
    /// Cursor of the next page (null: no more).
    pub(crate) next_cursor: Option<String>,
}

/// The document's fixed part; paths are added by the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "closeloop",
        description = "Customer-feedback surveys over WhatsApp when support cases change. \
                       API paths are under /api/v1; with users configured, every /api/v1 \
                       request needs `Authorization: Bearer <token>`."
    ),
    components(schemas(ErrorBody, ErrorDetail, Code, ObjectList))
)]
pub(crate) struct ApiDoc;

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", body = Value)))]
pub(crate) async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(state.openapi.get().cloned().unwrap_or(Value::Null))
}
