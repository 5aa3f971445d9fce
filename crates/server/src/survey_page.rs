//! The customer's survey page `GET /s/{token}`: the survey's questions in the invite's
//! language, mobile-first, no JavaScript. Every user-supplied text is HTML-escaped.
//! Opening it moves the invite to `opened` and the response to `survey_opened`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use closeloop_domain::config::{Question, QuestionKind, Survey};
use closeloop_domain::language::Language;
use closeloop_domain::status::{InviteStatus, ResponseStatus};
use closeloop_store::{InviteRow, StoreError};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::app::AppState;
use crate::status::{change_invite_status, emit_survey_event};

/// `GET /s/{token}`.
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let invite = match state.store.invite_by_token(&token).await {
        Ok(Some(invite)) => invite,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "Survey not found",
                "This survey link is not valid. Please check the link in your message.",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "survey page");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "The survey cannot be shown right now. Please try again in a moment.",
            );
        }
    };
    if state.clock.now_ms() > invite.expires_at {
        return page(
            StatusCode::GONE,
            "This survey has expired",
            "The link to this survey has expired. Thank you for your time.",
        );
    }
    let Some(survey) = state.config.survey(&invite.survey) else {
        return page(
            StatusCode::GONE,
            "Survey no longer available",
            "This survey is no longer available.",
        );
    };
    if let Err(e) = mark_opened(&state, &invite).await {
        tracing::error!(error = %e, "could not record that a survey was opened");
    }
    let language =
        Language::parse(&invite.language).unwrap_or_else(|_| survey.default_language.clone());
    Html(survey_html(survey, &language)).into_response()
}

async fn mark_opened(state: &AppState, invite: &InviteRow) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let mut changed =
        change_invite_status(&mut tx, invite, InviteStatus::Opened, None, now).await?;
    if let Some(next) = invite
        .response_status
        .transition(ResponseStatus::SurveyOpened)
    {
        tx.set_response_status(&invite.id, next, now).await?;
        emit_survey_event(&mut tx, &invite.case_id, "survey.response_status", now).await?;
        changed = true;
    }
    tx.commit().await?;
    if changed {
        state.wake_events.notify_one();
    }
    Ok(())
}

fn survey_html(survey: &Survey, language: &Language) -> String {
    let questions: String = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| question_html(survey, q, language, i))
        .collect();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\
         <h1>{title}</h1><form method=\"post\">{questions}</form></main></body></html>",
        lang = attr(&language.as_str().replace('_', "-")),
        title = text(&survey.name),
    )
}

fn question_html(survey: &Survey, q: &Question, language: &Language, index: usize) -> String {
    let label = text(survey.question_text(q, language));
    let required = if q.required {
        " <span class=\"req\" aria-label=\"required\">*</span>"
    } else {
        ""
    };
    let name = attr(&q.id);
    let input = match &q.kind {
        QuestionKind::Rating => scale(&name, 1, 5),
        QuestionKind::Nps => scale(&name, 0, 10),
        QuestionKind::SingleChoice { options } => options
            .iter()
            .map(|o| {
                let label = o
                    .text
                    .get(language)
                    .or_else(|| o.text.get(&survey.default_language))
                    .map_or(o.id.as_str(), String::as_str);
                format!(
                    "<label class=\"choice\"><input type=\"radio\" name=\"{name}\" value=\"{}\"> {}</label>",
                    attr(&o.id),
                    text(label)
                )
            })
            .collect(),
        QuestionKind::Text => format!("<textarea id=\"q{index}\" name=\"{name}\" rows=\"4\"></textarea>"),
    };
    format!("<fieldset><legend>{label}{required}</legend>{input}</fieldset>")
}

fn scale(name: &str, from: u8, to: u8) -> String {
    let options: String = (from..=to)
        .map(|v| format!("<label class=\"pt\"><input type=\"radio\" name=\"{name}\" value=\"{v}\"><span>{v}</span></label>"))
        .collect();
    format!("<div class=\"scale\">{options}</div>")
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main><h1>{t}</h1><p>{m}</p></main></body></html>",
        t = text(title),
        m = text(message),
    );
    (status, Html(body)).into_response()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#111}\
main{max-width:36rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem}\
fieldset{border:0;background:#fff;border-radius:.5rem;margin:0 0 1rem;padding:1rem}\
legend{font-weight:600;padding:0;margin-bottom:.5rem}.req{color:#b00020}\
.scale{display:flex;flex-wrap:wrap;gap:.4rem}.pt{display:inline-flex}\
.pt span{display:inline-block;min-width:2.5rem;padding:.6rem 0;text-align:center;border:1px solid #555;border-radius:.4rem}\
.choice{display:block;padding:.4rem 0}textarea{width:100%;box-sizing:border-box;font:inherit}";
