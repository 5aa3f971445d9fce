//! Meta's size limits on what we send (reference §1.3–§1.5), checked before sending so the
//! caller can fall back (e.g. to the survey link) instead of earning a refusal. The mock applies
//! the same checks to whatever body it receives, so both sides read one table.

use std::collections::HashSet;

use super::session::{InteractiveAction, InteractiveMessage, SessionContent};

/// `text.body` of a free-form text message (reference §1.4).
pub const TEXT_BODY_MAX: usize = 4096;
/// `interactive.body.text`. Not in the reference; Meta's interactive-message pages give 1024.
pub const INTERACTIVE_BODY_MAX: usize = 1024;
/// `interactive.header.text` and `interactive.footer.text` (reference §1.5).
pub const HEADER_FOOTER_MAX: usize = 60;
/// Reply buttons per message (reference §1.5).
pub const REPLY_BUTTONS_MAX: usize = 3;
/// A reply button's `title` (reference §1.5).
pub const REPLY_TITLE_MAX: usize = 20;
/// A reply button's `id` (reference §1.5).
pub const REPLY_ID_MAX: usize = 256;
/// `action.button`, the label that opens a list (reference §1.5).
pub const LIST_BUTTON_MAX: usize = 20;
/// Sections of a list, and rows across all of them (reference §1.5).
pub const LIST_SECTIONS_MAX: usize = 10;
/// Rows across all sections of a list (reference §1.5).
pub const LIST_ROWS_MAX: usize = 10;
/// A list row's or section's `title` (reference §1.5).
pub const ROW_TITLE_MAX: usize = 24;
/// A list row's `description` (reference §1.5).
pub const ROW_DESCRIPTION_MAX: usize = 72;
/// A list row's `id`. Not in the reference; Meta's row object gives 200.
pub const ROW_ID_MAX: usize = 200;
/// A template quick-reply `payload`. Neither the reference nor Meta's pages state a limit; we
/// hold payloads to the reply-button id limit so one opaque token fits both kinds of tap.
pub const QUICK_REPLY_PAYLOAD_MAX: usize = 256;
/// Buttons a template can have, so the highest button index is one less (reference §5.3).
pub const TEMPLATE_BUTTONS_MAX: usize = 10;

/// Why a message would break one of Meta's limits. `field` is the JSON path in the request.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// A required text is empty or blank.
    #[error("{field}: must not be empty")]
    Empty {
        /// Path of the field.
        field: String,
    },
    /// A text is longer than Meta allows (counted in characters).
    #[error("{field}: {len} characters, at most {max} allowed")]
    TooLong {
        /// Path of the field.
        field: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A list has too few or too many items.
    #[error("{field}: {count} items, {min} to {max} allowed")]
    Count {
        /// Path of the list.
        field: String,
        /// How many it has.
        count: usize,
        /// Fewest allowed.
        min: usize,
        /// Most allowed.
        max: usize,
    },
    /// Two items share a value that must be unique within the message.
    #[error("{field}: {value:?} appears more than once")]
    Duplicate {
        /// Path of the repeated field.
        field: String,
        /// The repeated value.
        value: String,
    },
}

impl LimitError {
    /// The JSON path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            LimitError::Empty { field }
            | LimitError::TooLong { field, .. }
            | LimitError::Count { field, .. }
            | LimitError::Duplicate { field, .. } => field,
        }
    }
}

/// A required text of at most `max` characters.
fn text(field: impl Into<String>, value: &str, max: usize) -> Result<(), LimitError> {
    let field = field.into();
    if value.trim().is_empty() {
        return Err(LimitError::Empty { field });
    }
    let len = value.chars().count();
    if len > max {
        return Err(LimitError::TooLong { field, len, max });
    }
    Ok(())
}

fn count(field: &str, count: usize, min: usize, max: usize) -> Result<(), LimitError> {
    if (min..=max).contains(&count) {
        return Ok(());
    }
    Err(LimitError::Count {
        field: field.into(),
        count,
        min,
        max,
    })
}

/// Remembers values that must be unique and refuses the second occurrence.
fn unique<'a>(
    seen: &mut HashSet<&'a str>,
    field: String,
    value: &'a str,
) -> Result<(), LimitError> {
    if seen.insert(value) {
        return Ok(());
    }
    Err(LimitError::Duplicate {
        field,
        value: value.into(),
    })
}

/// Checks a quick-reply payload for a template button.
///
/// # Errors
/// An empty payload, or one longer than [`QUICK_REPLY_PAYLOAD_MAX`].
pub fn check_quick_reply_payload(field: &str, payload: &str) -> Result<(), LimitError> {
    text(field, payload, QUICK_REPLY_PAYLOAD_MAX)
}

/// Checks a free-form message (text or interactive) against every limit above.
///
/// # Errors
/// The first field that breaks a limit, in document order.
pub fn check_session(content: &SessionContent) -> Result<(), LimitError> {
    match content {
        SessionContent::Text { text: body } => text("text.body", &body.body, TEXT_BODY_MAX),
        SessionContent::Interactive { interactive } => check_interactive(interactive),
    }
}

fn check_interactive(message: &InteractiveMessage) -> Result<(), LimitError> {
    if let Some(header) = &message.header {
        text("interactive.header.text", header.text(), HEADER_FOOTER_MAX)?;
    }
    text(
        "interactive.body.text",
        &message.body.text,
        INTERACTIVE_BODY_MAX,
    )?;
    if let Some(footer) = &message.footer {
        text("interactive.footer.text", &footer.text, HEADER_FOOTER_MAX)?;
    }
    match &message.action {
        InteractiveAction::Button { action } => {
            count(
                "interactive.action.buttons",
                action.buttons.len(),
                1,
                REPLY_BUTTONS_MAX,
            )?;
            let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
            for (i, button) in action.buttons.iter().enumerate() {
                let reply = button.reply();
                let at = format!("interactive.action.buttons[{i}].reply");
                text(format!("{at}.id"), &reply.id, REPLY_ID_MAX)?;
                text(format!("{at}.title"), &reply.title, REPLY_TITLE_MAX)?;
                unique(&mut ids, format!("{at}.id"), &reply.id)?;
                unique(&mut titles, format!("{at}.title"), &reply.title)?;
            }
            Ok(())
        }
        InteractiveAction::List { action } => {
            text("interactive.action.button", &action.button, LIST_BUTTON_MAX)?;
            count(
                "interactive.action.sections",
                action.sections.len(),
                1,
                LIST_SECTIONS_MAX,
            )?;
            let rows = action.sections.iter().map(|s| s.rows.len()).sum();
            count("interactive.action.sections[].rows", rows, 1, LIST_ROWS_MAX)?;
            let several = action.sections.len() > 1;
            let mut ids = HashSet::new();
            for (s, section) in action.sections.iter().enumerate() {
                let at = format!("interactive.action.sections[{s}]");
                match &section.title {
                    Some(title) => text(format!("{at}.title"), title, ROW_TITLE_MAX)?,
                    // Meta needs a title to tell sections apart, and only then.
                    None if several => {
                        return Err(LimitError::Empty {
                            field: format!("{at}.title"),
                        })
                    }
                    None => {}
                }
                for (r, row) in section.rows.iter().enumerate() {
                    let at = format!("{at}.rows[{r}]");
                    text(format!("{at}.id"), &row.id, ROW_ID_MAX)?;
                    text(format!("{at}.title"), &row.title, ROW_TITLE_MAX)?;
                    if let Some(description) = &row.description {
                        text(
                            format!("{at}.description"),
                            description,
                            ROW_DESCRIPTION_MAX,
                        )?;
                    }
                    unique(&mut ids, format!("{at}.id"), &row.id)?;
                }
            }
            Ok(())
        }
    }
}
