//! The `sandbox` provider (SPEC §6): sends nothing over the network. It accepts every
//! message, keeps what the customer would have seen, and reports sent → delivered → read
//! after short delays through the same status path as Meta's webhooks.

use std::sync::Mutex;
use std::time::Duration;

use closeloop_whatsapp::client::Accepted;
use closeloop_whatsapp::webhook::DeliveryStatus;
use closeloop_whatsapp::wire::SendRequest;
use serde::Serialize;

use crate::app::AppState;
use crate::clock::rfc3339;
use crate::ids::new_id;
use crate::status::apply_delivery_status;

/// One message the sandbox "sent".
#[derive(Clone, Debug, Serialize)]
pub struct SandboxMessage {
    /// The wamid it was given.
    pub provider_message_id: String,
    /// Sender account id.
    pub account: String,
    /// Recipient digits.
    pub to: String,
    /// Template name.
    pub template: String,
    /// Template language code.
    pub language: String,
    /// The text as the customer reads it.
    pub text: String,
    /// When, RFC 3339.
    pub sent_at: String,
}

/// The sandbox's record of sent messages (kept in memory, newest last).
#[derive(Default)]
pub struct Sandbox {
    sent: Mutex<Vec<SandboxMessage>>,
}

/// How long the sandbox waits before each status, in clock time.
const STATUS_STEPS: [(DeliveryStatus, Duration); 3] = [
    (DeliveryStatus::Sent, Duration::from_millis(50)),
    (DeliveryStatus::Delivered, Duration::from_millis(150)),
    (DeliveryStatus::Read, Duration::from_millis(400)),
];

impl Sandbox {
    /// Every message sent so far.
    pub fn messages(&self) -> Vec<SandboxMessage> {
        self.sent.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// "Sends" a message: records it and schedules its statuses.
    pub fn send(state: &AppState, account: &str, request: &SendRequest, text: String) -> Accepted {
        let wamid = format!("wamid.sandbox.{}", new_id("m"));
        let record = SandboxMessage {
            provider_message_id: wamid.clone(),
            account: account.to_string(),
            to: request.to.clone(),
            template: request.template.name.clone(),
            language: request.template.language.code.clone(),
            text,
            sent_at: rfc3339(state.clock.now_ms()),
        };
        if let Ok(mut sent) = state.sandbox.sent.lock() {
            sent.push(record);
        }
        let state = state.clone();
        let id = wamid.clone();
        tokio::spawn(async move {
            for (status, delay) in STATUS_STEPS {
                tokio::time::sleep(state.clock.real_duration(delay)).await;
                if let Err(e) = apply_delivery_status(&state, &id, &status, &[]).await {
                    tracing::warn!(error = %e, "sandbox status not applied");
                }
            }
        });
        Accepted {
            wamid,
            wa_id: Some(request.to.clone()),
            message_status: Some("accepted".into()),
        }
    }
}
