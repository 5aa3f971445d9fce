//! The template send request (SPEC §6, reference §1.3) and its builder.

use serde::{Deserialize, Serialize};

use super::limits::{check_quick_reply_payload, LimitError, TEMPLATE_BUTTONS_MAX};

/// Body of `POST {api_base}/{phone_number_id}/messages` for a template message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SendRequest {
    /// Always `"whatsapp"`.
    pub messaging_product: String,
    /// Always `"individual"`.
    pub recipient_type: String,
    /// Recipient phone number as E.164 digits without `+`.
    pub to: String,
    /// Message type; `"template"` for everything this service sends.
    #[serde(rename = "type")]
    pub kind: String,
    /// The approved template and its variables.
    pub template: Template,
    /// Opaque data (≤ 512 bytes) Meta echoes in this message's status webhooks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub biz_opaque_callback_data: Option<String>,
}

/// An approved template reference plus the components that carry variables.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Template {
    /// Approved template name.
    pub name: String,
    /// Exact locale the template was approved under.
    pub language: TemplateLanguage,
    /// Only the parts that have variables, in header → body → button order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub components: Vec<Component>,
}

/// `template.language`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TemplateLanguage {
    /// Case-sensitive locale code such as `pt_BR`; Meta has no fallback between locales.
    pub code: String,
}

/// One template component (`header`, `body` or `button`) with its parameters.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Component {
    /// `header`, `body` or `button`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For buttons: `url`, `quick_reply`, …
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sub_type: Option<String>,
    /// For buttons: the 0-based button position, as a string.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<String>,
    /// Positional parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// A template parameter, serialized as `{"type":"text","text":"…"}` and so on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Parameter {
    /// A text variable.
    Text {
        /// The substituted text.
        text: String,
    },
    /// An image header.
    Image {
        /// Where Meta fetches the image.
        image: MediaLink,
    },
    /// A video header.
    Video {
        /// Where Meta fetches the video.
        video: MediaLink,
    },
    /// A document header.
    Document {
        /// Where Meta fetches the document, and its shown file name.
        document: MediaLink,
    },
    /// A quick-reply button payload, echoed back in the inbound `button` webhook.
    Payload {
        /// Our opaque string.
        payload: String,
    },
}

/// A media reference by URL.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MediaLink {
    /// Public HTTPS URL of the media.
    pub link: String,
    /// File name shown to the user (documents only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub filename: Option<String>,
}

/// The media header of a template, when it has one.
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderMedia {
    /// Image header by URL.
    Image(String),
    /// Video header by URL.
    Video(String),
    /// Document header by URL with an optional file name.
    Document {
        /// Public URL of the document.
        link: String,
        /// File name shown to the user.
        filename: Option<String>,
    },
}

/// Which media a template header was approved with; the config names it (`header_image`,
/// `header_video`, `header_document`) and the send must carry the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKind {
    /// `header_image`.
    Image,
    /// `header_video`.
    Video,
    /// `header_document`.
    Document,
}

impl HeaderMedia {
    /// The header parameter for a media link of that kind. A document's shown file name is
    /// the last path segment of the link, when there is one.
    pub fn new(kind: HeaderKind, link: &str) -> HeaderMedia {
        match kind {
            HeaderKind::Image => HeaderMedia::Image(link.into()),
            HeaderKind::Video => HeaderMedia::Video(link.into()),
            HeaderKind::Document => HeaderMedia::Document {
                link: link.into(),
                filename: file_name(link),
            },
        }
    }

    fn into_parameter(self) -> Parameter {
        let link = |link| MediaLink {
            link,
            filename: None,
        };
        match self {
            HeaderMedia::Image(url) => Parameter::Image { image: link(url) },
            HeaderMedia::Video(url) => Parameter::Video { video: link(url) },
            HeaderMedia::Document { link, filename } => Parameter::Document {
                document: MediaLink { link, filename },
            },
        }
    }
}

/// `https://x/a/summary.pdf?v=2` → `summary.pdf`; nothing for a link that ends in `/`.
fn file_name(link: &str) -> Option<String> {
    let path = link.split(['?', '#']).next().unwrap_or(link);
    let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
    let (_, name) = after_scheme.rsplit_once('/')?;
    (!name.is_empty()).then(|| name.to_string())
}

impl SendRequest {
    /// Builds a template send with components in Meta's order: header (if any), body (if there
    /// are body parameters), then the URL button at index `"0"` (if there is a suffix).
    pub fn template(
        to_digits: &str,
        name: &str,
        language_code: &str,
        body_params: Vec<String>,
        url_button_suffix: Option<String>,
        header: Option<HeaderMedia>,
    ) -> SendRequest {
        let mut components = Vec::new();
        if let Some(media) = header {
            components.push(Component {
                kind: "header".into(),
                sub_type: None,
                index: None,
                parameters: vec![media.into_parameter()],
            });
        }
        if !body_params.is_empty() {
            components.push(Component {
                kind: "body".into(),
                sub_type: None,
                index: None,
                parameters: body_params
                    .into_iter()
                    .map(|text| Parameter::Text { text })
                    .collect(),
            });
        }
        if let Some(suffix) = url_button_suffix {
            components.push(Component {
                kind: "button".into(),
                sub_type: Some("url".into()),
                index: Some("0".into()),
                parameters: vec![Parameter::Text { text: suffix }],
            });
        }
        SendRequest {
            messaging_product: "whatsapp".into(),
            recipient_type: "individual".into(),
            to: to_digits.into(),
            kind: "template".into(),
            template: Template {
                name: name.into(),
                language: TemplateLanguage {
                    code: language_code.into(),
                },
                components,
            },
            biz_opaque_callback_data: None,
        }
    }

    /// Adds the payload of the template's quick-reply button at `index` (its 0-based position
    /// among all the template's buttons, URL buttons included). The payload comes back in the
    /// inbound `button` webhook when the customer taps it.
    ///
    /// # Errors
    /// An empty payload, one over [`super::limits::QUICK_REPLY_PAYLOAD_MAX`] characters, or an
    /// index past the ten buttons a template can have.
    pub fn with_quick_reply(
        mut self,
        index: usize,
        payload: &str,
    ) -> Result<SendRequest, LimitError> {
        let field = format!("template.components[button {index}].parameters[0].payload");
        if index >= TEMPLATE_BUTTONS_MAX {
            return Err(LimitError::Count {
                field: "template.components[].index".into(),
                count: index + 1,
                min: 1,
                max: TEMPLATE_BUTTONS_MAX,
            });
        }
        check_quick_reply_payload(&field, payload)?;
        self.template.components.push(Component {
            kind: "button".into(),
            sub_type: Some("quick_reply".into()),
            index: Some(index.to_string()),
            parameters: vec![Parameter::Payload {
                payload: payload.into(),
            }],
        });
        Ok(self)
    }
}
