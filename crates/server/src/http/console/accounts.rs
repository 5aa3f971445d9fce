//! `GET /console/accounts` (each sender account's health and the reason the provider
//! stopped it) and `POST /console/accounts/{id}/resume` (`usecase::accounts::resume`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use closeloop_domain::config::document::Kind;
use serde_json::Value;

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::html;
use crate::http::AppState;
use crate::usecase::{accounts, config_change};

/// An account's line.
struct Row {
    id: String,
    provider: String,
    phone_number_id: String,
    healthy: bool,
    reason: String,
    since: String,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct ListPage {
    lang: &'static str,
    title: &'static str,
    chrome: Chrome,
    rows: Vec<Row>,
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `GET /console/accounts`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Response {
    match config_change::list(&state, &operator.caller, Kind::Accounts).await {
        Ok(items) => html::page(
            StatusCode::OK,
            &ListPage {
                lang: LANG,
                title: "Sender accounts",
                chrome: Chrome::of(Some(&operator)),
                rows: items
                    .iter()
                    .map(|a| Row {
                        id: text(&a["id"]),
                        provider: text(&a["provider"]),
                        phone_number_id: text(&a["phone_number_id"]),
                        healthy: a["healthy"] != Value::Bool(false),
                        reason: [text(&a["unhealthy_code"]), text(&a["unhealthy_reason"])]
                            .into_iter()
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join(" "),
                        since: text(&a["unhealthy_since"]),
                    })
                    .collect(),
            },
        ),
        Err(e) => page::failure(Some(&operator), e),
    }
}

/// `POST /console/accounts/{id}/resume`.
pub(crate) async fn resume(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
) -> Response {
    match accounts::resume(&state, &operator.caller, &id).await {
        Ok(()) => Redirect::to("/console/accounts").into_response(),
        Err(e) => page::refused(Some(&operator), e),
    }
}
