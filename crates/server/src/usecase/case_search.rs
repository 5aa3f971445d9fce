//! Finding cases as an operator remembers them (the console's case search): by id, by
//! helpdesk number, or by the customer's phone in any form that parses as E.164.

use closeloop_domain::phone::E164;
use closeloop_store::StoredCase;

use crate::usecase::error::ApiError;
use crate::usecase::Context;

/// The most cases one search lists.
pub(crate) const MAX_FOUND: i64 = 50;

/// The cases whose id or number is `text`, or whose customer's phone is `text`, most
/// recently updated first.
///
/// # Errors
/// On database failure.
pub(crate) async fn find(ctx: &Context, text: &str) -> Result<Vec<StoredCase>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let phone = E164::parse(text, None).ok();
    Ok(ctx
        .store
        .find_cases(text, phone.as_ref().map(E164::as_str), MAX_FOUND)
        .await?)
}
