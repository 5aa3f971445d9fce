//! Injected failures and the Graph error answers the mock gives.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use closeloop_whatsapp::wire::{ErrorData, GraphError, GraphErrorEnvelope};

use crate::ids;

/// Code, title and details of Meta's 131047, the same in the sync error and the `failed`
/// status webhook.
pub(crate) const RE_ENGAGEMENT: (i64, &str, &str) = (
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last \
     replied to this number.",
);

/// An answer to force on the next send attempt, whatever the request holds.
#[derive(Clone, Debug)]
pub struct Failure {
    /// HTTP status of the answer.
    pub http_status: u16,
    /// Graph error code; `None` answers a plain-text body, as a proxy in front of Meta would.
    pub code: Option<i64>,
    /// Error title (the envelope's message becomes `"(#code) <message>"`).
    pub message: String,
}

impl Failure {
    /// A plain HTTP 500 without a Graph envelope.
    pub fn server_error() -> Failure {
        Failure {
            http_status: 500,
            code: None,
            message: "Internal Server Error".into(),
        }
    }

    /// A Graph error envelope with this status, code and title.
    pub fn graph(http_status: u16, code: i64, message: &str) -> Failure {
        Failure {
            http_status,
            code: Some(code),
            message: message.into(),
        }
    }

    pub(crate) fn into_response(self) -> Response {
        match self.code {
            Some(code) => {
                Rejection::new(self.http_status, code, &self.message, &self.message).into_response()
            }
            None => plain(self.http_status, &self.message),
        }
    }
}

/// A refusal in Meta's shape: HTTP status plus the Graph error envelope.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rejection {
    pub http_status: u16,
    /// Boxed: the envelope is large and travels in every `Result` of the validation path.
    pub error: Box<GraphError>,
}

impl Rejection {
    /// The usual WhatsApp error: `"(#code) title"` with `error_data.details`.
    pub fn new(http_status: u16, code: i64, title: &str, details: &str) -> Rejection {
        Rejection {
            http_status,
            error: Box::new(GraphError {
                message: Some(format!("(#{code}) {title}")),
                kind: Some("OAuthException".into()),
                code: Some(code),
                error_subcode: None,
                error_data: Some(ErrorData {
                    messaging_product: Some("whatsapp".into()),
                    details: Some(details.into()),
                }),
                fbtrace_id: Some(ids::fbtrace_id()),
            }),
        }
    }

    /// A bad or foreign access token: Meta's 190 carries no `(#190)` prefix and no details.
    pub fn bad_token() -> Rejection {
        Rejection {
            http_status: 401,
            error: Box::new(GraphError {
                message: Some("Invalid OAuth access token - Cannot parse access token".into()),
                kind: Some("OAuthException".into()),
                code: Some(190),
                fbtrace_id: Some(ids::fbtrace_id()),
                ..GraphError::default()
            }),
        }
    }

    /// A Graph-level "no such object" (unknown phone number id), like Meta's code 100/33.
    pub fn unknown_object(id: &str) -> Rejection {
        Rejection {
            http_status: 400,
            error: Box::new(GraphError {
                message: Some(format!(
                    "Unsupported post request. Object with ID '{id}' does not exist, cannot be \
                     loaded due to missing permissions, or does not support this operation."
                )),
                kind: Some("GraphMethodException".into()),
                code: Some(100),
                error_subcode: Some(33),
                fbtrace_id: Some(ids::fbtrace_id()),
                ..GraphError::default()
            }),
        }
    }

    /// An unknown path, answered like Graph's "Unknown path components".
    pub fn unknown_path(path: &str) -> Rejection {
        Rejection {
            http_status: 404,
            error: Box::new(GraphError {
                message: Some(format!("Unknown path components: {path}")),
                kind: Some("OAuthException".into()),
                code: Some(2500),
                fbtrace_id: Some(ids::fbtrace_id()),
                ..GraphError::default()
            }),
        }
    }

    /// A free-form message outside the 24-hour customer service window (reference §2.4).
    pub fn re_engagement() -> Rejection {
        Rejection::new(400, RE_ENGAGEMENT.0, RE_ENGAGEMENT.1, RE_ENGAGEMENT.2)
    }

    /// 400 code 100 naming the offending field.
    pub fn invalid_parameter(details: String) -> Rejection {
        Rejection::new(400, 100, "Invalid parameter", &details)
    }

    /// The code, for tests.
    #[cfg(test)]
    pub fn code(&self) -> Option<i64> {
        self.error.code
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        let envelope = GraphErrorEnvelope { error: *self.error };
        (status, axum::Json(envelope)).into_response()
    }
}

pub(crate) fn plain(http_status: u16, text: &str) -> Response {
    let status = StatusCode::from_u16(http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        text.to_string(),
    )
        .into_response()
}
