//! Serde types for everything that crosses the wire with the Cloud API.
//!
//! Outbound types (`SendRequest` and friends) serialize to exactly the SPEC §6 shape. Inbound
//! types (responses, errors, webhooks) tolerate missing and unknown fields. All of them derive
//! both `Serialize` and `Deserialize` because the local mock builds the inbound ones.

mod error;
mod lenient;
mod request;
mod response;
mod webhook;

pub use error::{ErrorData, GraphError, GraphErrorEnvelope};
pub use request::{
    Component, HeaderMedia, MediaLink, Parameter, SendRequest, Template, TemplateLanguage,
};
pub use response::{Contact, SendResponse, SentMessage};
pub use webhook::{
    Change, ChangeValue, Entry, InboundButton, InboundMessage, InboundText, Interactive, ListReply,
    Metadata, Profile, ReplyRef, Status, WebhookContact, WebhookError, WebhookPayload,
};

#[cfg(test)]
mod tests;
