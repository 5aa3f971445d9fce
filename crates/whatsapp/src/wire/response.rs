//! The 200 answer to a send (reference §1.6).

use serde::{Deserialize, Serialize};

/// `{"messaging_product","contacts":[…],"messages":[{"id":"wamid…"}]}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SendResponse {
    /// `"whatsapp"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// The recipient as sent and as WhatsApp normalised it.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// The accepted message; `messages[0].id` is the wamid.
    #[serde(default)]
    pub messages: Vec<SentMessage>,
}

/// `contacts[]` of a send response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Contact {
    /// `to` exactly as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// WhatsApp's normalised id, which may differ from `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
}

/// `messages[]` of a send response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SentMessage {
    /// The wamid: the only join key with later status webhooks.
    pub id: String,
    /// `accepted`, `held_for_quality_assessment`, or a value we do not know yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
}
