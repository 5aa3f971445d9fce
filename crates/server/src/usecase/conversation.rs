//! Conversation messages of a case (SPEC §5 `POST /cases/{id}/messages` and inbound
//! WhatsApp messages): recorded on the case, they give the last-message language (§4.1)
//! and the 24-hour customer-service window, and re-enter the rules as `message_received`.

use closeloop_domain::condition::EventKind;
use closeloop_domain::config::Survey;
use closeloop_domain::detect::{self, Detection};
use closeloop_domain::language::Language;
use closeloop_store::{NewConversationMessage, NewEvent, StoreError, StoreTx};

use crate::runtime::ids::new_id;
use crate::usecase::Context;

/// How long after the customer's last message a business may send free-form messages.
pub(crate) const SERVICE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Who wrote a conversation message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Direction {
    /// The customer.
    Inbound,
    /// The business (an agent or a bot).
    Outbound,
}

impl Direction {
    /// The stored name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// What a conversation message is: who wrote it, what it says, from which account and
/// when (unix ms).
pub(crate) struct Said<'a> {
    pub(crate) direction: Direction,
    pub(crate) text: &'a str,
    pub(crate) account: Option<&'a str>,
    pub(crate) at: i64,
}

/// Records one message on a case and emits `message_received` for an inbound one, with
/// `note` for its trace.
///
/// # Errors
/// On database failure.
pub(crate) async fn record(
    tx: &mut StoreTx,
    case_id: &str,
    said: &Said<'_>,
    note: Option<&str>,
    now: i64,
) -> Result<String, StoreError> {
    let Said {
        direction,
        text,
        account,
        at,
    } = *said;
    let id = new_id("cmsg");
    tx.record_message(&NewConversationMessage {
        id: id.clone(),
        case_id: case_id.to_string(),
        direction: direction.as_str().to_string(),
        text: text.to_string(),
        account: account.map(str::to_string),
        at,
        now,
    })
    .await?;
    if direction == Direction::Inbound {
        if let Some(stored) = tx.case(case_id).await? {
            tx.insert_event(&NewEvent {
                id: new_id("evt"),
                case_id: case_id.to_string(),
                kind: EventKind::MessageReceived,
                changed: vec!["conversation.last_message".to_string()],
                before: Some(stored.case.clone()),
                after: stored.case,
                depth: 0,
                rule_id: None,
                note: note.map(str::to_string),
                now,
            })
            .await?;
        }
    }
    Ok(id)
}

/// Records a message the helpdesk reports on a case, in a transaction of its own.
/// Returns its id, or None when the case does not exist.
///
/// # Errors
/// On database failure.
pub(crate) async fn report(
    ctx: &Context,
    case_id: &str,
    direction: Direction,
    text: &str,
    account: Option<&str>,
    at: i64,
) -> Result<Option<String>, StoreError> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    if tx.case(case_id).await?.is_none() {
        return Ok(None);
    }
    let said = Said {
        direction,
        text,
        account,
        at,
    };
    let id = record(&mut tx, case_id, &said, None, now).await?;
    tx.commit().await?;
    ctx.wake_events.notify_one();
    Ok(Some(id))
}

/// The language of a message among the survey's languages, mapped to the survey's own
/// tag (`pt` → `pt_BR`), with the detection for the trace.
pub(crate) fn detect_for_survey(survey: &Survey, text: &str) -> (Option<Language>, Detection) {
    let bases: Vec<&str> = survey.languages.iter().map(|l| l.base()).collect();
    let detection = detect::detect(text, &bases);
    let language = detection
        .language()
        .and_then(|code| Language::parse(code).ok())
        .and_then(|l| closeloop_domain::resolve::offered(survey, &l));
    (language, detection)
}
