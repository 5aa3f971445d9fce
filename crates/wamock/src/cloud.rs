//! `MockCloud`: starts the mock on an ephemeral port and is the test's remote control.

use std::sync::Arc;
use std::time::{Duration, Instant};

use closeloop_whatsapp::webhook::InboundContent;
use closeloop_whatsapp::wire::InboundMessage;
use tokio::task::JoinHandle;

use crate::api;
use crate::config::MockConfig;
use crate::failure::Failure;
use crate::ids;
use crate::payload;
use crate::state::{Received, State};
use crate::storm::FaultStorm;

/// A message the customer sends to a business number, for [`MockCloud::post_inbound`].
#[derive(Clone, Debug)]
pub struct Inbound {
    /// The customer's digits (`messages[].from`, `contacts[].wa_id`).
    pub from: String,
    /// What they typed or tapped.
    pub content: InboundContent,
    /// The wamid to use; `None` draws a fresh one. Give the same one twice to redeliver.
    pub wamid: Option<String>,
    /// The wamid of our message it answers (`context.id`). `None` on a tap means the last
    /// message the mock accepted for this customer, as WhatsApp ties a tap to its message;
    /// typed text carries no context unless given.
    pub context: Option<String>,
    /// `contacts[].profile.name`; `None` is "Mock User".
    pub profile_name: Option<String>,
}

impl Inbound {
    /// A message from `from` with a fresh wamid, automatic context and the default name.
    pub fn new(from: &str, content: InboundContent) -> Inbound {
        Inbound {
            from: from.into(),
            content,
            wamid: None,
            context: None,
            profile_name: None,
        }
    }
}

/// What [`MockCloud::post_inbound`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// The inbound message's wamid (`messages[].id`).
    pub wamid: String,
    /// The service's last HTTP status after re-deliveries (0: no answer or no webhook URL).
    pub status: u16,
}

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

    /// When each send attempt arrived, accepted or not, in arrival order.
    pub fn attempt_times(&self) -> Vec<Instant> {
        self.state.attempt_times()
    }

    /// Starts a fault storm on every later send, or ends it with `None`.
    pub fn set_fault_storm(&self, storm: Option<FaultStorm>) {
        self.state.set_storm(storm);
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
            Some(message) => {
                let errors = errors
                    .iter()
                    .map(|(code, title)| payload::webhook_error(*code, title, title))
                    .collect();
                self.state.deliver_status(&message, status, errors).await
            }
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
                    errors: errors
                        .iter()
                        .map(|(code, title)| payload::webhook_error(*code, title, title))
                        .collect(),
                    biz_opaque_callback_data: None,
                });
                self.state.deliver(&phone_number_id, &payload).await
            }
        }
    }

    /// Posts a signed inbound text message (with `contacts[]`) from `from_digits`; it opens
    /// the customer service window like [`MockCloud::post_inbound`].
    pub async fn send_inbound_text(
        &self,
        phone_number_id: &str,
        from_digits: &str,
        text: &str,
    ) -> u16 {
        let content = InboundContent::Text { body: text.into() };
        self.post_inbound(phone_number_id, Inbound::new(from_digits, content))
            .await
            .status
    }

    /// Posts a signed inbound message of any kind (text, quick-reply tap, reply button,
    /// list row) from a customer, in Meta's envelope with `contacts[]`, and opens (or
    /// refreshes) that customer's 24-hour window with this number first, as their writing
    /// does at Meta whether or not the webhook gets through.
    pub async fn post_inbound(&self, phone_number_id: &str, inbound: Inbound) -> Posted {
        let wamid = inbound.wamid.unwrap_or_else(ids::wamid);
        let is_tap = !matches!(
            inbound.content,
            InboundContent::Text { .. } | InboundContent::Other { .. }
        );
        let context = inbound
            .context
            .or_else(|| {
                is_tap
                    .then(|| self.state.last_sent_to(phone_number_id, &inbound.from))
                    .flatten()
            })
            .map(|id| (payload::display_number(phone_number_id), id));
        let message = payload::inbound_message(&inbound.from, &wamid, &inbound.content, context);
        let status = self
            .send_inbound(phone_number_id, message, inbound.profile_name.as_deref())
            .await;
        Posted { wamid, status }
    }

    /// Posts any signed inbound message built by hand; `contacts[]` is filled from
    /// `message.from` and `profile_name`. A message with a `from` opens that customer's window.
    pub async fn send_inbound(
        &self,
        phone_number_id: &str,
        message: InboundMessage,
        profile_name: Option<&str>,
    ) -> u16 {
        if let Some(from) = &message.from {
            self.state
                .open_window(phone_number_id, from, Instant::now());
        }
        let payload = payload::inbound(phone_number_id, message, profile_name);
        self.state.deliver(phone_number_id, &payload).await
    }

    /// Opens (or refreshes) a customer's window without posting anything: for tests whose
    /// inbound message reached the service another way.
    pub fn open_window(&self, phone_number_id: &str, user_digits: &str) {
        self.state
            .open_window(phone_number_id, user_digits, Instant::now());
    }

    /// Closes a customer's window now, as 24 hours of silence would; free-form messages to
    /// them are refused with 131047 until they write again.
    pub fn close_window(&self, phone_number_id: &str, user_digits: &str) {
        self.state.close_window(phone_number_id, user_digits);
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
