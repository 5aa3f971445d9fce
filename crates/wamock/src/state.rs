//! The mock's shared, mutable state. One mutex guards it, held only for short synchronous
//! sections (never across an `.await`), so the pair-rate check and the recording of an accepted
//! message happen atomically.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use crate::config::{MockAccount, MockConfig};
use crate::failure::{Failure, Rejection};
use crate::outgoing::Outgoing;
use crate::storm::{Fault, FaultStorm, Storm};

/// A message the mock accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// When the request arrived (before validation), for rate-limit tests.
    pub at: Instant,
    /// The sending business number.
    pub phone_number_id: String,
    /// The wamid the mock answered with.
    pub wamid: String,
    /// The recipient digits.
    pub to: String,
    /// The request body as JSON.
    pub body: serde_json::Value,
    /// The request body parsed: template, text or interactive.
    pub request: Outgoing,
    /// A free-form message sent outside the recipient's customer service window under
    /// [`crate::WindowRefusal::FailedStatus`]: accepted, then failed with 131047; it never
    /// reached the customer.
    pub window_refused: bool,
    /// A fault storm lost the answer to this send: it went out, but the sender got a 504
    /// after waiting and cannot know that.
    pub answer_lost: bool,
}

pub(crate) struct State {
    pub config: MockConfig,
    pub http: reqwest::Client,
    inner: Mutex<Inner>,
    /// Count of accepted messages, so waiters wake on change instead of polling.
    accepted: watch::Sender<usize>,
}

struct Inner {
    webhook_url: Option<String>,
    auto_statuses: bool,
    failures: VecDeque<Failure>,
    received: Vec<Received>,
    attempts: usize,
    /// When each send attempt arrived, accepted or not.
    attempt_times: Vec<Instant>,
    storm: Option<Storm>,
    last_send: HashMap<(String, String), Instant>,
    /// Last inbound message per `(phone_number_id, user)`: the customer service window.
    last_inbound: HashMap<(String, String), Instant>,
}

impl State {
    pub fn new(config: MockConfig) -> State {
        let inner = Inner {
            webhook_url: config.webhook_url.clone(),
            auto_statuses: config.auto_statuses,
            failures: VecDeque::new(),
            received: Vec::new(),
            attempts: 0,
            attempt_times: Vec::new(),
            storm: None,
            last_send: HashMap::new(),
            last_inbound: HashMap::new(),
        };
        State {
            config,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("reqwest client with rustls must build"),
            inner: Mutex::new(inner),
            accepted: watch::channel(0).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not wedge every other test using this mock.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn account(&self, phone_number_id: &str) -> Option<&MockAccount> {
        self.config
            .accounts
            .iter()
            .find(|a| a.phone_number_id == phone_number_id)
    }

    /// Counts a send attempt that arrived at `at` and hands back the injected failure it
    /// must answer, if any.
    pub fn begin_attempt(&self, at: Instant) -> Option<Failure> {
        let mut inner = self.lock();
        inner.attempts += 1;
        inner.attempt_times.push(at);
        inner.failures.pop_front()
    }

    /// Starts (or, with None, ends) a fault storm.
    pub fn set_storm(&self, storm: Option<FaultStorm>) {
        self.lock().storm = storm.map(Storm::new);
    }

    /// The storm's fault for a send to `to`, if a storm is on and it hits.
    pub fn storm_fault(&self, to: &str) -> Option<Fault> {
        self.lock().storm.as_mut().and_then(|s| s.draw(to))
    }

    /// When each send attempt arrived.
    pub fn attempt_times(&self) -> Vec<Instant> {
        self.lock().attempt_times.clone()
    }

    /// Records an accepted message unless the pair rate limit refuses it.
    pub fn accept(&self, message: Received) -> Result<Received, Rejection> {
        let mut inner = self.lock();
        let key = (message.phone_number_id.clone(), message.to.clone());
        if let (Some(gap), Some(last)) = (self.config.pair_rate_limit, inner.last_send.get(&key)) {
            if message.at.saturating_duration_since(*last) < gap {
                return Err(Rejection::new(
                    self.config.throttle_http_status,
                    131056,
                    "(Business Account, Consumer Account) pair rate limit hit",
                    "Message failed to send because there were too many messages sent from this \
                     phone number to the same phone number in a short period of time.",
                ));
            }
        }
        inner.last_send.insert(key, message.at);
        inner.received.push(message.clone());
        let count = inner.received.len();
        drop(inner);
        self.accepted.send_replace(count);
        Ok(message)
    }

    /// Opens (or refreshes) the user's window, as an inbound message does.
    pub fn open_window(&self, phone_number_id: &str, user: &str, at: Instant) {
        self.lock()
            .last_inbound
            .insert((phone_number_id.into(), user.into()), at);
    }

    /// Closes the user's window, as 24 hours without an inbound message would.
    pub fn close_window(&self, phone_number_id: &str, user: &str) {
        self.lock()
            .last_inbound
            .remove(&(phone_number_id.to_string(), user.to_string()));
    }

    /// Whether the user wrote to that number within the service window before `at`.
    pub fn window_open(&self, phone_number_id: &str, user: &str, at: Instant) -> bool {
        self.lock()
            .last_inbound
            .get(&(phone_number_id.to_string(), user.to_string()))
            .is_some_and(|last| at.saturating_duration_since(*last) < self.config.service_window)
    }

    /// The wamid of the last message accepted for that user: what a tap answers when the
    /// test does not say.
    pub fn last_sent_to(&self, phone_number_id: &str, user: &str) -> Option<String> {
        self.lock()
            .received
            .iter()
            .rev()
            .find(|r| r.phone_number_id == phone_number_id && r.to == user)
            .map(|r| r.wamid.clone())
    }

    pub fn push_failure(&self, failure: Failure) {
        self.lock().failures.push_back(failure);
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    pub fn find(&self, wamid: &str) -> Option<Received> {
        self.lock()
            .received
            .iter()
            .find(|r| r.wamid == wamid)
            .cloned()
    }

    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    pub fn webhook_url(&self) -> Option<String> {
        self.lock().webhook_url.clone()
    }

    pub fn set_webhook_url(&self, url: &str) {
        self.lock().webhook_url = Some(url.to_string());
    }

    pub fn auto_statuses(&self) -> bool {
        self.lock().auto_statuses
    }

    pub fn set_auto_statuses(&self, on: bool) {
        self.lock().auto_statuses = on;
    }

    pub fn watch_accepted(&self) -> watch::Receiver<usize> {
        self.accepted.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn message(to: &str, at: Instant) -> Received {
        let request = closeloop_whatsapp::wire::SessionRequest::text(to, "hi").unwrap();
        Received {
            at,
            phone_number_id: "1".into(),
            wamid: crate::ids::wamid(),
            to: to.into(),
            body: serde_json::Value::Null,
            request: Outgoing::Session(request),
            window_refused: false,
            answer_lost: false,
        }
    }

    #[test]
    fn pair_rate_counts_only_accepted_sends_per_recipient() {
        let state = State::new(MockConfig {
            pair_rate_limit: Some(Duration::from_secs(6)),
            throttle_http_status: 400,
            ..MockConfig::default()
        });
        let t0 = Instant::now();
        assert!(state.accept(message("111", t0)).is_ok());
        let refused = state
            .accept(message("111", t0 + Duration::from_secs(5)))
            .unwrap_err();
        assert_eq!((refused.http_status, refused.code()), (400, Some(131056)));
        assert!(state
            .accept(message("222", t0 + Duration::from_secs(1)))
            .is_ok());
        // The refusal did not push the window: 6 s after the first accepted send is fine.
        assert!(state
            .accept(message("111", t0 + Duration::from_secs(6)))
            .is_ok());
        assert_eq!(state.received().len(), 3);
    }

    #[test]
    fn window_opens_expires_and_closes_per_number_and_user() {
        let state = State::new(MockConfig {
            service_window: Duration::from_secs(60),
            ..MockConfig::default()
        });
        let t0 = Instant::now();
        assert!(!state.window_open("1", "111", t0));
        state.open_window("1", "111", t0);
        assert!(state.window_open("1", "111", t0 + Duration::from_secs(59)));
        assert!(!state.window_open("1", "111", t0 + Duration::from_secs(60)));
        assert!(!state.window_open("2", "111", t0));
        assert!(!state.window_open("1", "222", t0));
        state.close_window("1", "111");
        assert!(!state.window_open("1", "111", t0));
    }
}
