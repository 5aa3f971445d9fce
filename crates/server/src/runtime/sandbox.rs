//! The `sandbox` provider's record of what it "sent" (SPEC §6), kept in memory, newest
//! last: the dispatcher writes it, `GET /api/v1/sandbox/messages` reads it.

use std::sync::Mutex;

use serde::Serialize;

/// One message the sandbox "sent".
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SandboxMessage {
    /// The wamid it was given.
    pub(crate) provider_message_id: String,
    /// Sender account id.
    pub(crate) account: String,
    /// Recipient digits.
    pub(crate) to: String,
    /// Template name; none for a free-form message (an in-chat question).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) template: Option<String>,
    /// Template language code; none for a free-form message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) language: Option<String>,
    /// The text as the customer reads it.
    pub(crate) text: String,
    /// When, RFC 3339.
    pub(crate) sent_at: String,
}

/// Every message the sandbox sent in this process.
#[derive(Default)]
pub(crate) struct SandboxLog {
    sent: Mutex<Vec<SandboxMessage>>,
}

impl SandboxLog {
    /// Every message sent so far.
    pub(crate) fn messages(&self) -> Vec<SandboxMessage> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Adds a message.
    pub(crate) fn record(&self, message: SandboxMessage) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(message);
        }
    }
}
