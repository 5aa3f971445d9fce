//! The outcome of a send attempt, recorded with what it means for the invite, the
//! recipient and the sender account (SPEC §4.11, §4.12), in one short transaction after
//! the provider answered.

use closeloop_domain::config::MessageKind;
use closeloop_domain::status::InviteStatus;
use closeloop_store::{ClaimedMessage, SendResult, StoreError};
use closeloop_whatsapp::classify::ErrorClass;

use crate::usecase::opt_out::{self, Source};
use crate::usecase::status::{change_invite_status, invite_sent, settle_message};
use crate::usecase::Context;

/// Writes a send outcome and its consequences; a message no longer leased to us (the
/// lease expired and another dispatcher took it) is left alone.
///
/// # Errors
/// On database failure.
pub(crate) async fn settle(
    ctx: &Context,
    message: &ClaimedMessage,
    lease_owner: &str,
    result: &SendResult,
    class: Option<ErrorClass>,
) -> Result<(), StoreError> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    if !settle_message(&mut tx, &message.id, lease_owner, result, now).await? {
        return Ok(());
    }
    let invite = tx.invite(&message.invite_id).await?;
    let mut invite_changed = false;
    match result {
        SendResult::Accepted { .. } => {
            if let Some(invite) = &invite {
                if message.kind != MessageKind::ThankYou {
                    invite_changed = invite_sent(&mut tx, invite, now).await?;
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
            let invitation = invite
                .as_ref()
                .filter(|_| message.kind == MessageKind::Invitation);
            if let Some(invite) = invitation {
                let target = if class == Some(ErrorClass::OptOut) {
                    InviteStatus::Unsubscribed
                } else {
                    InviteStatus::Failed
                };
                invite_changed =
                    change_invite_status(&mut tx, invite, target, Some((*code, title)), now)
                        .await?;
            }
            if class == Some(ErrorClass::OptOut) {
                let source = Source::Provider {
                    account: &message.account,
                };
                opt_out::suppress(&mut tx, &message.recipient, &source, now).await?;
            }
        }
    }
    tx.commit().await?;
    if invite_changed {
        ctx.wake_events.notify_one();
    }
    Ok(())
}
