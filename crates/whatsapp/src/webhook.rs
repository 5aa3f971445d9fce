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

/// What the customer sent, by kind, with the id we gave the option they tapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundContent {
    /// A typed message (`type: text`).
    Text {
        /// `text.body`.
        body: String,
    },
    /// A tap on a template's quick-reply button (`type: button`).
    QuickReply {
        /// `button.payload`: the payload we put on the button.
        payload: String,
        /// `button.text`: the button's label.
        text: Option<String>,
    },
    /// A tap on an interactive reply button (`interactive.type: button_reply`).
    ButtonReply {
        /// The id we gave the button.
        id: String,
        /// The button's title.
        title: Option<String>,
    },
    /// A row picked from an interactive list (`interactive.type: list_reply`).
    ListReply {
        /// The id we gave the row.
        id: String,
        /// The row's title.
        title: Option<String>,
        /// The row's description, when it had one.
        description: Option<String>,
    },
    /// Anything else (media, reaction, a Flow reply, a tap without its id), with its `type`,
    /// so the caller can still record that the customer wrote.
    Other {
        /// `messages[].type`.
        kind: Option<String>,
    },
}

impl InboundContent {
    /// The visible text: what was typed, or the label of what was tapped.
    pub fn text(&self) -> Option<&str> {
        match self {
            InboundContent::Text { body } => Some(body),
            InboundContent::QuickReply { text, .. } => text.as_deref(),
            InboundContent::ButtonReply { title, .. } | InboundContent::ListReply { title, .. } => {
                title.as_deref()
            }
            InboundContent::Other { .. } => None,
        }
    }

    /// Our id of what was tapped: the quick-reply payload or the interactive reply id.
    pub fn reply_id(&self) -> Option<&str> {
        match self {
            InboundContent::QuickReply { payload, .. } => Some(payload),
            InboundContent::ButtonReply { id, .. } | InboundContent::ListReply { id, .. } => {
                Some(id)
            }
            InboundContent::Text { .. } | InboundContent::Other { .. } => None,
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
    /// What was sent, by kind.
    pub content: InboundContent,
    /// `content.text()`, kept as a field for the callers that only read the text.
    pub text: Option<String>,
    /// `content.reply_id()`, kept as a field for the callers that only read the id.
    pub reply_id: Option<String>,
    /// `context.id`: the wamid of our message this one answers (a tap always has one).
    pub context_wamid: Option<String>,
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
    let content = content_of(message);
    Some(InboundEvent {
        phone_number_id,
        profile_name: profile_name(&value.contacts, &from),
        from,
        wamid: message.id.clone(),
        timestamp: unix_seconds(message.timestamp.as_deref()),
        text: content.text().map(String::from),
        reply_id: content.reply_id().map(String::from),
        context_wamid: message
            .context
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(serde_json::Value::as_str)
            .map(String::from),
        content,
    })
}

/// Classifies by the parts present rather than by `type` alone, so a message whose `type` is
/// missing but whose body is there still counts; a tap without our id is `Other`, because
/// nothing can be recorded from it.
fn content_of(message: &InboundMessage) -> InboundContent {
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    if let Some(body) = message.text.as_ref().and_then(|t| t.body.clone()) {
        return InboundContent::Text { body };
    }
    if let Some(button) = &message.button {
        if let Some(payload) = non_empty(&button.payload) {
            return InboundContent::QuickReply {
                payload,
                text: button.text.clone(),
            };
        }
    }
    if let Some(interactive) = &message.interactive {
        if let Some(reply) = &interactive.button_reply {
            if let Some(id) = non_empty(&reply.id) {
                return InboundContent::ButtonReply {
                    id,
                    title: reply.title.clone(),
                };
            }
        }
        if let Some(reply) = &interactive.list_reply {
            if let Some(id) = non_empty(&reply.id) {
                return InboundContent::ListReply {
                    id,
                    title: reply.title.clone(),
                    description: reply.description.clone(),
                };
            }
        }
    }
    InboundContent::Other {
        kind: message.kind.clone(),
    }
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

    fn inbound_of(json: &str) -> Vec<InboundEvent> {
        events_of(json)
            .into_iter()
            .map(|e| match e {
                WebhookEvent::Inbound(i) => i,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_inbound_kind_is_typed_with_its_context() {
        // The reference §4.4 examples, one message of each kind.
        let json = wrap(
            r#"{"metadata":{"phone_number_id":"106540352242922"},
              "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511988887777"}],
              "messages":[
                {"from":"5511988887777","id":"wamid.INB0","timestamp":"1764590500","type":"text","text":{"body":"Very helpful, thanks"}},
                {"from":"5511988887777","id":"wamid.INB1","timestamp":"1764590520","type":"button",
                 "context":{"from":"15550783881","id":"wamid.OUT1"},"button":{"payload":"csat:S-77:good","text":"Great"}},
                {"from":"5511988887777","id":"wamid.INB2","timestamp":"1764590530","type":"interactive",
                 "context":{"from":"15550783881","id":"wamid.OUT2"},
                 "interactive":{"type":"button_reply","button_reply":{"id":"csat:S-77:3","title":"Satisfied"}}},
                {"from":"5511988887777","id":"wamid.INB3","timestamp":"1764590540","type":"interactive",
                 "context":{"from":"15550783881","id":"wamid.OUT3"},
                 "interactive":{"type":"list_reply","list_reply":{"id":"nps:S-77:10","title":"10","description":"Extremely likely"}}},
                {"from":"5511988887777","id":"wamid.INB4","timestamp":"1764590550","type":"reaction","reaction":{"emoji":"x","message_id":"m"}},
                {"from":"5511988887777","id":"wamid.INB5","type":"button","button":{"text":"Great"}}]}"#,
        );
        let inbound = inbound_of(&json);
        let contents: Vec<_> = inbound.iter().map(|i| i.content.clone()).collect();
        assert_eq!(
            contents,
            vec![
                InboundContent::Text {
                    body: "Very helpful, thanks".into()
                },
                InboundContent::QuickReply {
                    payload: "csat:S-77:good".into(),
                    text: Some("Great".into())
                },
                InboundContent::ButtonReply {
                    id: "csat:S-77:3".into(),
                    title: Some("Satisfied".into())
                },
                InboundContent::ListReply {
                    id: "nps:S-77:10".into(),
                    title: Some("10".into()),
                    description: Some("Extremely likely".into())
                },
                InboundContent::Other {
                    kind: Some("reaction".into())
                },
                InboundContent::Other {
                    kind: Some("button".into())
                },
            ]
        );
        let contexts: Vec<_> = inbound.iter().map(|i| i.context_wamid.as_deref()).collect();
        assert_eq!(
            contexts,
            vec![
                None,
                Some("wamid.OUT1"),
                Some("wamid.OUT2"),
                Some("wamid.OUT3"),
                None,
                None
            ]
        );
        let ids: Vec<_> = inbound
            .iter()
            .map(|i| i.wamid.as_deref().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "wamid.INB0",
                "wamid.INB1",
                "wamid.INB2",
                "wamid.INB3",
                "wamid.INB4",
                "wamid.INB5"
            ]
        );
        assert!(inbound.iter().all(|i| i.from == "5511988887777"));
        assert_eq!(inbound[3].timestamp, Some(1764590540));
        assert_eq!(inbound[1].reply_id.as_deref(), Some("csat:S-77:good"));
        assert_eq!(inbound[3].text.as_deref(), Some("10"));
        assert_eq!(inbound[5].reply_id, None);
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
