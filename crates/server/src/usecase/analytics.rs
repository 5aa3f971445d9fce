//! Survey analytics (`GET /api/v1/analytics` and the console's overview): the query
//! checked against the config and the caller's `view_distribution`, then aggregated by the
//! database (`Store::analytics`, whose module defines every column).

use closeloop_store::{AnalyticsQuery, AnalyticsRow, GroupBy};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::usecase::access::{require_view, Caller};
use crate::usecase::error::{ApiError, Code};
use crate::usecase::Context;

/// An analytics query as a client writes it; every field is checked by [`report`].
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalyticsParams {
    /// Survey id (required).
    pub(crate) survey: Option<String>,
    /// Only this distribution of the survey.
    pub(crate) distribution: Option<String>,
    /// agent, case_type, region, queue, language or day; without it, one row of totals.
    pub(crate) group_by: Option<String>,
    /// RFC 3339, inclusive.
    pub(crate) from: Option<String>,
    /// RFC 3339, exclusive.
    pub(crate) to: Option<String>,
}

/// The rows of one query and their grouping.
pub(crate) struct Report {
    /// The grouping asked for; `None` for the totals.
    pub(crate) group_by: Option<GroupBy>,
    /// One row per key (one row, key `None`, for the totals).
    pub(crate) rows: Vec<AnalyticsRow>,
}

/// Checks the query and aggregates.
///
/// # Errors
/// 400 for a bad query (naming the parameter), 403 without `view_distribution`.
pub(crate) async fn report(
    ctx: &Context,
    caller: &Caller,
    params: &AnalyticsParams,
) -> Result<Report, ApiError> {
    let survey_id = params
        .survey
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::new(Code::InvalidQuery, "survey is required").at("survey"))?;
    let config = ctx.config();
    let survey = config.survey(survey_id).ok_or_else(|| {
        ApiError::new(Code::InvalidQuery, format!("unknown survey {survey_id:?}")).at("survey")
    })?;
    require_view(caller, survey)?;
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
    let group_by = params.group_by.as_deref().map(parse_group_by).transpose()?;
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
    let rows = ctx
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
    Ok(Report { group_by, rows })
}

fn parse_group_by(name: &str) -> Result<GroupBy, ApiError> {
    let names = GroupBy::ALL.map(|g| g.as_str()).join(", ");
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
