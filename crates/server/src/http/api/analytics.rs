//! `GET /api/v1/analytics`: invite and response counts of one survey per agent, case type,
//! region, queue, language or day, as JSON or CSV (`Accept: text/csv`).
//!
//! Invites count for the attributes frozen in their snapshot (SPEC §4.13); test invites
//! never count. The query is checked and aggregated by `usecase::analytics` (the console's
//! overview calls it too); this handler shapes the answer. Definitions of every column are in
//! `closeloop_store::analytics` and repeated in ARCHITECTURE.md; in short:
//! `response_rate = completed / reached` where reached = sent + delivered + opened plus
//! failed/unsubscribed invites the provider had accepted, `csat_avg` is the mean of the
//! survey's first rating question over completed responses, `nps` is % promoters (9–10)
//! − % detractors (0–6) over every response that answered the first NPS question.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use closeloop_store::{AnalyticsRow, GroupBy};
use serde_json::{json, Value};

use crate::http::extract::ApiQuery;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{Analytics, GroupBy as GroupByParam};
use crate::http::AppState;
use crate::usecase::analytics::{self, AnalyticsParams, Report};
use crate::usecase::error::ApiError;

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

/// `GET /api/v1/analytics?survey=&distribution=&group_by=&from=&to=`.
#[utoipa::path(get, path = "/analytics", tag = "analytics",
    params(("survey" = String, Query, description = "Survey id", min_length = 1),
           ("distribution" = Option<String>, Query, description = "Only this distribution"),
           ("group_by" = Option<GroupByParam>, Query, description = "agent, case_type, region, queue, language or day; without it, one row of totals (key null)"),
           ("from" = Option<String>, Query, description = "RFC 3339, inclusive", format = DateTime),
           ("to" = Option<String>, Query, description = "RFC 3339, exclusive", format = DateTime)),
    responses((status = 200, description = "Rows of counts, response rate, CSAT and NPS",
               content((Analytics = "application/json"), (String = "text/csv"))),
              (status = 400, description = "Bad query: unknown survey or distribution, from after to", body = ErrorBody),
              (status = 403, description = "Needs view_distribution", body = ErrorBody)))]
pub(crate) async fn get_analytics(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::usecase::access::Caller>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<AnalyticsParams>,
) -> Result<Response, ApiError> {
    let Report { group_by, rows } = analytics::report(&state, &caller, &params).await?;
    if wants_csv(&headers) {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&rows),
        )
            .into_response());
    }
    let items: Vec<Value> = rows.iter().map(item).collect();
    let group_by = group_by.as_ref().map(GroupBy::as_str);
    Ok(Json(json!({"group_by": group_by, "items": items})).into_response())
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
pub(crate) fn to_csv(rows: &[AnalyticsRow]) -> String {
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
