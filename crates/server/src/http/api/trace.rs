//! `GET /cases/{id}/trace`: for every event of a case, which rules ran, what each
//! condition saw, and what each action did and why; and for each queue rule on the case,
//! the runs that did nothing since its last stored one (`skipped_runs`).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::http::openapi::ErrorBody;
use crate::http::AppState;
use crate::runtime::clock::rfc3339;
use crate::usecase::error::ApiError;

/// `GET /api/v1/cases/{id}/trace`.
#[utoipa::path(get, path = "/cases/{id}/trace", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "Every event: rules, conditions with the values seen, actions with outcome and reason", body = Value),
              (status = 404, description = "No such case", body = ErrorBody)))]
pub(crate) async fn get_trace(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if state.store.get_case(&id).await?.is_none() {
        return Err(ApiError::not_found("case", &id));
    }
    let events = state.store.case_events(&id).await?;
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let mut event = json!({
                "event_id": e.id,
                "kind": e.kind.as_str(),
                "at": rfc3339(e.created_at),
                "changed": e.changed,
                "processed": e.trace.is_some(),
            });
            if let Some(Value::Object(trace)) = e.trace {
                for (k, v) in trace {
                    event[k] = v;
                }
            } else {
                event["rules"] = json!([]);
            }
            event
        })
        .collect();
    // Scheduled runs that matched nothing and changed nothing are not stored as events
    // (SPEC §4.17); each queue rule's schedule row counts them since its last stored run.
    let schedules: Vec<Value> = state
        .store
        .case_schedules(&id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "rule": s.rule_id,
                "skipped_runs": s.skipped_runs,
                "last_run_at": s.last_run_at.map(rfc3339),
                "last_outcome": s.last_outcome,
                "next_run_at": rfc3339(s.due_at),
                "ends_at": rfc3339(s.ends_at),
            })
        })
        .collect();
    let skipped: i64 = schedules
        .iter()
        .filter_map(|s| s["skipped_runs"].as_i64())
        .sum();
    Ok(Json(json!({
        "case_id": id,
        "events": events,
        "skipped_runs": skipped,
        "schedules": schedules,
    })))
}
