//! HTML pages from askama templates (`crates/server/templates/`): compiled and checked with
//! the crate, every value escaped unless a template says otherwise. `base.html` is the
//! shared layout (document, `lang`, title); the survey pages extend it, as other pages can.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A rendered page with its status. A template that fails to render (a formatting error;
/// the templates themselves are checked at compile time) answers an opaque 500.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
