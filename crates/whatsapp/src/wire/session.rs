//! Free-form messages: `text` and `interactive` reply buttons or lists (reference §1.4–§1.5).
//! Meta delivers them only inside the 24-hour customer service window, so they answer a
//! customer who just wrote to us; outside it only templates go out.
//!
//! The constructors check Meta's limits ([`super::limits`]) and refuse instead of building a
//! message Meta would reject. The fields stay public because the mock deserializes whatever a
//! client sent and checks it with the same table.

use serde::{Deserialize, Serialize};

use super::limits::{check_session, LimitError};

/// Body of `POST {api_base}/{phone_number_id}/messages` for a text or interactive message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SessionRequest {
    /// Always `"whatsapp"`.
    pub messaging_product: String,
    /// Always `"individual"`; optional on the wire, where Meta's own examples leave it out.
    #[serde(default = "individual")]
    pub recipient_type: String,
    /// Recipient phone number as E.164 digits without `+`.
    pub to: String,
    /// `type` plus its object.
    #[serde(flatten)]
    pub content: SessionContent,
    /// Opaque data (≤ 512 bytes) Meta echoes in this message's status webhooks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub biz_opaque_callback_data: Option<String>,
}

fn individual() -> String {
    "individual".into()
}

/// What a free-form message carries, tagged by the request's `type`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionContent {
    /// `{"type":"text","text":{…}}`.
    Text {
        /// The text.
        text: TextBody,
    },
    /// `{"type":"interactive","interactive":{…}}`.
    Interactive {
        /// The buttons or list.
        interactive: InteractiveMessage,
    },
}

/// `text` of a text message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TextBody {
    /// Up to 4096 characters.
    pub body: String,
    /// Whether WhatsApp renders a preview of the first URL; we send `false` so a survey link
    /// does not turn into a large card.
    #[serde(default)]
    pub preview_url: bool,
}

/// `interactive`: header, body and footer common to both kinds, and the kind's action.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InteractiveMessage {
    /// `type` (`button` or `list`) with its `action`.
    #[serde(flatten)]
    pub action: InteractiveAction,
    /// Optional header above the body.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header: Option<InteractiveHeader>,
    /// The question.
    pub body: BodyText,
    /// Optional small print below the body.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub footer: Option<FooterText>,
}

/// The interactive kinds we send, tagged by `interactive.type`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveAction {
    /// Up to three reply buttons.
    Button {
        /// `{"buttons":[…]}`.
        action: ButtonAction,
    },
    /// A list of up to ten rows behind a button.
    List {
        /// `{"button":…, "sections":[…]}`.
        action: ListAction,
    },
}

/// `interactive.header`. Only text headers: media headers need an upload we never do.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveHeader {
    /// `{"type":"text","text":…}`, up to 60 characters.
    Text {
        /// The header text.
        text: String,
    },
}

impl InteractiveHeader {
    /// The header's text.
    pub fn text(&self) -> &str {
        match self {
            InteractiveHeader::Text { text } => text,
        }
    }
}

/// `interactive.body`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BodyText {
    /// Up to 1024 characters.
    pub text: String,
}

/// `interactive.footer`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FooterText {
    /// Up to 60 characters.
    pub text: String,
}

/// `interactive.action` of a button message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ButtonAction {
    /// One to three buttons.
    pub buttons: Vec<ReplyButton>,
}

/// One reply button: `{"type":"reply","reply":{"id","title"}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyButton {
    /// The only kind of button a button message has.
    Reply {
        /// Its id and label.
        reply: ReplyOption,
    },
}

impl ReplyButton {
    /// The button's id and title.
    pub fn reply(&self) -> &ReplyOption {
        match self {
            ReplyButton::Reply { reply } => reply,
        }
    }
}

/// A choice: `id` comes back in the `button_reply` webhook, `title` is what the user sees.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReplyOption {
    /// Our opaque id (≤ 256 characters), unique within the message.
    pub id: String,
    /// The label (≤ 20 characters), unique within the message.
    pub title: String,
}

/// `interactive.action` of a list message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ListAction {
    /// The label of the button that opens the list (≤ 20 characters).
    pub button: String,
    /// One to ten sections, with at most ten rows across all of them.
    pub sections: Vec<ListSection>,
}

/// A section of a list; its title is required only when there are several sections.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ListSection {
    /// The section heading (≤ 24 characters).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// Its rows.
    pub rows: Vec<ListRow>,
}

/// One selectable row: `id` comes back in the `list_reply` webhook.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    /// Our opaque id (≤ 200 characters), unique within the list.
    pub id: String,
    /// The row title (≤ 24 characters).
    pub title: String,
    /// Smaller text under the title (≤ 72 characters).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
}

impl SessionRequest {
    fn checked(to_digits: &str, content: SessionContent) -> Result<SessionRequest, LimitError> {
        check_session(&content)?;
        Ok(SessionRequest {
            messaging_product: "whatsapp".into(),
            recipient_type: "individual".into(),
            to: to_digits.into(),
            content,
            biz_opaque_callback_data: None,
        })
    }

    /// A plain text message without a link preview.
    ///
    /// # Errors
    /// An empty body, or one over 4096 characters.
    pub fn text(to_digits: &str, body: &str) -> Result<SessionRequest, LimitError> {
        let text = TextBody {
            body: body.into(),
            preview_url: false,
        };
        SessionRequest::checked(to_digits, SessionContent::Text { text })
    }

    /// A question with one to three reply buttons.
    ///
    /// # Errors
    /// A body, id or title that breaks Meta's limits, more than three buttons, or a repeated
    /// id or title.
    pub fn buttons(
        to_digits: &str,
        body: &str,
        options: Vec<ReplyOption>,
    ) -> Result<SessionRequest, LimitError> {
        let buttons = options
            .into_iter()
            .map(|reply| ReplyButton::Reply { reply })
            .collect();
        SessionRequest::interactive(
            to_digits,
            body,
            InteractiveAction::Button {
                action: ButtonAction { buttons },
            },
        )
    }

    /// A question answered by picking a row of a list opened by `button_label`.
    ///
    /// # Errors
    /// A label, body or row that breaks Meta's limits, more than ten rows in total, a
    /// section without a title among several, or a repeated row id.
    pub fn list(
        to_digits: &str,
        body: &str,
        button_label: &str,
        sections: Vec<ListSection>,
    ) -> Result<SessionRequest, LimitError> {
        SessionRequest::interactive(
            to_digits,
            body,
            InteractiveAction::List {
                action: ListAction {
                    button: button_label.into(),
                    sections,
                },
            },
        )
    }

    fn interactive(
        to_digits: &str,
        body: &str,
        action: InteractiveAction,
    ) -> Result<SessionRequest, LimitError> {
        let interactive = InteractiveMessage {
            action,
            header: None,
            body: BodyText { text: body.into() },
            footer: None,
        };
        SessionRequest::checked(to_digits, SessionContent::Interactive { interactive })
    }

    /// Adds a text header and/or footer to an interactive message (a text message has
    /// neither, so they are ignored there).
    ///
    /// # Errors
    /// A header or footer that is blank or over 60 characters.
    pub fn with_header_footer(
        mut self,
        header: Option<&str>,
        footer: Option<&str>,
    ) -> Result<SessionRequest, LimitError> {
        if let SessionContent::Interactive { interactive } = &mut self.content {
            interactive.header = header.map(|text| InteractiveHeader::Text { text: text.into() });
            interactive.footer = footer.map(|text| FooterText { text: text.into() });
        }
        check_session(&self.content)?;
        Ok(self)
    }
}
