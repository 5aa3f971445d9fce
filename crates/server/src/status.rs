//! Invite and message status changes, from any source (provider answers, status webhooks,
//! the sandbox, the survey page). Status only moves forward (SPEC §1.1), and every invite
//! status change re-enters the rules as a `survey_updated` event (SPEC §4.9).

use closeloop_domain::condition::EventKind;
use closeloop_domain::status::InviteStatus;
use closeloop_store::{InviteRow, NewEvent, StoreError, StoreTx, Suppression};
use closeloop_whatsapp::classify::{classify_code, ErrorClass};
use closeloop_whatsapp::webhook::DeliveryStatus;

use crate::app::Services;
use crate::ids::new_id;

/// Moves an invite to `to` when the transition is allowed; emits `survey_updated`.
/// Returns whether the status changed.
///
/// # Errors
/// On database failure.
pub async fn change_invite_status(
    tx: &mut StoreTx,
    invite: &InviteRow,
    to: InviteStatus,
    error: Option<(Option<i64>, &str)>,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(next) = invite.status.transition(to) else {
        return Ok(false);
    };
    tx.set_invite_status(&invite.id, next, error, now).await?;
    emit_survey_event(tx, &invite.case_id, "survey.invite_status", now).await?;
    Ok(true)
}

/// Appends a `survey_updated` event to the case so rules see the new survey state.
///
/// # Errors
/// On database failure.
pub async fn emit_survey_event(
    tx: &mut StoreTx,
    case_id: &str,
    field: &str,
    now: i64,
) -> Result<(), StoreError> {
    let Some(stored) = tx.case(case_id).await? else {
        return Ok(());
    };
    tx.insert_event(&NewEvent {
        id: new_id("evt"),
        case_id: case_id.to_string(),
        kind: EventKind::SurveyUpdated,
        changed: vec![field.to_string()],
        before: Some(stored.case.clone()),
        after: stored.case,
        depth: 0,
        rule_id: None,
        now,
    })
    .await
}

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

/// Applies a provider status (webhook or sandbox) to the message with that wamid and its
/// invite. Unknown wamids and statuses are ignored; duplicates and out-of-order statuses
/// never move anything backwards. Returns whether anything changed.
///
/// # Errors
/// On database failure.
pub async fn apply_delivery_status(
    svc: &Services,
    wamid: &str,
    status: &DeliveryStatus,
    errors: &[(Option<i64>, String)],
) -> Result<bool, StoreError> {
    let Some(mut target) = invite_status_of(status) else {
        return Ok(false);
    };
    let now = svc.clock.now_ms();
    let mut tx = svc.store.begin().await?;
    let Some(message) = tx.message_by_provider_id(wamid).await? else {
        return Ok(false);
    };
    let error = errors.first().map(|(code, title)| (*code, title.as_str()));
    let opted_out = target == InviteStatus::Failed
        && error.and_then(|e| e.0).map(classify_code) == Some(ErrorClass::OptOut);
    if opted_out {
        target = InviteStatus::Unsubscribed;
    }
    let mut changed = false;
    if let Some(next) = message.status.transition(if opted_out {
        InviteStatus::Failed
    } else {
        target
    }) {
        tx.set_message_status(&message.id, next, error, now).await?;
        changed = true;
    }
    if message.kind != "thank_you" {
        if let Some(invite) = tx.invite(&message.invite_id).await? {
            changed |= change_invite_status(&mut tx, &invite, target, error, now).await?;
        }
    }
    if opted_out {
        tx.suppress(&Suppression {
            phone: message.recipient.clone(),
            reason: "marketing_opt_out".into(),
            account: Some(message.account.clone()),
            created_at: now,
        })
        .await?;
    }
    tx.commit().await?;
    if changed {
        svc.wake_events.notify_one();
    }
    Ok(changed)
}
