//! HTTP around the config objects (`usecase::config_change`): `If-Match` in, `ETag` and
//! lint warnings out.

use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use closeloop_domain::config::document::Kind;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::config_change::{self, ListFilter, Written};
use crate::usecase::error::{ApiError, Code};

fn etag_header(etag: &str) -> HeaderValue {
    HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The `If-Match` header's text, if any.
fn if_match(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get(IF_MATCH)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::new(Code::InvalidHeader, "If-Match is not valid text").at("If-Match")
            })
        })
        .transpose()
}

/// The answer to a stored write: the object, its `ETag` and any lint warnings.
pub(crate) fn written_response(status: StatusCode, written: Written) -> Response {
    let mut body = written.body;
    if !written.warnings.is_empty() {
        if let Some(map) = body.as_object_mut() {
            map.insert(
                "warnings".into(),
                json!(written
                    .warnings
                    .iter()
                    .map(|w| json!({"path": w.path, "message": w.message}))
                    .collect::<Vec<_>>()),
            );
        }
    }
    (status, [(ETAG, etag_header(&written.etag))], Json(body)).into_response()
}

/// `GET /{kind}?…`.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    filter: &ListFilter,
) -> Result<Json<Value>, ApiError> {
    let items = config_change::list_filtered(state, caller, kind, filter).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `GET /{kind}/{id}` with its `ETag`.
pub(crate) async fn get_one(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: &str,
) -> Result<Response, ApiError> {
    let (body, tag) = config_change::get_one(state, caller, kind, id).await?;
    Ok(([(ETAG, etag_header(&tag))], Json(body)).into_response())
}

/// `POST /{kind}`.
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Written, ApiError> {
    config_change::create(state, caller, kind, if_match(headers)?, body).await
}

/// `PUT /{kind}/{id}`.
pub(crate) async fn replace(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let written = config_change::replace(state, caller, kind, id, if_match(headers)?, body).await?;
    Ok(written_response(StatusCode::OK, written))
}

/// `PATCH /{kind}/{id}`.
pub(crate) async fn patch(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let written = config_change::patch(state, caller, kind, id, if_match(headers)?, body).await?;
    Ok(written_response(StatusCode::OK, written))
}

/// `DELETE /{kind}/{id}`.
pub(crate) async fn delete(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
) -> Result<StatusCode, ApiError> {
    config_change::delete(state, caller, kind, id, if_match(headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
