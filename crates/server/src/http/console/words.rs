//! Rules and traces in words, for people who do not read YAML: a rule's trigger,
//! conditions and actions from its config-file form, and a case's trace (SPEC §5.1's
//! shape) as sentences. Each is a list of lines with their nesting depth.

use serde_json::{Map, Value};

/// One line of a description, indented `depth` levels.
pub(crate) struct Line {
    pub(crate) depth: usize,
    pub(crate) text: String,
}

fn push(lines: &mut Vec<Line>, depth: usize, text: impl Into<String>) {
    lines.push(Line {
        depth,
        text: text.into(),
    });
}

/// A value as a person reads it: text without quotes, lists joined.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// An operator and its operand in words.
fn operator(op: &str, operand: &Value) -> String {
    let v = shown(operand);
    match op {
        "eq" => format!("is {v}"),
        "ne" => format!("is not {v}"),
        "in" => format!("is one of {v}"),
        "not_in" => format!("is none of {v}"),
        "contains" => format!("contains {v}"),
        "exists" if operand == &Value::Bool(false) => "is absent".into(),
        "exists" => "is present".into(),
        "gt" => format!("is more than {v}"),
        "gte" => format!("is at least {v}"),
        "lt" => format!("is less than {v}"),
        "lte" => format!("is at most {v}"),
        "matches" => format!("matches the pattern {v}"),
        "changed" if operand == &Value::Bool(false) => "did not change".into(),
        "changed" => "changed".into(),
        "changed_to" => format!("changed to {v}"),
        "changed_from" => format!("changed from {v}"),
        "duration" => format!("went out longer ago than {v}"),
        other => format!("{other} {v}"),
    }
}

/// Keys of a survey condition that name its survey rather than test something.
const SURVEY_KEYS: [&str; 4] = ["survey", "channel", "distribution", "question"];

fn field_condition(lines: &mut Vec<Line>, depth: usize, field: &str, test: &Value) {
    let Some(ops) = test.as_object() else {
        push(lines, depth, format!("{field} is {}", shown(test)));
        return;
    };
    let subject = match (ops.get("survey"), ops.get("distribution")) {
        (Some(survey), Some(distribution)) => {
            let question = ops
                .get("question")
                .map(|q| format!(" to question {}", shown(q)))
                .unwrap_or_default();
            let what = field.trim_start_matches("survey.").replace('_', " ");
            format!(
                "the {what}{question} of survey {} through {}",
                shown(survey),
                shown(distribution)
            )
        }
        _ => field.to_string(),
    };
    let tests: Vec<String> = ops
        .iter()
        .filter(|(k, _)| !SURVEY_KEYS.contains(&k.as_str()))
        .map(|(k, v)| operator(k, v))
        .collect();
    push(lines, depth, format!("{subject} {}", tests.join(" and ")));
}

/// A condition tree (`when`).
pub(crate) fn condition(lines: &mut Vec<Line>, depth: usize, when: &Value) {
    match when {
        Value::Array(items) => {
            push(lines, depth, "all of these hold:");
            for item in items {
                condition(lines, depth + 1, item);
            }
        }
        Value::Object(map) => condition_map(lines, depth, map),
        other => push(lines, depth, shown(other)),
    }
}

fn condition_map(lines: &mut Vec<Line>, depth: usize, map: &Map<String, Value>) {
    for (key, value) in map {
        match key.as_str() {
            "all" => {
                push(lines, depth, "all of these hold:");
                for item in value.as_array().into_iter().flatten() {
                    condition(lines, depth + 1, item);
                }
            }
            "any" => {
                push(lines, depth, "any of these holds:");
                for item in value.as_array().into_iter().flatten() {
                    condition(lines, depth + 1, item);
                }
            }
            "not" => {
                push(lines, depth, "this does not hold:");
                condition(lines, depth + 1, value);
            }
            field => field_condition(lines, depth, field, value),
        }
    }
}

fn target(fields: &Value) -> String {
    format!(
        "survey {} through {}",
        shown(&fields["survey"]),
        shown(&fields["distribution"])
    )
}

/// The actions (`then`), with their nested `if`s.
pub(crate) fn actions(lines: &mut Vec<Line>, depth: usize, then: &Value) {
    for element in then.as_array().into_iter().flatten() {
        let Some(map) = element.as_object() else {
            push(lines, depth, shown(element));
            continue;
        };
        if let Some(when) = map.get("if") {
            push(lines, depth, "if");
            condition(lines, depth + 1, when);
            push(lines, depth, "then");
            actions(lines, depth + 1, &map["then"]);
            if let Some(otherwise) = map.get("else") {
                push(lines, depth, "otherwise");
                actions(lines, depth + 1, otherwise);
            }
            continue;
        }
        for (name, fields) in map {
            let text = match name.as_str() {
                "trigger_survey_invitation" => {
                    format!("send the invitation to {}", target(fields))
                }
                "send_survey_reminder" => format!("send a reminder of {}", target(fields)),
                "send_thank_you_message" => format!("send the thank-you of {}", target(fields)),
                "move_to_queue" => format!("move the case to queue {}", shown(fields)),
                "add_tag" => format!("tag the case {}", shown(fields)),
                "set_field" => format!(
                    "set {} to {}",
                    shown(&fields["field"]),
                    shown(&fields["value"])
                ),
                other => format!("{other} {}", shown(fields)),
            };
            push(lines, depth, text);
        }
    }
}

/// When a rule runs (`on`).
pub(crate) fn trigger(on: &Value) -> String {
    match on {
        Value::Object(q) => format!(
            "Every {} for each case in queue {}, for {} after it entered",
            shown(&q["every"]),
            shown(&q["queue"]),
            q.get("for").map_or_else(|| "30d".into(), shown)
        ),
        _ => "Whenever a case changes".into(),
    }
}

/// A rule in words: when it runs, what must hold, what it does.
pub(crate) fn rule(rule: &Value) -> Vec<Line> {
    let mut lines = Vec::new();
    push(&mut lines, 0, trigger(&rule["on"]));
    match rule.get("when") {
        Some(when) if !when.is_null() => {
            push(&mut lines, 0, "and when");
            condition(&mut lines, 1, when);
        }
        _ => push(&mut lines, 0, "(no conditions)"),
    }
    push(&mut lines, 0, "it does:");
    actions(&mut lines, 1, &rule["then"]);
    lines
}

/// One event of a case's trace in words: what happened, and per rule that ran, whether
/// it matched, what each condition saw and what each action did and why.
pub(crate) fn event(event: &Value) -> Vec<Line> {
    let mut lines = Vec::new();
    let kind = shown(&event["kind"]).replace('_', " ");
    let changed = event["changed"]
        .as_array()
        .filter(|c| !c.is_empty())
        .map(|c| format!(" ({} changed)", shown(&Value::Array(c.clone()))))
        .unwrap_or_default();
    push(
        &mut lines,
        0,
        format!("{} — {kind}{changed}", shown(&event["at"])),
    );
    if let Some(note) = event["note"].as_str() {
        push(&mut lines, 1, note);
    }
    if event["processed"] == Value::Bool(false) {
        push(&mut lines, 1, "not evaluated yet");
        return lines;
    }
    let rules = event["rules"].as_array().cloned().unwrap_or_default();
    if rules.is_empty() {
        push(&mut lines, 1, "no rule ran");
    }
    for rule in &rules {
        let verdict = if rule["matched"] == Value::Bool(true) {
            "matched".to_string()
        } else if let Some(field) = rule["unchanged"].as_str() {
            format!("not evaluated, {field} did not change")
        } else {
            "did not match".to_string()
        };
        push(
            &mut lines,
            1,
            format!("rule {}: {verdict}", shown(&rule["rule"])),
        );
        for c in rule["conditions"].as_array().into_iter().flatten() {
            let held = if c["result"] == Value::Bool(true) {
                "✓"
            } else {
                "✗"
            };
            push(
                &mut lines,
                2,
                format!(
                    "{held} {} {} (saw {})",
                    shown(&c["field"]),
                    operator(c["op"].as_str().unwrap_or(""), &c["expected"]),
                    shown(&c["actual"])
                ),
            );
        }
        for a in rule["actions"].as_array().into_iter().flatten() {
            let outcome = shown(&a["outcome"]).replace('_', " ");
            let reason = a["reason"]
                .as_str()
                .map(|r| format!(": {}", r.replace('_', " ")))
                .unwrap_or_default();
            let invite = a["invite_id"]
                .as_str()
                .map(|i| format!(" (invite {i})"))
                .unwrap_or_default();
            let notes = a["notes"]
                .as_array()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" — {}", shown(&Value::Array(n.clone()))))
                .unwrap_or_default();
            push(
                &mut lines,
                2,
                format!("{} → {outcome}{reason}{notes}{invite}", shown(&a["action"])),
            );
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{}{}", "  ".repeat(l.depth), l.text))
            .collect()
    }

    #[test]
    fn an_event_says_its_note_and_why_each_rule_did_or_did_not_run() {
        let event = json!({
            "kind": "message_received", "at": "2026-01-01T00:00:00Z", "changed": [],
            "processed": true,
            "note": "reply recorded no answer: its signature does not match (tampered or forged)",
            "rules": [{"rule": "invite-on-resolve", "matched": false, "unchanged": "case.status",
                       "conditions": [], "actions": []}]
        });
        assert_eq!(
            texts(&super::event(&event)),
            [
                "2026-01-01T00:00:00Z — message received",
                "  reply recorded no answer: its signature does not match (tampered or forged)",
                "  rule invite-on-resolve: not evaluated, case.status did not change",
            ]
        );
    }

    #[test]
    fn a_rule_reads_as_sentences() {
        let rule = json!({
            "id": "r", "on": "case_update",
            "when": {"all": [{"case.status": {"changed_to": "Resolved"}},
                             {"survey.response_status": {"survey": "csat", "channel": "whatsapp", "distribution": "csat-wa", "not_in": ["completed"]}}]},
            "then": [{"trigger_survey_invitation": {"survey": "csat", "channel": "whatsapp", "distribution": "csat-wa"}},
                     {"move_to_queue": "survey-sent"}]
        });
        assert_eq!(
            texts(&super::rule(&rule)),
            [
                "Whenever a case changes",
                "and when",
                "  all of these hold:",
                "    case.status changed to Resolved",
                "    the response status of survey csat through csat-wa is none of completed",
                "it does:",
                "  send the invitation to survey csat through csat-wa",
                "  move the case to queue survey-sent",
            ]
        );
    }
}
