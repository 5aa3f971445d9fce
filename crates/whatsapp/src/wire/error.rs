//! The Graph API error envelope of a refused request (reference §2.1).

use serde::{Deserialize, Serialize};

/// `{"error":{…}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GraphErrorEnvelope {
    /// The error itself.
    pub error: GraphError,
}

/// A Graph API error. Branch on `code` (and `error_data.details`), never on `message`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct GraphError {
    /// `"(#<code>) <title>"`, or free text for some auth errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Usually `OAuthException`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The error code classification is based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Deprecated since v16 but still seen in the wild.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    /// WhatsApp-specific details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    /// Opaque trace id worth logging for Meta support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

/// `error_data` of a Graph error or of a webhook error.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ErrorData {
    /// `"whatsapp"` on sync errors; absent in webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// Human-readable explanation; the field Meta recommends reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}
