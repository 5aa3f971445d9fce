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

fn option(id: &str, title: &str) -> ReplyOption {
    ReplyOption {
        id: id.into(),
        title: title.into(),
    }
}

fn row(id: &str, title: &str, description: Option<&str>) -> ListRow {
    ListRow {
        id: id.into(),
        title: title.into(),
        description: description.map(Into::into),
    }
}

#[test]
fn quick_replies_and_image_header_match_the_reference_template() {
    let mut request = SendRequest::template(
        "5511988887777",
        "csat_invite_v2",
        "pt_BR",
        vec!["Ana".into(), "CS-1042".into()],
        Some("S-77?t=9f3a".into()),
        Some(HeaderMedia::new(
            HeaderKind::Image,
            "https://cdn.example.com/csat.png",
        )),
    )
    .with_quick_reply(1, "csat:S-77:good")
    .unwrap()
    .with_quick_reply(2, "csat:S-77:bad")
    .unwrap();
    request.biz_opaque_callback_data = Some("case=CS-1042;survey=S-77;kind=invite".into());
    let expected = json!({
      "messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777",
      "type": "template", "biz_opaque_callback_data": "case=CS-1042;survey=S-77;kind=invite",
      "template": { "name": "csat_invite_v2", "language": { "code": "pt_BR" }, "components": [
        { "type": "header", "parameters": [ { "type": "image", "image": { "link": "https://cdn.example.com/csat.png" } } ] },
        { "type": "body", "parameters": [ { "type": "text", "text": "Ana" }, { "type": "text", "text": "CS-1042" } ] },
        { "type": "button", "sub_type": "url", "index": "0", "parameters": [ { "type": "text", "text": "S-77?t=9f3a" } ] },
        { "type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [ { "type": "payload", "payload": "csat:S-77:good" } ] },
        { "type": "button", "sub_type": "quick_reply", "index": "2", "parameters": [ { "type": "payload", "payload": "csat:S-77:bad" } ] }
      ] }
    });
    assert_eq!(serde_json::to_value(&request).unwrap(), expected);
}

#[test]
fn header_kinds_serialize_like_the_reference() {
    let header = |kind, link| {
        let request = SendRequest::template(
            "1",
            "t",
            "en",
            vec![],
            None,
            Some(HeaderMedia::new(kind, link)),
        );
        serde_json::to_value(&request).unwrap()["template"]["components"][0].clone()
    };
    assert_eq!(
        header(HeaderKind::Video, "https://cdn.example.com/thanks.mp4"),
        json!({ "type": "header", "parameters": [ { "type": "video", "video": { "link": "https://cdn.example.com/thanks.mp4" } } ] })
    );
    assert_eq!(
        header(
            HeaderKind::Document,
            "https://cdn.example.com/case-summary.pdf?v=2"
        ),
        json!({ "type": "header", "parameters": [ { "type": "document", "document": { "link": "https://cdn.example.com/case-summary.pdf?v=2", "filename": "case-summary.pdf" } } ] })
    );
    assert_eq!(
        header(HeaderKind::Document, "https://cdn.example.com/"),
        json!({ "type": "header", "parameters": [ { "type": "document", "document": { "link": "https://cdn.example.com/" } } ] })
    );
    assert_eq!(
        header(HeaderKind::Image, "https://cdn.example.com/csat.png")["parameters"][0]["type"],
        "image"
    );
}

#[test]
fn quick_reply_payload_and_index_are_limited() {
    let base = || SendRequest::template("1", "t", "en", vec![], None, None);
    assert!(base()
        .with_quick_reply(9, &"p".repeat(limits::QUICK_REPLY_PAYLOAD_MAX))
        .is_ok());
    assert!(matches!(
        base().with_quick_reply(0, &"p".repeat(limits::QUICK_REPLY_PAYLOAD_MAX + 1)),
        Err(LimitError::TooLong { max: 256, .. })
    ));
    assert!(matches!(
        base().with_quick_reply(0, " "),
        Err(LimitError::Empty { .. })
    ));
    assert!(matches!(
        base().with_quick_reply(10, "p"),
        Err(LimitError::Count { .. })
    ));
}

#[test]
fn text_message_matches_the_reference_shape() {
    let request =
        SessionRequest::text("5511988887777", "Thanks for your feedback on case CS-1042!").unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777",
                "type": "text", "text": { "preview_url": false, "body": "Thanks for your feedback on case CS-1042!" } })
    );
    assert!(SessionRequest::text("1", &"a".repeat(limits::TEXT_BODY_MAX)).is_ok());
    assert_eq!(
        SessionRequest::text("1", &"á".repeat(limits::TEXT_BODY_MAX + 1)).unwrap_err(),
        LimitError::TooLong {
            field: "text.body".into(),
            len: 4097,
            max: 4096
        }
    );
    assert_eq!(
        SessionRequest::text("1", "  ").unwrap_err(),
        LimitError::Empty {
            field: "text.body".into()
        }
    );
}

#[test]
fn reply_buttons_match_the_reference_example() {
    let request = SessionRequest::buttons(
        "5511988887777",
        "How satisfied are you with how we handled your case?",
        vec![
            option("csat:S-77:3", "Satisfied"),
            option("csat:S-77:2", "Neutral"),
            option("csat:S-77:1", "Unsatisfied"),
        ],
    )
    .unwrap()
    .with_header_footer(Some("Case CS-1042"), Some("Reply STOP to opt out"))
    .unwrap();
    let reference = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777", "type": "interactive",
      "interactive": {
        "type": "button",
        "header": { "type": "text", "text": "Case CS-1042" },
        "body": { "text": "How satisfied are you with how we handled your case?" },
        "footer": { "text": "Reply STOP to opt out" },
        "action": { "buttons": [
          { "type": "reply", "reply": { "id": "csat:S-77:3", "title": "Satisfied" } },
          { "type": "reply", "reply": { "id": "csat:S-77:2", "title": "Neutral" } },
          { "type": "reply", "reply": { "id": "csat:S-77:1", "title": "Unsatisfied" } } ] } } });
    assert_eq!(serde_json::to_value(&request).unwrap(), reference);
    let parsed: SessionRequest = serde_json::from_value(reference).unwrap();
    assert_eq!(parsed, request);
}

#[test]
fn list_matches_the_reference_example() {
    let request = SessionRequest::list(
        "5511988887777",
        "On a scale of 0–10, how likely are you to recommend us?",
        "Choose a score",
        vec![ListSection {
            title: Some("Score".into()),
            rows: vec![
                row("nps:S-77:10", "10", Some("Extremely likely")),
                row("nps:S-77:5", "5", None),
                row("nps:S-77:0", "0", Some("Not at all likely")),
            ],
        }],
    )
    .unwrap();
    let reference = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "5511988887777", "type": "interactive",
      "interactive": {
        "type": "list",
        "body": { "text": "On a scale of 0–10, how likely are you to recommend us?" },
        "action": { "button": "Choose a score", "sections": [
          { "title": "Score", "rows": [
            { "id": "nps:S-77:10", "title": "10", "description": "Extremely likely" },
            { "id": "nps:S-77:5",  "title": "5" },
            { "id": "nps:S-77:0",  "title": "0", "description": "Not at all likely" } ] } ] } } });
    assert_eq!(serde_json::to_value(&request).unwrap(), reference);
    let parsed: SessionRequest = serde_json::from_value(reference).unwrap();
    assert_eq!(parsed, request);
}

#[test]
fn button_constructor_refuses_what_meta_refuses() {
    let buttons = |options| {
        SessionRequest::buttons("1", "Q?", options)
            .map(|_| ())
            .unwrap_err()
    };
    assert!(SessionRequest::buttons("1", "Q?", vec![option("a", &"t".repeat(20))]).is_ok());
    assert_eq!(
        buttons(vec![
            option("a", "1"),
            option("b", "2"),
            option("c", "3"),
            option("d", "4")
        ]),
        LimitError::Count {
            field: "interactive.action.buttons".into(),
            count: 4,
            min: 1,
            max: 3
        }
    );
    assert!(matches!(
        buttons(vec![]),
        LimitError::Count { count: 0, .. }
    ));
    assert_eq!(
        buttons(vec![option("a", &"t".repeat(21))]),
        LimitError::TooLong {
            field: "interactive.action.buttons[0].reply.title".into(),
            len: 21,
            max: 20
        }
    );
    assert!(matches!(
        buttons(vec![option(&"i".repeat(257), "t")]),
        LimitError::TooLong { max: 256, .. }
    ));
    assert_eq!(
        buttons(vec![option("a", "Yes"), option("a", "No")]),
        LimitError::Duplicate {
            field: "interactive.action.buttons[1].reply.id".into(),
            value: "a".into()
        }
    );
    assert_eq!(
        buttons(vec![option("a", "Yes"), option("b", "Yes")]).field(),
        "interactive.action.buttons[1].reply.title"
    );
    assert!(matches!(
        buttons(vec![option("", "Yes")]),
        LimitError::Empty { .. }
    ));
    assert!(matches!(
        SessionRequest::buttons("1", &"b".repeat(1025), vec![option("a", "b")]),
        Err(LimitError::TooLong { max: 1024, .. })
    ));
    let ok = SessionRequest::buttons("1", "Q?", vec![option("a", "b")]).unwrap();
    assert!(matches!(
        ok.clone().with_header_footer(None, Some(&"f".repeat(61))),
        Err(LimitError::TooLong { max: 60, .. })
    ));
    assert!(ok.with_header_footer(Some(""), None).is_err());
}

#[test]
fn list_constructor_refuses_what_meta_refuses() {
    let rows = |n: usize| {
        (0..n)
            .map(|i| row(&format!("r{i}"), &format!("{i}"), None))
            .collect::<Vec<_>>()
    };
    let list = |label: &str, sections| SessionRequest::list("1", "Q?", label, sections).map(|_| ());
    let one = |rows| vec![ListSection { title: None, rows }];
    assert!(list("Pick", one(rows(10))).is_ok());
    assert!(matches!(
        list("Pick", one(rows(11))),
        Err(LimitError::Count {
            count: 11,
            max: 10,
            ..
        })
    ));
    assert!(matches!(
        list("Pick", one(rows(0))),
        Err(LimitError::Count { count: 0, .. })
    ));
    // Ten rows across sections, not per section.
    let split = vec![
        ListSection {
            title: Some("A".into()),
            rows: rows(6),
        },
        ListSection {
            title: Some("B".into()),
            rows: (6..11).map(|i| row(&format!("r{i}"), "x", None)).collect(),
        },
    ];
    assert!(matches!(
        list("Pick", split),
        Err(LimitError::Count { count: 11, .. })
    ));
    let untitled = vec![
        ListSection {
            title: Some("A".into()),
            rows: rows(1),
        },
        ListSection {
            title: None,
            rows: vec![row("z", "z", None)],
        },
    ];
    assert_eq!(
        list("Pick", untitled).unwrap_err(),
        LimitError::Empty {
            field: "interactive.action.sections[1].title".into()
        }
    );
    assert!(matches!(
        list(&"l".repeat(21), one(rows(1))),
        Err(LimitError::TooLong { max: 20, .. })
    ));
    assert!(matches!(
        list("Pick", one(vec![row("a", &"t".repeat(25), None)])),
        Err(LimitError::TooLong { max: 24, .. })
    ));
    assert!(list(
        "Pick",
        one(vec![row("a", &"t".repeat(24), Some(&"d".repeat(72)))])
    )
    .is_ok());
    assert_eq!(
        list("Pick", one(vec![row("a", "t", Some(&"d".repeat(73)))]))
            .unwrap_err()
            .field(),
        "interactive.action.sections[0].rows[0].description"
    );
    assert!(matches!(
        list("Pick", one(vec![row(&"i".repeat(201), "t", None)])),
        Err(LimitError::TooLong { max: 200, .. })
    ));
    assert!(matches!(
        list("Pick", one(vec![row("a", "t", None), row("a", "u", None)])),
        Err(LimitError::Duplicate { .. })
    ));
}
