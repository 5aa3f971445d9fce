//! The console's session cookie and the checks in front of every signed-in route: a
//! request without a live session is sent to sign in (303), or given an open session
//! when no users are configured; a POST must carry its session's CSRF token in the form
//! field `csrf` (403 otherwise, before the handler runs, so nothing changes).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use crate::http::console::page::{self, Operator};
use crate::http::AppState;
use crate::usecase::sessions::{self, SESSION_TTL_MS};

/// The session cookie's name.
const COOKIE_NAME: &str = "closeloop_session";

/// The largest console form accepted (a rule's YAML fits many times over).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The session id the browser presented, if any.
pub(crate) fn presented(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` of a new session: HttpOnly, SameSite=Strict, scoped to the console,
/// `Secure` when the service is served over HTTPS.
pub(crate) fn session_cookie(state: &AppState, id: &str) -> HeaderValue {
    let secure = if state.config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let max_age = SESSION_TTL_MS / 1000;
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` that removes the session cookie.
pub(crate) fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "closeloop_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
    )
}

/// The middleware of every signed-in route.
pub(crate) async fn require_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let id = presented(request.headers());
    let signed = match &id {
        Some(id) => match sessions::signed(&state, id).await {
            Ok(signed) => signed,
            Err(e) => return page::failure(None, e),
        },
        None => None,
    };
    let (signed, new_cookie) = match signed {
        Some(signed) => (signed, None),
        None if sessions::is_open(&state) => {
            let started = match sessions::open(&state).await {
                Ok(started) => started,
                Err(e) => return page::failure(None, e),
            };
            match sessions::signed(&state, &started.id).await {
                Ok(Some(signed)) => (signed, Some(session_cookie(&state, &started.id))),
                Ok(None) => return Redirect::to("/console/login").into_response(),
                Err(e) => return page::failure(None, e),
            }
        }
        None => return Redirect::to("/console/login").into_response(),
    };
    let operator = Operator {
        caller: signed.caller,
        name: signed.name,
        csrf: signed.csrf,
        session: id,
    };
    let request = if request.method() == Method::POST {
        match checked_form(request, &operator).await {
            Ok(request) => request,
            Err(refused) => return refused,
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(operator);
    let mut response = next.run(request).await;
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The request again, when its form carries the session's CSRF token; a 403 page when not.
async fn checked_form(request: Request, operator: &Operator) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(page::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(operator),
            "Form too large",
            "The form is larger than the console accepts.",
        ));
    };
    let presented = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == "csrf"))
        .map(|(_, v)| v);
    // Compared as digests, so the time taken says nothing about the token.
    let valid = presented
        .is_some_and(|p| Sha256::digest(p.as_bytes()) == Sha256::digest(operator.csrf.as_bytes()));
    if !valid {
        return Err(page::message(
            StatusCode::FORBIDDEN,
            Some(operator),
            "Form refused",
            "This form did not carry the console's security token (it may come from another \
             site, or from before you signed in again). Nothing was changed. Reload the page \
             and try again.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
