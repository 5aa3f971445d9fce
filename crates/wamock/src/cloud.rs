//! `MockCloud`: starts the mock on an ephemeral port and is the test's remote control.

use std::sync::Arc;
use std::time::Duration;

use closeloop_whatsapp::wire::InboundMessage;
use tokio::task::JoinHandle;

use crate::api;
use crate::config::MockConfig;
use crate::failure::Failure;
use crate::payload;
use crate::state::{Received, State};

/// A running stand-in for Meta's Cloud API on `127.0.0.1`. Dropping it stops the server.
pub struct MockCloud {
    state: Arc<State>,
    addr: std::net::SocketAddr,
    server: JoinHandle<()>,
}

impl MockCloud {
    /// Binds `127.0.0.1:0` and serves in a background task of the current runtime.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(config: MockConfig) -> MockCloud {
        let state = Arc::new(State::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the Cloud API mock");
        let addr = listener.local_addr().expect("local address of the mock");
        let app = api::router(state.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!("wamock server stopped: {err}");
            }
        });
        MockCloud {
            state,
            addr,
            server,
        }
    }

    /// Base URL including a version segment, e.g. `http://127.0.0.1:PORT/v21.0`.
    pub fn api_base(&self) -> String {
        format!("http://{}/v21.0", self.addr)
    }

    /// Where later webhooks go.
    pub fn set_webhook_url(&self, url: &str) {
        self.state.set_webhook_url(url);
    }

    /// Switches the automatic `sent`/`delivered`/`read` webhooks on or off.
    pub fn set_auto_statuses(&self, on: bool) {
        self.state.set_auto_statuses(on);
    }

    /// Queues an answer for the next send attempt (any account); each is used once, FIFO.
    pub fn fail_next(&self, failure: Failure) {
        self.state.push_failure(failure);
    }

    /// Every accepted message, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.received()
    }

    /// Every send attempt, accepted or not (requests to unknown paths excluded).
    pub fn attempts(&self) -> usize {
        self.state.attempts()
    }

    /// Waits until at least `n` messages were accepted or `timeout` passes, then answers what
    /// has been accepted so far.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let mut accepted = self.state.watch_accepted();
        // A timeout is not an error here: the caller asserts on what came back.
        let _ = tokio::time::timeout(timeout, accepted.wait_for(|count| *count >= n)).await;
        self.received()
    }

    /// Posts a signed status webhook for an accepted message. `errors` are `(code, title)`
    /// (give them with `"failed"`). For a wamid the mock never issued, the first account signs
    /// and `recipient_id` is left out. Answers the service's last HTTP status (0: no answer
    /// or no webhook URL), after the configured re-deliveries.
    pub async fn send_status(&self, wamid: &str, status: &str, errors: Vec<(i64, String)>) -> u16 {
        match self.state.find(wamid) {
            Some(message) => self.state.deliver_status(&message, status, &errors).await,
            None => {
                let phone_number_id = self
                    .state
                    .config
                    .accounts
                    .first()
                    .map(|a| a.phone_number_id.clone())
                    .unwrap_or_default();
                let payload = payload::status(payload::StatusSpec {
                    phone_number_id: &phone_number_id,
                    wamid,
                    status,
                    recipient_id: None,
                    errors: &errors,
                    biz_opaque_callback_data: None,
                });
                self.state.deliver(&phone_number_id, &payload).await
            }
        }
    }

    /// Posts a signed inbound text message (with `contacts[]`) from `from_digits`.
    pub async fn send_inbound_text(
        &self,
        phone_number_id: &str,
        from_digits: &str,
        text: &str,
    ) -> u16 {
        self.send_inbound(
            phone_number_id,
            payload::text_message(from_digits, text),
            None,
        )
        .await
    }

    /// Posts any signed inbound message (button tap, interactive reply, …); `contacts[]` is
    /// filled from `message.from` and `profile_name`.
    pub async fn send_inbound(
        &self,
        phone_number_id: &str,
        message: InboundMessage,
        profile_name: Option<&str>,
    ) -> u16 {
        let payload = payload::inbound(phone_number_id, message, profile_name);
        self.state.deliver(phone_number_id, &payload).await
    }

    /// Posts raw bytes with the given `X-Hub-Signature-256` (or none), once, without
    /// re-delivery: for forged-signature tests.
    pub async fn post_webhook(&self, body: Vec<u8>, signature: Option<String>) -> u16 {
        self.state.post(body, signature, 0).await
    }

    /// The app-secret signature the mock would put on `body` for that account.
    pub fn sign_for(&self, phone_number_id: &str, body: &[u8]) -> Option<String> {
        let account = self.state.account(phone_number_id)?;
        Some(closeloop_whatsapp::signature::sign(
            account.app_secret.as_bytes(),
            body,
        ))
    }
}

impl Drop for MockCloud {
    fn drop(&mut self) {
        self.server.abort();
    }
}
