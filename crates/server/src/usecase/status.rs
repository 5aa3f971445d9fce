//! The one writer of invite, response and message statuses, from any source (the
//! provider's answer to a send, status webhooks, the sandbox, the survey page, the chat,
//! the scheduler). Status only moves forward (SPEC §1.1), and every change of an invite
//! or its response re-enters the rules as a `survey_updated` event (SPEC §4.9).

use closeloop_domain::condition::EventKind;
use closeloop_domain::status::{InviteStatus, ResponseStatus};
use closeloop_store::{
    InviteRow, MessageRow, NewEvent, ScoreQuestions, SendResult, StoreError, StoreTx,
};
use serde_json::{Map, Value};

use crate::runtime::ids::new_id;

/// The field a `survey_updated` event names as changed.
#[derive(Clone, Copy)]
enum SurveyField {
    InviteStatus,
    ResponseStatus,
}

impl SurveyField {
    fn as_str(self) -> &'static str {
        match self {
            SurveyField::InviteStatus => "survey.invite_status",
            SurveyField::ResponseStatus => "survey.response_status",
        }
    }
}

/// Moves an invite to `to` when the transition is allowed; emits `survey_updated`.
/// Returns whether the status changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn change_invite_status(
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
    emit_survey_event(tx, &invite.case_id, SurveyField::InviteStatus, now).await?;
    Ok(true)
}

/// Marks an invite created in this transaction `failed` because its first message could
/// not be rendered. No event: the rule that created it is still being evaluated, and its
/// trace says why.
///
/// # Errors
/// On database failure.
pub(crate) async fn fail_new_invite(
    tx: &mut StoreTx,
    invite_id: &str,
    why: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.set_invite_status(invite_id, InviteStatus::Failed, Some((None, why)), now)
        .await
}

/// The provider accepted the invite's message: `sent`, with the time it was sent.
/// Returns whether the status changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn invite_sent(
    tx: &mut StoreTx,
    invite: &InviteRow,
    now: i64,
) -> Result<bool, StoreError> {
    tx.touch_invite_sent(&invite.id, now).await?;
    change_invite_status(tx, invite, InviteStatus::Sent, None, now).await
}

/// Moves a message to `to` (a provider status) when the transition is allowed. Returns
/// whether it changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn change_message_status(
    tx: &mut StoreTx,
    message: &MessageRow,
    to: InviteStatus,
    error: Option<(Option<i64>, &str)>,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(next) = message.status.transition(to) else {
        return Ok(false);
    };
    tx.set_message_status(&message.id, next, error, now).await?;
    Ok(true)
}

/// Records the outcome of a send attempt on its message (outbox state and status).
/// Returns false when the message is no longer leased to `owner` (a stale lease).
///
/// # Errors
/// On database failure.
pub(crate) async fn settle_message(
    tx: &mut StoreTx,
    message_id: &str,
    owner: &str,
    result: &SendResult,
    now: i64,
) -> Result<bool, StoreError> {
    tx.settle_message(message_id, owner, result, now).await
}

/// The first view of a survey page: the invite is `opened` and the response
/// `survey_opened`. Returns whether anything changed.
///
/// # Errors
/// On database failure.
pub(crate) async fn survey_opened(
    tx: &mut StoreTx,
    invite: &InviteRow,
    now: i64,
) -> Result<bool, StoreError> {
    let mut changed = change_invite_status(tx, invite, InviteStatus::Opened, None, now).await?;
    if let Some(next) = invite
        .response_status
        .transition(ResponseStatus::SurveyOpened)
    {
        tx.set_response_status(&invite.id, next, now).await?;
        emit_survey_event(tx, &invite.case_id, SurveyField::ResponseStatus, now).await?;
        changed = true;
    }
    Ok(changed)
}

/// Saved answers and the response status they lead to.
pub(crate) struct SavedResponse<'a> {
    /// Every answer so far.
    pub(crate) answers: &'a Map<String, Value>,
    /// The response status after the save.
    pub(crate) status: ResponseStatus,
    /// When an in-progress response becomes `partially_completed`.
    pub(crate) partial_due: Option<i64>,
    /// The survey's first rating and NPS questions, for the score columns.
    pub(crate) scored: ScoreQuestions<'a>,
}

/// Stores answers and the response status of `invite` (re-read in `tx`); the invite is
/// `opened` if it was not, and a changed response emits `survey_updated`.
///
/// # Errors
/// On database failure.
pub(crate) async fn save_response(
    tx: &mut StoreTx,
    invite: &InviteRow,
    saved: SavedResponse<'_>,
    now: i64,
) -> Result<(), StoreError> {
    tx.save_answers(
        &invite.id,
        saved.answers,
        saved.status,
        saved.partial_due,
        saved.scored,
        now,
    )
    .await?;
    change_invite_status(tx, invite, InviteStatus::Opened, None, now).await?;
    if saved.status != invite.response_status || *saved.answers != invite.answers {
        emit_survey_event(tx, &invite.case_id, SurveyField::ResponseStatus, now).await?;
    }
    Ok(())
}

/// Turns up to `batch` in-progress responses that are due into `partially_completed`,
/// each with its `survey_updated` event. Returns how many.
///
/// # Errors
/// On database failure.
pub(crate) async fn expire_partials(
    tx: &mut StoreTx,
    batch: i64,
    now: i64,
) -> Result<usize, StoreError> {
    let partials = tx.expire_partials(now, batch).await?;
    for (_, case_id) in &partials {
        emit_survey_event(tx, case_id, SurveyField::ResponseStatus, now).await?;
    }
    Ok(partials.len())
}

/// Appends a `survey_updated` event to the case so rules see the new survey state.
async fn emit_survey_event(
    tx: &mut StoreTx,
    case_id: &str,
    field: SurveyField,
    now: i64,
) -> Result<(), StoreError> {
    let Some(stored) = tx.case(case_id).await? else {
        return Ok(());
    };
    tx.insert_event(&NewEvent {
        id: new_id("evt"),
        case_id: case_id.to_string(),
        kind: EventKind::SurveyUpdated,
        changed: vec![field.as_str().to_string()],
        before: Some(stored.case.clone()),
        after: stored.case,
        depth: 0,
        rule_id: None,
        note: None,
        now,
    })
    .await
}
