//! Inbound WhatsApp messages: recorded on the customer's cases (matched by number), and
//! opt-out words suppress the number and unsubscribe its open invites (SPEC §4.8). A
//! message Meta delivers again (same wamid) is recorded once; a tap on a button closeloop
//! issued, or the text an in-chat survey waits for, records its answer, and an in-chat
//! survey then asks its next question (SPEC §4.16).

use closeloop_domain::phone::E164;
use closeloop_store::StoreError;
use closeloop_whatsapp::webhook::{InboundContent, InboundEvent};
use closeloop_whatsapp::wire::limits::TEXT_BODY_MAX;

use crate::usecase::answers::{self, CheckedReply, TapRefused};
use crate::usecase::conversation::{self, Direction, Said};
use crate::usecase::in_chat;
use crate::usecase::opt_out::{self, Source};
use crate::usecase::Context;

/// How many of a customer's most recent cases an inbound message is recorded on.
const OPEN_CASES: i64 = 20;

/// The text cut to WhatsApp's limit on a text message, on a character boundary: a webhook claiming a longer
/// text would otherwise be stored on each of the customer's open cases.
fn within_whatsapp_limit(text: &str) -> &str {
    match text.char_indices().nth(TEXT_BODY_MAX) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

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
    let opted_out = message
        .text
        .as_deref()
        .is_some_and(|t| config.is_opt_out(t));
    let answer = what_it_answers(state, message, &phone, opted_out).await?;
    let mut tx = state.store.begin().await?;
    if let Some(wamid) = &message.wamid {
        if !tx.first_delivery(wamid, now).await? {
            // A redelivered webhook: its message was recorded the first time.
            return Ok(());
        }
    }
    if let Some(text) = message.text.as_deref() {
        let text = within_whatsapp_limit(text);
        let said = Said {
            direction: Direction::Inbound,
            text,
            account,
            at,
        };
        let note = match &answer {
            Some(Err(why)) => Some(format!("reply recorded no answer: {}", why.as_str())),
            _ => None,
        };
        for case_id in tx.cases_of_phone(phone.as_str(), OPEN_CASES).await? {
            conversation::record(&mut tx, &case_id, &said, note.as_deref(), now).await?;
        }
        if opted_out {
            opt_out::suppress(&mut tx, phone.as_str(), &Source::Word, now).await?;
        }
    }
    tx.commit().await?;
    state.wake_events.notify_one();
    match answer {
        Some(Ok(reply)) => match answers::save_reply(state, reply).await? {
            Ok(answered) => {
                tracing::debug!(
                    question = %answered.question,
                    status = answered.status.as_str(),
                    "answer recorded from the chat"
                );
                in_chat::ask_next(state, &answered.invite_id).await?;
            }
            Err(why) => tracing::warn!(reason = why.as_str(), "chat reply recorded nothing"),
        },
        Some(Err(why)) => tracing::warn!(reason = why.as_str(), "chat reply recorded nothing"),
        None => {}
    }
    Ok(())
}

/// The answer an inbound message carries, checked before anything is written: a tap on a
/// button or row closeloop issued, or the text an in-chat survey waits for (an opt-out
/// word is never an answer).
async fn what_it_answers(
    state: &Context,
    message: &InboundEvent,
    phone: &E164,
    opted_out: bool,
) -> Result<Option<Result<CheckedReply, TapRefused>>, StoreError> {
    match &message.content {
        InboundContent::QuickReply { payload: id, .. }
        | InboundContent::ButtonReply { id, .. }
        | InboundContent::ListReply { id, .. } => {
            Ok(Some(answers::check_reply(state, id, phone).await?))
        }
        InboundContent::Text { body } if !opted_out => {
            Ok(answers::check_text_answer(state, phone, body)
                .await?
                .map(Ok))
        }
        _ => Ok(None),
    }
}
