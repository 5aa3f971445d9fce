//! `closeloop explain CASE_ID`: the trace of a case, for a person.

use std::fmt::Write;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::cli::out;

/// Fetches `GET /api/v1/cases/{id}/trace` and prints it.
pub(crate) async fn run(
    case_id: &str,
    server: &str,
    token: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let url = format!(
        "{}/api/v1/cases/{}/trace",
        server.trim_end_matches('/'),
        urlencode(case_id)
    );
    let mut request = reqwest::Client::new().get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .context("the server's answer is not JSON")?;
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("request failed");
        eprintln!("closeloop explain: {status}: {message}");
        return Ok(ExitCode::FAILURE);
    }
    out::print(&render(&body)).context("cannot write the trace")?;
    Ok(ExitCode::SUCCESS)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The trace as indented text: event → rule → conditions and actions.
pub(crate) fn render(trace: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "case {}", trace["case_id"].as_str().unwrap_or("?"));
    for event in trace["events"].as_array().into_iter().flatten() {
        let changed: Vec<&str> = event["changed"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(
            out,
            "\n{} {} ({}) changed: {}",
            event["at"].as_str().unwrap_or(""),
            event["kind"].as_str().unwrap_or(""),
            event["event_id"].as_str().unwrap_or(""),
            if changed.is_empty() {
                "-".to_string()
            } else {
                changed.join(", ")
            }
        );
        if let Some(note) = event["note"].as_str() {
            let _ = writeln!(out, "  note: {note}");
        }
        if event["processed"] == Value::Bool(false) {
            let _ = writeln!(out, "  (not processed yet)");
        }
        for rule in event["rules"].as_array().into_iter().flatten() {
            let matched = rule["matched"].as_bool().unwrap_or(false);
            let _ = writeln!(
                out,
                "  rule {}: {}",
                rule["rule"].as_str().unwrap_or("?"),
                if matched { "MATCHED" } else { "did not match" }
            );
            if let Some(field) = rule["unchanged"].as_str() {
                let _ = writeln!(
                    out,
                    "    not evaluated: it needs {field} to change, and it did not"
                );
            }
            for c in rule["conditions"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "    [{}] {} {} {} (saw {})",
                    if c["result"].as_bool().unwrap_or(false) {
                        "x"
                    } else {
                        " "
                    },
                    c["field"].as_str().unwrap_or("?"),
                    c["op"].as_str().unwrap_or("?"),
                    c["expected"],
                    c["actual"]
                );
            }
            for a in rule["actions"].as_array().into_iter().flatten() {
                let reason = a["reason"]
                    .as_str()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                let invite = a["invite_id"]
                    .as_str()
                    .map(|i| format!(" [{i}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    -> {} {}{}{}",
                    a["action"].as_str().unwrap_or("?"),
                    a["outcome"].as_str().unwrap_or("?"),
                    reason,
                    invite
                );
                for note in a["notes"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "       note: {}", note.as_str().unwrap_or(""));
                }
            }
        }
        for note in event["notes"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  note: {}", note.as_str().unwrap_or(""));
        }
    }
    for schedule in trace["schedules"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "\nqueue rule {}: {} run(s) that did nothing since its last stored run (last {} at {}); next run {}, ends {}",
            schedule["rule"].as_str().unwrap_or("?"),
            schedule["skipped_runs"].as_i64().unwrap_or(0),
            schedule["last_outcome"].as_str().unwrap_or("-"),
            schedule["last_run_at"].as_str().unwrap_or("-"),
            schedule["next_run_at"].as_str().unwrap_or("-"),
            schedule["ends_at"].as_str().unwrap_or("-"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn render_names_the_failed_condition_and_the_value_seen() {
        let trace = json!({"case_id": "C-1", "events": [{"event_id": "evt_1", "kind": "case_created", "at": "2026-12-01T00:00:00Z",
            "changed": ["status"], "processed": true,
            "rules": [{"rule": "invite", "matched": false,
                "conditions": [{"field": "case.status", "op": "changed_to", "expected": "Resolved", "actual": "Open", "result": false}],
                "actions": []}]}]});
        let text = render(&trace);
        assert!(text.contains("rule invite: did not match"), "{text}");
        assert!(
            text.contains("[ ] case.status changed_to \"Resolved\" (saw \"Open\")"),
            "{text}"
        );
    }

    #[test]
    fn urlencode_escapes_reserved_characters() {
        assert_eq!(urlencode("C 1/2"), "C%201%2F2");
    }
}
