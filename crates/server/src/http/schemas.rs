//! Schemas of the OpenAPI document for the bodies the handlers read and answer as JSON
//! values (`serde_json::Value` in, `json!` out), so the document types every body.
//!
//! These types are never built: each mirrors one `json!` answer or one body that is parsed
//! by hand (the config objects are judged by the domain's config builder, which reports
//! every problem with its path, not by serde). `schemathesis_finds_no_failure_in_the_served_document`
//! (`tests/schemathesis.rs`) checks each against the service's real answers.
#![allow(
    dead_code,
    reason = "document-only types: described, never constructed"
)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{PartialSchema as _, ToSchema};

/// A text per survey language (`{"en": "…", "es": "…"}`).
type Texts = BTreeMap<String, String>;

/// A merge patch of a case's profile: `null` removes a field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfilePatch {
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) custom: Option<BTreeMap<String, Value>>,
}

/// The answer to a case write: `{event_id, kind, changed}` when the case changed (202),
/// `{changed: []}` when it did not (200).
#[derive(Serialize, ToSchema)]
pub(crate) struct CaseWritten {
    /// The event the change emitted (absent when unchanged).
    pub(crate) event_id: Option<String>,
    /// `case_created` or `case_updated` (absent when unchanged).
    pub(crate) kind: Option<String>,
    /// The fields that changed.
    pub(crate) changed: Vec<String>,
}

/// A case as the helpdesk sends it (SPEC §5.1) to `PUT /cases/{id}`: the id is the path's
/// (a body may repeat it; any other id is 400 `id_mismatch`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseBody {
    /// Helpdesk status, e.g. `Resolved`.
    #[schema(pattern = r"\S")]
    pub(crate) status: String,
    pub(crate) number: Option<String>,
    pub(crate) priority: Option<String>,
    pub(crate) case_type: Option<String>,
    /// Rules own the queue: a body without it keeps the stored one, `null` clears it.
    pub(crate) queue: Option<String>,
    pub(crate) assignee: Option<String>,
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) custom: BTreeMap<String, Value>,
    pub(crate) profile: Option<Profile>,
    pub(crate) conversation: Option<Conversation>,
}

/// A case as stored, and as each line of a batch (which names its id).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseState {
    /// 1–200 characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub(crate) id: String,
    #[schema(pattern = r"\S")]
    pub(crate) status: String,
    pub(crate) number: Option<String>,
    pub(crate) priority: Option<String>,
    pub(crate) case_type: Option<String>,
    pub(crate) queue: Option<String>,
    pub(crate) assignee: Option<String>,
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) custom: BTreeMap<String, Value>,
    pub(crate) profile: Option<Profile>,
    pub(crate) conversation: Option<Conversation>,
}

/// The customer of a case.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) first_name: Option<String>,
    /// Raw, as the helpdesk holds it; judged only when an invite uses it.
    pub(crate) phone: Option<String>,
    pub(crate) language: Option<String>,
    #[serde(default)]
    pub(crate) custom: BTreeMap<String, Value>,
}

/// The conversation a case came in on.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Conversation {
    /// The account the customer wrote to.
    pub(crate) account: Option<String>,
}

/// A JSON merge patch (RFC 7396) of a case: any subset of its fields, `null` clears one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CasePatch {
    /// Helpdesk status; a case always has one, so it cannot be cleared.
    #[schema(pattern = r"\S", nullable = false)]
    pub(crate) status: Option<String>,
    pub(crate) number: Option<String>,
    pub(crate) priority: Option<String>,
    pub(crate) case_type: Option<String>,
    pub(crate) queue: Option<String>,
    pub(crate) assignee: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) tags: Option<Vec<String>>,
    /// Merged key by key.
    pub(crate) custom: Option<BTreeMap<String, Value>>,
    /// Merged field by field.
    pub(crate) profile: Option<ProfilePatch>,
    pub(crate) conversation: Option<Conversation>,
}

/// The body of `POST /cases:batch` as a list of cases; on the wire each goes on its own
/// line (`application/x-ndjson`).
pub(crate) struct BatchBody;

impl utoipa::PartialSchema for BatchBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(utoipa::openapi::Ref::from_schema_name(CaseState::name()))
            .min_items(Some(1))
            .into()
    }
}

impl ToSchema for BatchBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((CaseState::name().into(), CaseState::schema()));
        <CaseState as ToSchema>::schemas(schemas);
    }
}

/// The answer to `POST /cases:batch`.
#[derive(Serialize, ToSchema)]
pub(crate) struct BatchAnswer {
    /// Lines applied (changed or not).
    pub(crate) accepted: u64,
    /// Lines rejected.
    pub(crate) rejected: u64,
    /// One result per non-blank line, in order.
    pub(crate) results: Vec<BatchLine>,
}

/// The result of one batch line: a case write's answer, or an error.
#[derive(Serialize, ToSchema)]
pub(crate) struct BatchLine {
    /// 1-based line number.
    pub(crate) line: u64,
    /// The status the line would have answered alone (202 changed, 200 unchanged, 4xx).
    pub(crate) status: u16,
    /// The case id (accepted lines).
    pub(crate) id: Option<String>,
    pub(crate) event_id: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) changed: Option<Vec<String>>,
    /// Why the line was rejected.
    pub(crate) error: Option<crate::http::openapi::ErrorDetail>,
}

/// `GET /cases/{id}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaseView {
    pub(crate) id: String,
    pub(crate) queue: Option<String>,
    /// The last inbound WhatsApp message and the 24-hour window it opened.
    pub(crate) conversation: Option<ConversationView>,
    /// The stored state.
    pub(crate) case: CaseState,
    pub(crate) version: i64,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// Invites of the surveys the caller may see.
    pub(crate) invites: Vec<InviteView>,
}

/// The customer's last message on a case.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConversationView {
    pub(crate) last_inbound_at: String,
    pub(crate) last_inbound_text: String,
    pub(crate) account: Option<String>,
    pub(crate) service_window_open: bool,
    pub(crate) service_window_expires_at: String,
}

/// `GET /cases/{id}/trace`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Trace {
    pub(crate) case_id: String,
    pub(crate) events: Vec<TraceEvent>,
    /// Scheduled runs that did nothing, summed over the queue rules.
    pub(crate) skipped_runs: i64,
    pub(crate) schedules: Vec<TraceSchedule>,
}

/// One event of a trace, with what the evaluation recorded (`rules`, and more).
#[derive(Serialize, ToSchema)]
pub(crate) struct TraceEvent {
    pub(crate) event_id: String,
    pub(crate) kind: String,
    pub(crate) at: String,
    /// The fields the event changed.
    pub(crate) changed: Value,
    /// Whether the rules have run on it.
    pub(crate) processed: bool,
    pub(crate) note: Option<String>,
    /// Each rule: conditions with the values seen, actions with outcome and reason.
    pub(crate) rules: Vec<Value>,
}

/// A queue rule's schedule on a case.
#[derive(Serialize, ToSchema)]
pub(crate) struct TraceSchedule {
    pub(crate) rule: String,
    pub(crate) skipped_runs: i64,
    pub(crate) last_run_at: Option<String>,
    pub(crate) last_outcome: Option<String>,
    pub(crate) next_run_at: String,
    pub(crate) ends_at: String,
}

/// An invite with its send history (SPEC §5.1).
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteView {
    pub(crate) id: String,
    pub(crate) case_id: String,
    pub(crate) survey: String,
    pub(crate) distribution: String,
    pub(crate) channel: String,
    pub(crate) status: String,
    pub(crate) response_status: String,
    /// Question id → answer.
    pub(crate) answers: BTreeMap<String, Value>,
    pub(crate) language: String,
    pub(crate) language_source: String,
    pub(crate) recipient: Option<String>,
    pub(crate) recipient_source: String,
    pub(crate) account: String,
    pub(crate) link: String,
    pub(crate) expires_at: String,
    pub(crate) reminders_sent: i64,
    pub(crate) test: bool,
    pub(crate) reason: Option<String>,
    pub(crate) error: Option<ProviderError>,
    pub(crate) messages: Vec<MessageView>,
    /// The case attributes frozen when the invite was made.
    pub(crate) snapshot: Value,
    pub(crate) created_at: String,
}

/// The provider's error code and title.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProviderError {
    pub(crate) code: Option<i64>,
    pub(crate) title: Option<String>,
}

/// One message of an invite.
#[derive(Serialize, ToSchema)]
pub(crate) struct MessageView {
    pub(crate) kind: String,
    pub(crate) text: String,
    pub(crate) provider_message_id: Option<String>,
    pub(crate) status: String,
    pub(crate) attempts: i64,
    pub(crate) error: Option<ProviderError>,
    pub(crate) sent_at: Option<String>,
}

/// An invite's delivery status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InviteStatus {
    Pending,
    Sent,
    Delivered,
    Opened,
    Failed,
    Quarantined,
    Suppressed,
    Unsubscribed,
}

/// A page of invites.
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteList {
    pub(crate) items: Vec<InviteView>,
    /// Cursor of the next page (null: no more).
    pub(crate) next_cursor: Option<String>,
}

/// The body of `POST /cases/{id}/messages`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConversationMessage {
    pub(crate) direction: Direction,
    /// At most 4,096 characters (WhatsApp's limit).
    #[schema(max_length = 4096)]
    pub(crate) text: String,
    /// RFC 3339; default now.
    #[schema(format = DateTime)]
    pub(crate) at: Option<String>,
    /// A configured account id.
    pub(crate) account: Option<String>,
}

/// Who wrote a conversation message.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Direction {
    Inbound,
    Outbound,
}

/// The answer of `POST /cases/{id}/messages`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConversationMessage {
    pub(crate) id: String,
    pub(crate) case_id: String,
    pub(crate) direction: Direction,
}

/// A number never messaged.
#[derive(Serialize, ToSchema)]
pub(crate) struct Suppression {
    /// E.164.
    pub(crate) phone: String,
    pub(crate) reason: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) created_at: String,
}

/// The body of `POST /suppressions`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSuppression {
    /// A number, e.g. `+34 600 111 222`: spaces and punctuation are dropped and the rest
    /// must be a valid E.164 number (422 `invalid_phone` otherwise).
    pub(crate) phone: String,
    pub(crate) reason: Option<String>,
    /// A configured account id (the suppression is then per account).
    pub(crate) account: Option<String>,
}

/// The suppression list.
#[derive(Serialize, ToSchema)]
pub(crate) struct SuppressionList {
    pub(crate) items: Vec<Suppression>,
    pub(crate) next_cursor: Option<String>,
}

/// `GET /distributions/{id}/preview`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Preview {
    pub(crate) distribution: String,
    /// invitation, reminder or thank_you.
    pub(crate) message: String,
    pub(crate) language: String,
    pub(crate) template: String,
    pub(crate) template_language: String,
    /// The text as WhatsApp shows it.
    pub(crate) text: String,
    /// The template's components as sent.
    pub(crate) components: Vec<Value>,
    pub(crate) case_id: Option<String>,
    /// Filled with sample values.
    pub(crate) sample: bool,
}

/// A message of a distribution.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MessageKind {
    Invitation,
    Reminder,
    ThankYou,
}

/// The body of `POST /distributions/{id}/test`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestSendRequest {
    /// E.164 number.
    pub(crate) to: String,
    /// invitation (default), reminder or thank_you.
    pub(crate) message: Option<MessageKind>,
    /// A survey language.
    pub(crate) language: Option<String>,
}

/// The answer of `POST /distributions/{id}/test`.
#[derive(Serialize, ToSchema)]
pub(crate) struct TestSent {
    pub(crate) invite_id: String,
    pub(crate) message: String,
    pub(crate) language: String,
    pub(crate) to: String,
    pub(crate) test: bool,
}

/// The answer of `POST /accounts/{id}/resume`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Resumed {
    pub(crate) id: String,
    pub(crate) healthy: bool,
}

/// A token just issued: shown only in this answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct IssuedToken {
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) token: String,
    pub(crate) created_at: String,
}

/// A token as listed (never the token itself).
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenInfo {
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) created_at: String,
    pub(crate) revoked_at: Option<String>,
}

/// A user's tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenList {
    pub(crate) items: Vec<TokenInfo>,
    pub(crate) next_cursor: Option<String>,
}

/// One message the sandbox provider "sent".
#[derive(Serialize, ToSchema)]
pub(crate) struct SandboxMessage {
    pub(crate) provider_message_id: String,
    pub(crate) account: String,
    pub(crate) to: String,
    pub(crate) template: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) text: String,
    pub(crate) sent_at: String,
}

/// What the sandbox provider "sent".
#[derive(Serialize, ToSchema)]
pub(crate) struct SandboxMessages {
    pub(crate) items: Vec<SandboxMessage>,
    pub(crate) next_cursor: Option<String>,
}

/// `GET /analytics` as JSON.
#[derive(Serialize, ToSchema)]
pub(crate) struct Analytics {
    /// The grouping asked for; null: one row of totals.
    pub(crate) group_by: Option<GroupBy>,
    pub(crate) items: Vec<AnalyticsItem>,
}

/// What analytics rows are grouped by.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GroupBy {
    Agent,
    CaseType,
    Region,
    Queue,
    Language,
    Day,
}

/// One row of analytics.
#[derive(Serialize, ToSchema)]
pub(crate) struct AnalyticsItem {
    /// The group's value (null: the attribute was not set, or the totals row).
    pub(crate) key: Option<String>,
    pub(crate) invited: i64,
    pub(crate) sent: i64,
    pub(crate) delivered: i64,
    pub(crate) opened: i64,
    pub(crate) failed: i64,
    pub(crate) quarantined: i64,
    pub(crate) suppressed: i64,
    pub(crate) unsubscribed: i64,
    pub(crate) responses: i64,
    pub(crate) completed: i64,
    /// completed / reached, 4 decimals.
    pub(crate) response_rate: f64,
    pub(crate) csat_avg: Option<f64>,
    pub(crate) nps: Option<f64>,
}

/// The body of `POST /s/{token}/answers`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswersRequest {
    /// Question id → answer.
    pub(crate) answers: BTreeMap<String, Value>,
    /// Submit (true) or only save (false, the default).
    #[serde(default)]
    pub(crate) submit: bool,
}

/// The answer of `POST /s/{token}/answers`.
#[derive(Serialize, ToSchema)]
pub(crate) struct AnswersSaved {
    pub(crate) response_status: String,
    pub(crate) answers: BTreeMap<String, Value>,
}

/// The answer of `POST /webhooks/whatsapp`.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookReceived {
    /// Statuses and messages read.
    pub(crate) received: u64,
}

/// Meta's webhook payload (`object`, `entry[].changes[].value`); read by
/// `closeloop_whatsapp::webhook`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct WebhookPayload {
    pub(crate) object: String,
    pub(crate) entry: Vec<Value>,
}

/// `/healthz` and `/readyz`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// ok, ready or unavailable.
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
}

/// Lint warnings of a written config object.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Warning {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// A user's share of a survey.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Share {
    pub(crate) user: String,
    pub(crate) permission: Permission,
}

/// What a share allows.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Permission {
    ViewDistribution,
    EditDistribution,
}

/// A distribution's schedule (SPEC §3.2: `trigger_based` is the one there is).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Schedule {
    TriggerBased,
}

/// A survey in the config file's form (SPEC §3.1).
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Survey {
    /// Not empty, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) owner: Option<String>,
    pub(crate) shared_with: Option<Vec<Share>>,
    pub(crate) default_language: String,
    pub(crate) languages: Vec<String>,
    pub(crate) questions: Vec<Question>,
    /// Language → page text key → text.
    pub(crate) page_texts: Option<BTreeMap<String, Texts>>,
    pub(crate) warnings: Option<Vec<Warning>>,
}

/// A survey question.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Question {
    pub(crate) id: String,
    /// rating, nps, choice or text.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) required: Option<bool>,
    pub(crate) text: Texts,
    pub(crate) options: Option<Vec<Choice>>,
}

/// An option of a choice question.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Choice {
    pub(crate) id: String,
    pub(crate) text: Texts,
}

/// A distribution in the config file's form (SPEC §3.2), with its derived state when read.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Distribution {
    /// Not empty, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub(crate) id: String,
    pub(crate) survey: String,
    pub(crate) channel: String,
    pub(crate) schedule: Schedule,
    pub(crate) sender_account: String,
    pub(crate) status: Option<DistributionStatus>,
    pub(crate) expires_at: Option<String>,
    pub(crate) link: Option<BTreeMap<String, String>>,
    /// A duration such as `2h`.
    pub(crate) partial_after: Option<String>,
    pub(crate) once_per_case: Option<bool>,
    pub(crate) quarantine: Option<String>,
    pub(crate) max_reminders: Option<u32>,
    pub(crate) translation: Option<BTreeMap<String, String>>,
    pub(crate) in_chat: Option<bool>,
    pub(crate) messages: Option<BTreeMap<String, Value>>,
    /// Derived when read: draft, active, paused, expired or failed.
    pub(crate) state: Option<String>,
    pub(crate) state_reason: Option<String>,
    pub(crate) warnings: Option<Vec<Warning>>,
}

/// A distribution's status as written.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DistributionStatus {
    Draft,
    Active,
    Paused,
}

/// A rule in the config file's form (SPEC §3.3): `on`, `when` and `then` as written.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Rule {
    /// Not empty, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub(crate) id: String,
    pub(crate) author: Option<String>,
    /// `case_update`, or a queue schedule.
    pub(crate) on: Value,
    pub(crate) when: Option<Value>,
    pub(crate) then: Vec<Value>,
    pub(crate) warnings: Option<Vec<Warning>>,
}

/// A sender account in the config file's form (SPEC §3.4); secrets are never answered.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct Account {
    /// Not empty, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub(crate) id: String,
    pub(crate) provider: ProviderKind,
    pub(crate) phone_number_id: Option<String>,
    pub(crate) display_phone_number: Option<String>,
    /// Write-only.
    pub(crate) access_token: Option<String>,
    /// Write-only.
    pub(crate) app_secret: Option<String>,
    /// Write-only.
    pub(crate) verify_token: Option<String>,
    pub(crate) api_base: Option<String>,
    pub(crate) messages_per_second: Option<u32>,
    pub(crate) default_region: Option<String>,
    /// Derived when read.
    pub(crate) healthy: Option<bool>,
    pub(crate) unhealthy_reason: Option<String>,
    pub(crate) unhealthy_code: Option<i64>,
    pub(crate) unhealthy_since: Option<String>,
    pub(crate) warnings: Option<Vec<Warning>>,
}

/// Which provider an account sends through.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProviderKind {
    WhatsappCloud,
    Sandbox,
}

/// A user in the config file's form (SPEC §3.5).
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct User {
    /// Not empty, not only spaces.
    #[schema(min_length = 1, pattern = r"\S")]
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) role: Role,
    /// Write-only; a created user's first token is answered once.
    pub(crate) token: Option<String>,
    /// The id of the token answered on creation.
    pub(crate) token_id: Option<String>,
    pub(crate) warnings: Option<Vec<Warning>>,
}

/// A user's role.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    Admin,
    Member,
}

/// A page of config objects.
#[derive(Serialize, ToSchema)]
pub(crate) struct ObjectPage<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}
