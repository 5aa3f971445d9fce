//! Operations endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::http::schemas::Health;
use crate::http::AppState;

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub(crate) async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "The database answers", body = Health),
              (status = 503, description = "It does not", body = Health)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.store.ping().await {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": "database does not answer"})),
        )
    }
}

/// `GET /metrics`: Prometheus text format; gauges read from the database at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(depth) = state.store.outbox_depth().await {
        state.metrics.outbox_depth.set(depth);
    }
    if let Ok(pending) = state.store.pending_events().await {
        state.metrics.events_pending.set(pending);
    }
    if let Ok(counts) = state.store.invite_status_counts().await {
        for (status, count) in counts {
            state
                .metrics
                .invites_by_status
                .with_label_values(&[status.as_str()])
                .set(count);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
