//! The customer's survey: `GET /s/{token}` (the page), `POST /s/{token}` (the form),
//! `POST /s/{token}/answers` (JSON), `GET|POST /s/{token}/unsubscribe`.
//!
//! Mobile-first HTML from the askama templates in `templates/survey/`, needing no
//! JavaScript, in the invite's language (SPEC §4.18; English for a link that matches no
//! invite); every user-supplied text is escaped by the templates.
//! Answers are checked by `closeloop_domain::answer`; the response status follows SPEC §1.2
//! and every change re-enters the rules as a `survey_updated` event.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use closeloop_domain::answer::{self, AnswerError};
use closeloop_domain::config::{Question, QuestionKind};
use closeloop_domain::page_text::{PageText, PageTexts};
use closeloop_domain::status::ResponseStatus;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::http::extract::parse_json;
use crate::http::html::page;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{AnswersRequest, AnswersSaved};
use crate::http::AppState;
use crate::usecase::answers::{self, Closed, Open, Refused, SaveError};
use crate::usecase::error::{ApiError, Code};

/// A page with a title, a sentence and perhaps one confirm button.
#[derive(Template)]
#[template(path = "survey/message.html")]
struct MessagePage<'a> {
    lang: String,
    title: &'a str,
    message: &'a str,
    button: Option<&'a str>,
}

/// The survey form.
#[derive(Template)]
#[template(path = "survey/form.html")]
struct FormPage<'a> {
    lang: String,
    title: &'a str,
    t: &'a PageTexts,
    notice: Option<&'a str>,
    has_errors: bool,
    questions: Vec<QuestionView<'a>>,
    unsubscribe: String,
}

struct QuestionView<'a> {
    id: &'a str,
    label: &'a str,
    required: bool,
    error: Option<String>,
    input: Input<'a>,
}

enum Input<'a> {
    Scale(Vec<Point>),
    Choice(Vec<ChoiceView<'a>>),
    Text { value: String, max: usize },
}

struct Point {
    value: u8,
    checked: bool,
}

struct ChoiceView<'a> {
    id: &'a str,
    label: &'a str,
    checked: bool,
}

/// A title-and-sentence page in `texts`' language.
fn message_page(
    status: StatusCode,
    texts: &PageTexts,
    title: PageText,
    message: PageText,
) -> Response {
    page(
        status,
        &MessagePage {
            lang: texts.language().bcp47(),
            title: texts.get(title),
            message: texts.get(message),
            button: None,
        },
    )
}

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

    fn page(&self, texts: &PageTexts) -> Response {
        let (title, message) = match self {
            Closed::Unknown => (PageText::NotFoundTitle, PageText::NotFoundMessage),
            Closed::Expired => (PageText::ExpiredTitle, PageText::ExpiredMessage),
            Closed::Paused => (PageText::PausedTitle, PageText::PausedMessage),
            Closed::Completed => (PageText::ThankYouTitle, PageText::ThankYouMessage),
            Closed::Unavailable => (PageText::UnavailableTitle, PageText::UnavailableMessage),
        };
        let status = match self {
            Closed::Completed => StatusCode::OK,
            other => other.status(),
        };
        message_page(status, texts, title, message)
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
    responses((status = 200, description = "The survey page (HTML), or the thank-you page once submitted", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 410, description = "Expired link", content_type = "text/html", body = String),
              (status = 423, description = "The survey is paused", content_type = "text/html", body = String),
              (status = 503, description = "Cannot be answered right now", content_type = "text/html", body = String)))]
pub(crate) async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let open = match answers::open(&state, &token).await {
        Ok(open) => open,
        Err(Refused { closed, texts }) => return closed.page(&texts),
    };
    if let Err(e) = answers::mark_opened(&state, &open.invite).await {
        tracing::error!(error = %e, "could not record that a survey was opened");
    }
    survey_form(StatusCode::OK, &open, &open.invite.answers, &[], None)
}

/// `POST /s/{token}` (HTML form): saves answers; `_action=submit` submits.
#[utoipa::path(post, path = "/s/{token}", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    request_body(content = std::collections::BTreeMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "The form's answers: question id → answer, and `_action=submit` to submit"),
    responses((status = 200, description = "The page again, or the thank-you page", content_type = "text/html", body = String),
              (status = 400, description = "Not a form body", content_type = "text/html", body = String),
              (status = 422, description = "An answer is invalid: the page again with the errors", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 410, description = "Expired link", content_type = "text/html", body = String),
              (status = 423, description = "The survey is paused", content_type = "text/html", body = String),
              (status = 503, description = "Cannot be answered right now", content_type = "text/html", body = String)))]
pub(crate) async fn submit_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let open = match answers::open(&state, &token).await {
        Ok(open) => open,
        Err(Refused { closed, texts }) => return closed.page(&texts),
    };
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            &open.texts,
            PageText::FormErrorTitle,
            PageText::FormErrorMessage,
        );
    };
    let submit = fields.iter().any(|(k, v)| k == "_action" && v == "submit");
    let answers: Map<String, Value> = fields
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    match answers::save(&state, &open, &answers, submit).await {
        Ok(ResponseStatus::Completed) => Closed::Completed.page(&open.texts),
        Ok(_) => {
            let saved = answers::reread(&state, &open).await;
            let notice = open.texts.get(PageText::Saved);
            survey_form(StatusCode::OK, &open, &saved, &[], Some(notice))
        }
        Err(SaveError::Invalid(errors)) => {
            let mut shown = open.invite.answers.clone();
            shown.extend(answers);
            survey_form(
                StatusCode::UNPROCESSABLE_ENTITY,
                &open,
                &shown,
                &errors,
                None,
            )
        }
        Err(SaveError::Closed(closed)) => closed.page(&open.texts),
        Err(SaveError::Store(e)) => {
            tracing::error!(error = %e, "saving answers");
            Closed::Unavailable.page(&open.texts)
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
    request_body(content = AnswersRequest, description = "`{\"answers\":{\"score\":5},\"submit\":true}`"),
    responses((status = 200, description = "Saved; the response status", body = AnswersSaved),
              (status = 404, description = "Unknown link", body = ErrorBody),
              (status = 409, description = "Already completed, or the survey is paused", body = ErrorBody),
              (status = 410, description = "Expired link", body = ErrorBody),
              (status = 422, description = "An answer is invalid (names the question)", body = ErrorBody),
              (status = 500, description = "Not saved; retry", body = ErrorBody),
              (status = 503, description = "Cannot be answered right now", body = ErrorBody)))]
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
        Err(refused) => return refused.closed.api_error().into_response(),
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
    responses((status = 200, description = "Asks to confirm", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 503, description = "Cannot be read right now", content_type = "text/html", body = String)))]
pub(crate) async fn unsubscribe_confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let english = PageTexts::english();
    match state.store.invite_by_token(&token).await {
        Ok(Some(invite)) => {
            let texts = answers::page_texts(&state, &invite);
            page(
                StatusCode::OK,
                &MessagePage {
                    lang: texts.language().bcp47(),
                    title: texts.get(PageText::UnsubscribeTitle),
                    message: texts.get(PageText::UnsubscribeMessage),
                    button: Some(texts.get(PageText::UnsubscribeButton)),
                },
            )
        }
        Ok(None) => Closed::Unknown.page(&english),
        Err(_) => Closed::Unavailable.page(&english),
    }
}

/// `POST /s/{token}/unsubscribe`: suppresses the number and unsubscribes its open invites.
#[utoipa::path(post, path = "/s/{token}/unsubscribe", tag = "survey page",
    params(("token" = String, Path, description = "Survey link token")),
    responses((status = 200, description = "Unsubscribed: the number is suppressed", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 503, description = "Not stored; retry", content_type = "text/html", body = String)))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match answers::unsubscribe(&state, &token).await {
        Ok(Some(texts)) => message_page(
            StatusCode::OK,
            &texts,
            PageText::UnsubscribedTitle,
            PageText::UnsubscribedMessage,
        ),
        Ok(None) => Closed::Unknown.page(&PageTexts::english()),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe");
            Closed::Unavailable.page(&PageTexts::english())
        }
    }
}

fn survey_form(
    status: StatusCode,
    open: &Open,
    answers: &Map<String, Value>,
    errors: &[AnswerError],
    notice: Option<&str>,
) -> Response {
    let questions = open
        .survey
        .questions
        .iter()
        .map(|q| {
            let error = errors
                .iter()
                .find(|e| e.question == q.id)
                .map(|e| open.texts.answer_problem(&e.problem));
            question_view(open, q, answers.get(&q.id), error)
        })
        .collect();
    page(
        status,
        &FormPage {
            lang: open.texts.language().bcp47(),
            title: &open.survey.name,
            t: &open.texts,
            notice,
            has_errors: !errors.is_empty(),
            questions,
            unsubscribe: format!("/s/{}/unsubscribe", open.invite.token),
        },
    )
}

fn question_view<'a>(
    open: &'a Open,
    q: &'a Question,
    answer: Option<&Value>,
    error: Option<String>,
) -> QuestionView<'a> {
    let survey = &open.survey;
    let language = &open.language;
    let selected = answer.map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let scale = |from: u8, to: u8| {
        Input::Scale(
            (from..=to)
                .map(|value| Point {
                    value,
                    checked: selected.as_deref() == Some(value.to_string().as_str()),
                })
                .collect(),
        )
    };
    let input = match &q.kind {
        QuestionKind::Rating => scale(1, 5),
        QuestionKind::Nps => scale(0, 10),
        QuestionKind::SingleChoice { options } => Input::Choice(
            options
                .iter()
                .map(|o| ChoiceView {
                    id: &o.id,
                    label: o
                        .text
                        .get(language)
                        .or_else(|| o.text.get(&survey.default_language))
                        .map_or(o.id.as_str(), String::as_str),
                    checked: selected.as_deref() == Some(o.id.as_str()),
                })
                .collect(),
        ),
        QuestionKind::Text => Input::Text {
            value: selected.clone().unwrap_or_default(),
            max: answer::MAX_TEXT_CHARS,
        },
    };
    QuestionView {
        id: &q.id,
        label: survey.question_text(q, language),
        required: q.required,
        error,
        input,
    }
}
