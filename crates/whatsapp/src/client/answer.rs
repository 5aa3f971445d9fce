//! Pure interpretation of an HTTP answer from the Cloud API, kept apart from the I/O so every
//! branch is unit-tested.

use std::time::Duration;

use super::{Accepted, SendError};
use crate::wire::{GraphErrorEnvelope, SendResponse};

/// Longest `Retry-After` we honour; a larger value is more likely a bug than advice.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Longest slice of a non-JSON error body kept as the title.
const MAX_RAW_TITLE: usize = 200;

/// Reads `Retry-After` as delta-seconds. HTTP-date values are ignored: Meta sends seconds.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Turns status + body into the send's outcome.
pub(crate) fn interpret(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<Accepted, SendError> {
    if (200..300).contains(&status) {
        return accepted(body);
    }
    Err(api_error(status, body, retry_after))
}

fn accepted(body: &[u8]) -> Result<Accepted, SendError> {
    let response: SendResponse = serde_json::from_slice(body)
        .map_err(|e| SendError::Malformed(format!("success body is not a send response: {e}")))?;
    let message = response
        .messages
        .into_iter()
        .next()
        .filter(|m| !m.id.is_empty())
        .ok_or_else(|| SendError::Malformed("success body has no messages[0].id".into()))?;
    Ok(Accepted {
        wamid: message.id,
        wa_id: response.contacts.into_iter().next().and_then(|c| c.wa_id),
        message_status: message.message_status,
    })
}

fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> SendError {
    match serde_json::from_slice::<GraphErrorEnvelope>(body) {
        Ok(GraphErrorEnvelope { error }) => SendError::Api {
            http_status: status,
            code: error.code,
            title: error
                .message
                .as_deref()
                .map(strip_code_prefix)
                .unwrap_or("no error message")
                .to_string(),
            details: error.error_data.and_then(|d| d.details),
            fbtrace_id: error.fbtrace_id,
            retry_after,
        },
        // A proxy or load balancer in front of Meta can answer with HTML or plain text.
        Err(_) => SendError::Api {
            http_status: status,
            code: None,
            title: raw_title(status, body),
            details: None,
            fbtrace_id: None,
            retry_after,
        },
    }
}

/// `"(#131056) pair rate limit hit"` → `"pair rate limit hit"`; other texts are kept whole.
fn strip_code_prefix(message: &str) -> &str {
    if let Some(rest) = message.strip_prefix("(#") {
        if let Some((code, title)) = rest.split_once(") ") {
            if !code.is_empty() && code.chars().all(|c| c.is_ascii_digit()) {
                return title;
            }
        }
    }
    message
}

fn raw_title(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    text.chars().take(MAX_RAW_TITLE).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_reads_wamid_wa_id_and_status() {
        let body =
            br#"{"messaging_product":"whatsapp","contacts":[{"input":"+55 11","wa_id":"5511"}],
            "messages":[{"id":"wamid.A","message_status":"held_for_quality_assessment"}]}"#;
        let ok = interpret(200, body, None).unwrap();
        assert_eq!(ok.wamid, "wamid.A");
        assert_eq!(ok.wa_id.as_deref(), Some("5511"));
        assert_eq!(
            ok.message_status.as_deref(),
            Some("held_for_quality_assessment")
        );
    }

    #[test]
    fn success_without_id_is_malformed() {
        for body in [
            &b"{}"[..],
            br#"{"messages":[]}"#,
            br#"{"messages":[{"id":""}]}"#,
            b"<html>",
        ] {
            assert!(matches!(
                interpret(200, body, None),
                Err(SendError::Malformed(_))
            ));
        }
    }

    #[test]
    fn graph_error_is_parsed_and_prefix_stripped() {
        let body = br#"{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException",
            "code":131030,"error_data":{"messaging_product":"whatsapp","details":"not whitelisted"},
            "error_subcode":2655007,"fbtrace_id":"Ax1"}}"#;
        let err = interpret(400, body, None).unwrap_err();
        assert_eq!(
            err,
            SendError::Api {
                http_status: 400,
                code: Some(131030),
                title: "Recipient phone number not in allowed list".into(),
                details: Some("not whitelisted".into()),
                fbtrace_id: Some("Ax1".into()),
                retry_after: None,
            }
        );
    }

    #[test]
    fn message_without_prefix_is_kept() {
        let body = br#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token","code":190}}"#;
        assert_eq!(
            interpret(401, body, None).unwrap_err().title(),
            "Invalid OAuth access token - Cannot parse access token"
        );
        assert_eq!(strip_code_prefix("(#x) y"), "(#x) y");
        assert_eq!(strip_code_prefix("(#12)no space"), "(#12)no space");
    }

    #[test]
    fn non_json_error_body_is_tolerated() {
        let err = interpret(
            502,
            b"<html>Bad Gateway</html>",
            Some(Duration::from_secs(3)),
        )
        .unwrap_err();
        match err {
            SendError::Api {
                http_status,
                code,
                title,
                retry_after,
                ..
            } => {
                assert_eq!(http_status, 502);
                assert_eq!(code, None);
                assert_eq!(title, "<html>Bad Gateway</html>");
                assert_eq!(retry_after, Some(Duration::from_secs(3)));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            interpret(500, b"", None).unwrap_err().title(),
            "HTTP 500 with an empty body"
        );
    }

    #[test]
    fn retry_after_is_seconds_and_clamped() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
