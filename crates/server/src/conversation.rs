//! Conversation messages of a case (SPEC §5 `POST /cases/{id}/messages` and inbound
//! WhatsApp messages): recorded on the case, they give the last-message language (§4.1)
//! and the 24-hour customer-service window, and re-enter the rules as `message_received`.

use closeloop_domain::condition::EventKind;
use closeloop_domain::config::Survey;
use closeloop_domain::detect::{self, Detection};
use closeloop_domain::language::Language;
use closeloop_store::{NewConversationMessage, NewEvent, StoreError, StoreTx};

use crate::ids::new_id;

/// How long after the customer's last message a business may send free-form messages.
pub const SERVICE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Records one message on a case and emits `message_received` for an inbound one.
///
/// # Errors
/// On database failure.
pub async fn record(
    tx: &mut StoreTx,
    case_id: &str,
    direction: &str,
    text: &str,
    account: Option<&str>,
    at: i64,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id("cmsg");
    tx.record_message(&NewConversationMessage {
        id: id.clone(),
        case_id: case_id.to_string(),
        direction: direction.to_string(),
        text: text.to_string(),
        account: account.map(str::to_string),
        at,
        now,
    })
    .await?;
    if direction == "inbound" {
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
                now,
            })
            .await?;
        }
    }
    Ok(id)
}

/// The language of a message among the survey's languages, mapped to the survey's own
/// tag (`pt` → `pt_BR`), with the detection for the trace.
pub fn detect_for_survey(survey: &Survey, text: &str) -> (Option<Language>, Detection) {
    let bases: Vec<&str> = survey.languages.iter().map(|l| l.base()).collect();
    let detection = detect::detect(text, &bases);
    let language = detection
        .language()
        .and_then(|code| Language::parse(code).ok())
        .and_then(|l| closeloop_domain::resolve::offered(survey, &l));
    (language, detection)
}
