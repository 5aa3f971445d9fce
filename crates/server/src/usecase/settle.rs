//! The outcome of a send attempt, recorded with what it means for the invite, the
//! recipient and the sender account (SPEC §4.11, §4.12), after the provider answered. The
//! settles of sends that finish together commit together, through the group commit of
//! `ingest`.

use closeloop_domain::config::MessageKind;
use closeloop_domain::status::InviteStatus;
use closeloop_store::{ClaimedMessage, SendResult, StoreError, StoreTx};
use closeloop_whatsapp::classify::ErrorClass;

use crate::usecase::error::ApiError;
use crate::usecase::opt_out::{self, Source};
use crate::usecase::status::{change_invite_status, invite_sent, settle_message};
use crate::usecase::Context;

/// The reason of an invite whose number was suppressed, the same whether that was known
/// when it was created or only when its invitation was about to go.
pub(crate) const SUPPRESSED_REASON: &str = "suppressed";

/// A send attempt's outcome, waiting to be written.
pub(crate) struct Settle {
    /// The message as it was claimed.
    pub(crate) message: ClaimedMessage,
    /// The claim's lease owner: only that claim may settle it.
    pub(crate) lease_owner: String,
    /// What the provider answered.
    pub(crate) result: SendResult,
    /// The class of the provider's error, for a failure.
    pub(crate) class: Option<ErrorClass>,
}

/// Writes a send outcome and its consequences and waits until they are committed.
///
/// # Errors
/// When it could not be written (already logged); the lease then expires and the message
/// is sent again.
pub(crate) async fn settle(ctx: &Context, settle: Settle) -> Result<(), ApiError> {
    ctx.ingest.submit_settle(settle).await.map(|_| ())
}

/// Writes a send outcome and its consequences into `tx`; a message no longer leased to us
/// (the lease expired and another dispatcher took it) is left alone. Returns whether an
/// invite changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn settle_in(
    tx: &mut StoreTx,
    settle: &Settle,
    now: i64,
) -> Result<bool, StoreError> {
    let Settle {
        message,
        lease_owner,
        result,
        class,
    } = settle;
    let class = *class;
    let invite = tx.invite(&message.invite_id).await?;
    let given_up;
    let result = match result {
        // A message waiting out the recipient's pair rate limit (131056) is never failed for
        // that alone; it waits as long as its survey link can still be answered (§4.19).
        SendResult::Retry { at, code, title }
            if class == Some(ErrorClass::RecipientThrottled)
                && invite.as_ref().is_some_and(|i| *at >= i.expires_at) =>
        {
            given_up = SendResult::Failed {
                code: *code,
                title: format!("{title}; the survey link expired while the message waited"),
            };
            &given_up
        }
        _ => result,
    };
    if !settle_message(tx, &message.id, lease_owner, result, now).await? {
        return Ok(false);
    }
    let mut invite_changed = false;
    match result {
        SendResult::Accepted { .. } => {
            if let Some(invite) = &invite {
                if message.kind.tracks_invite() {
                    invite_changed = invite_sent(tx, invite, now).await?;
                }
            }
        }
        SendResult::Retry { at, .. } => {
            if class == Some(ErrorClass::RecipientThrottled) {
                tx.hold_recipient(&message.account, &message.recipient, *at)
                    .await?;
            }
        }
        SendResult::Requeue { code, title } => {
            tracing::error!(account = %message.account, code = ?code, %title, "account stopped: nothing more is sent from it until it is fixed and the service restarted");
            tx.mark_account_unhealthy(&message.account, *code, title, now)
                .await?;
        }
        SendResult::Failed { code, title } => {
            // A failed reminder or thank-you leaves its invite as it was, except for the
            // user's marketing opt-out, which ends the invite whichever message met it
            // (SPEC §4.15).
            let opted_out = class == Some(ErrorClass::OptOut);
            let ends_invite = message.kind == MessageKind::Invitation || opted_out;
            if let Some(invite) = invite.as_ref().filter(|_| ends_invite) {
                let target = if opted_out {
                    InviteStatus::Unsubscribed
                } else {
                    InviteStatus::Failed
                };
                invite_changed =
                    change_invite_status(tx, invite, target, Some((*code, title)), now).await?;
            }
            if class == Some(ErrorClass::OptOut) {
                let source = Source::Provider {
                    account: &message.account,
                };
                opt_out::suppress(tx, &message.recipient, &source, now).await?;
            }
        }
        SendResult::Suppressed => {
            // The number was suppressed after the invite was created: the invitation ends
            // the invite `suppressed`, like one created for a suppressed number (§4.19); a
            // reminder or thank-you not sent leaves it as it was.
            let unsent_invitation = invite
                .as_ref()
                .filter(|_| message.kind == MessageKind::Invitation);
            if let Some(invite) = unsent_invitation {
                invite_changed =
                    change_invite_status(tx, invite, InviteStatus::Suppressed, None, now).await?;
                if invite_changed {
                    tx.set_invite_reason(&invite.id, SUPPRESSED_REASON, now)
                        .await?;
                }
            }
        }
    }
    Ok(invite_changed)
}
