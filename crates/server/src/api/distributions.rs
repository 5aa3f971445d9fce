//! `GET /distributions/{id}/preview`: a message as the customer would read it on WhatsApp,
//! filled from a stored case or from sample values.

use axum::extract::{Path, Query, State};
use axum::Json;
use closeloop_domain::case::{Case, Profile};
use closeloop_domain::config::MessageKind;
use closeloop_domain::language::Language;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::ApiError;
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
    Path(id): Path<String>,
    query: Result<Query<PreviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let distribution = state
        .config
        .distribution(&id)
        .ok_or_else(|| ApiError::not_found("distribution", &id))?;
    let survey = state
        .config
        .survey(&distribution.survey)
        .ok_or_else(|| ApiError::not_found("survey", &distribution.survey))?;
    let kind = match query.message.as_deref().unwrap_or("invitation") {
        "invitation" => MessageKind::Invitation,
        "reminder" => MessageKind::Reminder,
        "thank_you" => MessageKind::ThankYou,
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("message must be invitation, reminder or thank_you, not {other:?}"),
            )
            .at("message"))
        }
    };
    let template = distribution
        .messages
        .get(kind)
        .map(TemplateSnapshot::from)
        .ok_or_else(|| {
            ApiError::unprocessable(
                "no_such_message",
                format!("distribution {id} has no {} message", kind_name(kind)),
            )
            .at("message")
        })?;
    let language = match &query.language {
        Some(l) => Language::parse(l)
            .ok()
            .filter(|l| survey.offers(l))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_language",
                    format!("survey {} is not offered in {l:?}", survey.id),
                )
                .at("language")
            })?,
        None => survey.default_language.clone(),
    };
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
