//! Survey-level permissions (the source document's "View and Edit Distribution
//! permissions at Survey Level"): the owner and admins have all rights; a share grants
//! `view_distribution` or `edit_distribution`.

use closeloop_domain::action::ThenElement;
use closeloop_domain::config::document::Kind;
use closeloop_domain::config::{Config, Survey};
use closeloop_domain::rule::Rule;

use crate::auth::Caller;
use crate::error::ApiError;

/// 403 unless the caller may read the survey's distributions.
///
/// # Errors
/// 403 naming `view_distribution`.
pub fn require_view(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
    if caller.can_view(survey) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs view_distribution on survey {}",
            survey.id
        )))
    }
}

/// 403 unless the caller may change the survey's distributions.
///
/// # Errors
/// 403 naming `edit_distribution`.
pub fn require_edit(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
    if caller.can_edit(survey) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs edit_distribution on survey {}",
            survey.id
        )))
    }
}

/// 403 unless the caller is an admin (or the API is open).
///
/// # Errors
/// 403 naming the admin role.
pub fn require_admin(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("{what} needs the admin role")))
    }
}

/// The surveys a rule sends (its survey actions' targets).
pub fn rule_surveys<'a>(config: &'a Config, rule: &Rule) -> Vec<&'a Survey> {
    ThenElement::all_actions(&rule.then)
        .into_iter()
        .filter_map(|a| a.survey_target())
        .filter_map(|t| config.survey(&t.survey))
        .collect()
}

/// Whether the caller may see an object of the config.
pub fn can_read(caller: &Caller, config: &Config, kind: Kind, id: &str) -> bool {
    match kind {
        Kind::Accounts => true,
        Kind::Users => caller.is_admin() || caller.user_id() == Some(id),
        Kind::Surveys => config.survey(id).is_none_or(|s| caller.can_view(s)),
        Kind::Distributions => config
            .distribution(id)
            .and_then(|d| config.survey(&d.survey))
            .is_none_or(|s| caller.can_view(s)),
        Kind::Rules => config.rules.iter().find(|r| r.id == id).is_none_or(|r| {
            caller.is_admin()
                || caller.user_id() == Some(r.author.as_str())
                || rule_surveys(config, r).iter().all(|s| caller.can_view(s))
        }),
    }
}

/// 403 unless the caller may see the object, naming the permission missing.
///
/// # Errors
/// 403.
pub fn require_read(
    caller: &Caller,
    config: &Config,
    kind: Kind,
    id: &str,
) -> Result<(), ApiError> {
    if can_read(caller, config, kind, id) {
        return Ok(());
    }
    match kind {
        Kind::Surveys | Kind::Distributions | Kind::Rules => Err(ApiError::forbidden(format!(
            "reading {} {id} needs view_distribution on its survey",
            kind.singular()
        ))),
        Kind::Accounts | Kind::Users => {
            require_admin(caller, &format!("reading {} {id}", kind.singular()))
        }
    }
}

/// 403 unless the caller may change the object as it is (`old`) and as it will be
/// (`new`). Rules are checked for their author by the config validation (SPEC §3.3).
///
/// # Errors
/// 403 naming the permission missing.
pub fn require_write(
    caller: &Caller,
    config: &Config,
    kind: Kind,
    id: &str,
    new: Option<&serde_json::Value>,
) -> Result<(), ApiError> {
    let what = format!("changing {} {id}", kind.singular());
    match kind {
        Kind::Accounts | Kind::Users => require_admin(caller, &what),
        Kind::Surveys => {
            if let Some(survey) = config.survey(id) {
                require_owner(caller, survey)?;
            }
            let new_owner = new.and_then(|v| v.get("owner")).and_then(|o| o.as_str());
            match (caller.user_id(), new_owner) {
                (Some(me), Some(owner)) if owner != me && !caller.is_admin() => Err(
                    ApiError::forbidden("giving a survey to another user needs the admin role"),
                ),
                _ => Ok(()),
            }
        }
        Kind::Distributions => {
            let old_survey = config.distribution(id).map(|d| d.survey.as_str());
            let new_survey = new.and_then(|v| v.get("survey")).and_then(|s| s.as_str());
            for survey in [old_survey, new_survey].into_iter().flatten() {
                if let Some(survey) = config.survey(survey) {
                    require_edit(caller, survey)?;
                }
            }
            Ok(())
        }
        Kind::Rules => {
            let Some(rule) = config.rules.iter().find(|r| r.id == id) else {
                return Ok(());
            };
            if caller.is_admin() || caller.user_id() == Some(rule.author.as_str()) {
                return Ok(());
            }
            for survey in rule_surveys(config, rule) {
                require_edit(caller, survey)?;
            }
            Ok(())
        }
    }
}

/// 403 unless the caller owns the survey or is an admin.
///
/// # Errors
/// 403.
pub fn require_owner(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
    match caller.user_id() {
        Some(me) if !caller.is_admin() && survey.owner != me => Err(ApiError::forbidden(format!(
            "changing survey {} needs its ownership or the admin role",
            survey.id
        ))),
        _ => Ok(()),
    }
}
