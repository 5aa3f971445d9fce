//! Serde types for everything that crosses the wire with the Cloud API.
//!
//! Outbound types (`SendRequest` for templates, `SessionRequest` for free-form text and
//! interactive messages) serialize to exactly the shapes of reference §1.3–§1.5, and their
//! constructors refuse what breaks Meta's `limits`. Inbound
//! types (responses, errors, webhooks) tolerate missing and unknown fields. All of them derive
//! both `Serialize` and `Deserialize` because the local mock builds the inbound ones.

mod error;
mod lenient;
pub mod limits;
mod request;
mod response;
mod session;
mod webhook;

pub use error::{ErrorData, GraphError, GraphErrorEnvelope};
pub use limits::LimitError;
pub use request::{
    Component, HeaderKind, HeaderMedia, MediaLink, Parameter, SendRequest, Template,
    TemplateLanguage,
};
pub use response::{Contact, SendResponse, SentMessage};
pub use session::{
    BodyText, ButtonAction, FooterText, InteractiveAction, InteractiveHeader, InteractiveMessage,
    ListAction, ListRow, ListSection, ReplyButton, ReplyOption, SessionContent, SessionRequest,
    TextBody,
};
pub use webhook::{
    Change, ChangeValue, Entry, InboundButton, InboundMessage, InboundText, Interactive, ListReply,
    Metadata, Profile, ReplyRef, Status, WebhookContact, WebhookError, WebhookPayload,
};

#[cfg(test)]
mod tests;
