//! Answering a survey (SPEC §1.2): finding the invite of a link and whether it can be
//! answered, recording that it was opened, saving answers (validated by
//! `closeloop_domain::answer`) with the response status they lead to, and the
//! unsubscribe link. The survey page and the chat (quick replies, in-chat questions and
//! their text answers) record answers through the same save.

use closeloop_domain::answer::{self, AnswerError};
use closeloop_domain::chat;
use closeloop_domain::config::{DistributionStatus, Survey};
use closeloop_domain::language::Language;
use closeloop_domain::page_text::PageTexts;
use closeloop_domain::phone::E164;
use closeloop_domain::status::{InviteStatus, ResponseStatus};
use closeloop_store::{InviteRow, ScoreQuestions, StoreError};
use serde_json::{Map, Value};

use crate::usecase::opt_out::{self, Source};
use crate::usecase::quick_reply::{self, Refusal, Target};
use crate::usecase::snapshot::InviteSettings;
use crate::usecase::status::{save_response, survey_opened, SavedResponse};
use crate::usecase::Context;

/// Why a survey cannot be answered now.
pub(crate) enum Closed {
    Unknown,
    Expired,
    Paused,
    Completed,
    Unavailable,
}

/// An invite whose survey can be shown, with what the page needs.
pub(crate) struct Open {
    pub(crate) invite: InviteRow,
    pub(crate) survey: Survey,
    pub(crate) language: Language,
    /// The page's words in the invite's language (SPEC §4.18).
    pub(crate) texts: PageTexts,
}

/// A link that cannot be answered now, and the words to say so in: the invite's language,
/// or English when there is no invite.
pub(crate) struct Refused {
    pub(crate) closed: Closed,
    pub(crate) texts: PageTexts,
}

impl Refused {
    fn english(closed: Closed) -> Refused {
        Refused {
            closed,
            texts: PageTexts::english(),
        }
    }
}

/// The invite's language, or the survey's default when the stored one does not parse.
fn language_of(invite: &InviteRow, survey: &Survey) -> Language {
    Language::parse(&invite.language).unwrap_or_else(|_| survey.default_language.clone())
}

/// The page texts for an invite: its survey's in its language (English when the survey
/// is gone).
pub(crate) fn page_texts(ctx: &Context, invite: &InviteRow) -> PageTexts {
    ctx.config()
        .survey(&invite.survey)
        .map_or_else(PageTexts::english, |s| {
            s.page_texts(&language_of(invite, s))
        })
}

/// Finds the invite of a token and checks it can be answered.
pub(crate) async fn open(state: &Context, token: &str) -> Result<Open, Refused> {
    let invite = match state.store.invite_by_token(token).await {
        Ok(Some(invite)) => invite,
        Ok(None) => return Err(Refused::english(Closed::Unknown)),
        Err(e) => {
            tracing::error!(error = %e, "survey page");
            return Err(Refused::english(Closed::Unavailable));
        }
    };
    open_invite(state, invite)
}

/// Checks an invite can be answered now.
fn open_invite(state: &Context, invite: InviteRow) -> Result<Open, Refused> {
    let config = state.config();
    let survey = config
        .survey(&invite.survey)
        .cloned()
        .ok_or_else(|| Refused::english(Closed::Unknown))?;
    let language = language_of(&invite, &survey);
    let texts = survey.page_texts(&language);
    let refuse = |closed| {
        Err(Refused {
            closed,
            texts: texts.clone(),
        })
    };
    if invite.response_status == ResponseStatus::Completed {
        return refuse(Closed::Completed);
    }
    if state.clock.now_ms() > invite.expires_at {
        return refuse(Closed::Expired);
    }
    let paused = config
        .distribution(&invite.distribution)
        .is_some_and(|d| d.status != DistributionStatus::Active);
    if paused {
        return refuse(Closed::Paused);
    }
    Ok(Open {
        invite,
        survey,
        language,
        texts,
    })
}

/// Why a reply in the chat recorded nothing.
#[derive(Debug)]
pub(crate) enum TapRefused {
    /// Not a payload closeloop issued (a template's own button text, say).
    NotOurs,
    /// The payload names no invite we have.
    UnknownInvite,
    /// The signature does not match: tampered with or forged.
    BadSignature,
    /// The tap came from a number the invite was not sent to.
    OtherNumber,
    /// The invite's message has no such button, or its question no such option.
    NoSuchButton,
    /// The survey cannot be answered now.
    Closed,
    /// The answer is not valid for the question (the config changed since).
    Invalid,
}

impl TapRefused {
    /// Why, in words, for the case's trace.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            TapRefused::NotOurs => "not a reply closeloop issued",
            TapRefused::UnknownInvite => "it names no invite",
            TapRefused::BadSignature => "its signature does not match (tampered or forged)",
            TapRefused::OtherNumber => "it came from a number the invite was not sent to",
            TapRefused::NoSuchButton => "its message has no such button",
            TapRefused::Closed => "the survey cannot be answered now",
            TapRefused::Invalid => "the answer is not valid for the question",
        }
    }
}

/// An answer recorded from the chat.
#[derive(Debug)]
pub(crate) struct ChatAnswered {
    /// The invite it was recorded on.
    pub(crate) invite_id: String,
    /// The question answered.
    pub(crate) question: String,
    /// The response status after it.
    pub(crate) status: ResponseStatus,
}

/// A reply that passed its checks, ready to be saved.
pub(crate) struct CheckedReply {
    open: Open,
    question: String,
    value: Value,
}

/// Checks a tap on a quick-reply button, reply button or list row (SPEC §4.16): a payload
/// closeloop issued for an invite sent to `from`, naming a button or option that exists,
/// on a survey that can be answered now. Writes nothing.
///
/// # Errors
/// On database failure.
pub(crate) async fn check_reply(
    state: &Context,
    payload: &str,
    from: &E164,
) -> Result<Result<CheckedReply, TapRefused>, StoreError> {
    let Some(invite_id) = quick_reply::invite_of(payload) else {
        return Ok(Err(TapRefused::NotOurs));
    };
    let Some(invite) = state.store.get_invite(invite_id).await? else {
        return Ok(Err(TapRefused::UnknownInvite));
    };
    let config = state.config();
    let Some(account) = config.account(&invite.account) else {
        return Ok(Err(TapRefused::UnknownInvite));
    };
    let tap = match quick_reply::verify(account.app_secret.expose().as_bytes(), payload) {
        Ok(tap) => tap,
        Err(Refusal::NotOurs) => return Ok(Err(TapRefused::NotOurs)),
        Err(Refusal::BadSignature) => return Ok(Err(TapRefused::BadSignature)),
    };
    if invite.recipient.as_deref() != Some(from.as_str()) {
        return Ok(Err(TapRefused::OtherNumber));
    }
    let settings = serde_json::from_value::<InviteSettings>(invite.settings.clone()).ok();
    let Ok(open) = open_invite(state, invite) else {
        return Ok(Err(TapRefused::Closed));
    };
    let answer = match tap.target {
        Target::Button { kind, button } => settings
            .as_ref()
            .and_then(|s| s.template(kind))
            .and_then(|t| t.quick_replies.as_ref())
            .and_then(|q| Some((q.question.clone(), q.values.get(button)?.clone()))),
        Target::Choice { question, option } => open
            .survey
            .questions
            .get(question)
            .and_then(|q| Some((q.id.clone(), chat::option_value(q, option)?))),
    };
    let Some((question, value)) = answer else {
        return Ok(Err(TapRefused::NoSuchButton));
    };
    Ok(Ok(CheckedReply {
        open,
        question,
        value,
    }))
}

/// Records a checked reply through the same checks and status rules as the survey page:
/// `in_progress`, or `completed` once every required question is answered.
///
/// # Errors
/// On database failure.
pub(crate) async fn save_reply(
    state: &Context,
    reply: CheckedReply,
) -> Result<Result<ChatAnswered, TapRefused>, StoreError> {
    let CheckedReply {
        open,
        question,
        value,
    } = reply;
    let submitted = Map::from_iter([(question.clone(), value)]);
    let Ok(merged) = answer::merge(&open.survey, &open.invite.answers, &submitted, false) else {
        return Ok(Err(TapRefused::Invalid));
    };
    let complete = open
        .survey
        .questions
        .iter()
        .filter(|q| q.required)
        .all(|q| merged.contains_key(&q.id));
    match save(state, &open, &submitted, complete).await {
        Ok(status) => Ok(Ok(ChatAnswered {
            invite_id: open.invite.id,
            question,
            status,
        })),
        Err(SaveError::Store(e)) => Err(e),
        Err(SaveError::Closed(_)) => Ok(Err(TapRefused::Closed)),
        Err(SaveError::Invalid(_)) => Ok(Err(TapRefused::Invalid)),
    }
}

/// The text answer an in-chat survey waits for from `from` (SPEC §4.16), checked like a
/// tap; None when no invite to that number waits for one.
///
/// # Errors
/// On database failure.
pub(crate) async fn check_text_answer(
    state: &Context,
    from: &E164,
    text: &str,
) -> Result<Option<CheckedReply>, StoreError> {
    let Some((invite_id, question)) = state.store.chat_awaiting(from.as_str()).await? else {
        return Ok(None);
    };
    let Some(invite) = state.store.get_invite(&invite_id).await? else {
        return Ok(None);
    };
    let Ok(open) = open_invite(state, invite) else {
        return Ok(None);
    };
    let kept: String = text.chars().take(answer::MAX_TEXT_CHARS).collect();
    Ok(Some(CheckedReply {
        open,
        question,
        value: Value::String(kept),
    }))
}

/// The unsubscribe link of a token, confirmed: the number is opted out. Returns the
/// invite's page texts, or None for an unknown token.
///
/// # Errors
/// On database failure.
pub(crate) async fn unsubscribe(
    ctx: &Context,
    token: &str,
) -> Result<Option<PageTexts>, StoreError> {
    let Some(invite) = ctx.store.invite_by_token(token).await? else {
        return Ok(None);
    };
    if let Some(phone) = &invite.recipient {
        opt_out::opt_out(ctx, phone, &Source::Link).await?;
    }
    Ok(Some(page_texts(ctx, &invite)))
}

/// Why answers were not saved.
pub(crate) enum SaveError {
    Invalid(Vec<AnswerError>),
    Closed(Closed),
    Store(StoreError),
}

impl From<StoreError> for SaveError {
    fn from(e: StoreError) -> SaveError {
        SaveError::Store(e)
    }
}

/// Validates and stores answers inside one transaction (re-reading the invite there, so
/// two concurrent submits cannot both succeed); returns the new response status.
pub(crate) async fn save(
    state: &Context,
    open: &Open,
    submitted: &Map<String, Value>,
    submit: bool,
) -> Result<ResponseStatus, SaveError> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let invite = tx
        .invite(&open.invite.id)
        .await?
        .ok_or(SaveError::Closed(Closed::Unknown))?;
    if invite.response_status == ResponseStatus::Completed {
        return Err(SaveError::Closed(Closed::Completed));
    }
    let merged = answer::merge(&open.survey, &invite.answers, submitted, submit)
        .map_err(SaveError::Invalid)?;
    let status = answer::status_after_save(invite.response_status, &merged, submit);
    let partial_after_ms = serde_json::from_value::<InviteSettings>(invite.settings.clone())
        .map(|s| i64::try_from(s.partial_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 4))
        .unwrap_or(3_600_000);
    let partial_due = (status == ResponseStatus::InProgress)
        .then(|| (now + partial_after_ms).min(invite.expires_at));
    let (rating, nps) = answer::score_questions(&open.survey);
    let saved = SavedResponse {
        answers: &merged,
        status,
        partial_due,
        scored: ScoreQuestions { rating, nps },
    };
    save_response(&mut tx, &invite, saved, now).await?;
    tx.commit().await?;
    state.wake_events.notify_one();
    Ok(status)
}

/// The answers stored now (the ones known before when they cannot be read).
pub(crate) async fn reread(state: &Context, open: &Open) -> Map<String, Value> {
    match state.store.get_invite(&open.invite.id).await {
        Ok(Some(i)) => i.answers,
        _ => open.invite.answers.clone(),
    }
}

/// Records the first view of a survey page.
///
/// # Errors
/// On database failure.
pub(crate) async fn mark_opened(state: &Context, invite: &InviteRow) -> Result<(), StoreError> {
    let nothing_to_record = invite.status.transition(InviteStatus::Opened).is_none()
        && invite
            .response_status
            .transition(ResponseStatus::SurveyOpened)
            .is_none();
    if nothing_to_record {
        // Repeat views write nothing, so they never wait for the database writer.
        return Ok(());
    }
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let changed = survey_opened(&mut tx, invite, now).await?;
    tx.commit().await?;
    if changed {
        state.wake_events.notify_one();
    }
    Ok(())
}
