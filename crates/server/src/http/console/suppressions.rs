//! `GET /console/suppressions` (numbers never messaged), with the forms that add one
//! (`POST /console/suppressions`) and remove one (`POST /console/suppressions/remove`):
//! the API's suppression operations (`usecase::suppressions`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::html;
use crate::http::AppState;
use crate::runtime::clock::rfc3339;
use crate::usecase::suppressions;

/// A suppressed number.
struct Row {
    phone: String,
    reason: String,
    account: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/suppressions.html")]
struct ListPage {
    lang: &'static str,
    title: &'static str,
    chrome: Chrome,
    rows: Vec<Row>,
    accounts: Vec<String>,
}

/// `GET /console/suppressions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Response {
    let accounts = state
        .config()
        .accounts
        .iter()
        .map(|a| a.id.clone())
        .collect();
    match suppressions::list(&state).await {
        Ok(list) => html::page(
            StatusCode::OK,
            &ListPage {
                lang: LANG,
                title: "Suppressed numbers",
                chrome: Chrome::of(Some(&operator)),
                rows: list
                    .into_iter()
                    .map(|s| Row {
                        phone: s.phone,
                        reason: s.reason.replace('_', " "),
                        account: s.account.unwrap_or_else(|| "every account".into()),
                        created_at: rfc3339(s.created_at),
                    })
                    .collect(),
                accounts,
            },
        ),
        Err(e) => page::failure(Some(&operator), e),
    }
}

/// The add form.
#[derive(Deserialize)]
pub(crate) struct AddForm {
    phone: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    account: String,
}

/// `POST /console/suppressions`.
pub(crate) async fn add(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Form(form): Form<AddForm>,
) -> Response {
    let optional = |text: String| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    match suppressions::add(
        &state,
        form.phone.trim(),
        optional(form.reason),
        optional(form.account),
    )
    .await
    {
        Ok(_) => Redirect::to("/console/suppressions").into_response(),
        Err(e) => page::refused(Some(&operator), e),
    }
}

/// The remove form.
#[derive(Deserialize)]
pub(crate) struct RemoveForm {
    phone: String,
}

/// `POST /console/suppressions/remove`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Form(form): Form<RemoveForm>,
) -> Response {
    match suppressions::remove(&state, &operator.caller, &form.phone).await {
        Ok(()) => Redirect::to("/console/suppressions").into_response(),
        Err(e) => page::refused(Some(&operator), e),
    }
}
