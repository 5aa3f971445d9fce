//! `GET|POST /console/login` (form field `token`: an API token) and `POST /console/logout`.
//! A wrong token answers 401 with the form again; an open console needs no sign-in.

use askama::Template;
use axum::extract::State;
use axum::http::header::{HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::console::session::{cleared_cookie, session_cookie};
use crate::http::html;
use crate::http::AppState;
use crate::usecase::sessions;

/// The sign-in form.
#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    lang: &'a str,
    title: &'a str,
    chrome: Chrome,
    error: Option<&'a str>,
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    html::page(
        status,
        &LoginPage {
            lang: LANG,
            title: "Sign in to the closeloop console",
            chrome: Chrome::of(None),
            error,
        },
    )
}

/// `GET /console/login`.
pub(crate) async fn form(State(state): State<AppState>) -> Response {
    if sessions::is_open(&state) {
        return Redirect::to("/console").into_response();
    }
    login_page(StatusCode::OK, None)
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct SignIn {
    #[serde(default)]
    token: String,
}

/// Whether a form was posted from another site: its `Origin` (browsers send it with every
/// cross-site POST) names another host than the one it was posted to. The sign-in form has
/// no session yet, so no CSRF token; this keeps another site from signing a browser in
/// with the other site's token.
fn from_another_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    origin_host != host
}

/// `POST /console/login`: a session for the token's user, or 401 with the form.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if sessions::is_open(&state) {
        return Redirect::to("/console").into_response();
    }
    if from_another_site(&headers) {
        return page::message(
            StatusCode::FORBIDDEN,
            None,
            "Sign-in refused",
            "This sign-in form was sent from another site. Open the console's own sign-in page.",
        );
    }
    match sessions::sign_in(&state, &form.token).await {
        Ok(Some(started)) => (
            [(SET_COOKIE, session_cookie(&state, &started.id))],
            Redirect::to("/console"),
        )
            .into_response(),
        Ok(None) => login_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid. Paste an API token of your user."),
        ),
        Err(e) => page::refused(None, e),
    }
}

/// `POST /console/logout`: ends the session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Response {
    if let Some(id) = &operator.session {
        if let Err(e) = sessions::sign_out(&state, id).await {
            return page::refused(Some(&operator), e);
        }
    }
    let target = if sessions::is_open(&state) {
        "/console"
    } else {
        "/console/login"
    };
    ([(SET_COOKIE, cleared_cookie())], Redirect::to(target)).into_response()
}
