//! Carrying out survey actions inside the event's transaction: the facts that decide an
//! invitation (once per case, suppression, quarantine, distribution state) are read in the
//! same transaction that writes the invite and its queued message, so a decision can
//! never be made on stale facts.

use closeloop_domain::action::SurveyAction;
use closeloop_domain::case::Case;
use closeloop_domain::config::{DistributionStatus, MessageKind};
use closeloop_domain::phone::E164;
use closeloop_domain::resolve;
use closeloop_domain::status::{InviteStatus, ResponseStatus};
use closeloop_store::{InviteRow, NewInvite, NewMessage, StoreError, StoreTx};
use closeloop_whatsapp::wire::{SendRequest, SessionRequest};
use serde::Serialize;

use crate::runtime::ids::{new_id, survey_token};
use crate::usecase::conversation::SERVICE_WINDOW_MS;
use crate::usecase::quick_reply::{self, Tap, Target};
use crate::usecase::settle::SUPPRESSED_REASON;
use crate::usecase::snapshot::{
    analytics_snapshot, build_request, rendered_text, InviteSettings, RenderInput, TemplateSnapshot,
};
use crate::usecase::{status, Context};

/// How an action ended (the trace vocabulary, SPEC §4.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// A message will be sent.
    Queued,
    /// An invite was recorded with the reason it is not sent.
    NotSent,
    /// Nothing was done; the reason says why.
    #[default]
    Skipped,
    /// A case action changed the case.
    Applied,
    /// A case action left the case as it was.
    Unchanged,
    /// The action could not be carried out.
    Failed,
}

/// What one action did, as the trace shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct ActionTrace {
    /// The action name.
    pub(crate) action: String,
    /// What came of it.
    pub(crate) outcome: Outcome,
    /// Why, in a stable snake_case word (`already_invited`, `quarantined`…).
    pub(crate) reason: Option<String>,
    /// The invite created or acted on.
    pub(crate) invite_id: Option<String>,
    /// Details a person needs to understand the outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
}

impl ActionTrace {
    pub(crate) fn new(action: &str, outcome: Outcome, reason: Option<&str>) -> ActionTrace {
        ActionTrace {
            action: action.to_string(),
            outcome,
            reason: reason.map(str::to_string),
            ..ActionTrace::default()
        }
    }

    fn invite(mut self, id: &str) -> ActionTrace {
        self.invite_id = Some(id.to_string());
        self
    }

    fn note(mut self, note: impl Into<String>) -> ActionTrace {
        self.notes.push(note.into());
        self
    }
}

const INVITATION: &str = "trigger_survey_invitation";
const REMINDER: &str = "send_survey_reminder";
const THANK_YOU: &str = "send_thank_you_message";

/// `trigger_survey_invitation` (SPEC §4.1–4.6).
///
/// # Errors
/// On database failure.
pub(crate) async fn trigger_invitation(
    tx: &mut StoreTx,
    svc: &Context,
    case: &Case,
    action: &SurveyAction,
    now: i64,
) -> Result<ActionTrace, StoreError> {
    let config = svc.config();
    let (Some(distribution), Some(survey)) = (
        config.distribution(&action.target.distribution),
        config.survey(&action.target.survey),
    ) else {
        return Ok(ActionTrace::new(
            INVITATION,
            Outcome::Skipped,
            Some("unknown_distribution"),
        ));
    };
    if distribution.status != DistributionStatus::Active {
        return Ok(ActionTrace::new(
            INVITATION,
            Outcome::Skipped,
            Some("distribution_not_active"),
        )
        .note(
            format!(
                "distribution {} is {:?}",
                distribution.id, distribution.status
            )
            .to_lowercase(),
        ));
    }
    if distribution.is_expired(svc.clock.now()) {
        return Ok(ActionTrace::new(
            INVITATION,
            Outcome::Skipped,
            Some("distribution_not_active"),
        )
        .note(format!("distribution {} expired", distribution.id)));
    }
    let (account_id, account_note) =
        sender_account(svc, case, action, &distribution.sender_account);
    if let Some(reason) = tx.account_stopped(&account_id).await? {
        return Ok(ActionTrace::new(
            INVITATION,
            Outcome::Skipped,
            Some("distribution_not_active"),
        )
        .note(format!(
            "distribution {} failed: account {account_id} stopped: {reason}",
            distribution.id
        )));
    }
    let invites = tx.case_invites(&case.id).await?;
    if distribution.once_per_case {
        if let Some(existing) = invites.iter().find(|i| i.distribution == distribution.id) {
            return Ok(
                ActionTrace::new(INVITATION, Outcome::Skipped, Some("already_invited"))
                    .invite(&existing.id),
            );
        }
    }
    let account = config.account(&account_id);
    let default_region = account.and_then(|a| a.default_region.as_deref());
    let mut language_note = None;
    let mut detected = None;
    if action.use_last_message_language {
        match tx.last_inbound(&case.id).await? {
            Some(last) => {
                let (language, detection) =
                    crate::usecase::conversation::detect_for_survey(survey, &last.text);
                if language.is_none() {
                    language_note = Some(format!(
                        "use_last_message_language: {}; fell through",
                        detection.describe()
                    ));
                }
                detected = language;
            }
            None => {
                language_note = Some(
                    "use_last_message_language: the case has no inbound message; fell through"
                        .to_string(),
                )
            }
        }
    }
    let (language, language_source) =
        resolve::language(action, survey, distribution, case, detected.as_ref());
    let recipient = resolve::recipient(action, case, default_region);
    let token = survey_token();
    let settings = InviteSettings::freeze(distribution, survey, case);
    let mut invite = NewInvite {
        id: new_id("inv"),
        case_id: case.id.clone(),
        survey: survey.id.clone(),
        distribution: distribution.id.clone(),
        channel: action.target.channel.clone(),
        status: InviteStatus::Pending,
        language: language.as_str().to_string(),
        language_source: serde_plain(&language_source),
        recipient: None,
        recipient_source: String::new(),
        account: account_id.clone(),
        token: token.clone(),
        expires_at: now
            + i64::try_from(distribution.link_expires_after.as_secs() * 1000)
                .unwrap_or(i64::MAX / 2),
        test: false,
        once_per_case: distribution.once_per_case,
        reason: None,
        snapshot: analytics_snapshot(case),
        settings: serde_json::to_value(&settings).map_err(StoreError::Encode)?,
        now,
    };
    let mut trace = ActionTrace::new(INVITATION, Outcome::Queued, None);
    if let Some(note) = account_note {
        trace = trace.note(note);
    }
    if let Some(note) = language_note {
        trace = trace.note(note);
    }
    trace = trace.note(format!(
        "language {} from {}",
        invite.language, invite.language_source
    ));
    let phone = match recipient {
        Ok((phone, source)) => {
            invite.recipient_source = source.to_string();
            invite.recipient = Some(phone.as_str().to_string());
            Some(phone)
        }
        Err((source, why)) => {
            invite.recipient_source = source.to_string();
            invite.status = InviteStatus::Failed;
            invite.reason = Some("invalid_recipient".into());
            trace = trace.note(format!("{source}: {why}"));
            None
        }
    };
    if let Some(phone) = &phone {
        if tx.is_suppressed(phone.as_str(), &account_id).await? {
            invite.status = InviteStatus::Suppressed;
            invite.reason = Some(SUPPRESSED_REASON.into());
        } else if let Some(window) = distribution.quarantine {
            let since = now - i64::try_from(window.as_secs() * 1000).unwrap_or(i64::MAX / 2);
            // Two processes inviting one number for two cases at once: the second waits
            // here for the first's invite, so the quarantine sees it.
            let key = format!("quarantine:{}:{}", distribution.id, phone.as_str());
            tx.lock(&[&key]).await?;
            if tx
                .invited_since(phone.as_str(), &distribution.id, since)
                .await?
            {
                invite.status = InviteStatus::Quarantined;
                invite.reason = Some("quarantined".into());
                trace = trace.note(format!(
                    "{} was invited by {} within {window}",
                    phone.as_str(),
                    distribution.id
                ));
            }
        }
    }
    if !tx.insert_invite(&invite).await? {
        return Ok(ActionTrace::new(
            INVITATION,
            Outcome::Skipped,
            Some("already_invited"),
        ));
    }
    svc.metrics
        .invites_created
        .with_label_values(&[invite.status.as_str()])
        .inc();
    trace.invite_id = Some(invite.id.clone());
    let Some(phone) = phone.filter(|_| invite.status == InviteStatus::Pending) else {
        trace.outcome = Outcome::NotSent;
        trace.reason = invite.reason.clone();
        return Ok(trace);
    };
    let target = MessageTarget {
        invite_id: &invite.id,
        case_id: &invite.case_id,
        account: &invite.account,
        token: &invite.token,
    };
    let queued = queue_message(
        tx,
        svc,
        &target,
        &settings,
        MessageKind::Invitation,
        &invite.language,
        &phone,
        now,
    )
    .await?;
    if let Err(why) = queued {
        status::fail_new_invite(tx, &invite.id, &why, now).await?;
        trace.outcome = Outcome::Failed;
        trace.reason = Some("template_not_available".into());
        trace = trace.note(why);
    }
    Ok(trace)
}

/// `send_survey_reminder` (SPEC §4.7): only to an invitation the provider accepted, not
/// completed, under `max_reminders`, never to a suppressed number.
///
/// # Errors
/// On database failure.
pub(crate) async fn send_reminder(
    tx: &mut StoreTx,
    svc: &Context,
    case: &Case,
    action: &SurveyAction,
    now: i64,
) -> Result<ActionTrace, StoreError> {
    let Some(invite) = latest_invite(tx, case, action).await? else {
        return Ok(ActionTrace::new(
            REMINDER,
            Outcome::Skipped,
            Some("no_invite"),
        ));
    };
    let trace = |reason: &str| {
        Ok(ActionTrace::new(REMINDER, Outcome::Skipped, Some(reason)).invite(&invite.id))
    };
    if !matches!(
        invite.status,
        InviteStatus::Sent | InviteStatus::Delivered | InviteStatus::Opened
    ) {
        return trace(match invite.status {
            InviteStatus::Pending => "invitation_not_accepted_yet",
            other => other.as_str(),
        });
    }
    if invite.response_status == ResponseStatus::Completed {
        return trace("already_completed");
    }
    let settings: InviteSettings = match serde_json::from_value(invite.settings.clone()) {
        Ok(s) => s,
        Err(_) => return trace("settings_unreadable"),
    };
    if invite.reminders_sent >= i64::from(settings.max_reminders) {
        return trace("max_reminders_reached");
    }
    let Some(phone) = invite
        .recipient
        .as_deref()
        .and_then(|p| E164::parse(p, None).ok())
    else {
        return trace("invalid_recipient");
    };
    if tx.is_suppressed(phone.as_str(), &invite.account).await? {
        return trace("suppressed");
    }
    let language = message_language(svc, &invite, action);
    match queue_message(
        tx,
        svc,
        &MessageTarget::of(&invite),
        &settings,
        MessageKind::Reminder,
        &language,
        &phone,
        now,
    )
    .await?
    {
        Ok(()) => {
            tx.count_reminder(&invite.id, now).await?;
            Ok(ActionTrace::new(REMINDER, Outcome::Queued, None).invite(&invite.id))
        }
        Err(why) => Ok(
            ActionTrace::new(REMINDER, Outcome::Failed, Some("template_not_available"))
                .invite(&invite.id)
                .note(why),
        ),
    }
}

/// `send_thank_you_message` (SPEC §4.7): at most once per invite, only after a response.
///
/// # Errors
/// On database failure.
pub(crate) async fn send_thank_you(
    tx: &mut StoreTx,
    svc: &Context,
    case: &Case,
    action: &SurveyAction,
    now: i64,
) -> Result<ActionTrace, StoreError> {
    let Some(invite) = latest_invite(tx, case, action).await? else {
        return Ok(ActionTrace::new(
            THANK_YOU,
            Outcome::Skipped,
            Some("no_invite"),
        ));
    };
    let trace = |reason: &str| {
        Ok(ActionTrace::new(THANK_YOU, Outcome::Skipped, Some(reason)).invite(&invite.id))
    };
    if invite.thanked_at.is_some() {
        return trace("already_thanked");
    }
    if matches!(
        invite.status,
        InviteStatus::Suppressed | InviteStatus::Unsubscribed | InviteStatus::Quarantined
    ) {
        return trace(invite.status.as_str());
    }
    let responded = !invite.answers.is_empty()
        || matches!(
            invite.response_status,
            ResponseStatus::InProgress
                | ResponseStatus::PartiallyCompleted
                | ResponseStatus::Completed
        );
    if !responded {
        return trace("no_response");
    }
    let settings: InviteSettings = match serde_json::from_value(invite.settings.clone()) {
        Ok(s) => s,
        Err(_) => return trace("settings_unreadable"),
    };
    let Some(phone) = invite
        .recipient
        .as_deref()
        .and_then(|p| E164::parse(p, None).ok())
    else {
        return trace("invalid_recipient");
    };
    if tx.is_suppressed(phone.as_str(), &invite.account).await? {
        return trace("suppressed");
    }
    if !tx.mark_thanked(&invite.id, now).await? {
        return trace("already_thanked");
    }
    let language = message_language(svc, &invite, action);
    match queue_message(
        tx,
        svc,
        &MessageTarget::of(&invite),
        &settings,
        MessageKind::ThankYou,
        &language,
        &phone,
        now,
    )
    .await?
    {
        Ok(()) => Ok(ActionTrace::new(THANK_YOU, Outcome::Queued, None).invite(&invite.id)),
        Err(why) => {
            Ok(
                ActionTrace::new(THANK_YOU, Outcome::Failed, Some("template_not_available"))
                    .invite(&invite.id)
                    .note(why),
            )
        }
    }
}

/// The invite a message belongs to.
struct MessageTarget<'a> {
    invite_id: &'a str,
    case_id: &'a str,
    account: &'a str,
    token: &'a str,
}

impl<'a> MessageTarget<'a> {
    fn of(invite: &'a InviteRow) -> MessageTarget<'a> {
        MessageTarget {
            invite_id: &invite.id,
            case_id: &invite.case_id,
            account: &invite.account,
            token: &invite.token,
        }
    }
}

/// Queues one message of an invite, rendered from the invite's frozen settings.
#[allow(clippy::too_many_arguments)]
async fn queue_message(
    tx: &mut StoreTx,
    svc: &Context,
    invite: &MessageTarget<'_>,
    settings: &InviteSettings,
    kind: MessageKind,
    language: &str,
    phone: &E164,
    now: i64,
) -> Result<Result<(), String>, StoreError> {
    let kind_name = kind.as_str();
    let Some(template) = settings.template(kind) else {
        return Ok(Err(format!("the distribution has no {kind_name} message")));
    };
    let link = svc.survey_link(invite.token);
    let input = RenderInput {
        case: &settings.case,
        link: &link,
        token: invite.token,
        survey_name: &settings.survey_name,
        language,
        to_digits: phone.digits(),
    };
    let request = match build_request(template, &input) {
        Ok(r) => r,
        Err(why) => return Ok(Err(why)),
    };
    let request = match with_quick_replies(svc, invite, template, kind, request) {
        Ok(r) => r,
        Err(why) => return Ok(Err(why)),
    };
    let text = rendered_text(template, language, &request);
    let free_form = kind == MessageKind::ThankYou
        && settings.in_chat
        && window_open(tx, invite, phone, now).await?;
    let payload = match free_form.then(|| SessionRequest::text(phone.digits(), &text)) {
        Some(Ok(session)) => serde_json::to_value(&session),
        _ => serde_json::to_value(&request),
    };
    tx.insert_message(&NewMessage {
        id: new_id("msg"),
        invite_id: invite.invite_id.to_string(),
        kind,
        account: invite.account.to_string(),
        recipient: phone.as_str().to_string(),
        payload: payload.map_err(StoreError::Encode)?,
        text,
        now,
    })
    .await?;
    Ok(Ok(()))
}

/// How long before the end of the customer service window a free-form message is no longer
/// queued, so a send that waits for its slot or a retry still lands inside it.
const WINDOW_MARGIN_MS: i64 = 3_600_000;

/// Whether the recipient wrote to the invite's account recently enough that a free-form
/// message reaches them (the 24-hour customer service window, SPEC §4.16): the case's last
/// inbound message came in on that account, from the case's own number, and the recipient
/// is that number.
async fn window_open(
    tx: &mut StoreTx,
    invite: &MessageTarget<'_>,
    recipient: &E164,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(last) = tx.last_inbound(invite.case_id).await? else {
        return Ok(false);
    };
    let fresh = last.at + SERVICE_WINDOW_MS - WINDOW_MARGIN_MS > now;
    if !fresh || last.account.as_deref() != Some(invite.account) {
        return Ok(false);
    }
    let case_phone = tx
        .case(invite.case_id)
        .await?
        .and_then(|stored| stored.case.profile?.phone)
        .and_then(|phone| E164::parse(&phone, None).ok());
    Ok(case_phone.as_ref() == Some(recipient))
}

/// Adds a signed payload to each of the template's quick-reply buttons (SPEC §4.16): they
/// come after its URL button, if any.
fn with_quick_replies(
    svc: &Context,
    invite: &MessageTarget<'_>,
    template: &TemplateSnapshot,
    kind: MessageKind,
    mut request: SendRequest,
) -> Result<SendRequest, String> {
    let Some(replies) = &template.quick_replies else {
        return Ok(request);
    };
    let config = svc.config();
    let account = config
        .account(invite.account)
        .ok_or_else(|| format!("account {} is not configured", invite.account))?;
    let first = usize::from(template.url_button_suffix.is_some());
    for button in 0..replies.values.len() {
        let tap = Tap {
            invite_id: invite.invite_id.to_string(),
            target: Target::Button { kind, button },
        };
        let payload = quick_reply::issue(account.app_secret.expose().as_bytes(), &tap);
        request = request
            .with_quick_reply(first + button, &payload)
            .map_err(|e| format!("quick reply {button}: {e}"))?;
    }
    Ok(request)
}

/// The language of a reminder or thank-you: the invite's (SPEC §4.1), unless the action
/// names one the survey offers.
fn message_language(svc: &Context, invite: &InviteRow, action: &SurveyAction) -> String {
    let offered = |l: &closeloop_domain::language::Language| {
        svc.config()
            .survey(&invite.survey)
            .is_some_and(|s| s.offers(l))
    };
    match &action.language {
        Some(l) if offered(l) => l.as_str().to_string(),
        _ => invite.language.clone(),
    }
}

async fn latest_invite(
    tx: &mut StoreTx,
    case: &Case,
    action: &SurveyAction,
) -> Result<Option<InviteRow>, StoreError> {
    let invites = tx.case_invites(&case.id).await?;
    Ok(invites.into_iter().rfind(|i| {
        i.survey == action.target.survey
            && i.distribution == action.target.distribution
            && i.channel == action.target.channel
    }))
}

/// SPEC §4.3: the distribution's account when asked (or when the case has no
/// conversation account), else the account of the case's conversation.
fn sender_account(
    svc: &Context,
    case: &Case,
    action: &SurveyAction,
    distribution_account: &str,
) -> (String, Option<String>) {
    if action.use_distribution_account {
        return (distribution_account.to_string(), None);
    }
    let conversation = case
        .conversation
        .as_ref()
        .and_then(|c| c.account.as_deref());
    match conversation {
        Some(id) if svc.config().account(id).is_some() => (id.to_string(), None),
        Some(id) => (
            distribution_account.to_string(),
            Some(format!("conversation account {id:?} is not configured; sent from the distribution's account {distribution_account}")),
        ),
        None => (
            distribution_account.to_string(),
            Some(format!("the case has no conversation account; sent from the distribution's account {distribution_account}")),
        ),
    }
}

fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Queues one test message of a distribution to `phone` as a test invite (excluded from
/// analytics and from once-per-case and quarantine). Returns the invite id, or why the
/// template cannot be rendered.
///
/// # Errors
/// On database failure.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn queue_test(
    tx: &mut StoreTx,
    svc: &Context,
    distribution: &closeloop_domain::config::Distribution,
    survey: &closeloop_domain::config::Survey,
    kind: MessageKind,
    language: &closeloop_domain::language::Language,
    phone: &E164,
    sample: &Case,
    now: i64,
) -> Result<Result<String, String>, StoreError> {
    let settings = InviteSettings::freeze(distribution, survey, sample);
    let invite = NewInvite {
        id: new_id("inv"),
        case_id: format!("test:{}", distribution.id),
        survey: survey.id.clone(),
        distribution: distribution.id.clone(),
        channel: distribution.channel.clone(),
        status: InviteStatus::Pending,
        language: language.as_str().to_string(),
        language_source: "action".into(),
        recipient: Some(phone.as_str().to_string()),
        recipient_source: "test".into(),
        account: distribution.sender_account.clone(),
        token: survey_token(),
        expires_at: now
            + i64::try_from(distribution.link_expires_after.as_secs() * 1000)
                .unwrap_or(i64::MAX / 2),
        test: true,
        once_per_case: false,
        reason: None,
        snapshot: serde_json::json!({}),
        settings: serde_json::to_value(&settings).map_err(StoreError::Encode)?,
        now,
    };
    // A test invite is never once-per-case, so it is always written.
    tx.insert_invite(&invite).await?;
    let target = MessageTarget {
        invite_id: &invite.id,
        case_id: &invite.case_id,
        account: &invite.account,
        token: &invite.token,
    };
    let queued = queue_message(
        tx,
        svc,
        &target,
        &settings,
        kind,
        language.as_str(),
        phone,
        now,
    )
    .await?;
    Ok(queued.map(|()| invite.id))
}
