//! Inbound WhatsApp messages: recorded on the customer's cases (matched by number), and
//! opt-out words suppress the number and unsubscribe its open invites (SPEC §4.8). A
//! message Meta delivers again (same wamid) is recorded once; a quick-reply tap records
//! its answer (SPEC §4.16).

use closeloop_domain::phone::E164;
use closeloop_store::StoreError;
use closeloop_whatsapp::webhook::{InboundContent, InboundEvent};

use crate::usecase::answers;
use crate::usecase::conversation::{self, Direction};
use crate::usecase::opt_out::{self, Source};
use crate::usecase::Context;

/// How many of a customer's most recent cases an inbound message is recorded on.
const OPEN_CASES: i64 = 20;

/// Acts on one inbound message.
///
/// # Errors
/// On database failure.
pub(crate) async fn handle(state: &Context, message: &InboundEvent) -> Result<(), StoreError> {
    let Ok(phone) = E164::parse(&message.from, None) else {
        tracing::warn!("inbound message from an unparsable number ignored");
        return Ok(());
    };
    let now = state.clock.now_ms();
    let at = message.timestamp.map_or(now, |s| s.saturating_mul(1000));
    let config = state.config();
    let account = message.phone_number_id.as_deref().and_then(|id| {
        config
            .accounts
            .iter()
            .find(|a| a.phone_number_id == id)
            .map(|a| a.id.as_str())
    });
    let mut tx = state.store.begin().await?;
    if let Some(wamid) = &message.wamid {
        if !tx.first_delivery(wamid, now).await? {
            // A redelivered webhook: its message was recorded the first time.
            return Ok(());
        }
    }
    if let Some(text) = message.text.as_deref() {
        for case_id in tx.cases_of_phone(phone.as_str(), OPEN_CASES).await? {
            conversation::record(
                &mut tx,
                &case_id,
                Direction::Inbound,
                text,
                account,
                at,
                now,
            )
            .await?;
        }
        if config.is_opt_out(text) {
            opt_out::suppress(&mut tx, phone.as_str(), &Source::Word, now).await?;
        }
    }
    tx.commit().await?;
    state.wake_events.notify_one();
    if let InboundContent::QuickReply { payload, .. } = &message.content {
        match answers::answer_tap(state, payload, &phone).await? {
            Ok(status) => tracing::debug!(status = status.as_str(), "quick reply recorded"),
            Err(why) => tracing::warn!(
                reason = ?why,
                "quick-reply tap recorded nothing"
            ),
        }
    }
    Ok(())
}
