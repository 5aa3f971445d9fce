//! Opting a number out (SPEC §4.8): the one path that puts a number on the suppression
//! list, whoever asks — the customer's opt-out word in the chat, the unsubscribe link,
//! Meta's 131050 (the user stopped marketing messages) or an operator through the API.
//! A customer's own opt-out (word or link) also unsubscribes every open invite to the
//! number; Meta's 131050 is tied to the one message it answered, whose invite the status
//! writer moves.

use closeloop_domain::status::InviteStatus;
use closeloop_store::{StoreError, StoreTx, Suppression};

use crate::usecase::status::change_invite_status;
use crate::usecase::Context;

/// Who asked for the opt-out, and for which sender accounts it holds.
pub(crate) enum Source<'a> {
    /// The customer sent one of the opt-out words.
    Word,
    /// The customer confirmed the unsubscribe link.
    Link,
    /// Meta answered 131050 for a message from `account`.
    Provider {
        /// The sender account whose marketing messages the user stopped.
        account: &'a str,
    },
    /// An operator, through the API.
    Operator {
        /// Why, in the operator's words (default `operator`).
        reason: Option<String>,
        /// Only for this sender account; None = every account.
        account: Option<String>,
    },
}

impl Source<'_> {
    fn suppression(&self, phone: &str, now: i64) -> Suppression {
        let (reason, account) = match self {
            Source::Word => ("opt_out".to_string(), None),
            Source::Link => ("unsubscribe_link".to_string(), None),
            Source::Provider { account } => {
                ("marketing_opt_out".to_string(), Some(account.to_string()))
            }
            Source::Operator { reason, account } => (
                reason.clone().unwrap_or_else(|| "operator".to_string()),
                account.clone(),
            ),
        };
        Suppression {
            phone: phone.to_string(),
            reason,
            account,
            created_at: now,
        }
    }

    /// Whether the customer asked themselves, so every open invite ends.
    fn by_the_customer(&self) -> bool {
        matches!(self, Source::Word | Source::Link)
    }
}

/// Suppresses `phone` inside `tx` and, when the customer asked, unsubscribes its open
/// invites. Returns the suppression written.
///
/// # Errors
/// On database failure.
pub(crate) async fn suppress(
    tx: &mut StoreTx,
    phone: &str,
    source: &Source<'_>,
    now: i64,
) -> Result<Suppression, StoreError> {
    let suppression = source.suppression(phone, now);
    tx.suppress(&suppression).await?;
    if source.by_the_customer() {
        for invite in tx.open_invites_to(phone).await? {
            change_invite_status(tx, &invite, InviteStatus::Unsubscribed, None, now).await?;
        }
    }
    Ok(suppression)
}

/// Opts `phone` out in a transaction of its own and wakes the rules.
///
/// # Errors
/// On database failure.
pub(crate) async fn opt_out(
    ctx: &Context,
    phone: &str,
    source: &Source<'_>,
) -> Result<Suppression, StoreError> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    let suppression = suppress(&mut tx, phone, source, now).await?;
    tx.commit().await?;
    ctx.wake_events.notify_one();
    Ok(suppression)
}
