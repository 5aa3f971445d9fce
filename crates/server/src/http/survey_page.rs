//! The customer's survey: `GET /s/{token}` (the page), `POST /s/{token}` (the form),
//! `POST /s/{token}/answers` (JSON), `GET|POST /s/{token}/unsubscribe`.
//!
//! Mobile-first HTML that needs no JavaScript; every user-supplied text is escaped.
//! Answers are checked by `closeloop_domain::answer`; the response status follows SPEC §1.2
//! and every change re-enters the rules as a `survey_updated` event.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use closeloop_domain::answer::{self, AnswerError};
use closeloop_domain::config::{Question, QuestionKind, Survey};
use closeloop_domain::language::Language;
use closeloop_domain::status::ResponseStatus;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::http::extract::parse_json;
use crate::http::openapi::ErrorBody;
use crate::http::AppState;
use crate::usecase::answers::{self, Closed, Open, SaveError};
use crate::usecase::error::{ApiError, Code};

impl Closed {
    fn status(&self) -> StatusCode {
        match self {
            Closed::Unknown => StatusCode::NOT_FOUND,
            Closed::Expired => StatusCode::GONE,
            Closed::Paused => StatusCode::LOCKED,
            Closed::Completed => StatusCode::CONFLICT,
            Closed::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn page(&self) -> Response {
        let (title, message) = match self {
            Closed::Unknown => (
                "Survey not found",
                "This survey link is not valid. Please check the link in your message.",
            ),
            Closed::Expired => (
                "This survey has expired",
                "The link to this survey has expired. Thank you for your time.",
            ),
            Closed::Paused => (
                "This survey is paused",
                "This survey is paused for now. Please try again later.",
            ),
            Closed::Completed => (
                "Thank you!",
                "Your answers have been received. There is nothing more to do.",
            ),
            Closed::Unavailable => (
                "Please try again",
                "The survey cannot be shown right now. Please try again in a moment.",
            ),
        };
        let status = match self {
            Closed::Completed => StatusCode::OK,
            other => other.status(),
        };
        page(status, title, &format!("<p>{}</p>", text(message)))
    }

    fn api_error(&self) -> ApiError {
        match self {
            Closed::Unknown => ApiError::not_found("survey link", "…"),
            Closed::Expired => ApiError::new(Code::LinkExpired, "this survey link has expired"),
            Closed::Paused => ApiError::new(
                Code::SurveyPaused,
                "this survey is paused and accepts no answers",
            ),
            Closed::Completed => ApiError::new(
                Code::AlreadyCompleted,
                "this survey was already submitted and cannot be changed",
            ),
            Closed::Unavailable => ApiError::unavailable("the survey cannot be answered right now"),
        }
    }
}

/// `GET /s/{token}`: shows the survey; the first view moves the invite to `opened` and
/// the response to `survey_opened`.
#[utoipa::path(get, path = "/s/{token}", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    responses((status = 200, description = "The survey page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link"), (status = 410, description = "Expired link")))]
pub(crate) async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let open = match answers::open(&state, &token).await {
        Ok(open) => open,
        Err(closed) => return closed.page(),
    };
    if let Err(e) = answers::mark_opened(&state, &open.invite).await {
        tracing::error!(error = %e, "could not record that a survey was opened");
    }
    let html = survey_form(&open, &open.invite.answers, &[], None);
    Html(html).into_response()
}

/// `POST /s/{token}` (HTML form): saves answers; `_action=submit` submits.
#[utoipa::path(post, path = "/s/{token}", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The form's answers"),
    responses((status = 200, description = "The page again, or the thank-you page", content_type = "text/html", body = String)))]
pub(crate) async fn submit_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let open = match answers::open(&state, &token).await {
        Ok(open) => open,
        Err(closed) => return closed.page(),
    };
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "<p>The form could not be read. Please try again.</p>",
        );
    };
    let submit = fields.iter().any(|(k, v)| k == "_action" && v == "submit");
    let answers: Map<String, Value> = fields
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    match answers::save(&state, &open, &answers, submit).await {
        Ok(ResponseStatus::Completed) => Closed::Completed.page(),
        Ok(_) => {
            let saved = answers::reread(&state, &open).await;
            Html(survey_form(
                &open,
                &saved,
                &[],
                Some("Your answers are saved. You can finish later."),
            ))
            .into_response()
        }
        Err(SaveError::Invalid(errors)) => {
            let mut shown = open.invite.answers.clone();
            shown.extend(answers);
            let html = survey_form(&open, &shown, &errors, None);
            (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
        }
        Err(SaveError::Closed(closed)) => closed.page(),
        Err(SaveError::Store(e)) => {
            tracing::error!(error = %e, "saving answers");
            Closed::Unavailable.page()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswersBody {
    answers: Map<String, Value>,
    #[serde(default)]
    submit: bool,
}

/// `POST /s/{token}/answers` `{"answers":{"score":5},"submit":true}`.
#[utoipa::path(post, path = "/s/{token}/answers", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    request_body(content = Value, description = "`{\"answers\":{\"score\":5},\"submit\":true}`"),
    responses((status = 200, description = "Saved; the response status", body = Value),
              (status = 409, description = "Already completed", body = ErrorBody),
              (status = 422, description = "An answer is invalid (names the question)", body = ErrorBody)))]
pub(crate) async fn submit_json(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let request: AnswersBody = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let open = match answers::open(&state, &token).await {
        Ok(open) => open,
        Err(closed) => return closed.api_error().into_response(),
    };
    match answers::save(&state, &open, &request.answers, request.submit).await {
        Ok(status) => {
            let answers = answers::reread(&state, &open).await;
            Json(json!({"response_status": status.as_str(), "answers": answers})).into_response()
        }
        Err(SaveError::Invalid(errors)) => {
            let first = &errors[0];
            let mut body = ApiError::new(
                Code::InvalidAnswer,
                format!("{}: {}", first.question, first.message),
            )
            .at(format!("answers.{}", first.question))
            .body();
            body["errors"] = json!(errors);
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
        Err(SaveError::Closed(closed)) => closed.api_error().into_response(),
        Err(SaveError::Store(e)) => ApiError::internal(e).into_response(),
    }
}

/// `GET /s/{token}/unsubscribe`: asks for confirmation (a link preview must not opt out).
#[utoipa::path(get, path = "/s/{token}/unsubscribe", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    responses((status = 200, description = "Asks to confirm", content_type = "text/html", body = String)))]
pub(crate) async fn unsubscribe_confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match state.store.invite_by_token(&token).await {
        Ok(Some(_)) => page(
            StatusCode::OK,
            "Stop survey messages?",
            "<p>You will receive no more survey messages from us on WhatsApp.</p>\
             <form method=\"post\"><button type=\"submit\">Yes, stop messages</button></form>",
        ),
        Ok(None) => Closed::Unknown.page(),
        Err(_) => Closed::Unavailable.page(),
    }
}

/// `POST /s/{token}/unsubscribe`: suppresses the number and unsubscribes its open invites.
#[utoipa::path(post, path = "/s/{token}/unsubscribe", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    responses((status = 200, description = "Unsubscribed: the number is suppressed", content_type = "text/html", body = String)))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match answers::unsubscribe(&state, &token).await {
        Ok(true) => page(
            StatusCode::OK,
            "You are unsubscribed",
            "<p>You will receive no more survey messages from us.</p>",
        ),
        Ok(false) => Closed::Unknown.page(),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe");
            Closed::Unavailable.page()
        }
    }
}

fn survey_form(
    open: &Open,
    answers: &Map<String, Value>,
    errors: &[AnswerError],
    notice: Option<&str>,
) -> String {
    let survey = &open.survey;
    let questions: String = survey
        .questions
        .iter()
        .map(|q| {
            let error = errors
                .iter()
                .find(|e| e.question == q.id)
                .map(|e| e.message.as_str());
            question_html(survey, q, &open.language, answers.get(&q.id), error)
        })
        .collect();
    let notice = notice
        .map(|n| format!("<p class=\"notice\" role=\"status\">{}</p>", text(n)))
        .unwrap_or_default();
    let summary = if errors.is_empty() {
        String::new()
    } else {
        "<p class=\"error\" role=\"alert\">Please check the questions marked below.</p>".to_string()
    };
    let body = format!(
        "{notice}{summary}<form method=\"post\" novalidate>{questions}\
         <div class=\"actions\"><button type=\"submit\" name=\"_action\" value=\"submit\">Submit</button>\
         <button type=\"submit\" name=\"_action\" value=\"save\" class=\"secondary\">Save and finish later</button></div>\
         </form><p class=\"small\"><a href=\"{unsubscribe}\">Stop survey messages</a></p>",
        unsubscribe = attr(&format!("/s/{}/unsubscribe", open.invite.token)),
    );
    document(&open.language, &survey.name, &body)
}

fn question_html(
    survey: &Survey,
    q: &Question,
    language: &Language,
    answer: Option<&Value>,
    error: Option<&str>,
) -> String {
    let label = text(survey.question_text(q, language));
    let required = if q.required {
        " <span class=\"req\">(required)</span>"
    } else {
        ""
    };
    let id = attr(&q.id);
    let selected = answer.map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let described = if error.is_some() {
        format!(" aria-describedby=\"err-{id}\"")
    } else {
        String::new()
    };
    let input = match &q.kind {
        QuestionKind::Rating => scale(&id, 1, 5, selected.as_deref()),
        QuestionKind::Nps => scale(&id, 0, 10, selected.as_deref()),
        QuestionKind::SingleChoice { options } => options
            .iter()
            .map(|o| {
                let label = o
                    .text
                    .get(language)
                    .or_else(|| o.text.get(&survey.default_language))
                    .map_or(o.id.as_str(), String::as_str);
                let checked = if selected.as_deref() == Some(o.id.as_str()) { " checked" } else { "" };
                format!(
                    "<label class=\"choice\"><input type=\"radio\" name=\"{id}\" value=\"{}\"{checked}> {}</label>",
                    attr(&o.id),
                    text(label)
                )
            })
            .collect(),
        QuestionKind::Text => format!(
            "<label class=\"sr\" for=\"q-{id}\">{label}</label><textarea id=\"q-{id}\" name=\"{id}\" rows=\"4\" maxlength=\"{}\">{}</textarea>",
            answer::MAX_TEXT_CHARS,
            text(selected.as_deref().unwrap_or(""))
        ),
    };
    let error_html = error
        .map(|e| format!("<p class=\"field-error\" id=\"err-{id}\">{}</p>", text(e)))
        .unwrap_or_default();
    let class = if error.is_some() {
        " class=\"invalid\""
    } else {
        ""
    };
    format!("<fieldset{class}{described}><legend>{label}{required}</legend>{error_html}{input}</fieldset>")
}

fn scale(name: &str, from: u8, to: u8, selected: Option<&str>) -> String {
    let options: String = (from..=to)
        .map(|v| {
            let checked = if selected == Some(v.to_string().as_str()) { " checked" } else { "" };
            format!("<label class=\"pt\"><input type=\"radio\" name=\"{name}\" value=\"{v}\"{checked}><span>{v}</span></label>")
        })
        .collect();
    format!("<div class=\"scale\">{options}</div>")
}

/// A whole page; `body_html` must already be escaped.
fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let english = Language::parse("en").ok();
    let html = match &english {
        Some(l) => document(l, title, body_html),
        None => String::new(),
    };
    (status, Html(html)).into_response()
}

fn document(language: &Language, title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>\
         <h1>{title}</h1>{body_html}</main></body></html>",
        lang = attr(&language.as_str().replace('_', "-")),
        title = text(title),
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f4f5f7;color:#111;font-size:1.05rem;line-height:1.45}\
main{max-width:36rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0 1rem}\
fieldset{border:0;background:#fff;border-radius:.6rem;margin:0 0 1rem;padding:1rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}\
fieldset.invalid{outline:2px solid #b00020}legend{font-weight:600;padding:0;margin-bottom:.6rem;float:left;width:100%}\
legend+*{clear:both}.req{color:#555;font-weight:400;font-size:.9rem}\
.scale{display:flex;flex-wrap:wrap;gap:.4rem}.pt{position:relative}\
.pt input{position:absolute;opacity:0;width:100%;height:100%;margin:0;cursor:pointer}\
.pt span{display:inline-block;min-width:2.6rem;padding:.65rem 0;text-align:center;border:1px solid #444;border-radius:.45rem;background:#fff}\
.pt input:checked+span{background:#0b57d0;color:#fff;border-color:#0b57d0}\
.pt input:focus-visible+span{outline:3px solid #f0a500;outline-offset:2px}\
.choice{display:block;padding:.45rem 0}textarea{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #444;border-radius:.45rem}\
.actions{display:flex;flex-direction:column;gap:.6rem}\
button{font:inherit;padding:.8rem 1rem;border-radius:.5rem;border:0;background:#0b57d0;color:#fff;font-weight:600}\
button.secondary{background:#fff;color:#0b57d0;border:1px solid #0b57d0}\
.error,.field-error{color:#b00020;font-weight:600;margin:.2rem 0 .6rem}.notice{background:#e6f4ea;padding:.6rem;border-radius:.4rem}\
.small{font-size:.9rem;margin-top:1.5rem}a{color:#0b57d0}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";
