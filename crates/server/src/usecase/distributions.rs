//! What an operator does with a distribution besides editing it (the API's
//! `/distributions/{id}/preview`, `/test` and `/clone`, and the console's distribution
//! page): preview a message as the customer would read it on WhatsApp, filled from a
//! stored case or sample values; send one test message (a test invite that analytics
//! exclude); clone it as a draft.

use closeloop_domain::case::{Case, Profile};
use closeloop_domain::config::document::{self, Kind};
use closeloop_domain::config::{Distribution, MessageKind, MessageTemplate, Survey};
use closeloop_domain::language::Language;
use closeloop_whatsapp::wire::Component;
use serde_json::json;

use crate::usecase::access::{require_edit, require_view, Caller};
use crate::usecase::config_change::{self, Written};
use crate::usecase::error::{ApiError, Code};
use crate::usecase::snapshot::{build_request, rendered_text, RenderInput, TemplateSnapshot};
use crate::usecase::Context;

/// A message as WhatsApp would show it.
pub(crate) struct Preview {
    /// The message previewed.
    pub(crate) kind: MessageKind,
    /// The survey language it is in.
    pub(crate) language: Language,
    /// The approved template's name and language code.
    pub(crate) template: String,
    pub(crate) template_language: String,
    /// The text the customer reads.
    pub(crate) text: String,
    /// The template's components as sent (header media, body parameters, buttons).
    pub(crate) components: Vec<Component>,
    /// Filled with sample values (no case given).
    pub(crate) sample: bool,
}

/// A test message queued.
pub(crate) struct TestSent {
    /// The test invite.
    pub(crate) invite_id: String,
    /// The message and language sent.
    pub(crate) kind: MessageKind,
    pub(crate) language: Language,
    /// The number, in E.164.
    pub(crate) to: String,
}

/// Values shown when no case is given.
fn sample_case() -> Case {
    Case {
        id: "SAMPLE".into(),
        number: Some("1001".into()),
        status: "Resolved".into(),
        profile: Some(Profile {
            name: Some("Ana López".into()),
            first_name: Some("Ana".into()),
            phone: Some("+34600000000".into()),
            ..Profile::default()
        }),
        ..Case::default()
    }
}

/// The distribution with that id and its survey, as in force now.
fn lookup(ctx: &Context, id: &str) -> Result<(Distribution, Survey), ApiError> {
    let config = ctx.config();
    let distribution = config
        .distribution(id)
        .ok_or_else(|| ApiError::not_found("distribution", id))?;
    let survey = config
        .survey(&distribution.survey)
        .ok_or_else(|| ApiError::not_found("survey", &distribution.survey))?;
    Ok((distribution.clone(), survey.clone()))
}

/// The survey language asked for (default: the survey's default language).
fn survey_language(survey: &Survey, asked: Option<&str>) -> Result<Language, ApiError> {
    let Some(asked) = asked else {
        return Ok(survey.default_language.clone());
    };
    Language::parse(asked)
        .ok()
        .filter(|l| survey.offers(l))
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidLanguage,
                format!("survey {} is not offered in {asked:?}", survey.id),
            )
            .at("language")
        })
}

/// The distribution's template for a message kind.
fn message_template(
    distribution: &Distribution,
    kind: MessageKind,
) -> Result<&MessageTemplate, ApiError> {
    distribution.messages.get(kind).ok_or_else(|| {
        ApiError::new(
            Code::NoSuchMessage,
            format!(
                "distribution {} has no {} message",
                distribution.id,
                kind.as_str()
            ),
        )
        .at("message")
    })
}

/// `invitation`, `reminder` or `thank_you` (default `invitation`).
fn message_kind(name: Option<&str>) -> Result<MessageKind, ApiError> {
    let Some(name) = name else {
        return Ok(MessageKind::Invitation);
    };
    name.parse().map_err(|_| {
        ApiError::new(
            Code::InvalidField,
            format!("message must be invitation, reminder or thank_you, not {name:?}"),
        )
        .at("message")
    })
}

/// A message of the distribution in a survey language, filled from the stored case
/// `case_id` or sample values.
///
/// # Errors
/// 404 (distribution or case), 403 without `view_distribution`, 422 for a message or
/// language the distribution does not have.
pub(crate) async fn preview(
    ctx: &Context,
    caller: &Caller,
    id: &str,
    message: Option<&str>,
    language: Option<&str>,
    case_id: Option<&str>,
) -> Result<Preview, ApiError> {
    let (distribution, survey) = lookup(ctx, id)?;
    require_view(caller, &survey)?;
    let kind = message_kind(message)?;
    let template = TemplateSnapshot::from(message_template(&distribution, kind)?);
    let language = survey_language(&survey, language)?;
    let case = match case_id {
        Some(case_id) => {
            ctx.store
                .get_case(case_id)
                .await?
                .ok_or_else(|| ApiError::not_found("case", case_id))?
                .case
        }
        None => sample_case(),
    };
    let token = "SAMPLE-TOKEN";
    let link = ctx.survey_link(token);
    let request = build_request(
        &template,
        &RenderInput {
            case: &case,
            link: &link,
            token,
            survey_name: &survey.name,
            language: language.as_str(),
            to_digits: "0",
        },
    )
    .map_err(|why| ApiError::new(Code::TemplateNotAvailable, why).at("language"))?;
    Ok(Preview {
        text: rendered_text(&template, language.as_str(), &request),
        template: request.template.name,
        template_language: request.template.language.code,
        components: request.template.components,
        sample: case_id.is_none(),
        kind,
        language,
    })
}

/// Queues one test message to `to`.
///
/// # Errors
/// 404, 403 without `edit_distribution`, 422 for a bad number, message or language, or a
/// suppressed number.
pub(crate) async fn test_send(
    ctx: &Context,
    caller: &Caller,
    id: &str,
    to: &str,
    message: Option<&str>,
    language: Option<&str>,
) -> Result<TestSent, ApiError> {
    let (distribution, survey) = lookup(ctx, id)?;
    require_edit(caller, &survey)?;
    let to = closeloop_domain::phone::E164::parse(to, None).map_err(|e| {
        ApiError::new(Code::InvalidRecipient, format!("not an E.164 number: {e}")).at("to")
    })?;
    let kind = message_kind(message)?;
    message_template(&distribution, kind)?;
    let language = survey_language(&survey, language)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.store.begin().await?;
    if tx
        .is_suppressed(to.as_str(), &distribution.sender_account)
        .await?
    {
        return Err(ApiError::new(
            Code::Suppressed,
            format!("{} is on the suppression list", to.as_str()),
        )
        .at("to"));
    }
    let invite_id = crate::usecase::actions::queue_test(
        &mut tx,
        ctx,
        &distribution,
        &survey,
        kind,
        &language,
        &to,
        &sample_case(),
        now,
    )
    .await?
    .map_err(|why| ApiError::new(Code::TemplateNotAvailable, why).at("language"))?;
    tx.commit().await?;
    ctx.wake_dispatch.notify_waiters();
    Ok(TestSent {
        invite_id,
        kind,
        language,
        to: to.as_str().to_string(),
    })
}

/// A `draft` copy of the distribution under `new_id` (default: `{id}-copy`, numbered when
/// taken) — the source document's "test with a dedicated distribution, then clone it for
/// the real audience".
///
/// # Errors
/// 404, 403 without `edit_distribution`, 409 when the id is taken.
pub(crate) async fn clone(
    ctx: &Context,
    caller: &Caller,
    id: &str,
    new_id: Option<String>,
) -> Result<Written, ApiError> {
    let snapshot = ctx.live.snapshot();
    let (_, source) = document::find(&snapshot.document, Kind::Distributions, id)
        .ok_or_else(|| ApiError::not_found("distribution", id))?;
    let new_id = match new_id {
        Some(new_id) => new_id,
        None => (1..)
            .map(|n| match n {
                1 => format!("{id}-copy"),
                n => format!("{id}-copy-{n}"),
            })
            .find(|candidate| {
                document::find(&snapshot.document, Kind::Distributions, candidate).is_none()
            })
            .unwrap_or_else(|| format!("{id}-copy")),
    };
    let mut copy = source.clone();
    if let Some(map) = copy.as_object_mut() {
        map.insert("id".into(), json!(new_id));
        map.insert("status".into(), json!("draft"));
    }
    let body = serde_json::to_vec(&copy).map_err(ApiError::internal)?;
    config_change::create(ctx, caller, Kind::Distributions, None, &body).await
}
