//! A message the mock accepted, parsed, so tests read what the customer would see (quick-reply
//! payloads, interactive ids and titles) without digging through JSON.

use closeloop_whatsapp::wire::{
    InteractiveAction, Parameter, SendRequest, SessionContent, SessionRequest,
};

/// The parsed body of an accepted send.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// A template message.
    Template(SendRequest),
    /// A free-form text or interactive message.
    Session(SessionRequest),
}

impl Outgoing {
    /// The recipient digits.
    pub fn to(&self) -> &str {
        match self {
            Outgoing::Template(request) => &request.to,
            Outgoing::Session(request) => &request.to,
        }
    }

    /// `(button index, payload)` of each quick-reply component of a template, in request order.
    pub fn quick_replies(&self) -> Vec<(String, String)> {
        let Outgoing::Template(request) = self else {
            return Vec::new();
        };
        request
            .template
            .components
            .iter()
            .filter(|c| c.kind == "button" && c.sub_type.as_deref() == Some("quick_reply"))
            .flat_map(|c| {
                c.parameters.iter().filter_map(|p| match p {
                    Parameter::Payload { payload } => {
                        Some((c.index.clone().unwrap_or_default(), payload.clone()))
                    }
                    _ => None,
                })
            })
            .collect()
    }

    /// `(id, title)` of each reply button or list row of an interactive message, in order.
    pub fn options(&self) -> Vec<(String, String)> {
        let Outgoing::Session(SessionRequest {
            content: SessionContent::Interactive { interactive },
            ..
        }) = self
        else {
            return Vec::new();
        };
        match &interactive.action {
            InteractiveAction::Button { action } => action
                .buttons
                .iter()
                .map(|b| (b.reply().id.clone(), b.reply().title.clone()))
                .collect(),
            InteractiveAction::List { action } => action
                .sections
                .iter()
                .flat_map(|s| s.rows.iter())
                .map(|r| (r.id.clone(), r.title.clone()))
                .collect(),
        }
    }

    /// The text the customer reads first: a text message's body or an interactive body;
    /// `None` for templates, whose text lives at Meta.
    pub fn text(&self) -> Option<&str> {
        match self {
            Outgoing::Template(_) => None,
            Outgoing::Session(request) => Some(match &request.content {
                SessionContent::Text { text } => &text.body,
                SessionContent::Interactive { interactive } => &interactive.body.text,
            }),
        }
    }
}
