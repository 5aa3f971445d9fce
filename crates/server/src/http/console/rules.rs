//! `GET /console/rules` (the rules in order, in words), `GET /console/rules/{id}` (one
//! rule in words and as the file's YAML to edit), `POST /console/rules/{id}/try` (the
//! edited rule validated and simulated against a stored case; nothing is stored) and
//! `POST /console/rules/{id}` (saved through the API's config change). Errors and lints
//! show inline, next to the text that caused them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use closeloop_domain::config::document::Kind;
use serde::Deserialize;
use serde_json::Value;

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::console::words::{self, Line};
use crate::http::html;
use crate::http::AppState;
use crate::usecase::config_change;
use crate::usecase::error::{ApiError, Code};
use crate::usecase::rule_trial;

/// A rule in the list.
struct RuleView {
    id: String,
    words: Vec<Line>,
}

#[derive(Template)]
#[template(path = "console/rules.html")]
struct ListPage {
    lang: &'static str,
    title: &'static str,
    chrome: Chrome,
    rules: Vec<RuleView>,
}

fn rule_view(rule: &Value) -> RuleView {
    RuleView {
        id: rule["id"].as_str().unwrap_or_default().to_string(),
        words: words::rule(rule),
    }
}

/// `GET /console/rules`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Response {
    match config_change::list(&state, &operator.caller, Kind::Rules).await {
        Ok(rules) => html::page(
            StatusCode::OK,
            &ListPage {
                lang: LANG,
                title: "Rules, in the order they run",
                chrome: Chrome::of(Some(&operator)),
                rules: rules.iter().map(rule_view).collect(),
            },
        ),
        Err(e) => page::failure(Some(&operator), e),
    }
}

/// A problem shown next to the editor.
struct Problem {
    path: String,
    message: String,
}

/// What the last action on the editor gave.
enum Outcome {
    /// Nothing yet (the page was only opened).
    None,
    /// The rule is not valid: the problems, errors first.
    Invalid(Vec<Problem>),
    /// The dry run, with the rule's lint warnings.
    Tried {
        warnings: Vec<Problem>,
        report: String,
    },
    /// Saved and in force, with its lint warnings.
    Saved { warnings: Vec<Problem> },
}

#[derive(Template)]
#[template(path = "console/rule.html")]
struct DetailPage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    id: String,
    words: Vec<Line>,
    yaml: String,
    case_id: String,
    outcome: Outcome,
}

/// The editable YAML of a rule as the API shows it (the author is set by the service).
fn editable_yaml(rule: &Value) -> String {
    let mut rule = rule.clone();
    if let Some(map) = rule.as_object_mut() {
        map.remove("author");
    }
    closeloop_domain::config::object_to_yaml(&rule)
}

fn detail(
    status: StatusCode,
    operator: &Operator,
    id: &str,
    stored: &Value,
    yaml: String,
    case_id: String,
    outcome: Outcome,
) -> Response {
    html::page(
        status,
        &DetailPage {
            lang: LANG,
            title: format!("Rule {id}"),
            chrome: Chrome::of(Some(operator)),
            id: id.to_string(),
            words: words::rule(stored),
            yaml,
            case_id,
            outcome,
        },
    )
}

/// `GET /console/rules/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
) -> Response {
    match config_change::get_one(&state, &operator.caller, Kind::Rules, &id).await {
        Ok((rule, _)) => detail(
            StatusCode::OK,
            &operator,
            &id,
            &rule,
            editable_yaml(&rule),
            String::new(),
            Outcome::None,
        ),
        Err(e) => page::failure(Some(&operator), e),
    }
}

/// The editor's form.
#[derive(Deserialize)]
pub(crate) struct EditForm {
    #[serde(default)]
    yaml: String,
    #[serde(default)]
    case_id: String,
}

/// The edited text as a JSON object (the config file's YAML parser), or what is wrong
/// with it.
fn parse_yaml(text: &str) -> Result<Value, ApiError> {
    closeloop_domain::config::object_from_yaml(text)
        .map_err(|e| ApiError::new(Code::InvalidConfig, e.message))
}

/// The problems of an error: each of its details, or itself.
fn problems(error: &ApiError) -> Vec<Problem> {
    let details: Vec<Problem> = error
        .details()
        .iter()
        .map(|d| Problem {
            path: d["path"].as_str().unwrap_or_default().to_string(),
            message: d["message"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if details.is_empty() {
        vec![Problem {
            path: error.path().unwrap_or_default().to_string(),
            message: error.message().to_string(),
        }]
    } else {
        details
    }
}

fn lint_problems(warnings: &[closeloop_domain::config::ConfigError]) -> Vec<Problem> {
    warnings
        .iter()
        .map(|w| Problem {
            path: w.path.clone(),
            message: w.message.clone(),
        })
        .collect()
}

/// The rule in force, or the page answering why it cannot be shown.
async fn stored_rule(state: &AppState, operator: &Operator, id: &str) -> Result<Value, Response> {
    config_change::get_one(state, &operator.caller, Kind::Rules, id)
        .await
        .map(|(rule, _)| rule)
        .map_err(|e| page::failure(Some(operator), e))
}

/// An error of the edited rule shown inline, with its status; a rule the operator may
/// not see or change answers its own page.
fn inline_error(
    operator: &Operator,
    id: &str,
    stored: &Value,
    form: EditForm,
    error: &ApiError,
) -> Response {
    match error.code() {
        Code::NotFound | Code::Forbidden if error.path().is_none() => {
            page::refused(Some(operator), ApiError::new(error.code(), error.message()))
        }
        _ => detail(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            operator,
            id,
            stored,
            form.yaml,
            form.case_id,
            Outcome::Invalid(problems(error)),
        ),
    }
}

/// `POST /console/rules/{id}/try` (form: `yaml`, `case_id`).
pub(crate) async fn try_it(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let stored = match stored_rule(&state, &operator, &id).await {
        Ok(rule) => rule,
        Err(page) => return page,
    };
    let case_id = form.case_id.trim().to_string();
    let trial = match parse_yaml(&form.yaml) {
        Ok(_) if case_id.is_empty() => Err(ApiError::new(
            Code::InvalidField,
            "name a stored case to try the rule on",
        )
        .at("case_id")),
        Ok(rule) => rule_trial::try_rule(&state, &operator.caller, &id, &rule, &case_id).await,
        Err(e) => Err(e),
    };
    match trial {
        Ok(trial) => detail(
            StatusCode::OK,
            &operator,
            &id,
            &stored,
            form.yaml,
            form.case_id,
            Outcome::Tried {
                warnings: lint_problems(&trial.warnings),
                report: trial.report,
            },
        ),
        Err(e) => inline_error(&operator, &id, &stored, form, &e),
    }
}

/// `POST /console/rules/{id}` (form: `yaml`): saves the rule as `PUT /api/v1/rules/{id}`.
pub(crate) async fn save(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let stored = match stored_rule(&state, &operator, &id).await {
        Ok(rule) => rule,
        Err(page) => return page,
    };
    let written = match parse_yaml(&form.yaml) {
        Ok(rule) => {
            config_change::replace(
                &state,
                &operator.caller,
                Kind::Rules,
                &id,
                None,
                rule.to_string().as_bytes(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match written {
        Ok(written) => detail(
            StatusCode::OK,
            &operator,
            &id,
            &written.body,
            editable_yaml(&written.body),
            form.case_id,
            Outcome::Saved {
                warnings: lint_problems(&written.warnings),
            },
        ),
        Err(e) => inline_error(&operator, &id, &stored, form, &e),
    }
}
