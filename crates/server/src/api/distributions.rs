//! Distributions: `GET /distributions`, `GET /distributions/{id}` (with the derived state),
//! `GET /distributions/{id}/preview` (a message as the customer would read it on WhatsApp,
//! filled from a stored case or sample values) and `POST /distributions/{id}/test` (one
//! test message to a given number, as a test invite that analytics exclude).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use closeloop_domain::case::{Case, Profile};
use closeloop_domain::config::MessageKind;
use closeloop_domain::language::Language;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::access::{require_edit, require_view};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::parse_json;
use crate::snapshot::{build_request, kind_name, rendered_text, RenderInput, TemplateSnapshot};

/// Query of the preview.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    message: Option<String>,
    language: Option<String>,
    case_id: Option<String>,
}

/// `GET /api/v1/distributions/{id}/preview?message=invitation&language=es&case_id=`.
pub async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<PreviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (distribution, survey) = lookup(&state, &id)?;
    require_view(&caller, survey)?;
    let kind = message_kind(query.message.as_deref())?;
    let template = TemplateSnapshot::from(message_template(distribution, kind)?);
    let language = survey_language(survey, query.language.as_deref())?;
    let (case, from_case) = match &query.case_id {
        Some(case_id) => (
            state
                .store
                .get_case(case_id)
                .await?
                .ok_or_else(|| ApiError::not_found("case", case_id))?
                .case,
            true,
        ),
        None => (sample_case(), false),
    };
    let token = "SAMPLE-TOKEN";
    let link = crate::api::invites::survey_link(&state, token);
    let request = build_request(
        &template,
        &RenderInput {
            case: &case,
            link: &link,
            token,
            survey_name: &survey.name,
            language: language.as_str(),
            to_digits: "0",
        },
    )
    .map_err(|why| ApiError::unprocessable("template_not_available", why).at("language"))?;
    Ok(Json(json!({
        "distribution": id,
        "message": kind_name(kind),
        "language": language.as_str(),
        "template": request.template.name,
        "template_language": request.template.language.code,
        "text": rendered_text(&template, &request),
        "components": request.template.components,
        "case_id": query.case_id,
        "sample": !from_case,
    })))
}

/// Values shown when no case is given.
fn sample_case() -> Case {
    Case {
        id: "SAMPLE".into(),
        number: Some("1001".into()),
        status: "Resolved".into(),
        profile: Some(Profile {
            name: Some("Ana López".into()),
            first_name: Some("Ana".into()),
            phone: Some("+34600000000".into()),
            ..Profile::default()
        }),
        ..Case::default()
    }
}

/// The distribution with that id and its survey.
fn lookup<'a>(
    state: &'a AppState,
    id: &str,
) -> Result<
    (
        &'a closeloop_domain::config::Distribution,
        &'a closeloop_domain::config::Survey,
    ),
    ApiError,
> {
    let distribution = state
        .config
        .distribution(id)
        .ok_or_else(|| ApiError::not_found("distribution", id))?;
    let survey = state
        .config
        .survey(&distribution.survey)
        .ok_or_else(|| ApiError::not_found("survey", &distribution.survey))?;
    Ok((distribution, survey))
}

/// The survey language asked for (default: the survey's default language).
fn survey_language(
    survey: &closeloop_domain::config::Survey,
    asked: Option<&str>,
) -> Result<Language, ApiError> {
    let Some(asked) = asked else {
        return Ok(survey.default_language.clone());
    };
    Language::parse(asked)
        .ok()
        .filter(|l| survey.offers(l))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_language",
                format!("survey {} is not offered in {asked:?}", survey.id),
            )
            .at("language")
        })
}

/// The distribution's template for a message kind.
fn message_template(
    distribution: &closeloop_domain::config::Distribution,
    kind: MessageKind,
) -> Result<&closeloop_domain::config::MessageTemplate, ApiError> {
    distribution.messages.get(kind).ok_or_else(|| {
        ApiError::unprocessable(
            "no_such_message",
            format!(
                "distribution {} has no {} message",
                distribution.id,
                kind_name(kind)
            ),
        )
        .at("message")
    })
}

/// `invitation`, `reminder` or `thank_you` (default `invitation`).
fn message_kind(name: Option<&str>) -> Result<MessageKind, ApiError> {
    match name.unwrap_or("invitation") {
        "invitation" => Ok(MessageKind::Invitation),
        "reminder" => Ok(MessageKind::Reminder),
        "thank_you" => Ok(MessageKind::ThankYou),
        other => Err(ApiError::bad_request(
            "invalid_field",
            format!("message must be invitation, reminder or thank_you, not {other:?}"),
        )
        .at("message")),
    }
}

/// `GET /api/v1/distributions`: the distributions of the surveys the caller may see.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let mut items = Vec::new();
    for d in &state.config.distributions {
        if state
            .config
            .survey(&d.survey)
            .is_some_and(|s| caller.can_view(s))
        {
            items.push(distribution_json(&state, d).await?);
        }
    }
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `GET /api/v1/distributions/{id}`.
pub async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (distribution, survey) = lookup(&state, &id)?;
    require_view(&caller, survey)?;
    Ok(Json(distribution_json(&state, distribution).await?))
}

/// A distribution with its derived state: `expired` past `expires_at`, `failed` when its
/// sender account was stopped (with the reason).
async fn distribution_json(
    state: &AppState,
    d: &closeloop_domain::config::Distribution,
) -> Result<Value, ApiError> {
    let mut value = serde_json::to_value(d).map_err(ApiError::internal)?;
    let health = state.store.account_health().await?;
    let stopped = health
        .iter()
        .find(|h| h.account == d.sender_account && !h.healthy);
    let (status, reason) = if let Some(h) = stopped {
        ("failed".to_string(), h.reason.clone())
    } else if d.is_expired(state.clock.now()) {
        ("expired".to_string(), None)
    } else {
        (
            value["status"].as_str().unwrap_or("active").to_string(),
            None,
        )
    };
    value["status"] = json!(status);
    value["status_reason"] = json!(reason);
    Ok(value)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSend {
    to: String,
    message: Option<String>,
    language: Option<String>,
}

/// `POST /api/v1/distributions/{id}/test` `{"to":"+…","message":"invitation","language":"es"}`.
pub async fn test_send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: TestSend = parse_json(&body)?;
    let (distribution, survey) = lookup(&state, &id)?;
    require_edit(&caller, survey)?;
    let to = closeloop_domain::phone::E164::parse(&request.to, None).map_err(|e| {
        ApiError::unprocessable("invalid_recipient", format!("not an E.164 number: {e}")).at("to")
    })?;
    let kind = message_kind(request.message.as_deref())?;
    message_template(distribution, kind)?;
    let language = survey_language(survey, request.language.as_deref())?;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    if tx
        .is_suppressed(to.as_str(), &distribution.sender_account)
        .await?
    {
        return Err(ApiError::unprocessable(
            "suppressed",
            format!("{} is on the suppression list", to.as_str()),
        )
        .at("to"));
    }
    let invite_id = crate::actions::queue_test(
        &mut tx,
        &state,
        distribution,
        survey,
        kind,
        &language,
        &to,
        &sample_case(),
        now,
    )
    .await?
    .map_err(|why| ApiError::unprocessable("template_not_available", why).at("language"))?;
    tx.commit().await?;
    state.wake_dispatch.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"invite_id": invite_id, "message": kind_name(kind), "language": language.as_str(), "to": to.as_str(), "test": true}),
        ),
    ))
}
