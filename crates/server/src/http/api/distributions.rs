//! Distributions: `GET /distributions`, `GET /distributions/{id}` (with the derived state),
//! `GET /distributions/{id}/preview` (a message as the customer would read it on WhatsApp,
//! filled from a stored case or sample values) and `POST /distributions/{id}/test` (one
//! test message to a given number, as a test invite that analytics exclude), each the
//! operation of `usecase::distributions` in JSON.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::api::resources::written_response;
use crate::http::extract::parse_json;
use crate::http::extract::ApiQuery;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{Distribution, MessageKind, Preview, TestSendRequest, TestSent};
use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::distributions;
use crate::usecase::error::ApiError;

/// Query of the preview.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewQuery {
    message: Option<String>,
    language: Option<String>,
    case_id: Option<String>,
}

/// `GET /api/v1/distributions/{id}/preview?message=invitation&language=es&case_id=`.
#[utoipa::path(get, path = "/distributions/{id}/preview", tag = "distributions",
    params(("id" = String, Path, description = "Distribution id"),
           ("message" = Option<MessageKind>, Query, description = "invitation (default), reminder or thank_you"),
           ("language" = Option<String>, Query, description = "A survey language (default: the survey's default)"),
           ("case_id" = Option<String>, Query, description = "Fill from this stored case (default: sample values)")),
    responses((status = 200, description = "The rendered text as WhatsApp would show it", body = Preview),
              (status = 403, description = "Needs view_distribution", body = ErrorBody),
              (status = 404, description = "No such distribution or case", body = ErrorBody),
              (status = 422, description = "No such message or language", body = ErrorBody)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PreviewQuery>,
) -> Result<Json<Value>, ApiError> {
    let preview = distributions::preview(
        &state,
        &caller,
        &id,
        query.message.as_deref(),
        query.language.as_deref(),
        query.case_id.as_deref(),
    )
    .await?;
    Ok(Json(json!({
        "distribution": id,
        "message": preview.kind.as_str(),
        "language": preview.language.as_str(),
        "template": preview.template,
        "template_language": preview.template_language,
        "text": preview.text,
        "components": preview.components,
        "case_id": query.case_id,
        "sample": preview.sample,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSend {
    to: String,
    message: Option<String>,
    language: Option<String>,
}

/// `POST /api/v1/distributions/{id}/test` `{"to":"+…","message":"invitation","language":"es"}`.
#[utoipa::path(post, path = "/distributions/{id}/test", tag = "distributions",
    params(("id" = String, Path, description = "Distribution id")),
    request_body(content = TestSendRequest, description = "`{to, message, language}`"),
    responses((status = 202, description = "A test invite was queued; analytics exclude it", body = TestSent),
              (status = 403, description = "Needs edit_distribution", body = ErrorBody),
              (status = 404, description = "No such distribution", body = ErrorBody),
              (status = 422, description = "Bad number, message or language; or suppressed", body = ErrorBody)))]
pub(crate) async fn test_send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: TestSend = parse_json(&body)?;
    let sent = distributions::test_send(
        &state,
        &caller,
        &id,
        &request.to,
        request.message.as_deref(),
        request.language.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"invite_id": sent.invite_id, "message": sent.kind.as_str(), "language": sent.language.as_str(), "to": sent.to, "test": true}),
        ),
    ))
}

/// Body of a clone: the new id (default: `{id}-copy`, numbered when taken).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloneRequest {
    /// The copy's id.
    #[schema(min_length = 1, pattern = r"\S")]
    id: Option<String>,
}

/// `POST /api/v1/distributions/{id}/clone` `{"id":"…"}` (optional): a `draft` copy with a
/// new id — the source document's "test with a dedicated distribution, then clone it for
/// the real audience".
///
/// # Errors
/// 404, 403 without `edit_distribution`, 409 when the id is taken.
#[utoipa::path(post, path = "/distributions/{id}/clone", tag = "distributions",
    params(("id" = String, Path, description = "Distribution to copy")),
    request_body(content = CloneRequest, description = "Optional: the copy's id"),
    responses((status = 201, description = "The draft copy, with an ETag header", body = Distribution),
              (status = 403, description = "Needs edit_distribution on the survey", body = ErrorBody),
              (status = 404, description = "No such distribution", body = ErrorBody),
              (status = 409, description = "The id is taken", body = ErrorBody),
              (status = 422, description = "The copy's id is not a valid id", body = ErrorBody)))]
pub(crate) async fn clone(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CloneRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CloneRequest::default()
    } else {
        parse_json(&body)?
    };
    let written = distributions::clone(&state, &caller, &id, request.id).await?;
    Ok(written_response(StatusCode::CREATED, written))
}
