//! The HTTP face of the mock: `POST /{version}/{phone_number_id}/messages` (and
//! `/marketing_messages`, same shape), answered like Meta's Graph API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use closeloop_whatsapp::wire::{Contact, SendResponse, SentMessage};
use serde_json::json;

use crate::config::WindowRefusal;
use crate::deliver;
use crate::failure::{plain, Failure, Rejection};
use crate::ids;
use crate::outgoing::Outgoing;
use crate::state::{Received, State};
use crate::storm::Fault;
use crate::validate::{check, parse_body, Parsed};

/// The router, built by a function so tests and `MockCloud` share it.
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(send))
        .route(
            "/{version}/{phone_number_id}/marketing_messages",
            post(send),
        )
        .fallback(unknown_path)
        .with_state(state)
}

async fn unknown_path(uri: Uri) -> Response {
    Rejection::unknown_path(uri.path()).into_response()
}

/// `v21.0`, `v23.0`, …: any `v<digits>.<digits>`.
fn is_version(segment: &str) -> bool {
    let Some(rest) = segment.strip_prefix('v') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(rest.split_once('.'), Some((major, minor)) if digits(major) && digits(minor))
}

async fn send(
    Shared(state): Shared<Arc<State>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    if !is_version(&version) {
        return Rejection::unknown_path(uri.path()).into_response();
    }
    // Injected answers win over everything, so a test can fail even a perfect request.
    if let Some(failure) = state.begin_attempt(arrived) {
        return failure.into_response();
    }
    match handle(&state, &phone_number_id, &headers, &body, arrived) {
        Ok(Handled::Accepted(message, lost_for)) => {
            let message = *message;
            let response = accepted_body(&message);
            if message.window_refused {
                tokio::spawn(deliver::window_refusal(state.clone(), message));
            } else if state.auto_statuses() {
                tokio::spawn(deliver::auto_statuses(state.clone(), message));
            }
            if let Some(hang) = lost_for {
                tokio::time::sleep(hang).await;
                return plain(504, "Gateway Timeout");
            }
            Json(response).into_response()
        }
        Ok(Handled::Refused(failure)) => failure.into_response(),
        Ok(Handled::MarkedRead) => Json(json!({"success": true})).into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

enum Handled {
    /// Accepted; with a duration, its answer is lost: the mock waits that long and
    /// answers 504 instead.
    Accepted(Box<Received>, Option<Duration>),
    /// A fault storm refused it.
    Refused(Failure),
    MarkedRead,
}

fn handle(
    state: &State,
    phone_number_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    arrived: Instant,
) -> Result<Handled, Rejection> {
    let account = state
        .account(phone_number_id)
        .ok_or_else(|| Rejection::unknown_object(phone_number_id))?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(account.access_token.as_str()) {
        return Err(Rejection::bad_token());
    }
    let request = match parse_body(body)? {
        Parsed::MarkRead => return Ok(Handled::MarkedRead),
        Parsed::Send(request) => *request,
    };
    check(&request, &state.config.templates)?;
    // Templates may go out any time; anything else only inside the customer service window.
    let outside_window = matches!(request, Outgoing::Session(_))
        && !state.window_open(phone_number_id, request.to(), arrived);
    if outside_window && state.config.window_refusal == WindowRefusal::Sync {
        return Err(Rejection::re_engagement());
    }
    let lost_for = match state.storm_fault(request.to()) {
        Some(Fault::Refuse(failure)) => return Ok(Handled::Refused(failure)),
        Some(Fault::LoseAnswer(hang)) => Some(hang),
        None => None,
    };
    let message = state.accept(Received {
        at: arrived,
        phone_number_id: phone_number_id.to_string(),
        wamid: ids::wamid(),
        to: request.to().to_string(),
        body: serde_json::from_slice(body).unwrap_or_default(),
        request,
        window_refused: outside_window,
        answer_lost: lost_for.is_some(),
    })?;
    Ok(Handled::Accepted(Box::new(message), lost_for))
}

fn accepted_body(message: &Received) -> SendResponse {
    SendResponse {
        messaging_product: Some("whatsapp".into()),
        contacts: vec![Contact {
            input: Some(message.to.clone()),
            wa_id: Some(message.to.clone()),
        }],
        messages: vec![SentMessage {
            id: message.wamid.clone(),
            message_status: Some("accepted".into()),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::is_version;

    #[test]
    fn versions() {
        for ok in ["v21.0", "v23.0", "v1.10"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["21.0", "v21", "v.0", "v21.", "vx.0", "v21.0.1", "V21.0"] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
