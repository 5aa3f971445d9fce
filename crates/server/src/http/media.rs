//! The media types a request body may come in: a body whose `Content-Type` the operation
//! does not take is answered 415 `unsupported_media_type` in the JSON error shape, before
//! the handler reads it, instead of being parsed as if it were JSON.
//!
//! A body without a `Content-Type` is read as the operation's own type (clients and tests
//! that omit the header keep working), and an empty body is left to the handler.

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::usecase::error::{ApiError, Code};

/// What an operation's body is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Accepts {
    /// `application/json`, or any `application/…+json` (`merge-patch+json`).
    Json,
    /// `application/x-ndjson`: one JSON value per line.
    Ndjson,
}

impl Accepts {
    fn takes(self, essence: &str) -> bool {
        match self {
            Accepts::Json => {
                essence == "application/json"
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            }
            Accepts::Ndjson => essence == "application/x-ndjson",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Accepts::Json => "application/json",
            Accepts::Ndjson => "application/x-ndjson",
        }
    }
}

/// Answers 415 for a non-empty body in a media type the route does not take.
pub(crate) async fn require(
    State(accepts): State<Accepts>,
    request: Request,
    next: Next,
) -> Response {
    if has_body(request.headers()) {
        if let Some(value) = request.headers().get(CONTENT_TYPE) {
            let essence = value
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !accepts.takes(&essence) {
                return ApiError::new(
                    Code::UnsupportedMediaType,
                    format!(
                        "this operation takes a body in {}, not {essence:?}",
                        accepts.name()
                    ),
                )
                .at("Content-Type")
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Whether the request carries body bytes (a length above zero, or a chunked body).
fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|length| length > 0)
}
