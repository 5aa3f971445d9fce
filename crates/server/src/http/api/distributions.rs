//! Distributions: `GET /distributions`, `GET /distributions/{id}` (with the derived state),
//! `GET /distributions/{id}/preview` (a message as the customer would read it on WhatsApp,
//! filled from a stored case or sample values) and `POST /distributions/{id}/test` (one
//! test message to a given number, as a test invite that analytics exclude).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use closeloop_domain::case::{Case, Profile};
use closeloop_domain::config::document::{self, Kind};
use closeloop_domain::config::{Distribution, MessageKind, Survey};
use closeloop_domain::language::Language;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::api::resources::{self, written_response};
use crate::http::extract::parse_json;
use crate::http::openapi::ErrorBody;
use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::access::{require_edit, require_view};
use crate::usecase::error::{ApiError, Code};
use crate::usecase::snapshot::{build_request, rendered_text, RenderInput, TemplateSnapshot};

/// Query of the preview.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewQuery {
    message: Option<String>,
    language: Option<String>,
    case_id: Option<String>,
}

/// `GET /api/v1/distributions/{id}/preview?message=invitation&language=es&case_id=`.
#[utoipa::path(get, path = "/distributions/{id}/preview", tag = "distributions",
    params(("id" = String, Path, description = "Distribution id"),
           ("message" = Option<String>, Query, description = "invitation (default), reminder or thank_you"),
           ("language" = Option<String>, Query, description = "A survey language (default: the survey's default)"),
           ("case_id" = Option<String>, Query, description = "Fill from this stored case (default: sample values)")),
    responses((status = 200, description = "The rendered text as WhatsApp would show it", body = Value),
              (status = 403, description = "Needs view_distribution", body = ErrorBody),
              (status = 404, description = "No such distribution or case", body = ErrorBody),
              (status = 422, description = "No such message or language", body = ErrorBody)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<PreviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let (distribution, survey) = lookup(&state, &id)?;
    require_view(&caller, &survey)?;
    let kind = message_kind(query.message.as_deref())?;
    let template = TemplateSnapshot::from(message_template(&distribution, kind)?);
    let language = survey_language(&survey, query.language.as_deref())?;
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
    let link = state.survey_link(token);
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
    .map_err(|why| ApiError::new(Code::TemplateNotAvailable, why).at("language"))?;
    Ok(Json(json!({
        "distribution": id,
        "message": kind.as_str(),
        "language": language.as_str(),
        "template": request.template.name,
        "template_language": request.template.language.code,
        "text": rendered_text(&template, language.as_str(), &request),
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

/// The distribution with that id and its survey, as in force now.
fn lookup(state: &AppState, id: &str) -> Result<(Distribution, Survey), ApiError> {
    let config = state.config();
    let distribution = config
        .distribution(id)
        .ok_or_else(|| ApiError::not_found("distribution", id))?;
    let survey = config
        .survey(&distribution.survey)
        .ok_or_else(|| ApiError::not_found("survey", &distribution.survey))?;
    Ok((distribution.clone(), survey.clone()))
}

/// The survey language asked for (default: the survey's default language).
fn survey_language(survey: &Survey, asked: Option<&str>) -> Result<Language, ApiError> {
    let Some(asked) = asked else {
        return Ok(survey.default_language.clone());
    };
    Language::parse(asked)
        .ok()
        .filter(|l| survey.offers(l))
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidLanguage,
                format!("survey {} is not offered in {asked:?}", survey.id),
            )
            .at("language")
        })
}

/// The distribution's template for a message kind.
fn message_template(
    distribution: &Distribution,
    kind: MessageKind,
) -> Result<&closeloop_domain::config::MessageTemplate, ApiError> {
    distribution.messages.get(kind).ok_or_else(|| {
        ApiError::new(
            Code::NoSuchMessage,
            format!(
                "distribution {} has no {} message",
                distribution.id,
                kind.as_str()
            ),
        )
        .at("message")
    })
}

/// `invitation`, `reminder` or `thank_you` (default `invitation`).
fn message_kind(name: Option<&str>) -> Result<MessageKind, ApiError> {
    let Some(name) = name else {
        return Ok(MessageKind::Invitation);
    };
    name.parse().map_err(|_| {
        ApiError::new(
            Code::InvalidField,
            format!("message must be invitation, reminder or thank_you, not {name:?}"),
        )
        .at("message")
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSend {
    to: String,
    message: Option<String>,
    language: Option<String>,
}

/// `POST /api/v1/distributions/{id}/test` `{"to":"+…","message":"invitation","language":"es"}`.
#[utoipa::path(post, path = "/distributions/{id}/test", tag = "distributions",
    params(("id" = String, Path, description = "Distribution id")),
    request_body(content = Value, description = "`{to, message, language}`"),
    responses((status = 202, description = "A test invite was queued; analytics exclude it", body = Value),
              (status = 403, description = "Needs edit_distribution", body = ErrorBody),
              (status = 422, description = "Bad number, message or language; or suppressed", body = ErrorBody)))]
pub(crate) async fn test_send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: TestSend = parse_json(&body)?;
    let (distribution, survey) = lookup(&state, &id)?;
    require_edit(&caller, &survey)?;
    let to = closeloop_domain::phone::E164::parse(&request.to, None).map_err(|e| {
        ApiError::new(Code::InvalidRecipient, format!("not an E.164 number: {e}")).at("to")
    })?;
    let kind = message_kind(request.message.as_deref())?;
    message_template(&distribution, kind)?;
    let language = survey_language(&survey, request.language.as_deref())?;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    if tx
        .is_suppressed(to.as_str(), &distribution.sender_account)
        .await?
    {
        return Err(ApiError::new(
            Code::Suppressed,
            format!("{} is on the suppression list", to.as_str()),
        )
        .at("to"));
    }
    let invite_id = crate::usecase::actions::queue_test(
        &mut tx,
        &state,
        &distribution,
        &survey,
        kind,
        &language,
        &to,
        &sample_case(),
        now,
    )
    .await?
    .map_err(|why| ApiError::new(Code::TemplateNotAvailable, why).at("language"))?;
    tx.commit().await?;
    state.wake_dispatch.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"invite_id": invite_id, "message": kind.as_str(), "language": language.as_str(), "to": to.as_str(), "test": true}),
        ),
    ))
}

/// Body of a clone: the new id (default: `{id}-copy`, numbered when taken).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloneRequest {
    /// The copy's id.
    id: Option<String>,
}

/// `POST /api/v1/distributions/{id}/clone` `{"id":"…"}` (optional): a `draft` copy with a
/// new id — the source document's "test with a dedicated distribution, then clone it for
/// the real audience".
///
/// # Errors
/// 404, 403 without `edit_distribution`, 409 when the id is taken.
#[utoipa::path(post, path = "/distributions/{id}/clone", tag = "distributions",
    params(("id" = String, Path, description = "Distribution to copy")),
    request_body(content = CloneRequest, description = "Optional: the copy's id"),
    responses((status = 201, description = "The draft copy, with an ETag header", body = Value),
              (status = 403, description = "Needs edit_distribution on the survey", body = ErrorBody),
              (status = 404, description = "No such distribution", body = ErrorBody),
              (status = 409, description = "The id is taken", body = ErrorBody)))]
pub(crate) async fn clone(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CloneRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CloneRequest::default()
    } else {
        parse_json(&body)?
    };
    let snapshot = state.live.snapshot();
    let (_, source) = document::find(&snapshot.document, Kind::Distributions, &id)
        .ok_or_else(|| ApiError::not_found("distribution", &id))?;
    let new_id = match request.id {
        Some(new_id) => new_id,
        None => (1..)
            .map(|n| match n {
                1 => format!("{id}-copy"),
                n => format!("{id}-copy-{n}"),
            })
            .find(|candidate| {
                document::find(&snapshot.document, Kind::Distributions, candidate).is_none()
            })
            .unwrap_or_else(|| format!("{id}-copy")),
    };
    let mut copy = source.clone();
    if let Some(map) = copy.as_object_mut() {
        map.insert("id".into(), json!(new_id));
        map.insert("status".into(), json!("draft"));
    }
    let body = serde_json::to_vec(&copy).map_err(ApiError::internal)?;
    let written = resources::create(&state, &caller, Kind::Distributions, &headers, &body).await?;
    Ok(written_response(StatusCode::CREATED, written))
}
