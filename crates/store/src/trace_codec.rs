//! How a trace is stored: compactly. Traces are the largest part of an event row (500 to
//! 1,000 bytes each as plain JSON, most of it repeated key names and empty or null fields),
//! so each condition is stored as an array `[field, op, expected, actual, result]`, and
//! empty lists (a rule's conditions and actions, the notes) and null action fields are left
//! out. Reading gives back the full shape the
//! API answers, for compact rows and for rows written before this format alike.

use serde_json::{Map, Value};

/// The keys of a condition, in the order its array keeps them.
const CONDITION_KEYS: [&str; 5] = ["field", "op", "expected", "actual", "result"];
/// Action fields that may be null, and are then left out.
const OPTIONAL_ACTION_KEYS: [&str; 2] = ["reason", "invite_id"];

/// The stored form of a trace.
pub(crate) fn compact(trace: &Value) -> Value {
    let mut trace = trace.clone();
    if let Some(rules) = trace.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Array(conditions)) = rule.get_mut("conditions") {
                for condition in conditions.iter_mut() {
                    if let Some(object) = condition.as_object() {
                        if object.len() == CONDITION_KEYS.len()
                            && CONDITION_KEYS.iter().all(|k| object.contains_key(*k))
                        {
                            *condition = Value::Array(
                                CONDITION_KEYS.iter().map(|k| object[*k].clone()).collect(),
                            );
                        }
                    }
                }
            }
            if let Some(Value::Array(actions)) = rule.get_mut("actions") {
                for action in actions.iter_mut().filter_map(Value::as_object_mut) {
                    for key in OPTIONAL_ACTION_KEYS {
                        if action.get(key) == Some(&Value::Null) {
                            action.remove(key);
                        }
                    }
                }
            }
            drop_empty_list(rule, "actions");
            drop_empty_list(rule, "conditions");
        }
    }
    if let Some(object) = trace.as_object_mut() {
        drop_empty_list(object, "notes");
    }
    trace
}

/// The full trace of a stored one (compact or not).
pub(crate) fn expand(mut trace: Value) -> Value {
    if let Some(rules) = trace.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Array(conditions)) = rule.get_mut("conditions") {
                for condition in conditions.iter_mut() {
                    if let Value::Array(values) = condition {
                        if values.len() == CONDITION_KEYS.len() {
                            *condition = Value::Object(
                                CONDITION_KEYS
                                    .iter()
                                    .map(|k| (*k).to_string())
                                    .zip(values.drain(..))
                                    .collect(),
                            );
                        }
                    }
                }
            }
            rule.entry("conditions")
                .or_insert_with(|| Value::Array(Vec::new()));
            let actions = rule
                .entry("actions")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(actions) = actions {
                for action in actions.iter_mut().filter_map(Value::as_object_mut) {
                    for key in OPTIONAL_ACTION_KEYS {
                        action.entry(key).or_insert(Value::Null);
                    }
                }
            }
        }
    }
    if let Some(object) = trace.as_object_mut() {
        if object.contains_key("rules") {
            object
                .entry("notes")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
    }
    trace
}

fn drop_empty_list(object: &mut Map<String, Value>, key: &str) {
    if object
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        object.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trace() -> Value {
        json!({"rules": [
            {"rule": "skipped", "matched": false, "conditions": [], "actions": [], "unchanged": "case.status"},
            {"rule": "invite-on-resolve", "matched": false,
             "conditions": [{"field": "case.status", "op": "changed_to", "expected": "Resolved", "actual": "Open", "result": false}],
             "actions": []},
            {"rule": "thank", "matched": true,
             "conditions": [{"field": "survey.response_status[csat/whatsapp/csat-wa]", "op": "in", "expected": ["completed"], "actual": "completed", "result": true}],
             "actions": [{"action": "send_thank_you_message", "outcome": "skipped", "reason": "already_thanked", "invite_id": "inv_1"},
                         {"action": "add_tag", "outcome": "unchanged", "reason": null, "invite_id": null, "notes": ["x"]}]}
        ], "notes": [], "processed_at": "2026-12-04T10:00:00Z"})
    }

    #[test]
    fn a_compact_trace_reads_back_whole_and_is_a_fifth_smaller() {
        let full = trace();
        let stored = compact(&full);
        assert_eq!(expand(stored.clone()), full);
        let (before, after) = (full.to_string().len(), stored.to_string().len());
        assert!(after * 5 < before * 4, "{before} → {after} bytes");
    }

    #[test]
    fn traces_stored_before_the_compact_form_read_as_they_were() {
        assert_eq!(expand(trace()), trace());
        let error = json!({"rules": [], "error": "gave up after repeated failures"});
        assert_eq!(
            expand(compact(&error)),
            json!({"rules": [], "error": "gave up after repeated failures", "notes": []})
        );
    }
}
