//! Webhook payload → a flat list of events the service acts on.
//!
//! Only `messages` changes are turned into events; other fields (template updates, quality
//! changes, …) are acknowledged by the caller and ignored here. Items without the id we would
//! key them on are skipped rather than failing the whole delivery.

use crate::wire::{ChangeValue, InboundMessage, Status, WebhookContact, WebhookPayload};

/// Parses the raw (already signature-checked) body.
///
/// # Errors
/// When the body is not JSON or its known fields have the wrong types.
pub fn parse(body: &[u8]) -> Result<WebhookPayload, serde_json::Error> {
    serde_json::from_slice(body)
}

/// One thing that happened, in payload order.
#[derive(Clone, Debug, PartialEq)]
pub enum WebhookEvent {
    /// A delivery status of one of our messages.
    Status(StatusEvent),
    /// A message a user sent us.
    Inbound(InboundEvent),
}

/// A delivery status update (`statuses[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct StatusEvent {
    /// The business number it concerns (`metadata.phone_number_id`).
    pub phone_number_id: Option<String>,
    /// The wamid of our message.
    pub wamid: String,
    /// The new status.
    pub status: DeliveryStatus,
    /// Unix seconds, when the timestamp parsed.
    pub timestamp: Option<i64>,
    /// The recipient's wa_id.
    pub recipient_id: Option<String>,
    /// `(code, title)` of each error of a `failed` status.
    pub errors: Vec<(Option<i64>, String)>,
}

/// A message status; unknown values are kept rather than rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Accepted by WhatsApp's servers.
    Sent,
    /// Reached the user's device.
    Delivered,
    /// Opened by the user.
    Read,
    /// Will never be delivered; see the errors.
    Failed,
    /// Anything else (`played`, group variants, future values).
    Other(String),
}

impl DeliveryStatus {
    /// Maps Meta's status string.
    pub fn from_wire(status: &str) -> DeliveryStatus {
        match status {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            other => DeliveryStatus::Other(other.to_string()),
        }
    }
}

/// A user message (`messages[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct InboundEvent {
    /// The business number it was sent to.
    pub phone_number_id: Option<String>,
    /// The sender's wa_id.
    pub from: String,
    /// The inbound message's wamid (dedup key).
    pub wamid: Option<String>,
    /// Unix seconds, when the timestamp parsed.
    pub timestamp: Option<i64>,
    /// `text.body`, or the tapped button's text, or the interactive reply's title.
    pub text: Option<String>,
    /// The quick-reply payload or the interactive reply id we set.
    pub reply_id: Option<String>,
    /// The sender's profile name from `contacts[]`.
    pub profile_name: Option<String>,
}

/// Flattens every `messages` change of every entry, statuses before messages within a change.
pub fn events(payload: &WebhookPayload) -> Vec<WebhookEvent> {
    let mut out = Vec::new();
    let values = payload
        .entry
        .iter()
        .flat_map(|entry| entry.changes.iter())
        .filter(|change| change.field.as_deref().is_none_or(|f| f == "messages"))
        .filter_map(|change| change.value.as_ref());
    for value in values {
        let phone_number_id = value
            .metadata
            .as_ref()
            .and_then(|m| m.phone_number_id.clone());
        out.extend(
            value
                .statuses
                .iter()
                .filter_map(|s| status_event(phone_number_id.clone(), s))
                .map(WebhookEvent::Status),
        );
        out.extend(
            value
                .messages
                .iter()
                .filter_map(|m| inbound_event(phone_number_id.clone(), value, m))
                .map(WebhookEvent::Inbound),
        );
    }
    out
}

fn status_event(phone_number_id: Option<String>, status: &Status) -> Option<StatusEvent> {
    let wamid = status.id.clone().filter(|id| !id.is_empty())?;
    Some(StatusEvent {
        phone_number_id,
        wamid,
        status: DeliveryStatus::from_wire(status.status.as_deref().unwrap_or("")),
        timestamp: unix_seconds(status.timestamp.as_deref()),
        recipient_id: status.recipient_id.clone(),
        errors: status
            .errors
            .iter()
            .map(|e| {
                let title = e.title.clone().or_else(|| e.message.clone());
                (e.code, title.unwrap_or_default())
            })
            .collect(),
    })
}

fn inbound_event(
    phone_number_id: Option<String>,
    value: &ChangeValue,
    message: &InboundMessage,
) -> Option<InboundEvent> {
    let from = message.from.clone().filter(|f| !f.is_empty())?;
    let (text, reply_id) = reply_of(message);
    Some(InboundEvent {
        phone_number_id,
        profile_name: profile_name(&value.contacts, &from),
        from,
        wamid: message.id.clone(),
        timestamp: unix_seconds(message.timestamp.as_deref()),
        text,
        reply_id,
    })
}

/// The visible text and our id of what the user sent or tapped.
fn reply_of(message: &InboundMessage) -> (Option<String>, Option<String>) {
    if let Some(body) = message.text.as_ref().and_then(|t| t.body.clone()) {
        return (Some(body), None);
    }
    if let Some(button) = &message.button {
        return (button.text.clone(), button.payload.clone());
    }
    if let Some(interactive) = &message.interactive {
        if let Some(reply) = &interactive.button_reply {
            return (reply.title.clone(), reply.id.clone());
        }
        if let Some(reply) = &interactive.list_reply {
            return (reply.title.clone(), reply.id.clone());
        }
    }
    (None, None)
}

/// The sender's name: the contact with the same wa_id, or the only contact there is.
fn profile_name(contacts: &[WebhookContact], from: &str) -> Option<String> {
    let contact = contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        })?;
    contact.profile.as_ref()?.name.clone()
}

fn unix_seconds(timestamp: Option<&str>) -> Option<i64> {
    timestamp?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_of(json: &str) -> Vec<WebhookEvent> {
        events(&parse(json.as_bytes()).unwrap())
    }

    fn wrap(value: &str) -> String {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"W","changes":[{{"field":"messages","value":{value}}}]}}]}}"#
        )
    }

    #[test]
    fn failed_status_carries_errors() {
        let json = wrap(
            r#"{"metadata":{"phone_number_id":"106"},"statuses":[
              {"id":"wamid.A","status":"failed","timestamp":"1764590460","recipient_id":"5511",
               "errors":[{"code":131026,"title":"Message undeliverable"},{"code":1,"message":"only message"}]}]}"#,
        );
        assert_eq!(
            events_of(&json),
            vec![WebhookEvent::Status(StatusEvent {
                phone_number_id: Some("106".into()),
                wamid: "wamid.A".into(),
                status: DeliveryStatus::Failed,
                timestamp: Some(1764590460),
                recipient_id: Some("5511".into()),
                errors: vec![
                    (Some(131026), "Message undeliverable".into()),
                    (Some(1), "only message".into())
                ],
            })]
        );
    }

    #[test]
    fn unknown_status_and_bad_timestamp_are_tolerated() {
        let json = wrap(r#"{"statuses":[{"id":"wamid.A","status":"played","timestamp":"soon"}]}"#);
        let WebhookEvent::Status(event) = &events_of(&json)[0] else {
            panic!("expected a status");
        };
        assert_eq!(event.status, DeliveryStatus::Other("played".into()));
        assert_eq!(event.timestamp, None);
        assert_eq!(event.phone_number_id, None);
    }

    #[test]
    fn items_without_ids_are_skipped() {
        let json = wrap(
            r#"{"statuses":[{"status":"sent"},{"id":"","status":"sent"}],
                "messages":[{"id":"wamid.I","type":"text","text":{"body":"hi"}}]}"#,
        );
        assert!(events_of(&json).is_empty());
    }

    #[test]
    fn inbound_text_button_and_interactive() {
        let json = wrap(
            r#"{"metadata":{"phone_number_id":"106"},
              "contacts":[{"profile":{"name":"Ana"},"wa_id":"5511"},{"profile":{"name":"Bo"},"wa_id":"5522"}],
              "messages":[
                {"from":"5511","id":"wamid.T","timestamp":"1764590500","type":"text","text":{"body":"STOP"}},
                {"from":"5522","id":"wamid.B","type":"button","button":{"payload":"csat:S-77:good","text":"Great"}},
                {"from":"5511","id":"wamid.R","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"csat:3","title":"Satisfied"}}},
                {"from":"5533","id":"wamid.L","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"nps:10","title":"10"}}},
                {"from":"5511","id":"wamid.X","type":"sticker","sticker":{"id":"m"}}]}"#,
        );
        let inbound: Vec<InboundEvent> = events_of(&json)
            .into_iter()
            .map(|e| match e {
                WebhookEvent::Inbound(i) => i,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let summary: Vec<_> = inbound
            .iter()
            .map(|i| {
                (
                    i.from.as_str(),
                    i.text.as_deref(),
                    i.reply_id.as_deref(),
                    i.profile_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("5511", Some("STOP"), None, Some("Ana")),
                ("5522", Some("Great"), Some("csat:S-77:good"), Some("Bo")),
                ("5511", Some("Satisfied"), Some("csat:3"), Some("Ana")),
                ("5533", Some("10"), Some("nps:10"), None),
                ("5511", None, None, Some("Ana")),
            ]
        );
        assert_eq!(inbound[0].timestamp, Some(1764590500));
        assert_eq!(inbound[0].wamid.as_deref(), Some("wamid.T"));
        assert_eq!(inbound[0].phone_number_id.as_deref(), Some("106"));
    }

    #[test]
    fn single_contact_names_sender_even_without_wa_id() {
        let json = wrap(
            r#"{"contacts":[{"profile":{"name":"Ana"},"user_id":"US.1"}],
                "messages":[{"from":"5511","id":"wamid.T","type":"text","text":{"body":"hi"}}]}"#,
        );
        let WebhookEvent::Inbound(event) = &events_of(&json)[0] else {
            panic!("expected inbound");
        };
        assert_eq!(event.profile_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn other_fields_are_ignored_and_absent_field_counts_as_messages() {
        let json = r#"{"entry":[{"changes":[
            {"field":"message_template_status_update","value":{"statuses":[{"id":"wamid.Z","status":"sent"}]}},
            {"value":{"statuses":[{"id":"wamid.A","status":"read"}]}}]},
            {"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.B","status":"delivered"}]}}]}]}"#;
        let ids: Vec<_> = events_of(json)
            .into_iter()
            .map(|e| match e {
                WebhookEvent::Status(s) => (s.wamid, s.status),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("wamid.A".to_string(), DeliveryStatus::Read),
                ("wamid.B".to_string(), DeliveryStatus::Delivered)
            ]
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"entry":"x"}"#).is_err());
    }
}
