//! The OpenAPI document of the service (`GET /api/v1/openapi.json`): assembled by
//! `utoipa-axum` from the `#[utoipa::path]` of every handler as the router is built, so a
//! route cannot be served without being described.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::schemas::{GroupBy, InviteStatus, MessageKind};
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

/// The document's fixed part; paths are added by the router. The enums that only query
/// parameters name are listed here, as utoipa collects only body schemas.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "closeloop",
        description = "Customer-feedback surveys over WhatsApp when support cases change. \
                       API paths are under /api/v1; with users configured, every /api/v1 \
                       request needs `Authorization: Bearer <token>`."
    ),
    components(schemas(ErrorBody, ErrorDetail, Code, InviteStatus, GroupBy, MessageKind))
)]
pub(crate) struct ApiDoc;

/// The answers the layers in front of the handlers give, added to every operation they
/// guard rather than repeated on each handler: 401 from the token check on `/api/v1`, 415
/// from the media-type check on a body, and 400 where a body or a query is parsed.
pub(crate) fn add_shared_answers(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    for (path, item) in &mut document.paths.paths {
        let api = path.starts_with("/api/v1/");
        let operations = [
            (&mut item.get, false),
            (&mut item.delete, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation else {
                continue;
            };
            let has_body = operation.request_body.is_some();
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == ParameterIn::Query);
            let json_body = operation.request_body.as_ref().is_some_and(|body| {
                body.content
                    .keys()
                    .any(|media| media == "application/json" || media == "application/x-ndjson")
            });
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description).into());
            };
            if has_body || has_query {
                add("400", "Malformed: the error names the field or parameter");
            }
            if api {
                add("401", "No valid bearer token (when users are configured)");
            }
            if (api && writes) || json_body {
                add("415", "A body in a media type this operation does not take");
            }
        }
    }
}

/// An answer in the error shape.
fn error_response(description: &str) -> utoipa::openapi::Response {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name(
                "ErrorBody",
            ))),
        )
        .build()
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub(crate) async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(state.openapi.get().cloned().unwrap_or(Value::Null))
}
