//! The suppression list as operators manage it (`/api/v1/suppressions` and the console's
//! suppressions page): list it, add a number (through `opt_out`, the one path that
//! suppresses), remove one (admins only).

use closeloop_domain::phone::E164;
use closeloop_store::Suppression;

use crate::usecase::access::{require_admin, Caller};
use crate::usecase::error::{ApiError, Code};
use crate::usecase::opt_out::{self, Source};
use crate::usecase::Context;

/// Every suppressed number, by number.
///
/// # Errors
/// On database failure.
pub(crate) async fn list(ctx: &Context) -> Result<Vec<Suppression>, ApiError> {
    Ok(ctx.store.list_suppressions().await?)
}

/// An operator suppresses `phone` (for every account, or only `account`).
///
/// # Errors
/// 422 for a number that is not E.164 or an unknown account.
pub(crate) async fn add(
    ctx: &Context,
    phone: &str,
    reason: Option<String>,
    account: Option<String>,
) -> Result<Suppression, ApiError> {
    let phone = E164::parse(phone, None).map_err(|e| {
        ApiError::new(Code::InvalidPhone, format!("not an E.164 number: {e}")).at("phone")
    })?;
    if let Some(account) = &account {
        if ctx.config().account(account).is_none() {
            return Err(
                ApiError::new(Code::UnknownAccount, format!("no account {account:?}"))
                    .at("account"),
            );
        }
    }
    let source = Source::Operator { reason, account };
    Ok(opt_out::opt_out(ctx, phone.as_str(), &source).await?)
}

/// The E.164 form of a number as written, or the text as given.
pub(crate) fn normalize(phone: &str) -> String {
    E164::parse(phone, None)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|_| phone.to_string())
}

/// Removes a suppression: the number may be messaged again.
///
/// # Errors
/// 403 without the admin role, 404 when the number is not suppressed.
pub(crate) async fn remove(ctx: &Context, caller: &Caller, phone: &str) -> Result<(), ApiError> {
    require_admin(caller, "removing a suppression")?;
    if ctx.store.remove_suppression(&normalize(phone)).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("suppression", phone))
    }
}
