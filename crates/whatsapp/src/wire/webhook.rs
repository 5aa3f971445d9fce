//! Webhook notification payloads (reference §4.2–§4.4), modelled leniently: every field is
//! optional, arrays default to empty and unknown fields are ignored, so a new Meta field or
//! message type never makes us drop a delivery. `None`/empty values are skipped when
//! serializing so the mock produces Meta's exact shape.

use serde::{Deserialize, Serialize};

use super::lenient::string_or_number;
use super::ErrorData;

/// The POST body: `{"object":"whatsapp_business_account","entry":[…]}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct WebhookPayload {
    /// `"whatsapp_business_account"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// One entry per WABA; a POST may batch several.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// `entry[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Entry {
    /// The WABA id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The changes in this entry.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// `entry[].changes[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Change {
    /// `"messages"` for statuses and inbound messages; other fields are acknowledged and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The change body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ChangeValue>,
}

/// `changes[].value` of a `messages` change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ChangeValue {
    /// `"whatsapp"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// Which business number this concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The senders of `messages[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<WebhookContact>,
    /// Inbound user messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<InboundMessage>,
    /// Delivery statuses of our messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<Status>,
    /// System or app-level errors not tied to one message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
}

/// `value.metadata`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Metadata {
    /// The business number as digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// Meta's id of the business number: how we find the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
}

/// `value.statuses[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Status {
    /// The wamid from the send response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `sent`, `delivered`, `read`, `failed`, or something newer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Unix seconds as a string.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<String>,
    /// The user's wa_id; may be absent for username (BSUID) users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    /// Present on `failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
    /// Echo of the send's `biz_opaque_callback_data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// Legacy conversation-based pricing object, kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<serde_json::Value>,
    /// Pricing object (PMP or CBP), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<serde_json::Value>,
}

/// An error item inside a webhook (no `type`, no `fbtrace_id`, unlike the sync envelope).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct WebhookError {
    /// Error code, same table as sync errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Short title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Message text (often equal to the title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    /// Link to Meta's error-code page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// `value.contacts[]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct WebhookContact {
    /// The user's WhatsApp id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// The user's profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Business-scoped user id (BSUID), rolling out in 2026.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `contacts[].profile`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Profile {
    /// The user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `value.messages[]`: a message a user sent to the business number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct InboundMessage {
    /// The sender's wa_id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The inbound message's wamid (dedup key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unix seconds as a string.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<String>,
    /// `text`, `button`, `interactive`, `image`, … kept as a string so new types parse.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For `type: text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<InboundText>,
    /// For `type: button` (a template quick-reply tap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<InboundButton>,
    /// For `type: interactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    /// `{from, id}` when replying to one of our messages; `id` is then our wamid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    /// Errors on the inbound message, e.g. an unsupported type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
}

/// `messages[].text`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct InboundText {
    /// The text the user typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// `messages[].button`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct InboundButton {
    /// The payload we put on the quick-reply button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The button label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `messages[].interactive`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Interactive {
    /// `button_reply`, `list_reply`, `nfm_reply`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A reply-button tap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_reply: Option<ReplyRef>,
    /// A list row selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_reply: Option<ListReply>,
}

/// `interactive.button_reply`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ReplyRef {
    /// The id we gave the button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The button title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `interactive.list_reply`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ListReply {
    /// The id we gave the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The row title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The row description, present only if the row had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
