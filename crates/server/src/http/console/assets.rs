//! The console's two static files, compiled into the binary: the pinned htmx
//! (`vendor/htmx/`, its version in the URL, so it can be cached for a year) and the
//! hand-written stylesheet.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::http::console::page;

const HTMX: &str = include_str!("../../../vendor/htmx/htmx.min.js");
const STYLESHEET: &str = include_str!("../../../templates/console/console.css");

/// `GET /console/assets/{file}`.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type, cache) = match file.as_str() {
        "htmx-2.0.11.min.js" => (
            HTMX,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        "console.css" => (STYLESHEET, "text/css; charset=utf-8", "public, max-age=300"),
        _ => {
            return page::message(
                axum::http::StatusCode::NOT_FOUND,
                None,
                "Not found",
                "There is no such file.",
            )
        }
    };
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, cache)], body).into_response()
}
