//! `GET /console/distributions` and `GET /console/distributions/{id}` (state and reason,
//! and the preview of a message as a WhatsApp chat bubble in each survey language, from a
//! stored case or sample values), with the forms that pause or resume, clone and test
//! one: the operations of the API's distribution routes (`usecase::config_change` and
//! `usecase::distributions`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use closeloop_domain::config::document::Kind;
use closeloop_whatsapp::wire::Parameter;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::html;
use crate::http::AppState;
use crate::usecase::config_change;
use crate::usecase::distributions::{self, Preview};
use crate::usecase::error::{ApiError, Code};

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A distribution's line in the list.
struct Line {
    id: String,
    survey: String,
    account: String,
    state: String,
    reason: String,
}

fn line(d: &Value) -> Line {
    Line {
        id: text(d, "id").into(),
        survey: text(d, "survey").into(),
        account: text(d, "sender_account").into(),
        state: text(d, "state").into(),
        reason: text(d, "state_reason").into(),
    }
}

#[derive(Template)]
#[template(path = "console/distributions.html")]
struct ListPage {
    lang: &'static str,
    title: &'static str,
    chrome: Chrome,
    lines: Vec<Line>,
}

/// `GET /console/distributions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Response {
    match config_change::list(&state, &operator.caller, Kind::Distributions).await {
        Ok(items) => html::page(
            StatusCode::OK,
            &ListPage {
                lang: LANG,
                title: "Distributions",
                chrome: Chrome::of(Some(&operator)),
                lines: items.iter().map(line).collect(),
            },
        ),
        Err(e) => page::failure(Some(&operator), e),
    }
}

/// The preview's choices (`GET /console/distributions/{id}?language=&message=&case_id=`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PreviewChoice {
    #[serde(default)]
    language: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    case_id: String,
}

/// A link to another language or message of the preview.
struct Tab {
    label: String,
    href: String,
    current: bool,
}

/// A message as WhatsApp shows it.
struct Bubble {
    header: Option<String>,
    text: String,
    buttons: Vec<String>,
    template: String,
    sample: bool,
}

#[derive(Template)]
#[template(path = "console/distribution.html")]
struct DetailPage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    line: Line,
    status: String,
    languages: Vec<Tab>,
    messages: Vec<Tab>,
    language: String,
    message: String,
    case_id: String,
    bubble: Result<Bubble, String>,
    copy_id: String,
}

fn href(id: &str, language: &str, message: &str, case_id: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("language", language),
        ("message", message),
        ("case_id", case_id),
    ])
    .unwrap_or_default();
    format!("/console/distributions/{}?{query}", urlencode(id))
}

/// A path segment, percent-encoded.
pub(crate) fn urlencode(segment: &str) -> String {
    serde_urlencoded::to_string([("", segment)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20")
}

/// The bubble of a preview: header media, text, and the buttons (the URL button, then the
/// quick replies with the answers they record).
fn bubble(preview: Preview, distribution: &Value, message: &str) -> Bubble {
    let header = preview
        .components
        .iter()
        .filter(|c| c.kind == "header")
        .flat_map(|c| c.parameters.iter())
        .find_map(|p| match p {
            Parameter::Image { image } => Some(format!("[image] {}", image.link)),
            Parameter::Video { video } => Some(format!("[video] {}", video.link)),
            Parameter::Document { document } => Some(format!(
                "[document] {}",
                document.filename.as_deref().unwrap_or(&document.link)
            )),
            Parameter::Text { .. } | Parameter::Payload { .. } => None,
        });
    // The quick replies' payloads are signed per invite when sent, so a preview has none;
    // the buttons are the distribution's, each recording its answer.
    let url_buttons = preview
        .components
        .iter()
        .filter(|c| c.kind == "button" && c.sub_type.as_deref() == Some("url"))
        .map(|_| "Open the survey ↗".to_string());
    let quick_replies = distribution["messages"][message]["quick_replies"]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|answer| match answer {
            Value::String(answer) => format!("↩ answers {answer}"),
            answer => format!("↩ answers {answer}"),
        });
    let buttons = url_buttons.chain(quick_replies).collect();
    Bubble {
        header,
        text: preview.text,
        buttons,
        template: format!("{} ({})", preview.template, preview.template_language),
        sample: preview.sample,
    }
}

/// `GET /console/distributions/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Query(choice): Query<PreviewChoice>,
) -> Response {
    let distribution =
        match config_change::get_one(&state, &operator.caller, Kind::Distributions, &id).await {
            Ok((distribution, _)) => distribution,
            Err(e) => return page::failure(Some(&operator), e),
        };
    let config = state.config();
    let survey_languages: Vec<String> = config
        .survey(text(&distribution, "survey"))
        .map(|s| s.languages.iter().map(|l| l.as_str().to_string()).collect())
        .unwrap_or_default();
    let language = Some(choice.language.trim().to_string())
        .filter(|l| !l.is_empty())
        .or_else(|| {
            config
                .survey(text(&distribution, "survey"))
                .map(|s| s.default_language.as_str().to_string())
        })
        .unwrap_or_default();
    let message = Some(choice.message.trim().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "invitation".into());
    let case_id = choice.case_id.trim().to_string();
    let preview = distributions::preview(
        &state,
        &operator.caller,
        &id,
        Some(&message),
        Some(&language),
        Some(case_id.as_str()).filter(|c| !c.is_empty()),
    )
    .await;
    let bubble = match preview {
        Ok(preview) => Ok(bubble(preview, &distribution, &message)),
        Err(e) => Err(e.message().to_string()),
    };
    let page = DetailPage {
        lang: LANG,
        title: format!("Distribution {id}"),
        chrome: Chrome::of(Some(&operator)),
        status: text(&distribution, "status").into(),
        line: line(&distribution),
        languages: survey_languages
            .iter()
            .map(|l| Tab {
                label: l.clone(),
                href: href(&id, l, &message, &case_id),
                current: *l == language,
            })
            .collect(),
        messages: ["invitation", "reminder", "thank_you"]
            .iter()
            .filter(|m| !distribution["messages"][**m].is_null())
            .map(|m| Tab {
                label: m.replace('_', " "),
                href: href(&id, &language, m, &case_id),
                current: *m == message,
            })
            .collect(),
        copy_id: format!("{id}-copy"),
        language,
        message,
        case_id,
        bubble,
    };
    html::page(StatusCode::OK, &page)
}

/// The pause/resume form.
#[derive(Deserialize)]
pub(crate) struct StatusForm {
    status: String,
}

/// `POST /console/distributions/{id}/status` (`status`: `active` or `paused`): the
/// API's merge patch of the distribution.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    if !matches!(form.status.as_str(), "active" | "paused") {
        return page::refused(
            Some(&operator),
            ApiError::new(Code::InvalidField, "status must be active or paused").at("status"),
        );
    }
    let patch = json!({"status": form.status}).to_string();
    match config_change::patch(
        &state,
        &operator.caller,
        Kind::Distributions,
        &id,
        None,
        patch.as_bytes(),
    )
    .await
    {
        Ok(_) => {
            Redirect::to(&format!("/console/distributions/{}", urlencode(&id))).into_response()
        }
        Err(e) => page::refused(Some(&operator), e),
    }
}

/// The clone form.
#[derive(Deserialize)]
pub(crate) struct CloneForm {
    new_id: String,
}

/// `POST /console/distributions/{id}/clone`: a draft copy under the id given.
pub(crate) async fn clone(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Form(form): Form<CloneForm>,
) -> Response {
    let new_id = Some(form.new_id.trim().to_string()).filter(|n| !n.is_empty());
    match distributions::clone(&state, &operator.caller, &id, new_id).await {
        Ok(written) => {
            let new_id = written.body["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/console/distributions/{}", urlencode(new_id))).into_response()
        }
        Err(e) => page::refused(Some(&operator), e),
    }
}

/// The test-send form.
#[derive(Deserialize)]
pub(crate) struct TestForm {
    to: String,
    message: String,
    language: String,
}

#[derive(Template)]
#[template(path = "console/test_sent.html")]
struct TestSentPage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    id: String,
    href: String,
    to: String,
}

/// `POST /console/distributions/{id}/test`: one test message (the API's test send).
pub(crate) async fn test_send(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Form(form): Form<TestForm>,
) -> Response {
    let sent = distributions::test_send(
        &state,
        &operator.caller,
        &id,
        form.to.trim(),
        Some(&form.message),
        Some(&form.language),
    )
    .await;
    match sent {
        Ok(sent) => html::page(
            StatusCode::ACCEPTED,
            &TestSentPage {
                lang: LANG,
                title: format!("Test message queued for {}", sent.to),
                chrome: Chrome::of(Some(&operator)),
                href: href(&id, &form.language, &form.message, ""),
                to: sent.to,
                id,
            },
        ),
        Err(e) => page::refused(Some(&operator), e),
    }
}
