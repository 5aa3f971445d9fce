//! `GET /invites` and `GET /invites/{id}`: status, response status, language, recipient,
//! sender account and send history of invites (shape of SPEC §5.1).

use axum::extract::{Path, State};
use axum::{Extension, Json};
use closeloop_store::InviteFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::extract::ApiQuery;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{InviteList, InviteStatus, InviteView};
use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::case_view::{invite_json, may_see};
use crate::usecase::error::{ApiError, Code};

/// Query of `GET /invites`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    case_id: Option<String>,
    distribution: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/invites?case_id=&distribution=&status=&cursor=&limit=`.
#[utoipa::path(get, path = "/invites", tag = "invites", operation_id = "list_invites",
    params(("case_id" = Option<String>, Query, description = "Only this case's"),
           ("distribution" = Option<String>, Query, description = "Only this distribution's"),
           ("status" = Option<InviteStatus>, Query, description = "Only this invite status"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
           ("limit" = Option<i64>, Query, description = "1–1000, default 100", minimum = 1, maximum = 1000)),
    responses((status = 200, description = "Invites of the surveys the caller may see", body = InviteList),
              (status = 400, description = "Bad query", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            s.parse().map_err(|_| {
                ApiError::new(Code::InvalidQuery, format!("unknown invite status {s:?}"))
                    .at("status")
            })
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be 1–1000").at("limit"));
    }
    let rows = state
        .store
        .list_invites(&InviteFilter {
            case_id: query.case_id,
            distribution: query.distribution,
            status,
            after: query.cursor,
            limit: limit + 1,
        })
        .await?;
    let more = rows.len() as i64 > limit;
    let config = state.config();
    let mut items = Vec::new();
    // Visibility is applied within the page, so a page can hold fewer than `limit`.
    for invite in rows
        .iter()
        .take(limit as usize)
        .filter(|i| may_see(&caller, &config, i))
    {
        let messages = state.store.invite_messages(&invite.id).await?;
        items.push(invite_json(&state, invite, &messages));
    }
    let next_cursor = if more {
        rows.get(limit as usize - 1).map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

/// `GET /api/v1/invites/{id}`.
#[utoipa::path(get, path = "/invites/{id}", tag = "invites", operation_id = "get_invite",
    params(("id" = String, Path, description = "Invite id")),
    responses((status = 200, description = "The invite with its send history (SPEC §5.1)", body = InviteView),
              (status = 403, description = "Needs view_distribution on its survey", body = ErrorBody),
              (status = 404, description = "No such invite", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let invite = state
        .store
        .get_invite(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("invite", &id))?;
    if !may_see(&caller, &state.config(), &invite) {
        return Err(ApiError::forbidden(format!(
            "reading invite {id} needs view_distribution on survey {}",
            invite.survey
        )));
    }
    let messages = state.store.invite_messages(&invite.id).await?;
    Ok(Json(invite_json(&state, &invite, &messages)))
}
