//! Survey-level permissions (the source document's "View and Edit Distribution
//! permissions at Survey Level"): the owner and admins have all rights; a share grants
//! `view_distribution` or `edit_distribution`.

use closeloop_domain::config::Survey;

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
