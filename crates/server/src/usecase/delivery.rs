//! A delivery status from the provider (Meta's status webhook or the sandbox) applied to
//! the message with that wamid and its invite. A failure with Meta's opt-out code
//! (131050) unsubscribes the invite and opts the number out for that account.

use closeloop_domain::status::InviteStatus;
use closeloop_store::{StoreError, StoreTx};
use closeloop_whatsapp::classify::{classify_code, ErrorClass};
use closeloop_whatsapp::webhook::DeliveryStatus;

use crate::usecase::opt_out::{self, Source};
use crate::usecase::status::{change_invite_status, change_message_status};
use crate::usecase::Context;

/// What a delivery status means for an invite.
fn invite_status_of(status: &DeliveryStatus) -> Option<InviteStatus> {
    match status {
        DeliveryStatus::Sent => Some(InviteStatus::Sent),
        DeliveryStatus::Delivered => Some(InviteStatus::Delivered),
        DeliveryStatus::Read => Some(InviteStatus::Opened),
        DeliveryStatus::Failed => Some(InviteStatus::Failed),
        DeliveryStatus::Other(_) => None,
    }
}

/// A delivery status as the provider reported it.
#[derive(Clone, Debug)]
pub(crate) struct Status {
    /// The provider's message id.
    pub(crate) wamid: String,
    /// What happened to the message.
    pub(crate) status: DeliveryStatus,
    /// The provider's errors (code, title), for a failure.
    pub(crate) errors: Vec<(Option<i64>, String)>,
}

/// Applies a provider status in its own transaction (the sandbox's statuses; webhooks go
/// through the group commit of `ingest`). Returns whether anything changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn apply(ctx: &Context, status: &Status) -> Result<bool, StoreError> {
    let mut tx = ctx.store.begin().await?;
    let changed = apply_in(&mut tx, status, ctx.clock.now_ms()).await?;
    tx.commit().await?;
    if changed {
        ctx.wake_events.notify_one();
    }
    Ok(changed)
}

/// Applies a provider status to the message with that wamid and its invite, inside `tx`.
/// Unknown wamids and statuses are ignored; duplicates and out-of-order statuses never move
/// anything backwards and write nothing. Returns whether anything changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn apply_in(
    tx: &mut StoreTx,
    status: &Status,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(target) = invite_status_of(&status.status) else {
        return Ok(false);
    };
    let Some(message) = tx.message_by_provider_id(&status.wamid).await? else {
        return Ok(false);
    };
    let error = status
        .errors
        .first()
        .map(|(code, title)| (*code, title.as_str()));
    let opted_out = target == InviteStatus::Failed
        && error.and_then(|e| e.0).map(classify_code) == Some(ErrorClass::OptOut);
    let mut changed = change_message_status(tx, &message, target, error, now).await?;
    // A thank-you's or an in-chat question's delivery says nothing about the invite,
    // except the user's marketing opt-out, which ends the invite whichever message met it
    // (SPEC §4.15).
    if message.kind.tracks_invite() || opted_out {
        if let Some(invite) = tx.invite(&message.invite_id).await? {
            let invite_target = if opted_out {
                InviteStatus::Unsubscribed
            } else {
                target
            };
            changed |= change_invite_status(tx, &invite, invite_target, error, now).await?;
        }
    }
    if opted_out {
        let source = Source::Provider {
            account: &message.account,
        };
        opt_out::suppress(tx, &message.recipient, &source, now).await?;
    }
    Ok(changed)
}
