//! Fixture tests: our types against the examples in SPEC §6 and the Cloud API reference.

use serde_json::{json, Value};

use super::*;

#[test]
fn spec_example_request_serializes_exactly() {
    let request = SendRequest::template(
        "34600111222",
        "csat_invite",
        "es",
        vec!["Ana".into(), "1001".into(), "http://…/s/TOKEN".into()],
        Some("TOKEN".into()),
        None,
    );
    let expected: Value = serde_json::from_str(
        r#"{"messaging_product":"whatsapp","recipient_type":"individual","to":"34600111222","type":"template",
 "template":{"name":"csat_invite","language":{"code":"es"},
   "components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"1001"},
                                             {"type":"text","text":"http://…/s/TOKEN"}]},
                 {"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"TOKEN"}]}]}}"#,
    )
    .unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), expected);
}

#[test]
fn header_comes_first_and_empty_parts_are_omitted() {
    let request = SendRequest::template(
        "5511988887777",
        "t",
        "pt_BR",
        vec![],
        None,
        Some(HeaderMedia::Document {
            link: "https://cdn.example.com/summary.pdf".into(),
            filename: Some("case-summary.pdf".into()),
        }),
    );
    let value = serde_json::to_value(&request).unwrap();
    assert_eq!(
        value["template"]["components"],
        json!([{ "type": "header", "parameters": [ { "type": "document", "document":
            { "link": "https://cdn.example.com/summary.pdf", "filename": "case-summary.pdf" } } ] }])
    );
    assert!(value.get("biz_opaque_callback_data").is_none());

    let bare = SendRequest::template("1", "t", "en", vec![], None, None);
    assert!(serde_json::to_value(&bare).unwrap()["template"]
        .get("components")
        .is_none());
}

#[test]
fn media_parameters_serialize_like_meta() {
    let image = SendRequest::template(
        "1",
        "t",
        "en",
        vec!["x".into()],
        None,
        Some(HeaderMedia::Image(
            "https://cdn.example.com/csat.png".into(),
        )),
    );
    let value = serde_json::to_value(&image).unwrap();
    assert_eq!(
        value["template"]["components"][0]["parameters"][0],
        json!({"type":"image","image":{"link":"https://cdn.example.com/csat.png"}})
    );
    assert_eq!(value["template"]["components"][1]["type"], "body");
    let video = Parameter::Video {
        video: MediaLink {
            link: "v".into(),
            filename: None,
        },
    };
    assert_eq!(
        serde_json::to_value(video).unwrap(),
        json!({"type":"video","video":{"link":"v"}})
    );
    let payload = Parameter::Payload {
        payload: "csat:S-77:good".into(),
    };
    assert_eq!(
        serde_json::to_value(payload).unwrap(),
        json!({"type":"payload","payload":"csat:S-77:good"})
    );
}

#[test]
fn reference_template_request_round_trips() {
    let raw = json!({
      "messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777",
      "type": "template", "biz_opaque_callback_data": "case=CS-1042;survey=S-77;kind=invite",
      "template": { "name": "csat_invite_v2", "language": { "code": "pt_BR" }, "components": [
        { "type": "header", "parameters": [ { "type": "image", "image": { "link": "https://cdn.example.com/csat.png" } } ] },
        { "type": "body", "parameters": [ { "type": "text", "text": "Ana" }, { "type": "text", "text": "CS-1042" } ] },
        { "type": "button", "sub_type": "url", "index": "0", "parameters": [ { "type": "text", "text": "S-77?t=9f3a" } ] },
        { "type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [ { "type": "payload", "payload": "csat:S-77:good" } ] }
      ] }
    });
    let parsed: SendRequest = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), raw);
}

#[test]
fn success_response_parses_with_unknown_fields() {
    let body = r#"{ "messaging_product": "whatsapp",
      "contacts": [ { "input": "+55 11 98888-7777", "wa_id": "5511988887777", "user_id": "US.1" } ],
      "messages": [ { "id": "wamid.HBgNNTUxMTk4ODg4Nzc3NxUCABEYEjQ2QzlBRTlGRkQ1NkJGQzA0AA==", "message_status": "accepted" } ],
      "something_new": 1 }"#;
    let response: SendResponse = serde_json::from_str(body).unwrap();
    assert_eq!(response.contacts[0].wa_id.as_deref(), Some("5511988887777"));
    assert_eq!(
        response.messages[0].message_status.as_deref(),
        Some("accepted")
    );
    let minimal: SendResponse = serde_json::from_str(r#"{"messages":[{"id":"wamid.1"}]}"#).unwrap();
    assert!(minimal.contacts.is_empty());
}

#[test]
fn error_envelopes_parse() {
    let pair = r#"{ "error": {
        "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "type": "OAuthException", "code": 131056,
        "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time." },
        "error_subcode": 2494055, "fbtrace_id": "A4O5a8RAgePwbcGSu" } }"#;
    let envelope: GraphErrorEnvelope = serde_json::from_str(pair).unwrap();
    assert_eq!(envelope.error.code, Some(131056));
    assert_eq!(envelope.error.error_subcode, Some(2494055));
    assert_eq!(envelope.error.kind.as_deref(), Some("OAuthException"));

    let auth = r#"{ "error": { "message": "Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.",
      "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbCdEf123" } }"#;
    let envelope: GraphErrorEnvelope = serde_json::from_str(auth).unwrap();
    assert_eq!(envelope.error.code, Some(190));
    assert!(envelope.error.error_data.is_none());
}

#[test]
fn status_webhook_parses() {
    let body = r#"{ "object": "whatsapp_business_account",
      "entry": [ { "id": "102290129340398", "changes": [ { "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
        "statuses": [ {
          "id": "wamid.HBgNNTUxMTk4ODg4Nzc3NxUCABEYEjQ2QzlBRTlGRkQ1NkJGQzA0AA==",
          "status": "delivered", "timestamp": "1764590400", "recipient_id": "5511988887777",
          "biz_opaque_callback_data": "case=CS-1042;survey=S-77;kind=invite",
          "pricing": { "billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility" }
        }, { "id": "wamid.F", "status": "failed", "timestamp": "1764590460", "recipient_id": "5511988887777",
          "errors": [ { "code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                        "error_data": { "details": "Message Undeliverable." },
                        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" } ] } ] } } ] } ] }"#;
    let payload: WebhookPayload = serde_json::from_str(body).unwrap();
    let value = payload.entry[0].changes[0].value.as_ref().unwrap();
    assert_eq!(value.statuses.len(), 2);
    assert_eq!(value.statuses[0].timestamp.as_deref(), Some("1764590400"));
    assert_eq!(value.statuses[1].errors[0].code, Some(131026));
}

#[test]
fn inbound_webhooks_parse_including_unknown_types() {
    let body = r#"{ "object": "whatsapp_business_account", "entry": [ { "id": "1", "changes": [ { "field": "messages", "value": {
      "messaging_product": "whatsapp",
      "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
      "contacts": [ { "profile": { "name": "Ana Souza" }, "wa_id": "5511988887777" } ],
      "messages": [
        { "from": "5511988887777", "id": "wamid.T", "timestamp": "1764590500", "type": "text", "text": { "body": "Very helpful, thanks" } },
        { "from": "5511988887777", "id": "wamid.B", "timestamp": "1764590520", "type": "button",
          "context": { "from": "15550783881", "id": "wamid.OUT1" }, "button": { "payload": "csat:S-77:good", "text": "Great" } },
        { "from": "5511988887777", "id": "wamid.L", "timestamp": "1764590540", "type": "interactive",
          "interactive": { "type": "list_reply", "list_reply": { "id": "nps:S-77:10", "title": "10", "description": "Extremely likely" } } },
        { "from": "5511988887777", "id": "wamid.R", "timestamp": "1764590550", "type": "reaction", "reaction": { "emoji": "x", "message_id": "m" } }
      ] } } ] } ] }"#;
    let payload: WebhookPayload = serde_json::from_str(body).unwrap();
    let value = payload.entry[0].changes[0].value.as_ref().unwrap();
    assert_eq!(value.messages.len(), 4);
    assert_eq!(
        value.messages[2]
            .interactive
            .as_ref()
            .unwrap()
            .list_reply
            .as_ref()
            .unwrap()
            .description
            .as_deref(),
        Some("Extremely likely")
    );
    assert_eq!(value.messages[3].kind.as_deref(), Some("reaction"));
}

#[test]
fn other_fields_and_value_errors_parse() {
    let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
      {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1}},
      {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
        "errors":[{"code":130429,"title":"Rate limit hit"}]}}]}]}"#;
    let payload: WebhookPayload = serde_json::from_str(body).unwrap();
    assert_eq!(payload.entry[0].changes.len(), 2);
    let errors = &payload.entry[0].changes[1].value.as_ref().unwrap().errors;
    assert_eq!(errors[0].code, Some(130429));
}

#[test]
fn webhook_serialization_skips_absent_fields() {
    let status = Status {
        id: Some("wamid.1".into()),
        status: Some("sent".into()),
        ..Status::default()
    };
    assert_eq!(
        serde_json::to_value(status).unwrap(),
        json!({"id":"wamid.1","status":"sent"})
    );
}
