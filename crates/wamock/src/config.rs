//! What the mock knows up front: accounts, the template registry and its behaviour switches.

use std::time::Duration;

/// The format a template's header was approved with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFormat {
    /// An image header: the send must carry an `image` parameter.
    Image,
    /// A video header: the send must carry a `video` parameter.
    Video,
    /// A document header: the send must carry a `document` parameter.
    Document,
    /// A text header with one variable: the send must carry a `text` parameter.
    Text,
}

impl HeaderFormat {
    /// The parameter `type` Meta expects for this header.
    pub fn parameter_type(self) -> &'static str {
        match self {
            HeaderFormat::Image => "image",
            HeaderFormat::Video => "video",
            HeaderFormat::Document => "document",
            HeaderFormat::Text => "text",
        }
    }
}

/// One button of a template, in the template's order: the send refers to it by its 0-based
/// position (`index`), whatever its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateButton {
    /// A URL button ending in a `{{1}}` suffix: the send must carry a `url` component with it.
    DynamicUrl,
    /// A URL button with a fixed URL: the send carries nothing for it.
    StaticUrl,
    /// A quick-reply button: the send may carry a `quick_reply` component with its payload
    /// (without one, Meta returns the button's text as the payload).
    QuickReply,
}

/// An approved template, keyed by `(name, language)`.
#[derive(Clone, Debug)]
pub struct TemplateDef {
    /// Template name.
    pub name: String,
    /// Exact language code, e.g. `es` or `pt_BR`.
    pub language: String,
    /// Number of `{{n}}` variables in the body.
    pub body_params: usize,
    /// The template's buttons in order.
    pub buttons: Vec<TemplateButton>,
    /// The header format, when the header has a variable or media.
    pub header: Option<HeaderFormat>,
}

impl TemplateDef {
    /// A body-only template with `body_params` variables.
    pub fn new(name: &str, language: &str, body_params: usize) -> TemplateDef {
        TemplateDef {
            name: name.into(),
            language: language.into(),
            body_params,
            buttons: Vec::new(),
            header: None,
        }
    }
}

/// A business number the mock accepts sends for.
#[derive(Clone, Debug)]
pub struct MockAccount {
    /// Meta's id of the business number (the path segment).
    pub phone_number_id: String,
    /// The only Bearer token accepted for it.
    pub access_token: String,
    /// Key of the `X-Hub-Signature-256` on its webhooks.
    pub app_secret: String,
}

/// How the mock refuses a free-form message outside the 24-hour customer service window.
/// Meta does both (reference §2.2: 131047 is S/W; §8 asks for a switch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowRefusal {
    /// HTTP 400 with the Graph error 131047, nothing recorded.
    Sync,
    /// HTTP 200 with a wamid, then a `failed` status webhook carrying 131047.
    FailedStatus,
}

/// Everything about a mock instance.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Accounts by phone number id.
    pub accounts: Vec<MockAccount>,
    /// The template registry.
    pub templates: Vec<TemplateDef>,
    /// Where webhooks go; nothing is posted while `None`.
    pub webhook_url: Option<String>,
    /// After an accepted send, post `sent` → `delivered` → `read` webhooks.
    pub auto_statuses: bool,
    /// Delay before each automatic status.
    pub status_delay: Duration,
    /// Minimum gap between accepted sends to one `(phone_number_id, to)`; breaking it gives
    /// 131056. `None` disables the check.
    pub pair_rate_limit: Option<Duration>,
    /// HTTP status of throttling errors: 429 (current Meta table) or 400 (older revisions).
    pub throttle_http_status: u16,
    /// How long an inbound message keeps the user's customer service window open (24 h).
    pub service_window: Duration,
    /// How a free-form send outside the window is refused.
    pub window_refusal: WindowRefusal,
    /// Re-deliveries of a webhook the service did not answer with 200, after 50 ms, 100 ms,
    /// 200 ms, … (Meta's days-long schedule, compressed).
    pub webhook_retries: u32,
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            accounts: Vec::new(),
            templates: Vec::new(),
            webhook_url: None,
            auto_statuses: true,
            status_delay: Duration::from_millis(20),
            pair_rate_limit: None,
            throttle_http_status: 429,
            service_window: Duration::from_secs(24 * 60 * 60),
            window_refusal: WindowRefusal::Sync,
            webhook_retries: 3,
        }
    }
}
