//! The webhook parser takes anything Meta (or an attacker holding a valid signature) could
//! post without panicking (issue 14): random bytes, random JSON, and a real payload with
//! any of its values replaced by a value of another type. The case count is fixed, so the
//! run is bounded.

use closeloop_whatsapp::webhook::{events, parse};
use proptest::prelude::*;
use serde_json::{json, Value};

fn real_payload() -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1234"},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "34600111222"}],
            "messages": [
                {"from": "34600111222", "id": "wamid.A", "timestamp": "1700000000", "type": "text", "text": {"body": "hola"}},
                {"from": "34600111222", "id": "wamid.B", "timestamp": "1700000001", "type": "button",
                 "button": {"payload": "cl1.inv.i.0.00", "text": "5"}, "context": {"from": "15550001111", "id": "wamid.X"}},
                {"from": "34600111222", "id": "wamid.C", "timestamp": "1700000002", "type": "interactive",
                 "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Uno", "description": "d"}}}
            ],
            "statuses": [{"id": "wamid.X", "status": "failed", "timestamp": "1700000003", "recipient_id": "34600111222",
                          "errors": [{"code": 131050, "title": "opted out"}]}]
        }
    }]}]})
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every value of a JSON document, by index in depth-first order, replaced by `with`.
fn replace_nth(value: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *value = with.clone();
        return true;
    }
    *n -= 1;
    match value {
        Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, n, with)),
        Value::Object(map) => map.values_mut().any(|v| replace_nth(v, n, with)),
        _ => false,
    }
}

fn parsed_without_panic(body: &[u8]) {
    if let Ok(payload) = parse(body) {
        let _ = events(&payload);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parsed_without_panic(&body);
    }

    #[test]
    fn any_json_is_parsed_or_refused(value in any_json()) {
        parsed_without_panic(value.to_string().as_bytes());
    }

    #[test]
    fn a_real_payload_with_any_value_replaced_is_parsed_or_refused(
        at in 0usize..80,
        with in any_json(),
    ) {
        let mut payload = real_payload();
        let mut n = at;
        replace_nth(&mut payload, &mut n, &with);
        parsed_without_panic(payload.to_string().as_bytes());
    }
}

#[test]
fn the_real_payload_yields_its_messages_and_status() {
    let payload = parse(real_payload().to_string().as_bytes()).expect("a real payload parses");
    assert_eq!(events(&payload).len(), 4);
}
