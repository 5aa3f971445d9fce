//! `GET /console` (the overview: the funnel, invites over time, response rate, CSAT and
//! NPS per group, as SVG charts) and `GET /console/overview.csv` (the same numbers).
//! Both ask `usecase::analytics`, as `GET /api/v1/analytics` does.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use closeloop_domain::config::document::Kind;
use closeloop_store::{AnalyticsRow, GroupBy};
use serde::Deserialize;
use time::macros::format_description;
use time::Date;

use crate::http::api::analytics::to_csv;
use crate::http::console::chart::Chart;
use crate::http::console::page::{self, Chrome, Operator, LANG};
use crate::http::html;
use crate::http::AppState;
use crate::usecase::analytics::{self, AnalyticsParams};
use crate::usecase::config_change;
use crate::usecase::error::{ApiError, Code};

/// The overview's filters, as the form sends them (dates as `YYYY-MM-DD`, `to` inclusive).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    distribution: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    group_by: String,
}

/// A choice of a `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    lang: &'static str,
    title: String,
    chrome: Chrome,
    filters: Filters,
    surveys: Vec<Choice>,
    distributions: Vec<Choice>,
    groupings: Vec<Choice>,
    charts: Vec<Chart>,
    rows: Vec<RowView>,
    group_label: &'static str,
}

/// A row of the table under the charts.
struct RowView {
    key: String,
    invited: i64,
    sent: i64,
    delivered: i64,
    opened: i64,
    responses: i64,
    completed: i64,
    response_rate: String,
    csat: String,
    nps: String,
}

/// An inclusive `YYYY-MM-DD` (or an RFC 3339 instant) as the API's instant; `next_day`
/// makes an inclusive end day the exclusive instant after it.
fn instant(text: &str, field: &str, next_day: bool) -> Result<Option<String>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.contains('T') {
        return Ok(Some(text.to_string()));
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::new(
            Code::InvalidQuery,
            format!("{field} must be a day like 2026-01-31, not {text:?}"),
        )
        .at(field.to_string())
    })?;
    let date = if next_day {
        date.next_day().unwrap_or(date)
    } else {
        date
    };
    Ok(Some(format!("{date}T00:00:00Z")))
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The analytics query of the filters, grouped by `group_by`.
fn params(filters: &Filters, survey: &str, group_by: &str) -> Result<AnalyticsParams, ApiError> {
    Ok(AnalyticsParams {
        survey: Some(survey.to_string()),
        distribution: non_empty(&filters.distribution),
        group_by: Some(group_by.to_string()),
        from: instant(&filters.from, "from", false)?,
        to: instant(&filters.to, "to", true)?,
    })
}

/// The grouping asked for (agent when none).
fn grouping(filters: &Filters) -> String {
    non_empty(&filters.group_by).unwrap_or_else(|| GroupBy::Agent.as_str().to_string())
}

/// The CSV link of the filters, grouped by `group_by`.
fn csv_link(filters: &Filters, survey: &str, group_by: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("survey", survey),
        ("distribution", filters.distribution.trim()),
        ("from", filters.from.trim()),
        ("to", filters.to.trim()),
        ("group_by", group_by),
    ])
    .unwrap_or_default();
    format!("/console/overview.csv?{query}")
}

/// Every count of the rows added up (the rates and scores follow from the sums).
fn totals(rows: &[AnalyticsRow]) -> AnalyticsRow {
    rows.iter().fold(AnalyticsRow::default(), |mut t, r| {
        t.invited += r.invited;
        t.sent += r.sent;
        t.delivered += r.delivered;
        t.opened += r.opened;
        t.failed += r.failed;
        t.quarantined += r.quarantined;
        t.suppressed += r.suppressed;
        t.unsubscribed += r.unsubscribed;
        t.reached += r.reached;
        t.responses += r.responses;
        t.completed += r.completed;
        t.rating_sum += r.rating_sum;
        t.rating_count += r.rating_count;
        t.nps_answered += r.nps_answered;
        t.promoters += r.promoters;
        t.detractors += r.detractors;
        t
    })
}

/// Counts are small enough for an exact `f64`.
#[allow(clippy::cast_precision_loss)]
fn count(n: i64) -> Option<f64> {
    Some(n as f64)
}

fn key_of(row: &AnalyticsRow) -> String {
    let key = row.key.clone().unwrap_or_else(|| "(none)".into());
    if key.chars().count() > 18 {
        format!("{}…", key.chars().take(17).collect::<String>())
    } else {
        key
    }
}

fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

fn charts(
    filters: &Filters,
    survey: &str,
    group_by: &str,
    rows: &[AnalyticsRow],
    days: &[AnalyticsRow],
) -> Vec<Chart> {
    let by_group = csv_link(filters, survey, group_by);
    let t = totals(rows);
    let funnel = [
        ("invited", t.invited),
        ("sent", t.sent),
        ("delivered", t.delivered),
        ("opened", t.opened),
        ("responded", t.responses),
        ("completed", t.completed),
    ]
    .into_iter()
    .map(|(step, n)| (step.to_string(), count(n), n.to_string()))
    .collect();
    let per_day = days
        .iter()
        .map(|r| (key_of(r), count(r.invited), r.invited.to_string()))
        .collect();
    let rate = rows
        .iter()
        .map(|r| {
            let rate = r.response_rate();
            (key_of(r), Some(rate * 100.0), percent(rate))
        })
        .collect();
    let csat = rows
        .iter()
        .map(|r| {
            let avg = r.csat_avg();
            let shown = avg.map_or_else(|| "no ratings".into(), |a| format!("{a:.2}"));
            (key_of(r), avg, shown)
        })
        .collect();
    let nps = rows
        .iter()
        .map(|r| {
            let nps = r.nps();
            let shown = nps.map_or_else(|| "no answers".into(), |n| format!("{n:.0}"));
            (key_of(r), nps, shown)
        })
        .collect();
    vec![
        Chart::bars(
            format!(
                "Funnel · response rate {} · CSAT {} · NPS {}",
                percent(t.response_rate()),
                t.csat_avg()
                    .map_or_else(|| "–".into(), |a| format!("{a:.2}")),
                t.nps().map_or_else(|| "–".into(), |n| format!("{n:.0}"))
            ),
            by_group.clone(),
            funnel,
        ),
        Chart::bars("Invites per day", csv_link(filters, survey, "day"), per_day),
        Chart::bars(
            format!("Response rate by {}", label_of(group_by)),
            by_group.clone(),
            rate,
        ),
        Chart::bars(
            format!("CSAT (1–5) by {}", label_of(group_by)),
            by_group.clone(),
            csat,
        ),
        Chart::bars(
            format!("NPS (−100…100) by {}", label_of(group_by)),
            by_group,
            nps,
        ),
    ]
}

fn label_of(group_by: &str) -> &'static str {
    match GroupBy::parse(group_by) {
        Some(GroupBy::Agent) => "agent",
        Some(GroupBy::CaseType) => "case type",
        Some(GroupBy::Region) => "region",
        Some(GroupBy::Queue) => "queue",
        Some(GroupBy::Language) => "language",
        Some(GroupBy::Day) | None => "day",
    }
}

fn row_view(r: &AnalyticsRow) -> RowView {
    RowView {
        key: r.key.clone().unwrap_or_else(|| "(none)".into()),
        invited: r.invited,
        sent: r.sent,
        delivered: r.delivered,
        opened: r.opened,
        responses: r.responses,
        completed: r.completed,
        response_rate: percent(r.response_rate()),
        csat: r.csat_avg().map_or_else(String::new, |a| format!("{a:.2}")),
        nps: r.nps().map_or_else(String::new, |n| format!("{n:.0}")),
    }
}

/// The surveys the operator may see, as `(id, name)`.
async fn visible_surveys(
    state: &AppState,
    operator: &Operator,
) -> Result<Vec<(String, String)>, ApiError> {
    Ok(config_change::list(state, &operator.caller, Kind::Surveys)
        .await?
        .iter()
        .filter_map(|s| {
            let id = s.get("id")?.as_str()?.to_string();
            let name = s
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(&id)
                .to_string();
            Some((id, name))
        })
        .collect())
}

/// `GET /console?survey=&distribution=&from=&to=&group_by=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Query(filters): Query<Filters>,
) -> Response {
    match render(&state, &operator, filters).await {
        Ok(response) => response,
        Err(e) => page::failure(Some(&operator), e),
    }
}

async fn render(
    state: &AppState,
    operator: &Operator,
    filters: Filters,
) -> Result<Response, ApiError> {
    let surveys = visible_surveys(state, operator).await?;
    let Some(survey) = non_empty(&filters.survey).or_else(|| surveys.first().map(|s| s.0.clone()))
    else {
        return Ok(page::message(
            StatusCode::OK,
            Some(operator),
            "Overview",
            "You may not see any survey yet: ask a survey's owner to share it with you.",
        ));
    };
    let group_by = grouping(&filters);
    let report = analytics::report(
        state,
        &operator.caller,
        &params(&filters, &survey, &group_by)?,
    )
    .await?;
    let days = analytics::report(
        state,
        &operator.caller,
        &params(&filters, &survey, GroupBy::Day.as_str())?,
    )
    .await?;
    let distributions = config_change::list(state, &operator.caller, Kind::Distributions)
        .await?
        .iter()
        .filter(|d| d.get("survey").and_then(|s| s.as_str()) == Some(survey.as_str()))
        .filter_map(|d| d.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .map(|id| Choice {
            selected: id == filters.distribution.trim(),
            label: id.clone(),
            value: id,
        })
        .collect();
    let survey_name = surveys
        .iter()
        .find(|s| s.0 == survey)
        .map_or(survey.as_str(), |s| s.1.as_str())
        .to_string();
    let page = OverviewPage {
        lang: LANG,
        title: format!("Overview of {survey_name}"),
        chrome: Chrome::of(Some(operator)),
        surveys: surveys
            .iter()
            .map(|(id, name)| Choice {
                value: id.clone(),
                label: name.clone(),
                selected: *id == survey,
            })
            .collect(),
        distributions,
        groupings: GroupBy::ALL
            .iter()
            .map(|g| Choice {
                value: g.as_str().to_string(),
                label: label_of(g.as_str()).to_string(),
                selected: g.as_str() == group_by,
            })
            .collect(),
        charts: charts(&filters, &survey, &group_by, &report.rows, &days.rows),
        rows: report.rows.iter().map(row_view).collect(),
        group_label: label_of(&group_by),
        filters,
    };
    Ok(html::page(StatusCode::OK, &page))
}

/// `GET /console/overview.csv?…`: the rows the overview charts, as CSV (the API's CSV).
pub(crate) async fn csv(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Query(filters): Query<Filters>,
) -> Response {
    let survey = filters.survey.clone();
    let group_by = grouping(&filters);
    let report = match params(&filters, &survey, &group_by) {
        Ok(params) => analytics::report(&state, &operator.caller, &params).await,
        Err(e) => Err(e),
    };
    match report {
        Ok(report) => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"closeloop-{group_by}.csv\""),
                ),
            ],
            to_csv(&report.rows),
        )
            .into_response(),
        Err(e) => page::failure(Some(&operator), e),
    }
}
