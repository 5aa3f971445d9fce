//! Posting signed webhooks to the service, with Meta-style re-delivery on failure.

use std::time::Duration;

use closeloop_whatsapp::signature;
use closeloop_whatsapp::wire::{WebhookError, WebhookPayload};

use crate::escape::to_meta_json;
use crate::failure::RE_ENGAGEMENT;
use crate::payload::{self, StatusSpec};
use crate::state::{Received, State};

/// First re-delivery delay; each later one doubles (50 ms, 100 ms, 200 ms, …).
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// The status code reported when no HTTP answer arrived (or there is nowhere to post).
pub(crate) const NO_ANSWER: u16 = 0;

impl State {
    /// The app secret for a phone number id; an unknown id signs with the first account's
    /// secret (or an empty key), which the service should then reject.
    fn secret_for(&self, phone_number_id: &str) -> &str {
        self.account(phone_number_id)
            .or(self.config.accounts.first())
            .map_or("", |a| a.app_secret.as_str())
    }

    /// Serializes, signs with that account's secret and delivers with retries.
    pub(crate) async fn deliver(&self, phone_number_id: &str, payload: &WebhookPayload) -> u16 {
        let body = to_meta_json(payload);
        let signature = signature::sign(self.secret_for(phone_number_id).as_bytes(), &body);
        self.post(body, Some(signature), self.config.webhook_retries)
            .await
    }

    /// One status webhook for a message the mock accepted.
    pub(crate) async fn deliver_status(
        &self,
        message: &Received,
        status: &str,
        errors: Vec<WebhookError>,
    ) -> u16 {
        let payload = payload::status(StatusSpec {
            phone_number_id: &message.phone_number_id,
            wamid: &message.wamid,
            status,
            recipient_id: Some(&message.to),
            errors,
            biz_opaque_callback_data: message
                .body
                .get("biz_opaque_callback_data")
                .and_then(|v| v.as_str())
                .map(Into::into),
        });
        self.deliver(&message.phone_number_id, &payload).await
    }

    /// Posts raw bytes to the webhook URL, re-delivering up to `retries` times on a non-200
    /// answer or a connection error. Answers the last HTTP status, or [`NO_ANSWER`].
    pub(crate) async fn post(&self, body: Vec<u8>, signature: Option<String>, retries: u32) -> u16 {
        let Some(url) = self.webhook_url() else {
            tracing::debug!("wamock: no webhook_url set, webhook dropped");
            return NO_ANSWER;
        };
        let mut status = NO_ANSWER;
        for attempt in 0..=retries {
            if attempt > 0 {
                tokio::time::sleep(FIRST_BACKOFF * 2u32.saturating_pow(attempt - 1)).await;
            }
            let mut request = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(signature) = &signature {
                request = request.header("x-hub-signature-256", signature);
            }
            status = match request.send().await {
                Ok(response) => response.status().as_u16(),
                Err(err) => {
                    tracing::debug!("wamock: webhook delivery failed: {err}");
                    NO_ANSWER
                }
            };
            if status == 200 {
                break;
            }
        }
        status
    }
}

/// The automatic `sent` → `delivered` → `read` sequence after an accepted send, spaced by
/// `status_delay`. It stops early if automatic statuses are switched off meanwhile.
pub(crate) async fn auto_statuses(state: std::sync::Arc<State>, message: Received) {
    for status in ["sent", "delivered", "read"] {
        tokio::time::sleep(state.config.status_delay).await;
        if !state.auto_statuses() {
            return;
        }
        state.deliver_status(&message, status, Vec::new()).await;
    }
}

/// The `failed` status that refuses a free-form message sent outside the customer service
/// window, after `status_delay` like any status. It is the send's answer, so it comes whether
/// or not automatic statuses are on.
pub(crate) async fn window_refusal(state: std::sync::Arc<State>, message: Received) {
    tokio::time::sleep(state.config.status_delay).await;
    let (code, title, details) = RE_ENGAGEMENT;
    let error = payload::webhook_error(code, title, details);
    state.deliver_status(&message, "failed", vec![error]).await;
}
