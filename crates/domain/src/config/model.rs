//! The typed, validated configuration: what the rest of closeloop works with after loading.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::duration::Duration;
use crate::field::FieldPath;
use crate::language::Language;
use crate::page_text::{CustomTexts, PageTexts};
use crate::rule::Rule;

/// The default `opt_out_words` (SPEC §4.8).
pub const DEFAULT_OPT_OUT_WORDS: [&str; 8] = [
    "STOP",
    "UNSUBSCRIBE",
    "CANCEL",
    "BAJA",
    "PARAR",
    "SAIR",
    "ARRET",
    "ARRÊT",
];

/// Meta's Graph API, the default `api_base`.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com/v21.0";

/// The default `public_url` when none is configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// A whole configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Base of survey links: `{public_url}/s/{token}` (no trailing slash).
    pub public_url: String,
    /// Sender accounts.
    pub accounts: Vec<Account>,
    /// API users; empty = open API on loopback only.
    pub users: Vec<User>,
    /// Surveys.
    pub surveys: Vec<Survey>,
    /// Distributions.
    pub distributions: Vec<Distribution>,
    /// Rules, in file order.
    pub rules: Vec<Rule>,
    /// Inbound texts that opt the sender out (compared trimmed, case-insensitively).
    pub opt_out_words: Vec<String>,
    /// How long finished events and their traces are kept.
    pub retention: Retention,
}

/// How long what happened is kept (`retention`). Invites, their answers and analytics are
/// kept whatever these say.
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    /// Finished case events with their traces (`events`, default 90d).
    pub events: Duration,
}

/// The default `retention.events`.
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl Config {
    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The survey with this id.
    pub fn survey(&self, id: &str) -> Option<&Survey> {
        self.surveys.iter().find(|s| s.id == id)
    }

    /// The distribution with this id.
    pub fn distribution(&self, id: &str) -> Option<&Distribution> {
        self.distributions.iter().find(|d| d.id == id)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Whether an inbound text is an opt-out word (trimmed, case-insensitive).
    pub fn is_opt_out(&self, text: &str) -> bool {
        let text = text.trim().to_lowercase();
        !text.is_empty()
            && self
                .opt_out_words
                .iter()
                .any(|w| w.trim().to_lowercase() == text)
    }

    /// Whether `user` may edit distributions of `survey` (owner, edit share, or admin).
    pub fn may_edit(&self, user: &str, survey: &Survey) -> bool {
        survey.can_edit(user) || self.user(user).is_some_and(|u| u.role == Role::Admin)
    }
}

/// A credential. Printing it shows `***`; it is never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which provider an account sends through.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Meta's WhatsApp Cloud API.
    WhatsappCloud,
    /// The in-process simulator; sends nothing over the network.
    Sandbox,
}

/// A WhatsApp Business sender account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Account {
    /// Unique id.
    pub id: String,
    /// Provider.
    pub provider: ProviderKind,
    /// Cloud API phone number id (`sandbox-<id>` for sandbox accounts without one).
    pub phone_number_id: String,
    /// Human-readable number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// Cloud API access token.
    #[serde(skip)]
    pub access_token: Secret,
    /// App secret for webhook signatures.
    #[serde(skip)]
    pub app_secret: Secret,
    /// Webhook handshake token; without it the handshake is refused.
    #[serde(skip)]
    pub verify_token: Option<Secret>,
    /// Graph API base URL, no trailing slash.
    pub api_base: String,
    /// Throughput limit (> 0).
    pub messages_per_second: u32,
    /// ISO 3166 region for interpreting national numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
}

/// A user's role.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May do everything.
    Admin,
    /// May act on surveys they own or that are shared with them.
    Member,
}

/// An API user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role.
    pub role: Role,
    /// API bearer token from the config file (tokens issued through the API live in the
    /// database, hashed).
    #[serde(skip)]
    pub token: Option<Secret>,
}

/// A share permission on a survey.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// May see distributions.
    ViewDistribution,
    /// May change distributions and write rules for the survey.
    EditDistribution,
}

/// A survey shared with a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// User id.
    pub user: String,
    /// Permission granted.
    pub permission: Permission,
}

/// A choice of a single-choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChoiceOption {
    /// Stored answer value.
    pub id: String,
    /// Label per language.
    pub text: BTreeMap<Language, String>,
}

/// The type of a question and its type-specific data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1–5.
    Rating,
    /// 0–10.
    Nps,
    /// One of `options`.
    SingleChoice {
        /// The options (at least one).
        options: Vec<ChoiceOption>,
    },
    /// Free text.
    Text,
}

impl QuestionKind {
    /// The config name.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Rating => "rating",
            QuestionKind::Nps => "nps",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::Text => "text",
        }
    }
}

/// One survey question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Unique within the survey.
    pub id: String,
    /// Type.
    #[serde(flatten)]
    pub kind: QuestionKind,
    /// Needed for `completed`.
    pub required: bool,
    /// Text per language (always has the default language).
    pub text: BTreeMap<Language, String>,
}

/// A survey.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Survey {
    /// Unique id.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: String,
    /// Owning user.
    pub owner: String,
    /// Shares.
    pub shared_with: Vec<Share>,
    /// Language used when nothing else applies; one of `languages`.
    pub default_language: Language,
    /// Languages offered.
    pub languages: Vec<Language>,
    /// Questions in order.
    pub questions: Vec<Question>,
    /// The survey's own texts of its pages, per language, over the built-in ones.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub page_texts: BTreeMap<Language, CustomTexts>,
}

impl Survey {
    /// The texts of the survey's pages in `lang`.
    pub fn page_texts(&self, lang: &Language) -> PageTexts {
        PageTexts::new(
            lang.clone(),
            self.page_texts.get(lang).cloned().unwrap_or_default(),
        )
    }

    /// The question's text in `lang`, or in the default language when it has none.
    pub fn question_text<'a>(&'a self, q: &'a Question, lang: &Language) -> &'a str {
        q.text
            .get(lang)
            .or_else(|| q.text.get(&self.default_language))
            .or_else(|| q.text.values().next())
            .map_or("", String::as_str)
    }

    /// Whether the survey is available in `lang`.
    pub fn offers(&self, lang: &Language) -> bool {
        self.languages.contains(lang)
    }

    /// Whether `user` owns the survey or holds `edit_distribution` on it (admins are
    /// checked by [`Config::may_edit`], which knows the users).
    pub fn can_edit(&self, user: &str) -> bool {
        self.owner == user
            || self
                .shared_with
                .iter()
                .any(|s| s.user == user && s.permission == Permission::EditDistribution)
    }

    /// Whether `user` may see the survey's distributions.
    pub fn can_view(&self, user: &str) -> bool {
        self.owner == user || self.shared_with.iter().any(|s| s.user == user)
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}

/// Configured distribution status (expired and failed are derived at run time).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionStatus {
    /// Not sending yet.
    Draft,
    /// Sending.
    Active,
    /// Sends nothing new; links show a paused page.
    Paused,
}

/// One WhatsApp message of a distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageTemplate {
    /// Approved WhatsApp template name.
    pub template: String,
    /// Survey language → template language code (one for every survey language).
    pub languages: BTreeMap<Language, String>,
    /// The approved template's text with `{{n}}`, for preview and checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<MessageBody>,
    /// One named-placeholder text per `{{n}}`, in order.
    pub body_params: Vec<String>,
    /// Dynamic URL button suffix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_button_suffix: Option<String>,
    /// Media header (`header_image`, `header_video` or `header_document`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderMedia>,
    /// The template's quick-reply buttons answer a question in the chat (SPEC §4.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_replies: Option<QuickReplies>,
}

/// The answers a template's quick-reply buttons record, in button order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReplies {
    /// The question the buttons answer.
    pub question: String,
    /// The answer each button records, a valid answer of `question`.
    pub values: Vec<serde_json::Value>,
}

/// A template has at most ten buttons.
pub const MAX_QUICK_REPLIES: usize = 10;

/// The text of a template (`body`): one for every language, or one per survey language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageBody {
    /// The same text whatever the language.
    Shared(String),
    /// The approved template's text in each survey language.
    PerLanguage(BTreeMap<Language, String>),
}

impl MessageBody {
    /// The text a customer reading `lang` gets.
    pub fn text(&self, lang: &Language) -> Option<&str> {
        match self {
            MessageBody::Shared(text) => Some(text),
            MessageBody::PerLanguage(texts) => texts.get(lang).map(String::as_str),
        }
    }
}

/// A template's media header, sent as the header component's parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMedia {
    /// `header_image`.
    Image {
        /// Public URL of the image.
        link: String,
    },
    /// `header_video`.
    Video {
        /// Public URL of the video.
        link: String,
    },
    /// `header_document`.
    Document {
        /// Public URL of the document.
        link: String,
        /// The file name WhatsApp shows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
}

/// The kinds of message an invite sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// First message with the link.
    Invitation,
    /// Nudge for an unanswered invite.
    Reminder,
    /// After a response.
    ThankYou,
    /// The next question of a survey continued in the chat (`in_chat`, SPEC §4.16): a
    /// free-form message inside the customer service window, never a template.
    Question,
}

impl MessageKind {
    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Invitation => "invitation",
            MessageKind::Reminder => "reminder",
            MessageKind::ThankYou => "thank_you",
            MessageKind::Question => "question",
        }
    }

    /// Whether the message's delivery is the invite's delivery: an invitation's or a
    /// reminder's is; a thank-you's or an in-chat question's says nothing about the invite.
    pub fn tracks_invite(&self) -> bool {
        matches!(self, MessageKind::Invitation | MessageKind::Reminder)
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MessageKind {
    type Err = crate::status::StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            MessageKind::Invitation,
            MessageKind::Reminder,
            MessageKind::ThankYou,
            MessageKind::Question,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| crate::status::StatusError(s.to_owned()))
    }
}

/// The messages of a distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Messages {
    /// Required.
    pub invitation: MessageTemplate,
    /// Needed by `send_survey_reminder`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder: Option<MessageTemplate>,
    /// Needed by `send_thank_you_message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thank_you: Option<MessageTemplate>,
}

impl Messages {
    /// The template of a kind, if configured.
    pub fn get(&self, kind: MessageKind) -> Option<&MessageTemplate> {
        match kind {
            MessageKind::Invitation => Some(&self.invitation),
            MessageKind::Reminder => self.reminder.as_ref(),
            MessageKind::ThankYou => self.thank_you.as_ref(),
            MessageKind::Question => None,
        }
    }
}

/// How a distribution picks the message language from the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// The case field holding a language, e.g. `profile.language`.
    pub from: FieldPath,
    /// Used when that field's language is not offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Language>,
}

/// How a survey goes out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    /// Unique id.
    pub id: String,
    /// The survey sent.
    pub survey: String,
    /// Always `whatsapp`.
    pub channel: String,
    /// Sender account id.
    pub sender_account: String,
    /// Configured status.
    pub status: DistributionStatus,
    /// After this instant the distribution sends nothing.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// How long a survey link stays valid (`link.expires_after`).
    pub link_expires_after: Duration,
    /// Inactivity after which an in-progress response becomes partially completed.
    pub partial_after: Duration,
    /// At most one invite per case.
    pub once_per_case: bool,
    /// No second invitation to the same number within this window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Duration>,
    /// Reminders per invite.
    pub max_reminders: u32,
    /// Language selection from the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    /// Whether the survey continues in the chat after a reply (SPEC §4.16).
    pub in_chat: bool,
    /// The messages.
    pub messages: Messages,
}

impl Distribution {
    /// Whether `expires_at` has passed at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }

    /// Configured active and not expired at `now`.
    pub fn is_sending(&self, now: OffsetDateTime) -> bool {
        self.status == DistributionStatus::Active && !self.is_expired(now)
    }
}
