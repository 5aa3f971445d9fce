//! `GET /api/v1/analytics`: invite and response counts of one survey per agent, case type,
//! region, queue, language or day, as JSON or CSV (`Accept: text/csv`).
//!
//! Invites count for the attributes frozen in their snapshot (SPEC §4.13); test invites
//! never count. The database aggregates (`Store::analytics`); this handler validates the
//! query and shapes the answer. Definitions of every column are in
//! `closeloop_store::analytics` and repeated in ARCHITECTURE.md; in short:
//! `response_rate = completed / reached` where reached = sent + delivered + opened plus
//! failed/unsubscribed invites the provider had accepted, `csat_avg` is the mean of the
//! survey's first rating question over completed responses, `nps` is % promoters (9–10)
//! − % detractors (0–6) over every response that answered the first NPS question.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use closeloop_store::{AnalyticsQuery, AnalyticsRow, GroupBy};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::http::openapi::ErrorBody;
use crate::http::AppState;
use crate::usecase::error::{ApiError, Code};

/// The columns of an item, in answer and CSV order (after `key`).
const COLUMNS: [&str; 13] = [
    "invited",
    "sent",
    "delivered",
    "opened",
    "failed",
    "quarantined",
    "suppressed",
    "unsubscribed",
    "responses",
    "completed",
    "response_rate",
    "csat_avg",
    "nps",
];

/// Query of `GET /analytics`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyticsParams {
    survey: Option<String>,
    distribution: Option<String>,
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/analytics?survey=&distribution=&group_by=&from=&to=`.
#[utoipa::path(get, path = "/analytics", tag = "analytics",
    params(("survey" = String, Query, description = "Survey id"),
           ("distribution" = Option<String>, Query, description = "Only this distribution"),
           ("group_by" = Option<String>, Query, description = "agent, case_type, region, queue, language or day"),
           ("from" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("to" = Option<String>, Query, description = "RFC 3339, exclusive")),
    responses((status = 200, description = "Rows of counts, response rate, CSAT and NPS; CSV with Accept: text/csv", body = Value),
              (status = 400, description = "Bad query", body = ErrorBody),
              (status = 403, description = "Needs view_distribution", body = ErrorBody)))]
pub(crate) async fn get_analytics(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::usecase::access::Caller>,
    headers: HeaderMap,
    query: Result<Query<AnalyticsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let survey_id = params
        .survey
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::new(Code::InvalidQuery, "survey is required").at("survey"))?;
    let config = state.config();
    let survey = config.survey(survey_id).ok_or_else(|| {
        ApiError::new(Code::InvalidQuery, format!("unknown survey {survey_id:?}")).at("survey")
    })?;
    crate::usecase::access::require_view(&caller, survey)?;
    if let Some(d) = params.distribution.as_deref() {
        if config
            .distribution(d)
            .is_none_or(|dist| dist.survey != survey.id)
        {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("survey {} has no distribution {d:?}", survey.id),
            )
            .at("distribution"));
        }
    }
    let group_by = parse_group_by(params.group_by.as_deref())?;
    let from = params
        .from
        .as_deref()
        .map(|t| instant(t, "from"))
        .transpose()?;
    let to = params.to.as_deref().map(|t| instant(t, "to")).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::new(Code::InvalidQuery, "from must not be after to").at("from"));
        }
    }
    let (rating_question, nps_question) = closeloop_domain::answer::score_questions(survey);
    let rows = state
        .store
        .analytics(&AnalyticsQuery {
            survey: &survey.id,
            distribution: params.distribution.as_deref(),
            group_by,
            from,
            to,
            rating_question,
            nps_question,
        })
        .await?;
    if wants_csv(&headers) {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&rows),
        )
            .into_response());
    }
    let items: Vec<Value> = rows.iter().map(item).collect();
    Ok(Json(json!({"group_by": group_by.as_str(), "items": items})).into_response())
}

fn parse_group_by(name: Option<&str>) -> Result<GroupBy, ApiError> {
    let names = GroupBy::ALL.map(|g| g.as_str()).join(", ");
    let name = name.ok_or_else(|| {
        ApiError::new(
            Code::InvalidQuery,
            format!("group_by is required: one of {names}"),
        )
        .at("group_by")
    })?;
    GroupBy::parse(name).ok_or_else(|| {
        ApiError::new(
            Code::InvalidQuery,
            format!("group_by must be one of {names}, not {name:?}"),
        )
        .at("group_by")
    })
}

/// An RFC 3339 instant as unix milliseconds.
fn instant(text: &str, field: &'static str) -> Result<i64, ApiError> {
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        ApiError::new(
            Code::InvalidQuery,
            format!("{field} must be an RFC 3339 time like 2026-01-31T00:00:00Z: {e}"),
        )
        .at(field)
    })?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| {
        ApiError::new(Code::InvalidQuery, format!("{field} is out of range")).at(field)
    })
}

/// Whether the client asked for CSV (`Accept: text/csv`, possibly among others).
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
        })
}

/// Rounds to `places` decimals, so answers do not carry float noise like 0.30000000000000004.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// The values of an item in [`COLUMNS`] order.
fn values(row: &AnalyticsRow) -> [Value; 13] {
    [
        json!(row.invited),
        json!(row.sent),
        json!(row.delivered),
        json!(row.opened),
        json!(row.failed),
        json!(row.quarantined),
        json!(row.suppressed),
        json!(row.unsubscribed),
        json!(row.responses),
        json!(row.completed),
        json!(round(row.response_rate(), 4)),
        json!(row.csat_avg().map(|v| round(v, 2))),
        json!(row.nps()),
    ]
}

fn item(row: &AnalyticsRow) -> Value {
    let mut item = serde_json::Map::new();
    item.insert("key".into(), json!(row.key));
    for (name, value) in COLUMNS.iter().zip(values(row)) {
        item.insert((*name).into(), value);
    }
    Value::Object(item)
}

/// Header row then one row per item; a missing key or score is an empty cell.
fn to_csv(rows: &[AnalyticsRow]) -> String {
    let mut out = String::from("key");
    for name in COLUMNS {
        out.push(',');
        out.push_str(name);
    }
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&csv_cell(row.key.as_deref().unwrap_or("")));
        for value in values(row) {
            out.push(',');
            if !value.is_null() {
                out.push_str(&value.to_string());
            }
        }
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting, and a leading `'` before `=`, `+`, `-`, `@` so a spreadsheet does not
/// run an agent name as a formula.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_cells() {
        assert_eq!(csv_cell("agent-7"), "agent-7");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn csv_has_a_header_and_empty_cells_for_missing_values() {
        let row = AnalyticsRow {
            key: None,
            invited: 2,
            ..AnalyticsRow::default()
        };
        let csv = to_csv(&[row]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "key,invited,sent,delivered,opened,failed,quarantined,suppressed,unsubscribed,responses,completed,response_rate,csat_avg,nps"
        );
        assert_eq!(lines[1], ",2,0,0,0,0,0,0,0,0,0,0.0,,");
    }

    #[test]
    fn accept_header_selects_csv() {
        let mut headers = HeaderMap::new();
        assert!(!wants_csv(&headers));
        headers.insert(
            header::ACCEPT,
            "application/json, text/csv;q=0.5".parse().unwrap(),
        );
        assert!(wants_csv(&headers));
    }
}
