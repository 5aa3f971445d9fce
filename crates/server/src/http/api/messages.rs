//! `POST /cases/{id}/messages`: the helpdesk reports a conversation message of a case.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use closeloop_whatsapp::wire::limits::TEXT_BODY_MAX;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::extract::parse_json;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{ConversationMessage, NewConversationMessage};
use crate::http::AppState;
use crate::usecase::conversation::{self, Direction};
use crate::usecase::error::{ApiError, Code};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    direction: Direction,
    text: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<time::OffsetDateTime>,
    account: Option<String>,
}

/// `POST /api/v1/cases/{id}/messages` `{"direction","text","at","account"}`.
#[utoipa::path(post, path = "/cases/{id}/messages", tag = "cases", operation_id = "create_conversation_message",
    params(("id" = String, Path, description = "Case id")),
    request_body(content = NewConversationMessage, description = "`{direction, text, at, account}`"),
    responses((status = 201, description = "Recorded", body = ConversationMessage),
              (status = 400, description = "Malformed", body = ErrorBody),
              (status = 404, description = "No such case", body = ErrorBody),
              (status = 422, description = "No account with that id", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let message: MessageBody = parse_json(&body)?;
    if message.text.chars().count() > TEXT_BODY_MAX {
        return Err(ApiError::new(
            Code::InvalidField,
            format!("text is longer than {TEXT_BODY_MAX} characters"),
        )
        .at("text"));
    }
    if let Some(account) = &message.account {
        if state.config().account(account).is_none() {
            return Err(
                ApiError::new(Code::UnknownAccount, format!("no account {account:?}"))
                    .at("account"),
            );
        }
    }
    let now = state.clock.now_ms();
    let at = message
        .at
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(now))
        .unwrap_or(now);
    let direction = message.direction;
    let message_id = conversation::report(
        &state,
        &id,
        direction,
        &message.text,
        message.account.as_deref(),
        at,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("case", &id))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": message_id, "case_id": id, "direction": direction.as_str()})),
    ))
}
