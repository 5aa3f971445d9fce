//! What an invite freezes when it is created (SPEC §4.13): the distribution's message
//! templates and settings, and the case as it was, so reminders and the thank-you render
//! the same way even when the config or the case changes later.

use std::collections::BTreeMap;

use closeloop_domain::case::Case;
use closeloop_domain::config::{
    Distribution, HeaderMedia, MessageBody, MessageKind, MessageTemplate, QuickReplies, Survey,
};
use closeloop_domain::language::Language;
use closeloop_domain::template::{self, RenderContext};
use closeloop_whatsapp::wire::{self, SendRequest};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One message template as frozen into an invite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TemplateSnapshot {
    /// Approved WhatsApp template name.
    pub(crate) template: String,
    /// Survey language → template language code.
    pub(crate) languages: BTreeMap<String, String>,
    /// The body text with `{{n}}` placeholders, one or per language (for previews).
    pub(crate) body: Option<MessageBody>,
    /// What fills each `{{n}}`.
    pub(crate) body_params: Vec<String>,
    /// Dynamic URL-button suffix.
    pub(crate) url_button_suffix: Option<String>,
    /// Media header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) header: Option<HeaderMedia>,
    /// The quick-reply buttons' answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quick_replies: Option<QuickReplies>,
    /// The image header of invites frozen before `header` existed; read, never written.
    #[serde(default, skip_serializing)]
    header_image: Option<String>,
}

/// The settings an invite keeps from its distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct InviteSettings {
    /// Survey display name.
    pub(crate) survey_name: String,
    /// Most reminders to send.
    pub(crate) max_reminders: u32,
    /// Inactivity after which a started response counts as partially completed (s).
    pub(crate) partial_after_secs: u64,
    /// Templates by message kind (`invitation`, `reminder`, `thank_you`).
    pub(crate) messages: BTreeMap<String, TemplateSnapshot>,
    /// Whether the survey continues in the chat after a reply (SPEC §4.16).
    #[serde(default)]
    pub(crate) in_chat: bool,
    /// The case as it was when the invite was created.
    pub(crate) case: Case,
}

impl From<&MessageTemplate> for TemplateSnapshot {
    fn from(t: &MessageTemplate) -> TemplateSnapshot {
        TemplateSnapshot {
            template: t.template.clone(),
            languages: t
                .languages
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect(),
            body: t.body.clone(),
            body_params: t.body_params.clone(),
            url_button_suffix: t.url_button_suffix.clone(),
            header: t.header.clone(),
            quick_replies: t.quick_replies.clone(),
            header_image: None,
        }
    }
}

impl TemplateSnapshot {
    /// The media header as the Cloud API takes it.
    fn wire_header(&self) -> Option<wire::HeaderMedia> {
        let header = self.header.clone().or_else(|| {
            self.header_image
                .clone()
                .map(|link| HeaderMedia::Image { link })
        })?;
        Some(match header {
            HeaderMedia::Image { link } => wire::HeaderMedia::Image(link),
            HeaderMedia::Video { link } => wire::HeaderMedia::Video(link),
            HeaderMedia::Document { link, filename } => {
                wire::HeaderMedia::Document { link, filename }
            }
        })
    }
}

impl InviteSettings {
    /// Freezes a distribution's settings and the case.
    pub(crate) fn freeze(
        distribution: &Distribution,
        survey: &Survey,
        case: &Case,
    ) -> InviteSettings {
        let mut messages = BTreeMap::new();
        for kind in [
            MessageKind::Invitation,
            MessageKind::Reminder,
            MessageKind::ThankYou,
        ] {
            if let Some(t) = distribution.messages.get(kind) {
                messages.insert(kind.as_str().to_string(), TemplateSnapshot::from(t));
            }
        }
        InviteSettings {
            survey_name: survey.name.clone(),
            max_reminders: distribution.max_reminders,
            partial_after_secs: distribution.partial_after.as_secs(),
            messages,
            in_chat: distribution.in_chat,
            case: case.clone(),
        }
    }

    /// The template of a message kind, if the distribution had one.
    pub(crate) fn template(&self, kind: MessageKind) -> Option<&TemplateSnapshot> {
        self.messages.get(kind.as_str())
    }
}

/// The case attributes analytics group by, as they are now.
pub(crate) fn analytics_snapshot(case: &Case) -> Value {
    json!({
        "case_type": case.case_type,
        "region": case.region,
        "assignee": case.assignee,
        "queue": case.queue,
        "priority": case.priority,
    })
}

/// What a message needs to be rendered.
pub(crate) struct RenderInput<'a> {
    /// The case the values come from.
    pub(crate) case: &'a Case,
    /// The survey link.
    pub(crate) link: &'a str,
    /// The link token.
    pub(crate) token: &'a str,
    /// The survey's name.
    pub(crate) survey_name: &'a str,
    /// The survey language.
    pub(crate) language: &'a str,
    /// Recipient digits (E.164 without `+`).
    pub(crate) to_digits: &'a str,
}

/// Builds the Cloud API request for a template message.
///
/// # Errors
/// When the template has no language code for the invite's language.
pub(crate) fn build_request(
    t: &TemplateSnapshot,
    input: &RenderInput,
) -> Result<SendRequest, String> {
    let code = t.languages.get(input.language).ok_or_else(|| {
        format!(
            "template {} has no language code for {}",
            t.template, input.language
        )
    })?;
    let ctx = RenderContext {
        case: input.case,
        survey_link: input.link,
        survey_token: input.token,
        survey_name: input.survey_name,
    };
    let params = t
        .body_params
        .iter()
        .map(|p| template::render(p, &ctx))
        .collect();
    let suffix = t
        .url_button_suffix
        .as_ref()
        .map(|s| template::render(s, &ctx));
    let header = t.wire_header();
    Ok(SendRequest::template(
        input.to_digits,
        &t.template,
        code,
        params,
        suffix,
        header,
    ))
}

/// The body as a customer reading `language` sees it (placeholders filled), for previews,
/// the sandbox and the dry run.
pub(crate) fn rendered_text(t: &TemplateSnapshot, language: &str, request: &SendRequest) -> String {
    let params: Vec<String> = request
        .template
        .components
        .iter()
        .filter(|c| c.kind == "body")
        .flat_map(|c| c.parameters.iter())
        .filter_map(|p| match p {
            closeloop_whatsapp::wire::Parameter::Text { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    let body = Language::parse(language)
        .ok()
        .and_then(|l| t.body.as_ref()?.text(&l));
    match body {
        Some(body) => template::fill_positional(body, &params),
        None => params.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input<'a>(case: &'a Case, language: &'a str) -> RenderInput<'a> {
        RenderInput {
            case,
            link: "http://x/s/T",
            token: "T",
            survey_name: "CSAT",
            language,
            to_digits: "34600111222",
        }
    }

    fn snapshot(value: Value) -> TemplateSnapshot {
        serde_json::from_value(value).expect("a stored snapshot")
    }

    #[test]
    fn a_document_header_and_the_invites_language_reach_the_request() {
        let t = snapshot(json!({
            "template": "csat_invite", "languages": {"en": "en_US", "es": "es"},
            "body": {"en": "Hi {{1}}", "es": "Hola {{1}}"}, "body_params": ["{{survey.name}}"],
            "url_button_suffix": null,
            "header": {"document": {"link": "https://cdn.example.com/a.pdf", "filename": "a.pdf"}}
        }));
        let case = Case::default();
        let request = build_request(&t, &input(&case, "es")).expect("es has a template code");
        let wire = serde_json::to_value(&request).expect("serializes");
        assert_eq!(
            wire["template"]["components"][0],
            json!({"type": "header", "parameters": [{"type": "document",
                   "document": {"link": "https://cdn.example.com/a.pdf", "filename": "a.pdf"}}]})
        );
        assert_eq!(rendered_text(&t, "es", &request), "Hola CSAT");
        assert_eq!(rendered_text(&t, "en", &request), "Hi CSAT");
    }

    #[test]
    fn a_snapshot_frozen_before_per_language_bodies_and_headers_still_renders() {
        let t = snapshot(json!({
            "template": "csat_invite", "languages": {"es": "es"}, "body": "Hi {{1}}",
            "body_params": ["{{survey.name}}"], "url_button_suffix": null,
            "header_image": "https://cdn.example.com/logo.png"
        }));
        let case = Case::default();
        let request = build_request(&t, &input(&case, "es")).expect("request");
        let wire = serde_json::to_value(&request).expect("serializes");
        assert_eq!(
            wire["template"]["components"][0]["parameters"][0]["image"]["link"],
            "https://cdn.example.com/logo.png"
        );
        assert_eq!(rendered_text(&t, "es", &request), "Hi CSAT");
    }
}
