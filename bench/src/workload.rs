//! Case generation. Every update of a run gets a sequence number from one counter, so case
//! ids, case numbers and phone numbers are unique across all phases and the mock's messages
//! can be joined back to the PUT that caused them by case number alone.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

/// Hands out sequence numbers; shared by every task of every phase.
#[derive(Debug, Default)]
pub struct Sequence(AtomicU64);

impl Sequence {
    /// The next unused sequence number (starting at 1).
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// One generated update.
#[derive(Debug)]
pub struct Update {
    /// The case id (the path segment of the PUT).
    pub id: String,
    /// The case number; the invitation's body parameter 2 carries it back.
    pub number: u64,
    /// Whether this update resolves a billing case (and so must produce one invitation).
    pub resolves: bool,
    /// The case body, without `id` (PUT takes the id from the path).
    pub body: Value,
}

/// The update for sequence number `seq`: even numbers resolve a billing case, odd ones are
/// plain open-case updates, so any run has the same half-and-half mix.
pub fn update(seq: u64) -> Update {
    let resolves = seq.is_multiple_of(2);
    // Spanish mobile numbers: +34 6 followed by 8 digits is valid for libphonenumber;
    // +3460 plus 7 digits of the sequence keeps them distinct for 10 million updates.
    let phone = format!("+3460{:07}", seq % 10_000_000);
    // Alternate languages among resolving cases so both templates are exercised.
    let language = if (seq / 2).is_multiple_of(2) {
        "es"
    } else {
        "en"
    };
    let body = json!({
        "number": seq.to_string(),
        "status": if resolves { "Resolved" } else { "Open" },
        "priority": "normal",
        "case_type": if resolves { "billing" } else { "question" },
        "queue": "tier1",
        "assignee": "agent-7",
        "region": "EMEA",
        "profile": {
            "id": format!("P-{seq}"),
            "name": "Bench Customer",
            "first_name": "Ana",
            "phone": phone,
            "language": language,
        },
    });
    Update {
        id: format!("B-{seq}"),
        number: seq,
        resolves,
        body,
    }
}

/// One NDJSON line of `POST /cases:batch`: the case with its `id` inside.
pub fn batch_line(update: &Update) -> String {
    let mut line = update.body.clone();
    line["id"] = json!(update.id);
    line.to_string()
}

/// The case number in an invitation the mock received: the text of body parameter 2
/// (`{{case.number}}` in the distribution's `body_params`).
pub fn case_number_of(message: &Value) -> Option<u64> {
    message["template"]["components"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "body")?["parameters"]
        .get(1)?["text"]
        .as_str()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_of_the_updates_resolve_with_distinct_phones() {
        let a = update(2);
        let b = update(4);
        assert!(a.resolves && b.resolves && !update(3).resolves);
        assert_eq!(a.body["status"], "Resolved");
        assert_ne!(a.body["profile"]["phone"], b.body["profile"]["phone"]);
        assert_eq!(a.body["profile"]["phone"].as_str().map(str::len), Some(12));
    }

    #[test]
    fn case_number_is_read_from_body_parameter_two() {
        let message = json!({"template": {"components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                            {"type": "text", "text": "42"},
                                            {"type": "text", "text": "http://x/s/T"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": []}]}});
        assert_eq!(case_number_of(&message), Some(42));
        assert_eq!(case_number_of(&json!({})), None);
    }

    #[test]
    fn batch_lines_carry_the_id() {
        let line: Value = serde_json::from_str(&batch_line(&update(7))).expect("json");
        assert_eq!(line["id"], "B-7");
        assert_eq!(line["status"], "Open");
    }
}
