//! The one error-code table and the error every operation answers with, in the SPEC §5
//! shape `{"error":{"code","message","path"}}`.
//!
//! Each [`Code`] has exactly one HTTP status, here; handlers and use cases name a variant,
//! never a string. The OpenAPI document lists every code through [`Code`]'s schema.
//! 5xx bodies are opaque; their cause is logged.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// Every error code the service answers, with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Code {
    /// The body is not valid JSON (or not the JSON value expected).
    InvalidJson,
    /// A field has the wrong type or value; `path` names it.
    InvalidField,
    /// The body cannot be read (not UTF-8 NDJSON).
    InvalidBody,
    /// A header is malformed.
    InvalidHeader,
    /// A query parameter is malformed.
    InvalidQuery,
    /// A merge patch that is not a JSON object.
    InvalidPatch,
    /// The body's id is not the path's.
    IdMismatch,
    /// An `Idempotency-Key` that cannot be used.
    InvalidIdempotencyKey,
    /// The method is not one the path serves.
    MethodNotAllowed,
    /// The body did not arrive within the body deadline.
    RequestTimeout,
    /// The body (or one line of a batch) is larger than the route accepts.
    PayloadTooLarge,
    /// The body's content type is not one the route reads.
    UnsupportedMediaType,
    /// No valid credentials.
    Unauthorized,
    /// Authenticated, but without the permission the message names.
    Forbidden,
    /// No such resource.
    NotFound,
    /// An object with that id exists.
    AlreadyExists,
    /// The change would break another object of the config; `path` names it.
    BreaksConfig,
    /// The survey link has expired (410, like its page).
    LinkExpired,
    /// The survey is paused and accepts no answers.
    SurveyPaused,
    /// The survey was already submitted.
    AlreadyCompleted,
    /// `If-Match` does not match: someone else changed the object.
    PreconditionFailed,
    /// The config (or the written object) is invalid; `path` names the field.
    InvalidConfig,
    /// A phone number that is not valid E.164.
    InvalidPhone,
    /// A recipient that cannot be messaged.
    InvalidRecipient,
    /// A language the survey does not offer.
    InvalidLanguage,
    /// A survey answer is invalid; `path` names the question.
    InvalidAnswer,
    /// The distribution has no approved template for that message.
    TemplateNotAvailable,
    /// The number is on the suppression list.
    Suppressed,
    /// No configured account has that id.
    UnknownAccount,
    /// The distribution has no message of that kind.
    NoSuchMessage,
    /// A secret was written and no key to store it encrypted is set; the message names
    /// the environment variable.
    SecretKeyMissing,
    /// An internal error; it has been logged.
    Internal,
    /// A dependency is not available now; retry.
    Unavailable,
}

impl Code {
    /// The HTTP status this code is answered with.
    pub(crate) fn status(self) -> u16 {
        match self {
            Code::InvalidJson
            | Code::InvalidField
            | Code::InvalidBody
            | Code::InvalidHeader
            | Code::InvalidQuery
            | Code::InvalidPatch
            | Code::IdMismatch
            | Code::InvalidIdempotencyKey => 400,
            Code::Unauthorized => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::AlreadyExists
            | Code::BreaksConfig
            | Code::SurveyPaused
            | Code::AlreadyCompleted => 409,
            Code::MethodNotAllowed => 405,
            Code::RequestTimeout => 408,
            Code::LinkExpired => 410,
            Code::PreconditionFailed => 412,
            Code::PayloadTooLarge => 413,
            Code::UnsupportedMediaType => 415,
            Code::InvalidConfig
            | Code::InvalidPhone
            | Code::InvalidRecipient
            | Code::InvalidLanguage
            | Code::InvalidAnswer
            | Code::TemplateNotAvailable
            | Code::Suppressed
            | Code::UnknownAccount
            | Code::NoSuchMessage
            | Code::SecretKeyMissing => 422,
            Code::Internal => 500,
            Code::Unavailable => 503,
        }
    }
}

/// An error answered to a client: a [`Code`], a sentence for a person, and the field it
/// is about.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    code: Code,
    message: String,
    path: Option<String>,
    details: Vec<serde_json::Value>,
}

impl ApiError {
    /// An error with its code and message.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            path: None,
            details: Vec::new(),
        }
    }

    /// The field the error is about.
    pub(crate) fn at(mut self, path: impl Into<String>) -> ApiError {
        let path = path.into();
        self.path = (!path.is_empty()).then_some(path);
        self
    }

    /// Every problem found, each `{"path","message"}`, when there is more than one.
    pub(crate) fn with_details(mut self, details: Vec<serde_json::Value>) -> ApiError {
        self.details = details;
        self
    }

    /// `not_found`: no `what` with that id.
    pub(crate) fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(Code::NotFound, format!("{what} {id:?} does not exist"))
    }

    /// `unauthorized`: no valid credentials.
    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Unauthorized, message)
    }

    /// `forbidden`: the message names the missing permission.
    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Forbidden, message)
    }

    /// `unavailable`: retry later.
    pub(crate) fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Unavailable, message)
    }

    /// `internal` with an opaque message; the cause goes to the log only.
    pub(crate) fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            Code::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    /// The HTTP status of its code.
    pub(crate) fn status(&self) -> u16 {
        self.code.status()
    }

    /// Its code.
    pub(crate) fn code(&self) -> Code {
        self.code
    }

    /// Its sentence for a person.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The field it is about, if any.
    pub(crate) fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// Every problem behind it (`{path, message}` each), when there were several.
    pub(crate) fn details(&self) -> &[serde_json::Value] {
        &self.details
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(path) = &self.path {
            error["path"] = json!(path);
        }
        if !self.details.is_empty() {
            error["details"] = json!(self.details);
        }
        json!({ "error": error })
    }
}

/// Refuses a JSON value holding a NUL character (`\u0000`) in any string or key, naming
/// where: PostgreSQL stores no NUL in text or jsonb, so it would fail as a 500 there.
///
/// # Errors
/// 400 `invalid_field` with the path of the first one.
pub(crate) fn refuse_nul(value: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    Some(here)
                } else {
                    walk(item, &here)
                }
            }),
            _ => None,
        }
    }
    match walk(value, "") {
        Some(path) => Err(ApiError::new(
            Code::InvalidField,
            "a text holds a NUL character (\\u0000), which is not stored",
        )
        .at(path)),
        None => Ok(()),
    }
}

impl From<closeloop_store::StoreError> for ApiError {
    fn from(e: closeloop_store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_answers_its_status_and_its_snake_case_name() {
        let error = ApiError::new(Code::InvalidIdempotencyKey, "bad key").at("Idempotency-Key");
        assert_eq!(error.status(), 400);
        assert_eq!(error.body()["error"]["code"], "invalid_idempotency_key");
        assert_eq!(error.body()["error"]["path"], "Idempotency-Key");
        assert_eq!(ApiError::new(Code::PreconditionFailed, "x").status(), 412);
        assert_eq!(
            ApiError::internal("cause").body()["error"]["code"],
            "internal"
        );
    }
}
