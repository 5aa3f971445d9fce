//! Inbound WhatsApp messages: recorded on the customer's cases (matched by number), and
//! opt-out words suppress the number and unsubscribe its open invites (SPEC §4.8).

use closeloop_domain::phone::E164;
use closeloop_domain::status::InviteStatus;
use closeloop_store::{StoreError, Suppression};
use closeloop_whatsapp::webhook::InboundEvent;

use crate::app::AppState;
use crate::conversation;
use crate::status::change_invite_status;

/// How many of a customer's most recent cases an inbound message is recorded on.
const OPEN_CASES: i64 = 20;

/// Whether `text` is one of the opt-out words (trimmed, case-insensitive).
pub fn is_opt_out(words: &[String], text: &str) -> bool {
    let text = text.trim().to_uppercase();
    !text.is_empty() && words.iter().any(|w| w.trim().to_uppercase() == text)
}

/// Acts on one inbound message.
///
/// # Errors
/// On database failure.
pub async fn handle(state: &AppState, message: &InboundEvent) -> Result<(), StoreError> {
    let Some(text) = message.text.as_deref() else {
        return Ok(());
    };
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
    for case_id in tx.cases_of_phone(phone.as_str(), OPEN_CASES).await? {
        conversation::record(&mut tx, &case_id, "inbound", text, account, at, now).await?;
    }
    if !is_opt_out(&state.config().opt_out_words, text) {
        tx.commit().await?;
        state.wake_events.notify_one();
        return Ok(());
    }
    tx.suppress(&Suppression {
        phone: phone.as_str().to_string(),
        reason: "opt_out".into(),
        account: None,
        created_at: now,
    })
    .await?;
    for invite in tx.open_invites_to(phone.as_str()).await? {
        change_invite_status(&mut tx, &invite, InviteStatus::Unsubscribed, None, now).await?;
    }
    tx.commit().await?;
    state.wake_events.notify_one();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_words_match_trimmed_and_case_insensitive() {
        let words: Vec<String> = ["STOP", "BAJA", "ARRÊT"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for text in ["STOP", " stop ", "Baja", "arrêt"] {
            assert!(is_opt_out(&words, text), "{text:?} should opt out");
        }
        for text in ["stop it", "", "  ", "please stop"] {
            assert!(!is_opt_out(&words, text), "{text:?} should not opt out");
        }
    }
}
