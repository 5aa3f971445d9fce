//! Request bodies before any handler sees them: a maximum per route, answered 413
//! `payload_too_large`, and the body deadline, answered 408 `request_timeout`; and axum's
//! own plain-text rejections put in the JSON error shape.
//!
//! One limit for every route let a 60 MB case or a 64 MB webhook in, and the work they
//! caused grew memory and the database many times their size.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::http::AppState;
use crate::usecase::error::{ApiError, Code};

/// `PUT`/`PATCH /api/v1/cases/{id}`: a case is a few kilobytes; this leaves room for
/// generous custom fields and tags.
pub(crate) const CASE_BODY: usize = 256 * 1024;
/// `POST /webhooks/whatsapp`: Meta's deliveries are a few kilobytes (it batches at most
/// a few hundred changes); a megabyte is far above anything it sends.
pub(crate) const WEBHOOK_BODY: usize = 1024 * 1024;
/// Every other body (config objects, answers, forms).
pub(crate) const OTHER_BODY: usize = 1024 * 1024;
/// One line of `POST /api/v1/cases:batch`, whose whole body is streamed and unbounded.
pub(crate) const BATCH_LINE: usize = CASE_BODY;

/// The path whose body is streamed by its handler rather than read here.
pub(crate) const BATCH_PATH: &str = "/api/v1/cases:batch";

/// The most a route reads before its handler runs, by path.
fn limit_for(path: &str) -> Option<usize> {
    if path == BATCH_PATH {
        return None;
    }
    if path
        .strip_prefix("/api/v1/cases/")
        .is_some_and(|id| !id.contains('/'))
    {
        return Some(CASE_BODY);
    }
    if path == "/webhooks/whatsapp" {
        return Some(WEBHOOK_BODY);
    }
    Some(OTHER_BODY)
}

/// The 413 of a body over `max` bytes.
pub(crate) fn too_large(what: &str, max: usize) -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("{what} is larger than {max} bytes"),
    )
}

/// The 408 of a body that did not arrive in time.
pub(crate) fn too_slow(timeout: std::time::Duration) -> ApiError {
    ApiError::new(
        Code::RequestTimeout,
        format!("the body did not arrive within {} s", timeout.as_secs_f64()),
    )
}

/// Reads the whole body within the route's limit and the body deadline, so handlers get
/// it in memory and never see an oversized or stalled one.
pub(crate) async fn read_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(max) = limit_for(request.uri().path()) else {
        return next.run(request).await;
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large("the body", max).into_response();
    }
    let (parts, body) = request.into_parts();
    let timeout = state.http.body_timeout;
    let read = tokio::time::timeout(timeout, Limited::new(body, max).collect()).await;
    match read {
        Err(_) => too_slow(timeout).into_response(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            too_large("the body", max).into_response()
        }
        Ok(Err(e)) => ApiError::new(
            Code::InvalidBody,
            format!("the body could not be read: {e}"),
        )
        .into_response(),
        Ok(Ok(collected)) => {
            let request = Request::from_parts(parts, Body::from(collected.to_bytes()));
            next.run(request).await
        }
    }
}

/// The most of a plain-text rejection read to put its sentence in the JSON shape.
const REJECTION_TEXT: usize = 16 * 1024;

/// Puts a client error that axum answered in plain text (a rejected path, query, form or
/// method) in the JSON error shape, keeping its sentence. HTML and JSON answers pass.
pub(crate) async fn json_rejections(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        _ => Code::InvalidBody,
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string()
    } else {
        text
    };
    let mut answer = ApiError::new(code, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}
