//! Builders for webhook bodies in Meta's exact shape (reference §4.2–§4.4).

use std::time::{SystemTime, UNIX_EPOCH};

use closeloop_whatsapp::wire::{
    Change, ChangeValue, Entry, ErrorData, InboundMessage, InboundText, Metadata, Profile, Status,
    WebhookContact, WebhookError, WebhookPayload,
};
use serde_json::json;

use crate::ids;

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

/// A display number for a phone number id: the mock has no real numbers, so it derives a
/// stable, digits-only one.
fn display_number(phone_number_id: &str) -> String {
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
    pub errors: &'a [(i64, String)],
    pub biz_opaque_callback_data: Option<String>,
}

/// A `statuses[]` webhook for one message.
pub(crate) fn status(spec: StatusSpec<'_>) -> WebhookPayload {
    let errors: Vec<WebhookError> = spec
        .errors
        .iter()
        .map(|(code, title)| WebhookError {
            code: Some(*code),
            title: Some(title.clone()),
            message: Some(title.clone()),
            error_data: Some(ErrorData {
                messaging_product: None,
                details: Some(title.clone()),
            }),
        })
        .collect();
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

/// An inbound text message from `from_digits`.
pub(crate) fn text_message(from_digits: &str, text: &str) -> InboundMessage {
    InboundMessage {
        from: Some(from_digits.into()),
        id: Some(ids::wamid()),
        timestamp: Some(now_timestamp()),
        kind: Some("text".into()),
        text: Some(InboundText {
            body: Some(text.into()),
        }),
        ..InboundMessage::default()
    }
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
            errors: &[(131026, "Message undeliverable".into())],
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
        assert_eq!(s["biz_opaque_callback_data"], "case=1");
        assert!(s["timestamp"].is_string());
        assert!(s.get("pricing").is_none());
        assert!(change["value"].get("messages").is_none());
    }

    #[test]
    fn inbound_has_contact() {
        let payload = inbound("106", text_message("5511988887777", "Olá"), Some("Ana"));
        let v = serde_json::to_value(&payload).unwrap();
        let value = &v["entry"][0]["changes"][0]["value"];
        assert_eq!(value["contacts"][0]["wa_id"], "5511988887777");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Ana");
        assert_eq!(value["messages"][0]["type"], "text");
        assert_eq!(value["messages"][0]["text"]["body"], "Olá");
    }
}
