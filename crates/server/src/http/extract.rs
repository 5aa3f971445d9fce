//! Request-body and query parsing that answers bad input with our error shape and the path
//! of the offending field or parameter, instead of axum's plain-text rejections.

use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::http::request::Parts;
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

/// A query string parsed into `T` (whose struct denies unknown fields): a bad one answers
/// 400 `invalid_query` naming the parameter.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string into `T`, naming the parameter that is wrong.
///
/// # Errors
/// 400 `invalid_query`, with `path` the parameter: an unknown one, or one whose value is
/// not one `T` takes.
pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(query).map_err(|e| {
        let message = e.to_string();
        // serde names an unknown, missing or repeated field between backticks; a bad value
        // is named by trying each parameter alone.
        let named = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains(" field `"))
            .map(str::to_owned);
        let parameter = named.or_else(|| failing_parameter::<T>(query));
        ApiError::new(
            Code::InvalidQuery,
            format!("invalid query parameter: {message}"),
        )
        .at(parameter.unwrap_or_default())
    })
}

/// The first parameter of `query` that `T` refuses on its own.
fn failing_parameter<T: DeserializeOwned>(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|pair| {
            serde_urlencoded::to_string([pair])
                .is_ok_and(|alone| serde_urlencoded::from_str::<T>(&alone).is_err())
        })
        .map(|(name, _)| name)
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
