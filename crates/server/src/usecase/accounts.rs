//! Resuming a sender account the provider stopped (an auth, permission or payment
//! error): an admin says its credentials or standing are fixed, and its kept messages go
//! out again.

use crate::usecase::access::{require_admin, Caller};
use crate::usecase::error::ApiError;
use crate::usecase::Context;

/// Marks the account healthy and wakes its send loop.
///
/// # Errors
/// 403 without the admin role, 404 for an unknown account, 500 on database failure.
pub(crate) async fn resume(ctx: &Context, caller: &Caller, id: &str) -> Result<(), ApiError> {
    require_admin(caller, "resuming an account")?;
    if ctx.config().account(id).is_none() {
        return Err(ApiError::not_found("account", id));
    }
    ctx.store.reset_account_health(id).await?;
    ctx.wake_dispatch.notify_waiters();
    tracing::info!(account = %id, "account resumed by an operator");
    Ok(())
}
