//! Survey-level permissions (the source document's "View and Edit Distribution
//! permissions at Survey Level"): the owner and admins have all rights; a share grants
//! `view_distribution` or `edit_distribution`.

use closeloop_domain::action::ThenElement;
use closeloop_domain::config::document::Kind;
use closeloop_domain::config::{Config, Survey, User};
use closeloop_domain::rule::Rule;

use sha2::{Digest, Sha256};

use crate::usecase::error::ApiError;

/// Who is calling, as the handlers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// No users are configured: the API is open (and `serve` listens on loopback only).
    Open,
    /// A configured user.
    User {
        /// The user id.
        id: String,
        /// Admins have every right.
        admin: bool,
    },
}

impl Caller {
    /// A configured user as a caller (admins by their role).
    pub(crate) fn of(user: &User) -> Caller {
        Caller::User {
            admin: user.role == closeloop_domain::config::Role::Admin,
            id: user.id.clone(),
        }
    }

    /// The user's id (`None` on an open API).
    pub(crate) fn user_id(&self) -> Option<&str> {
        match self {
            Caller::Open => None,
            Caller::User { id, .. } => Some(id),
        }
    }

    /// Whether the caller has every right (an admin, or anyone on an open API).
    pub(crate) fn is_admin(&self) -> bool {
        matches!(self, Caller::Open | Caller::User { admin: true, .. })
    }

    /// Whether the caller may read a survey's distributions, invites and analytics.
    pub(crate) fn can_view(&self, survey: &closeloop_domain::config::Survey) -> bool {
        match self {
            Caller::Open => true,
            Caller::User { id, admin } => *admin || survey.can_view(id),
        }
    }

    /// Whether the caller may change, clone, test and pause a survey's distributions.
    pub(crate) fn can_edit(&self, survey: &closeloop_domain::config::Survey) -> bool {
        match self {
            Caller::Open => true,
            Caller::User { id, admin } => *admin || survey.can_edit(id),
        }
    }
}

/// The SHA-256 digest of a token, hex: what is stored and looked up, never the token.
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The user holding `token`: a token of the config file, or a live one issued through
/// the API whose user still exists. Tokens are compared through their SHA-256 digests, so
/// the comparison time says nothing about the token.
///
/// # Errors
/// On database failure.
pub(crate) async fn user_for_token(
    store: &closeloop_store::Store,
    config: &Config,
    token: &str,
) -> Result<Option<User>, closeloop_store::StoreError> {
    let presented = Sha256::digest(token.as_bytes());
    let from_file = config.users.iter().find(|u| {
        u.token
            .as_ref()
            .is_some_and(|t| Sha256::digest(t.expose().as_bytes()) == presented)
    });
    if let Some(user) = from_file {
        return Ok(Some(user.clone()));
    }
    let issued = store.api_token_user(&hex::encode(presented)).await?;
    Ok(issued.and_then(|id| config.user(&id).cloned()))
}

/// 403 unless the caller may read the survey's distributions.
///
/// # Errors
/// 403 naming `view_distribution`.
pub(crate) fn require_view(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
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
pub(crate) fn require_edit(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
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
pub(crate) fn require_admin(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("{what} needs the admin role")))
    }
}

/// The surveys a rule sends (its survey actions' targets).
pub(crate) fn rule_surveys<'a>(config: &'a Config, rule: &Rule) -> Vec<&'a Survey> {
    ThenElement::all_actions(&rule.then)
        .into_iter()
        .filter_map(|a| a.survey_target())
        .filter_map(|t| config.survey(&t.survey))
        .collect()
}

/// Whether the caller may see an object of the config.
pub(crate) fn can_read(caller: &Caller, config: &Config, kind: Kind, id: &str) -> bool {
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
pub(crate) fn require_read(
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
pub(crate) fn require_write(
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
pub(crate) fn require_owner(caller: &Caller, survey: &Survey) -> Result<(), ApiError> {
    match caller.user_id() {
        Some(me) if !caller.is_admin() && survey.owner != me => Err(ApiError::forbidden(format!(
            "changing survey {} needs its ownership or the admin role",
            survey.id
        ))),
        _ => Ok(()),
    }
}
