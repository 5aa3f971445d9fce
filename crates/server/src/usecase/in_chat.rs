//! The survey continued in the chat (`in_chat: true`, SPEC §4.16). A reply the customer
//! just sent opened WhatsApp's 24-hour customer service window, so the next unanswered
//! question goes as a free-form message in the invite's language: reply buttons, a list, a
//! text prompt (whose next inbound text is the answer), or the survey link for what the
//! chat cannot ask. Buttons and rows carry signed ids (`quick_reply`), checked like the
//! template's quick replies when they come back.

use closeloop_domain::chat::{self, ChatOption, Form, Step};
use closeloop_domain::config::MessageKind;
use closeloop_domain::language::Language;
use closeloop_domain::page_text::{PageText, PageTexts};
use closeloop_domain::phone::E164;
use closeloop_domain::status::ResponseStatus;
use closeloop_store::{InviteRow, NewMessage, StoreError};
use closeloop_whatsapp::wire::{ListRow, ListSection, ReplyOption, SessionRequest};

use crate::runtime::ids::new_id;
use crate::usecase::quick_reply::{self, Tap, Target};
use crate::usecase::snapshot::InviteSettings;
use crate::usecase::Context;

/// A question ready to go out.
struct Asked {
    request: SessionRequest,
    /// What the customer reads, for the sandbox and the case's messages.
    text: String,
    /// The question whose answer is the next inbound text, for a text prompt.
    awaiting: Option<String>,
}

/// Asks the next unanswered question of an invite whose survey continues in the chat,
/// right after the customer's reply was recorded; does nothing for other invites. A
/// completed response asks nothing more (the thank-you rules take over).
///
/// # Errors
/// On database failure.
pub(crate) async fn ask_next(ctx: &Context, invite_id: &str) -> Result<(), StoreError> {
    let Some(invite) = ctx.store.get_invite(invite_id).await? else {
        return Ok(());
    };
    let in_chat =
        serde_json::from_value::<InviteSettings>(invite.settings.clone()).is_ok_and(|s| s.in_chat);
    if !in_chat {
        return Ok(());
    }
    let asked = if invite.response_status == ResponseStatus::Completed {
        None
    } else {
        next_message(ctx, &invite)
    };
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    let awaiting = asked.as_ref().and_then(|a| a.awaiting.as_deref());
    tx.set_chat_awaiting(&invite.id, awaiting, now).await?;
    if let (Some(asked), Some(recipient)) = (&asked, &invite.recipient) {
        tx.insert_message(&NewMessage {
            id: new_id("msg"),
            invite_id: invite.id.clone(),
            kind: MessageKind::Question,
            account: invite.account.clone(),
            recipient: recipient.clone(),
            payload: serde_json::to_value(&asked.request).map_err(StoreError::Encode)?,
            text: asked.text.clone(),
            now,
        })
        .await?;
    }
    tx.commit().await?;
    if asked.is_some() {
        ctx.wake_dispatch.notify_waiters();
    }
    Ok(())
}

/// The message asking the invite's next unanswered question, None when none is left or
/// the invite cannot be messaged.
fn next_message(ctx: &Context, invite: &InviteRow) -> Option<Asked> {
    let config = ctx.config();
    let survey = config.survey(&invite.survey)?;
    let secret = config.account(&invite.account)?.app_secret.expose();
    let phone = E164::parse(invite.recipient.as_deref()?, None).ok()?;
    let language = Language::parse(&invite.language).unwrap_or(survey.default_language.clone());
    let texts = survey.page_texts(&language);
    let step = chat::next_step(survey, &invite.answers, &language)?;
    let to = phone.digits();
    let issued = |options: &[ChatOption]| -> Vec<(String, String)> {
        options
            .iter()
            .map(|o| {
                let tap = Tap {
                    invite_id: invite.id.clone(),
                    target: Target::Choice {
                        question: step.index,
                        option: o.index,
                    },
                };
                (quick_reply::issue(secret.as_bytes(), &tap), o.title.clone())
            })
            .collect()
    };
    let asked = match &step.form {
        Form::Buttons(options) => {
            let replies = issued(options)
                .into_iter()
                .map(|(id, title)| ReplyOption { id, title })
                .collect();
            SessionRequest::buttons(to, step.text, replies)
                .ok()
                .map(|r| (r, None))
        }
        Form::List(options) => {
            let rows = issued(options)
                .into_iter()
                .map(|(id, title)| ListRow {
                    id,
                    title,
                    description: None,
                })
                .collect();
            let section = ListSection { title: None, rows };
            SessionRequest::list(
                to,
                step.text,
                texts.get(PageText::ChatChoose),
                vec![section],
            )
            .ok()
            .map(|r| (r, None))
        }
        Form::TextPrompt => SessionRequest::text(to, step.text)
            .ok()
            .map(|r| (r, Some(step.question.id.clone()))),
        Form::Link => None,
    };
    // A question the chat cannot carry (too long for Meta's limits) goes as the link too.
    let (request, awaiting) = match asked {
        Some(asked) => asked,
        None => (link_message(ctx, invite, &texts, to)?, None),
    };
    Some(Asked {
        text: readable(&step, &request),
        request,
        awaiting,
    })
}

/// The survey link, for the questions the chat cannot ask.
fn link_message(
    ctx: &Context,
    invite: &InviteRow,
    texts: &PageTexts,
    to: &str,
) -> Option<SessionRequest> {
    let link = ctx.survey_link(&invite.token);
    let body = texts.get(PageText::ChatContinue).replace("{link}", &link);
    SessionRequest::text(to, &body).ok()
}

/// The message as the customer reads it: the question, and the options as they appear.
fn readable(step: &Step, request: &SessionRequest) -> String {
    use closeloop_whatsapp::wire::{InteractiveAction, SessionContent};
    match &request.content {
        SessionContent::Text { text } => text.body.clone(),
        SessionContent::Interactive { interactive } => {
            let titles: Vec<&str> = match &interactive.action {
                InteractiveAction::Button { action } => action
                    .buttons
                    .iter()
                    .map(|b| b.reply().title.as_str())
                    .collect(),
                InteractiveAction::List { action } => action
                    .sections
                    .iter()
                    .flat_map(|s| s.rows.iter().map(|r| r.title.as_str()))
                    .collect(),
            };
            format!("{} [{}]", step.text, titles.join(" | "))
        }
    }
}
