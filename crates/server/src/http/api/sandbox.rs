//! `GET /sandbox/messages`: what the sandbox provider "sent", as the customer would read it.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::http::schemas::SandboxMessages;
use crate::http::AppState;

/// `GET /api/v1/sandbox/messages`.
#[utoipa::path(get, path = "/sandbox/messages", tag = "sandbox", operation_id = "list_sandbox_messages",
    responses((status = 200, description = "What the sandbox provider \"sent\", as the customer would see it", body = SandboxMessages)))]
pub(crate) async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"items": state.sandbox.messages(), "next_cursor": null}))
}
