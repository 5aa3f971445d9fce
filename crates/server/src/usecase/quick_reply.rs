//! Reply payloads (SPEC §4.16): what a template's quick-reply button, or a reply button or
//! list row of a question asked in the chat, carries so a tap can be recorded as an answer.
//! A payload names the invite and what was tapped (a template message's button, or a
//! question's option), and is signed with the sender account's app secret, so it cannot be
//! forged into another invite's answer or another value; the value itself is read from the
//! invite's frozen settings or its survey.

use closeloop_domain::config::MessageKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The payload format's version, so a later format can tell old taps apart.
const VERSION: &str = "cl1";
/// Bytes of the HMAC kept: 128 bits.
const MAC_BYTES: usize = 16;

/// What a verified payload names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tap {
    /// The invite the button belongs to.
    pub(crate) invite_id: String,
    /// What was tapped.
    pub(crate) target: Target,
}

/// What a tap answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A quick-reply button of a template message (invitation or reminder), by its
    /// position among the quick replies.
    Button { kind: MessageKind, button: usize },
    /// An option of a question asked in the chat, by the question's position in the
    /// survey and the option's among its options.
    Choice { question: usize, option: usize },
}

/// The prefix of a question's code: `q2` is the survey's third question.
const QUESTION_CODE: &str = "q";

/// Why a payload records nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a payload closeloop issued.
    NotOurs,
    /// The signature does not match: tampered or forged.
    BadSignature,
}

fn kind_code(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Invitation => "i",
        MessageKind::Reminder => "r",
        MessageKind::ThankYou => "t",
        MessageKind::Question => QUESTION_CODE,
    }
}

fn kind_of(code: &str) -> Option<MessageKind> {
    match code {
        "i" => Some(MessageKind::Invitation),
        "r" => Some(MessageKind::Reminder),
        "t" => Some(MessageKind::ThankYou),
        _ => None,
    }
}

/// The payload's middle parts: what was tapped and which of its buttons.
fn target_parts(target: &Target) -> (String, usize) {
    match target {
        Target::Button { kind, button } => (kind_code(*kind).to_string(), *button),
        Target::Choice { question, option } => (format!("{QUESTION_CODE}{question}"), *option),
    }
}

fn target_of(code: &str, index: usize) -> Option<Target> {
    if let Some(question) = code.strip_prefix(QUESTION_CODE) {
        return Some(Target::Choice {
            question: question.parse().ok()?,
            option: index,
        });
    }
    Some(Target::Button {
        kind: kind_of(code)?,
        button: index,
    })
}

fn hmac_of(secret: &[u8], signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signed.as_bytes());
    mac
}

fn mac(secret: &[u8], signed: &str) -> String {
    hex::encode(&hmac_of(secret, signed).finalize().into_bytes()[..MAC_BYTES])
}

/// The payload of a button or option of an invite's message.
pub(crate) fn issue(secret: &[u8], tap: &Tap) -> String {
    let (code, index) = target_parts(&tap.target);
    let signed = format!("{VERSION}.{}.{code}.{index}", tap.invite_id);
    let mac = mac(secret, &signed);
    format!("{signed}.{mac}")
}

/// The invite of a payload, unverified: which account's secret to check it with.
pub(crate) fn invite_of(payload: &str) -> Option<&str> {
    let mut parts = payload.split('.');
    (parts.next() == Some(VERSION))
        .then(|| parts.next())
        .flatten()
}

/// Checks a payload against the sender account's secret.
///
/// # Errors
/// A payload closeloop did not issue, or whose signature does not match.
pub(crate) fn verify(secret: &[u8], payload: &str) -> Result<Tap, Refusal> {
    let (signed, given) = payload.rsplit_once('.').ok_or(Refusal::NotOurs)?;
    let parts: Vec<&str> = signed.split('.').collect();
    let [VERSION, invite_id, code, index] = parts.as_slice() else {
        return Err(Refusal::NotOurs);
    };
    let given = hex::decode(given).map_err(|_| Refusal::BadSignature)?;
    if given.len() != MAC_BYTES {
        return Err(Refusal::BadSignature);
    }
    // Constant time, so the signature cannot be found byte by byte.
    hmac_of(secret, signed)
        .verify_truncated_left(&given)
        .map_err(|_| Refusal::BadSignature)?;
    let index = index.parse().map_err(|_| Refusal::NotOurs)?;
    Ok(Tap {
        invite_id: (*invite_id).to_string(),
        target: target_of(code, index).ok_or(Refusal::NotOurs)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_payload_verifies_and_any_change_is_refused() {
        let tap = Tap {
            invite_id: "inv_abc".into(),
            target: Target::Button {
                kind: MessageKind::Invitation,
                button: 2,
            },
        };
        let payload = issue(b"secret", &tap);
        assert!(payload.len() <= 256, "{payload}");
        assert_eq!(invite_of(&payload), Some("inv_abc"));
        assert_eq!(verify(b"secret", &payload), Ok(tap));
        let other_button = payload.replacen(".i.2.", ".i.0.", 1);
        assert_eq!(verify(b"secret", &other_button), Err(Refusal::BadSignature));
        let other_invite = payload.replacen("inv_abc", "inv_abd", 1);
        assert_eq!(verify(b"secret", &other_invite), Err(Refusal::BadSignature));
        assert_eq!(verify(b"another", &payload), Err(Refusal::BadSignature));
        assert_eq!(verify(b"secret", "Very satisfied"), Err(Refusal::NotOurs));
    }

    #[test]
    fn a_question_option_round_trips_and_cannot_become_another_option() {
        let tap = Tap {
            invite_id: "inv_abc".into(),
            target: Target::Choice {
                question: 1,
                option: 2,
            },
        };
        let id = issue(b"secret", &tap);
        assert!(
            id.len() <= 200,
            "a list row id has at most 200 characters: {id}"
        );
        assert_eq!(verify(b"secret", &id), Ok(tap));
        let other_option = id.replacen(".q1.2.", ".q1.0.", 1);
        assert_eq!(verify(b"secret", &other_option), Err(Refusal::BadSignature));
    }
}
