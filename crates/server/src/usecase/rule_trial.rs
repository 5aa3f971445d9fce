//! Trying a rule before saving it (the console's `POST /console/rules/{id}/try`): the
//! edited rule validated as a write would validate it, then the dry run of that rule
//! alone against a stored case. Nothing is stored or sent; the rule in force is unchanged.

use closeloop_domain::config::document::Kind;
use closeloop_domain::config::ConfigError;
use serde_json::Value;

use crate::usecase::access::Caller;
use crate::usecase::config_change;
use crate::usecase::error::ApiError;
use crate::usecase::simulate::simulate;
use crate::usecase::Context;

/// What trying a rule shows.
pub(crate) struct Trial {
    /// The §3.3 lint warnings of the edited rule.
    pub(crate) warnings: Vec<ConfigError>,
    /// The dry run's report: conditions with the values they saw, what would be sent.
    pub(crate) report: String,
}

/// Validates `rule` as the new version of rule `id` and simulates it against the stored
/// case `case_id` (as a case that has just been created in that state).
///
/// # Errors
/// As a write of the rule (404, 403, 409, 422 with the field's path), and 404 for an
/// unknown case.
pub(crate) async fn try_rule(
    ctx: &Context,
    caller: &Caller,
    id: &str,
    rule: &Value,
    case_id: &str,
) -> Result<Trial, ApiError> {
    let loaded = config_change::dry_run(ctx, caller, Kind::Rules, id, rule).await?;
    let stored = ctx
        .store
        .get_case(case_id)
        .await?
        .ok_or_else(|| ApiError::not_found("case", case_id).at("case_id"))?;
    let mut config = loaded.config;
    config.rules.retain(|r| r.id == id);
    let report = simulate(&config, None, &stored.case, ctx.clock.now());
    Ok(Trial {
        warnings: loaded.warnings,
        report,
    })
}
