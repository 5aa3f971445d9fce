//! `GET /accounts`: sender accounts with their health; secrets are never returned.

use axum::extract::State;
use axum::Json;
use closeloop_domain::config::ProviderKind;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::error::ApiError;

/// `GET /api/v1/accounts`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let health = state.store.account_health().await?;
    let items: Vec<Value> = state
        .config
        .accounts
        .iter()
        .map(|a| {
            let h = health.iter().find(|h| h.account == a.id);
            json!({
                "id": a.id,
                "provider": match a.provider { ProviderKind::WhatsappCloud => "whatsapp_cloud", ProviderKind::Sandbox => "sandbox" },
                "phone_number_id": a.phone_number_id,
                "display_phone_number": a.display_phone_number,
                "messages_per_second": a.messages_per_second,
                "healthy": h.is_none_or(|h| h.healthy),
                "unhealthy_reason": h.and_then(|h| h.reason.clone()),
                "unhealthy_code": h.and_then(|h| h.error_code),
                "unhealthy_since": h.map(|h| rfc3339(h.changed_at)),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `POST /api/v1/accounts/{id}/resume`: an operator says the account's credentials or
/// standing are fixed; its queued messages go out again. Admins only (when users exist).
pub async fn resume(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    if matches!(caller, crate::auth::Caller::User { admin: false, .. }) {
        return Err(ApiError::forbidden(
            "resuming an account needs the admin role",
        ));
    }
    if state.config.account(&id).is_none() {
        return Err(ApiError::not_found("account", &id));
    }
    state.store.reset_account_health(&id).await?;
    state.wake_dispatch.notify_waiters();
    tracing::info!(account = %id, "account resumed by an operator");
    Ok(Json(json!({"id": id, "healthy": true})))
}
