//! The error a send can end in.

use std::time::Duration;

/// Why a send did not produce an accepted message.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum SendError {
    /// Meta answered with a non-2xx status.
    #[error("WhatsApp API error {} (HTTP {http_status}): {title}", code_text(.code))]
    Api {
        /// HTTP status of the answer.
        http_status: u16,
        /// `error.code`, the only thing classification trusts.
        code: Option<i64>,
        /// `error.message` without its `"(#code) "` prefix.
        title: String,
        /// `error.error_data.details`.
        details: Option<String>,
        /// `error.fbtrace_id`, for Meta support.
        fbtrace_id: Option<String>,
        /// The `Retry-After` header in seconds, clamped to at most one hour.
        retry_after: Option<Duration>,
    },
    /// No answer: connect failure, timeout, reset.
    #[error("network error talking to WhatsApp: {0}")]
    Network(String),
    /// A 2xx answer that does not carry a wamid.
    #[error("malformed WhatsApp answer: {0}")]
    Malformed(String),
}

fn code_text(code: &Option<i64>) -> String {
    code.map_or_else(|| "without code".to_string(), |c| format!("#{c}"))
}

impl SendError {
    /// The Graph error code, when Meta gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            SendError::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// A short human title for the invite's `error.title`.
    pub fn title(&self) -> String {
        match self {
            SendError::Api { title, .. } => title.clone(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_accessors() {
        let err = SendError::Api {
            http_status: 404,
            code: Some(132001),
            title: "Template name does not exist in the translation".into(),
            details: None,
            fbtrace_id: None,
            retry_after: None,
        };
        assert_eq!(err.code(), Some(132001));
        assert_eq!(
            err.to_string(),
            "WhatsApp API error #132001 (HTTP 404): Template name does not exist in the translation"
        );
        let net = SendError::Network("timeout".into());
        assert_eq!(net.code(), None);
        assert!(net.title().contains("timeout"));
    }
}
