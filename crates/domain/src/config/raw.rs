//! The config file as written: serde structs that mirror the YAML one to one.
//!
//! Every struct denies unknown fields so a typo is an error with its path. Fields the SPEC
//! calls required are still `Option` here: the builder reports each missing one with its
//! path instead of serde stopping at the first.
//! Conditions, triggers and `then` lists are free-form maps, kept as JSON values and parsed
//! by hand in `config::condition` and `config::then`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::model::{DistributionStatus, Permission, ProviderKind, Role};
use crate::duration::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub public_url: Option<String>,
    pub owner: Option<String>,
    #[serde(default)]
    pub accounts: Vec<RawAccount>,
    #[serde(default)]
    pub users: Vec<RawUser>,
    #[serde(default)]
    pub surveys: Vec<RawSurvey>,
    #[serde(default)]
    pub distributions: Vec<RawDistribution>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    pub opt_out_words: Option<Vec<String>>,
    pub retention: Option<RawRetention>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetention {
    pub events: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccount {
    pub id: Option<String>,
    pub provider: Option<ProviderKind>,
    pub phone_number_id: Option<String>,
    pub display_phone_number: Option<String>,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub api_base: Option<String>,
    pub messages_per_second: Option<u32>,
    pub default_region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUser {
    pub id: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShare {
    pub user: String,
    pub permission: Permission,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSurvey {
    pub id: Option<String>,
    pub name: Option<String>,
    pub owner: Option<String>,
    #[serde(default)]
    pub shared_with: Vec<RawShare>,
    pub default_language: Option<String>,
    pub languages: Option<Vec<String>>,
    pub questions: Option<Vec<RawQuestion>>,
    /// Language → page text key → text; keys are checked by the builder so an unknown one
    /// is reported with its path.
    pub page_texts: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuestion {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub required: Option<bool>,
    pub text: Option<BTreeMap<String, String>>,
    pub options: Option<Vec<RawChoice>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChoice {
    pub id: Option<String>,
    pub text: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDistribution {
    pub id: Option<String>,
    pub survey: Option<String>,
    pub channel: Option<String>,
    pub schedule: Option<String>,
    pub sender_account: Option<String>,
    pub status: Option<DistributionStatus>,
    pub expires_at: Option<String>,
    pub link: Option<RawLink>,
    pub partial_after: Option<Duration>,
    pub once_per_case: Option<bool>,
    pub quarantine: Option<Duration>,
    pub max_reminders: Option<u32>,
    pub translation: Option<RawTranslation>,
    pub in_chat: Option<bool>,
    pub messages: Option<RawMessages>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub expires_after: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTranslation {
    pub from: Option<String>,
    pub fallback: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMessages {
    pub invitation: Option<RawTemplate>,
    pub reminder: Option<RawTemplate>,
    pub thank_you: Option<RawTemplate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTemplate {
    pub template: Option<String>,
    pub languages: Option<BTreeMap<String, String>>,
    pub body: Option<RawBody>,
    #[serde(default)]
    pub body_params: Vec<String>,
    pub url_button_suffix: Option<String>,
    pub header_image: Option<String>,
    pub header_video: Option<String>,
    pub header_document: Option<RawDocument>,
    pub quick_replies: Option<RawQuickReplies>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuickReplies {
    pub question: Option<String>,
    #[serde(default)]
    pub values: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a text, or a map from survey language to text")]
pub(crate) enum RawBody {
    Shared(String),
    PerLanguage(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a document URL, or {link: URL, filename: name.pdf}"
)]
pub(crate) enum RawDocument {
    Link(String),
    Named(RawNamedDocument),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNamedDocument {
    pub link: String,
    pub filename: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Option<String>,
    pub author: Option<String>,
    pub on: Option<Value>,
    pub when: Option<Value>,
    pub then: Option<Value>,
}

/// The body of a survey action (`trigger_survey_invitation: {...}` and friends).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSurveyAction {
    pub survey: Option<String>,
    pub channel: Option<String>,
    pub distribution: Option<String>,
    pub language: Option<String>,
    pub use_last_message_language: Option<bool>,
    pub recipient_case_field: Option<String>,
    pub recipient_profile_field: Option<String>,
    pub use_distribution_account: Option<bool>,
}
