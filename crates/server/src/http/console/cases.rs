//! `GET /console/cases?q=` (find a case by id, number or the customer's phone) and
//! `GET /console/cases/{id}` (its state, its invites with their messages and answers, and
//! its trace in words: why each survey was or was not sent). The case and its trace are
//! what `GET /api/v1/cases/{id}` and `GET /api/v1/cases/{id}/trace` answer
//! (`usecase::case_view`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;
use serde_json::Value;

use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::console::words::{self, Line};
use crate::http::html;
use crate::http::AppState;
use crate::runtime::clock::rfc3339;
use crate::usecase::{case_search, case_view};

/// The search box.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// A case found.
struct Found {
    id: String,
    number: String,
    status: String,
    customer: String,
    phone: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "console/cases.html")]
struct SearchPage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    q: String,
    found: Vec<Found>,
    limit: i64,
}

/// `GET /console/cases?q=`.
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let q = query.q.trim().to_string();
    let found = match case_search::find(&state, &q).await {
        Ok(found) => found,
        Err(e) => return page::failure(Some(&operator), e),
    };
    let title = if q.is_empty() {
        "Find a case".to_string()
    } else {
        format!("Cases matching {q}")
    };
    let found = found
        .into_iter()
        .map(|stored| {
            let profile = stored.case.profile.unwrap_or_default();
            Found {
                id: stored.case.id,
                number: stored.case.number.unwrap_or_default(),
                status: stored.case.status,
                customer: profile.name.unwrap_or_default(),
                phone: profile.phone.unwrap_or_default(),
                updated: rfc3339(stored.updated_at),
            }
        })
        .collect();
    html::page(
        StatusCode::OK,
        &SearchPage {
            lang: LANG,
            title,
            chrome: Chrome::of(Some(&operator)),
            q,
            found,
            limit: case_search::MAX_FOUND,
        },
    )
}

/// A fact of the case: a label and its value.
struct Fact {
    label: &'static str,
    value: String,
}

/// One message of an invite.
struct MessageView {
    kind: String,
    status: String,
    sent_at: String,
    error: String,
}

/// One invite of the case.
struct InviteView {
    id: String,
    survey: String,
    distribution: String,
    status: String,
    response: String,
    language: String,
    recipient: String,
    reason: String,
    test: bool,
    messages: Vec<MessageView>,
    answers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/case.html")]
struct CasePage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    facts: Vec<Fact>,
    invites: Vec<InviteView>,
    events: Vec<Vec<Line>>,
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn facts(case: &Value) -> Vec<Fact> {
    let profile = &case["profile"];
    [
        ("Status", &case["status"]),
        ("Number", &case["number"]),
        ("Type", &case["case_type"]),
        ("Priority", &case["priority"]),
        ("Queue", &case["queue"]),
        ("Agent", &case["assignee"]),
        ("Region", &case["region"]),
        ("Tags", &case["tags"]),
        ("Customer", &profile["name"]),
        ("Phone", &profile["phone"]),
        ("Language", &profile["language"]),
        ("Channel account", &case["conversation"]["account"]),
    ]
    .into_iter()
    .map(|(label, value)| Fact {
        label,
        value: text(value),
    })
    .filter(|f| !f.value.is_empty())
    .collect()
}

fn error_text(error: &Value) -> String {
    if error.is_null() {
        return String::new();
    }
    format!("{} {}", text(&error["code"]), text(&error["title"]))
        .trim()
        .to_string()
}

fn invite_view(invite: &Value) -> InviteView {
    let reason = [text(&invite["reason"]), error_text(&invite["error"])]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    InviteView {
        id: text(&invite["id"]),
        survey: text(&invite["survey"]),
        distribution: text(&invite["distribution"]),
        status: text(&invite["status"]),
        response: text(&invite["response_status"]).replace('_', " "),
        language: text(&invite["language"]),
        recipient: text(&invite["recipient"]),
        reason: reason.replace('_', " "),
        test: invite["test"] == Value::Bool(true),
        messages: invite["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| MessageView {
                kind: text(&m["kind"]).replace('_', " "),
                status: text(&m["status"]),
                sent_at: text(&m["sent_at"]),
                error: error_text(&m["error"]),
            })
            .collect(),
        answers: invite["answers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(question, answer)| (question.clone(), text(answer)))
            .collect(),
    }
}

/// `GET /console/cases/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
) -> Response {
    let case = match case_view::case(&state, &operator.caller, &id).await {
        Ok(case) => case,
        Err(e) => return page::failure(Some(&operator), e),
    };
    let trace = match case_view::trace(&state, &id).await {
        Ok(trace) => trace,
        Err(e) => return page::failure(Some(&operator), e),
    };
    let customer = text(&case["case"]["profile"]["name"]);
    let title = if customer.is_empty() {
        format!("Case {id}")
    } else {
        format!("Case {id} of {customer}")
    };
    let page = CasePage {
        lang: LANG,
        title,
        chrome: Chrome::of(Some(&operator)),
        facts: facts(&case["case"]),
        invites: case["invites"]
            .as_array()
            .into_iter()
            .flatten()
            .map(invite_view)
            .collect(),
        events: trace["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(words::event)
            .collect(),
    };
    html::page(StatusCode::OK, &page)
}
