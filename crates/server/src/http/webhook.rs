//! Meta's webhook endpoint: `GET /webhooks/whatsapp` (subscription handshake) and
//! `POST /webhooks/whatsapp` (statuses and inbound messages).
//!
//! The signature is checked over the raw bytes with the app secret of every account the
//! payload names (by `metadata.phone_number_id`); a bad or missing signature is a 401 and
//! nothing is processed.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use closeloop_domain::config::{Account, Config};
use closeloop_whatsapp::signature;
use closeloop_whatsapp::webhook::{self, WebhookEvent};
use serde_json::json;

use crate::http::openapi::ErrorBody;
use crate::http::schemas::{WebhookPayload, WebhookReceived};
use crate::http::AppState;
use crate::usecase::delivery::Status;
use crate::usecase::error::{ApiError, Code};
use crate::usecase::inbound;

/// The signature header Meta sends.
pub(crate) const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Statuses of one delivery written in one transaction.
const STATUS_CHUNK: usize = 500;

/// `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
#[utoipa::path(get, path = "/webhooks/whatsapp", tag = "webhooks",
    params(("hub.mode" = String, Query, description = "subscribe"),
           ("hub.verify_token" = String, Query, description = "An account's verify_token"),
           ("hub.challenge" = String, Query, description = "Echoed back")),
    responses((status = 200, description = "The challenge", content_type = "text/plain", body = String),
              (status = 401, description = "Unknown verify token or mode", body = ErrorBody)))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let mode = params.get("hub.mode").map(String::as_str);
    let token = params.get("hub.verify_token");
    let challenge = params.get("hub.challenge");
    let known = token.is_some_and(|t| {
        state
            .config()
            .accounts
            .iter()
            .filter_map(|a| a.verify_token.as_ref())
            .any(|v| v.expose() == t)
    });
    match (mode, challenge) {
        (Some("subscribe"), Some(challenge)) if known => {
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => ApiError::unauthorized("webhook verification refused: unknown verify_token or mode")
            .into_response(),
    }
}

/// `POST /webhooks/whatsapp`.
#[utoipa::path(post, path = "/webhooks/whatsapp", tag = "webhooks",
    params(("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body with the app secret>")),
    request_body(content = WebhookPayload, description = "Meta's webhook payload (statuses and messages)"),
    responses((status = 200, description = "Processed", body = WebhookReceived),
              (status = 400, description = "Signed, but not a webhook payload", body = ErrorBody),
              (status = 401, description = "Bad or missing signature, or an unknown phone number; nothing processed", body = ErrorBody),
              (status = 413, description = "Larger than 1 MiB", body = ErrorBody),
              (status = 500, description = "Not stored; Meta delivers it again", body = ErrorBody),
              (status = 503, description = "Not stored now; Meta delivers it again", body = ErrorBody)))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let payload = webhook::parse(&body);
    let config = state.config();
    let accounts = match &payload {
        Ok(p) => named_accounts(&config, p),
        Err(_) => Ok(Vec::new()),
    };
    let Ok(accounts) = accounts else {
        state
            .metrics
            .webhooks
            .with_label_values(&["unknown_account"])
            .inc();
        return ApiError::unauthorized(
            "the webhook names a phone number this service does not have",
        )
        .into_response();
    };
    let signed = if accounts.is_empty() {
        state
            .config()
            .accounts
            .iter()
            .any(|a| signature::verify(a.app_secret.expose().as_bytes(), &body, signature))
    } else {
        accounts
            .iter()
            .all(|a| signature::verify(a.app_secret.expose().as_bytes(), &body, signature))
    };
    if !signed {
        state
            .metrics
            .webhooks
            .with_label_values(&["bad_signature"])
            .inc();
        return ApiError::unauthorized("missing or invalid X-Hub-Signature-256").into_response();
    }
    let payload = match payload {
        Ok(p) => p,
        Err(e) => {
            state
                .metrics
                .webhooks
                .with_label_values(&["malformed"])
                .inc();
            return ApiError::new(Code::InvalidJson, format!("not a webhook payload: {e}"))
                .into_response();
        }
    };
    let events = webhook::events(&payload);
    let statuses: Vec<Status> = events
        .iter()
        .filter_map(|event| match event {
            WebhookEvent::Status(s) => Some(Status {
                wamid: s.wamid.clone(),
                status: s.status.clone(),
                errors: s.errors.clone(),
            }),
            WebhookEvent::Inbound(_) => None,
        })
        .collect();
    // A delivery with many statuses goes to the writer in chunks, each its own unit of
    // group commit, so case updates and other webhooks are written between them.
    for chunk in statuses.chunks(STATUS_CHUNK) {
        if let Err(e) = state.ingest.submit_statuses(chunk.to_vec()).await {
            // Meta retries a non-200 delivery; statuses are idempotent, so that is safe.
            state.metrics.webhooks.with_label_values(&["error"]).inc();
            return e.into_response();
        }
        tokio::task::yield_now().await;
    }
    for event in &events {
        if let WebhookEvent::Inbound(m) = event {
            if let Err(e) = inbound::handle(&state, m).await {
                state.metrics.webhooks.with_label_values(&["error"]).inc();
                return ApiError::internal(e).into_response();
            }
        }
    }
    state.metrics.webhooks.with_label_values(&["ok"]).inc();
    (StatusCode::OK, Json(json!({"received": events.len()}))).into_response()
}

/// The configured accounts a payload names; Err when it names one we do not have.
fn named_accounts<'a>(
    config: &'a Config,
    payload: &closeloop_whatsapp::wire::WebhookPayload,
) -> Result<Vec<&'a Account>, ()> {
    let ids: BTreeSet<&str> = payload
        .entry
        .iter()
        .flat_map(|e| e.changes.iter())
        .filter_map(|c| c.value.as_ref())
        .filter_map(|v| v.metadata.as_ref())
        .filter_map(|m| m.phone_number_id.as_deref())
        .collect();
    ids.into_iter()
        .map(|id| {
            config
                .accounts
                .iter()
                .find(|a| a.phone_number_id == id)
                .ok_or(())
        })
        .collect()
}
