//! Request-body parsing that answers bad input with our error shape and the path of the
//! offending field, instead of axum's plain-text rejections.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::usecase::error::{ApiError, Code};

/// Parses a JSON body into `T`, naming the field that is wrong.
///
/// # Errors
/// 400 `invalid_json` for a syntax error, `invalid_field` for a wrong type, an unknown or
/// missing field, with `path` set.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            Code::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    crate::usecase::error::refuse_nul(&value)?;
    from_value(value)
}

/// Converts a JSON value into `T`, naming the field that is wrong.
///
/// # Errors
/// 400 `invalid_field` with `path`.
pub(crate) fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    // Tracking the path costs on every field; only a value that fails needs it.
    if let Ok(parsed) = T::deserialize(&value) {
        return Ok(parsed);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = json_path(e.path());
        let inner = e.into_inner().to_string();
        ApiError::new(Code::InvalidField, inner).at(path)
    })
}

/// Formats a serde path as `a.b[2].c`.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    if out == "?" {
        out.clear();
    }
    out
}

/// Refuses a path or query holding an encoded NUL (`%00`) before a handler reads it: no
/// object can have such an id (404), and a query value with one is 400. PostgreSQL stores
/// no NUL, so a lookup with one would fail there as a 500.
pub(crate) async fn refuse_nul_in_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if uri.path().contains("%00") {
        return ApiError::not_found("object", uri.path()).into_response();
    }
    if uri.query().is_some_and(|q| q.contains("%00")) {
        return ApiError::new(
            Code::InvalidQuery,
            "a query value holds a NUL character (%00)",
        )
        .into_response();
    }
    next.run(request).await
}
