//! Builders for webhook bodies in Meta's exact shape (reference §4.2–§4.4).

use std::time::{SystemTime, UNIX_EPOCH};

use closeloop_whatsapp::webhook::InboundContent;
use closeloop_whatsapp::wire::{
    Change, ChangeValue, Entry, ErrorData, InboundButton, InboundMessage, InboundText, Interactive,
    ListReply, Metadata, Profile, ReplyRef, Status, WebhookContact, WebhookError, WebhookPayload,
};
use serde_json::json;

/// The WABA id the mock reports in `entry[].id`; the service keys on `phone_number_id`.
const WABA_ID: &str = "102290129340398";

/// Unix seconds now, as Meta's string timestamps.
pub(crate) fn now_timestamp() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// Where Meta's webhook errors point (reference §2.3).
const ERROR_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// A display number for a phone number id: the mock has no real numbers, so it derives a
/// stable, digits-only one.
pub(crate) fn display_number(phone_number_id: &str) -> String {
    let digits: String = phone_number_id
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let tail = &digits[digits.len().saturating_sub(7)..];
    format!("1555{tail:0>7}")
}

fn envelope(phone_number_id: &str, value: ChangeValue) -> WebhookPayload {
    WebhookPayload {
        object: Some("whatsapp_business_account".into()),
        entry: vec![Entry {
            id: Some(WABA_ID.into()),
            changes: vec![Change {
                field: Some("messages".into()),
                value: Some(ChangeValue {
                    messaging_product: Some("whatsapp".into()),
                    metadata: Some(Metadata {
                        display_phone_number: Some(display_number(phone_number_id)),
                        phone_number_id: Some(phone_number_id.into()),
                    }),
                    ..value
                }),
            }],
        }],
    }
}

/// What a status webhook is about.
pub(crate) struct StatusSpec<'a> {
    pub phone_number_id: &'a str,
    pub wamid: &'a str,
    pub status: &'a str,
    pub recipient_id: Option<&'a str>,
    pub errors: Vec<WebhookError>,
    pub biz_opaque_callback_data: Option<String>,
}

/// One error item of a `failed` status, in Meta's webhook shape (no `type`, no `fbtrace_id`).
pub(crate) fn webhook_error(code: i64, title: &str, details: &str) -> WebhookError {
    WebhookError {
        code: Some(code),
        title: Some(title.into()),
        message: Some(title.into()),
        error_data: Some(ErrorData {
            messaging_product: None,
            details: Some(details.into()),
        }),
        href: Some(ERROR_HREF.into()),
    }
}

/// A `statuses[]` webhook for one message.
pub(crate) fn status(spec: StatusSpec<'_>) -> WebhookPayload {
    let errors = spec.errors;
    // Meta attaches PMP pricing to non-failed statuses since July 2025.
    let pricing = (spec.status != "failed").then(|| {
        json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"})
    });
    let status = Status {
        id: Some(spec.wamid.into()),
        status: Some(spec.status.into()),
        timestamp: Some(now_timestamp()),
        recipient_id: spec.recipient_id.map(Into::into),
        errors,
        biz_opaque_callback_data: spec.biz_opaque_callback_data,
        conversation: None,
        pricing,
    };
    envelope(
        spec.phone_number_id,
        ChangeValue {
            statuses: vec![status],
            ..ChangeValue::default()
        },
    )
}

/// An inbound `messages[]` webhook with the sender in `contacts[]`.
pub(crate) fn inbound(
    phone_number_id: &str,
    message: InboundMessage,
    profile_name: Option<&str>,
) -> WebhookPayload {
    let contact = WebhookContact {
        wa_id: message.from.clone(),
        profile: Some(Profile {
            name: Some(profile_name.unwrap_or("Mock User").into()),
        }),
        user_id: None,
    };
    envelope(
        phone_number_id,
        ChangeValue {
            contacts: vec![contact],
            messages: vec![message],
            ..ChangeValue::default()
        },
    )
}

/// An inbound `messages[]` item of the given kind. `context` is `(display number, our wamid)`:
/// what Meta attaches when the customer taps a button of, or replies to, our message.
pub(crate) fn inbound_message(
    from_digits: &str,
    wamid: &str,
    content: &InboundContent,
    context: Option<(String, String)>,
) -> InboundMessage {
    let mut message = InboundMessage {
        from: Some(from_digits.into()),
        id: Some(wamid.into()),
        timestamp: Some(now_timestamp()),
        context: context.map(|(from, id)| json!({"from": from, "id": id})),
        ..InboundMessage::default()
    };
    let kind = match content {
        InboundContent::Text { body } => {
            message.text = Some(InboundText {
                body: Some(body.clone()),
            });
            "text"
        }
        InboundContent::QuickReply { payload, text } => {
            message.button = Some(InboundButton {
                payload: Some(payload.clone()),
                text: text.clone(),
            });
            "button"
        }
        InboundContent::ButtonReply { id, title } => {
            message.interactive = Some(Interactive {
                kind: Some("button_reply".into()),
                button_reply: Some(ReplyRef {
                    id: Some(id.clone()),
                    title: title.clone(),
                }),
                list_reply: None,
            });
            "interactive"
        }
        InboundContent::ListReply {
            id,
            title,
            description,
        } => {
            message.interactive = Some(Interactive {
                kind: Some("list_reply".into()),
                button_reply: None,
                list_reply: Some(ListReply {
                    id: Some(id.clone()),
                    title: title.clone(),
                    description: description.clone(),
                }),
            });
            "interactive"
        }
        InboundContent::Other { kind } => kind.as_deref().unwrap_or("unknown"),
    };
    message.kind = Some(kind.into());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_number_is_digits() {
        assert_eq!(display_number("106540352242922"), "15552242922");
        assert_eq!(display_number("pn-1"), "15550000001");
    }

    #[test]
    fn status_has_meta_shape() {
        let payload = status(StatusSpec {
            phone_number_id: "106",
            wamid: "wamid.A",
            status: "failed",
            recipient_id: Some("34600111222"),
            errors: vec![webhook_error(
                131026,
                "Message undeliverable",
                "Message Undeliverable.",
            )],
            biz_opaque_callback_data: Some("case=1".into()),
        });
        let v = serde_json::to_value(&payload).unwrap();
        assert_eq!(v["object"], "whatsapp_business_account");
        let change = &v["entry"][0]["changes"][0];
        assert_eq!(change["field"], "messages");
        assert_eq!(change["value"]["metadata"]["phone_number_id"], "106");
        let s = &change["value"]["statuses"][0];
        assert_eq!(s["id"], "wamid.A");
        assert_eq!(s["recipient_id"], "34600111222");
        assert_eq!(s["errors"][0]["code"], 131026);
        assert_eq!(
            s["errors"][0]["error_data"]["details"],
            "Message Undeliverable."
        );
        assert!(s["errors"][0]["href"].is_string());
        assert_eq!(s["biz_opaque_callback_data"], "case=1");
        assert!(s["timestamp"].is_string());
        assert!(s.get("pricing").is_none());
        assert!(change["value"].get("messages").is_none());
    }

    #[test]
    fn inbound_has_contact() {
        let text = InboundContent::Text {
            body: "Olá".into()
        };
        let message = inbound_message("5511988887777", "wamid.I", &text, None);
        let payload = inbound("106", message, Some("Ana"));
        let v = serde_json::to_value(&payload).unwrap();
        let value = &v["entry"][0]["changes"][0]["value"];
        assert_eq!(value["contacts"][0]["wa_id"], "5511988887777");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Ana");
        assert_eq!(value["messages"][0]["type"], "text");
        assert_eq!(value["messages"][0]["text"]["body"], "Olá");
        assert!(value["messages"][0].get("context").is_none());
    }

    #[test]
    fn taps_have_meta_shape() {
        let shape = |content: InboundContent| {
            let context = Some(("15550783881".to_string(), "wamid.OUT".to_string()));
            serde_json::to_value(inbound_message("5511", "wamid.I", &content, context)).unwrap()
        };
        let button = shape(InboundContent::QuickReply {
            payload: "csat:good".into(),
            text: Some("Great".into()),
        });
        assert_eq!(button["type"], "button");
        assert_eq!(
            button["button"],
            json!({"payload": "csat:good", "text": "Great"})
        );
        assert_eq!(
            button["context"],
            json!({"from": "15550783881", "id": "wamid.OUT"})
        );
        let reply = shape(InboundContent::ButtonReply {
            id: "b1".into(),
            title: Some("Yes".into()),
        });
        assert_eq!(
            reply["interactive"],
            json!({"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}})
        );
        let row = shape(InboundContent::ListReply {
            id: "r1".into(),
            title: Some("10".into()),
            description: None,
        });
        assert_eq!(
            row["interactive"],
            json!({"type": "list_reply", "list_reply": {"id": "r1", "title": "10"}})
        );
        assert_eq!(row["type"], "interactive");
    }
}
