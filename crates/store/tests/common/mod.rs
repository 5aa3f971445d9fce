//! What the store's test files share.

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use closeloop_store::NewEvent;
use serde_json::json;

/// A `case_updated` event `id` of a new case `case_id`, which changed `field`.
pub fn case_updated(id: String, case_id: &str, field: String) -> NewEvent {
    let after: Case = serde_json::from_value(json!({"id": case_id, "status": "New"}))
        .unwrap_or_else(|e| panic!("case: {e}"));
    NewEvent {
        id,
        case_id: case_id.to_owned(),
        kind: EventKind::CaseUpdated,
        changed: vec![field],
        before: None,
        after,
        depth: 0,
        rule_id: None,
        note: None,
        now: 1_000,
    }
}
