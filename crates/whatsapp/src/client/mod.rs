//! `CloudClient`: one authenticated POST per send, answers mapped to `Accepted` or `SendError`.
//!
//! The client does no retrying and no rate limiting; that policy lives with the caller, fed by
//! [`crate::classify`]. It never logs, so the access token cannot leak through it.

mod answer;
mod error;

use std::time::Duration;

pub use error::SendError;

use crate::wire::{SendRequest, SessionRequest};

/// A body the client can send: a template, or a free-form text or interactive message.
/// Sealed, so only the wire types of this crate reach Meta.
pub trait Outbound: serde::Serialize + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::wire::SendRequest {}
    impl Sealed for crate::wire::SessionRequest {}
}

impl Outbound for SendRequest {}
impl Outbound for SessionRequest {}

/// What Meta said when it accepted a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// `messages[0].id`: the join key for status webhooks.
    pub wamid: String,
    /// `contacts[0].wa_id`, WhatsApp's normalised recipient id.
    pub wa_id: Option<String>,
    /// `accepted`, `held_for_quality_assessment`, …
    pub message_status: Option<String>,
}

/// A thin, cloneable Cloud API client. The base URL is per call so tests can aim at the mock
/// and one process can serve accounts on different API versions.
#[derive(Clone, Debug)]
pub struct CloudClient {
    http: reqwest::Client,
}

impl CloudClient {
    /// Builds a client whose every request (connect + answer) is bounded by `timeout`.
    ///
    /// # Panics
    /// Only if the TLS backend cannot initialise, which is a broken build, not a runtime state.
    pub fn new(timeout: Duration) -> CloudClient {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("reqwest client with rustls must build");
        CloudClient { http }
    }

    /// Sends one message (a template, or a text or interactive message inside the customer
    /// service window): `POST {api_base}/{phone_number_id}/messages` with a Bearer token.
    ///
    /// # Errors
    /// [`SendError::Api`] for any non-2xx answer (with the Graph error envelope parsed when
    /// there is one), [`SendError::Network`] when no answer arrived, and
    /// [`SendError::Malformed`] for a 2xx without `messages[0].id`.
    pub async fn send<R: Outbound>(
        &self,
        api_base: &str,
        phone_number_id: &str,
        access_token: &str,
        request: &R,
    ) -> Result<Accepted, SendError> {
        let url = format!(
            "{}/{}/messages",
            api_base.trim_end_matches('/'),
            phone_number_id
        );
        let response = self
            .http
            .post(url)
            .bearer_auth(access_token)
            .json(request)
            .send()
            .await
            .map_err(|e| SendError::Network(network_reason(&e)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(answer::parse_retry_after);
        let body = response
            .bytes()
            .await
            .map_err(|e| SendError::Network(network_reason(&e)))?;
        answer::interpret(status, &body, retry_after)
    }
}

/// Describes a transport failure. reqwest's message names the URL (which holds only the phone
/// number id) and never the headers, so the token stays out of it.
fn network_reason(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "transport"
    };
    format!("{kind}: {err}")
}
