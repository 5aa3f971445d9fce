//! `POST /cases/{id}/messages`: the helpdesk reports a conversation message of a case.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::conversation;
use crate::error::ApiError;
use crate::extract::parse_json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    direction: Direction,
    text: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<time::OffsetDateTime>,
    account: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Direction {
    Inbound,
    Outbound,
}

/// `POST /api/v1/cases/{id}/messages` `{"direction","text","at","account"}`.
#[utoipa::path(post, path = "/cases/{id}/messages", tag = "cases", operation_id = "create_conversation_message",
    params(("id" = String, Path, description = "Case id")),
    request_body(content = Value, description = "`{direction, text, at, account}`"),
    responses((status = 202, description = "Recorded", body = Value),
              (status = 400, description = "Malformed", body = ErrorBody),
              (status = 404, description = "No such case", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let message: MessageBody = parse_json(&body)?;
    if message.text.chars().count() > 4096 {
        return Err(
            ApiError::bad_request("invalid_field", "text is longer than 4096 characters")
                .at("text"),
        );
    }
    if let Some(account) = &message.account {
        if state.config().account(account).is_none() {
            return Err(ApiError::unprocessable(
                "unknown_account",
                format!("no account {account:?}"),
            )
            .at("account"));
        }
    }
    let now = state.clock.now_ms();
    let at = message
        .at
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(now))
        .unwrap_or(now);
    let direction = match message.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    };
    let mut tx = state.store.begin().await?;
    if tx.case(&id).await?.is_none() {
        return Err(ApiError::not_found("case", &id));
    }
    let message_id = conversation::record(
        &mut tx,
        &id,
        direction,
        &message.text,
        message.account.as_deref(),
        at,
        now,
    )
    .await?;
    tx.commit().await?;
    state.wake_events.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": message_id, "case_id": id, "direction": direction})),
    ))
}
