//! `GET|POST /suppressions`, `DELETE /suppressions/{phone}`: numbers never messaged.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use closeloop_domain::phone::E164;
use closeloop_store::Suppression;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::extract::parse_json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSuppression {
    phone: String,
    reason: Option<String>,
    account: Option<String>,
}

/// `GET /api/v1/suppressions`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state
        .store
        .list_suppressions()
        .await?
        .iter()
        .map(suppression_json)
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `POST /api/v1/suppressions` `{"phone","reason","account"}`.
pub async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let request: NewSuppression = parse_json(&body)?;
    let phone = E164::parse(&request.phone, None).map_err(|e| {
        ApiError::unprocessable("invalid_phone", format!("not an E.164 number: {e}")).at("phone")
    })?;
    if let Some(account) = &request.account {
        if state.config.account(account).is_none() {
            return Err(ApiError::unprocessable(
                "unknown_account",
                format!("no account {account:?}"),
            )
            .at("account"));
        }
    }
    let suppression = Suppression {
        phone: phone.as_str().to_string(),
        reason: request.reason.unwrap_or_else(|| "operator".to_string()),
        account: request.account,
        created_at: state.clock.now_ms(),
    };
    let mut tx = state.store.begin().await?;
    tx.suppress(&suppression).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(suppression_json(&suppression))))
}

/// `DELETE /api/v1/suppressions/{phone}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    let normalized = E164::parse(&phone, None)
        .map(|p| p.as_str().to_string())
        .unwrap_or(phone.clone());
    if state.store.remove_suppression(&normalized).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("suppression", &phone))
    }
}

fn suppression_json(s: &Suppression) -> Value {
    json!({"phone": s.phone, "reason": s.reason, "account": s.account, "created_at": rfc3339(s.created_at)})
}
