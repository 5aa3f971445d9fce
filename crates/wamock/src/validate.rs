//! Pure checks of a send body, in the order Meta applies them: shape (code 100), template
//! existence (132001), parameter counts (132000), parameter formats (132012), and for free-form
//! messages Meta's size limits (100 on `text`, 131008 / 131009 on `interactive`).

use std::collections::HashSet;

use closeloop_whatsapp::wire::limits::{check_quick_reply_payload, check_session};
use closeloop_whatsapp::wire::{Component, LimitError, Parameter, SendRequest, SessionRequest};
use serde_json::Value;

use crate::config::{HeaderFormat, TemplateButton, TemplateDef};
use crate::failure::Rejection;
use crate::outgoing::Outgoing;

/// What a well-formed body asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A message to send.
    Send(Box<Outgoing>),
    /// `{"status":"read","message_id":…}`: mark an inbound message as read.
    MarkRead,
}

/// Checks the envelope fields and parses the body as a template, text or interactive request.
pub(crate) fn parse_body(body: &[u8]) -> Result<Parsed, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::invalid_parameter(format!("request body is not valid JSON: {e}"))
    })?;
    if value.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(Rejection::invalid_parameter(
            "messaging_product: the parameter is required and must be \"whatsapp\"".into(),
        ));
    }
    if value.get("status").and_then(Value::as_str) == Some("read") {
        return match value.get("message_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(Parsed::MarkRead),
            _ => Err(Rejection::invalid_parameter(
                "message_id: the parameter is required".into(),
            )),
        };
    }
    let template = match value.get("type").and_then(Value::as_str) {
        Some("template") => true,
        Some("text" | "interactive") => false,
        Some(other) => {
            return Err(Rejection::invalid_parameter(format!(
                "type: the mock supports template, text and interactive messages, got \"{other}\""
            )))
        }
        None => {
            return Err(Rejection::invalid_parameter(
                "type: the parameter is required".into(),
            ))
        }
    };
    let to = value.get("to").and_then(Value::as_str).unwrap_or("");
    if !(8..=15).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::invalid_parameter(format!(
            "to: must be 8 to 15 digits without '+', got \"{to}\""
        )));
    }
    let shape = |e: serde_path_to_error::Error<serde_json::Error>| {
        Rejection::invalid_parameter(format!("{}: {}", e.path(), e.inner()))
    };
    let outgoing = if template {
        Outgoing::Template(
            serde_path_to_error::deserialize::<_, SendRequest>(value).map_err(shape)?,
        )
    } else {
        Outgoing::Session(
            serde_path_to_error::deserialize::<_, SessionRequest>(value).map_err(shape)?,
        )
    };
    let recipient_type = match &outgoing {
        Outgoing::Template(r) => &r.recipient_type,
        Outgoing::Session(r) => &r.recipient_type,
    };
    if recipient_type != "individual" {
        return Err(Rejection::invalid_parameter(
            "recipient_type: must be \"individual\"".into(),
        ));
    }
    Ok(Parsed::Send(Box::new(outgoing)))
}

/// Checks a parsed message: a template against the registry, a free-form one against Meta's
/// size limits.
pub(crate) fn check(outgoing: &Outgoing, registry: &[TemplateDef]) -> Result<(), Rejection> {
    match outgoing {
        Outgoing::Template(request) => check_template(request, registry),
        Outgoing::Session(request) => check_session(&request.content).map_err(limit_rejection),
    }
}

/// Meta's answer to a broken limit: `text` problems are plain invalid parameters (100); a
/// missing value is 131008; any other bad value is 131009.
fn limit_rejection(error: LimitError) -> Rejection {
    let details = error.to_string();
    if error.field().starts_with("text.") {
        return Rejection::invalid_parameter(details);
    }
    match error {
        LimitError::Empty { .. } => {
            Rejection::new(400, 131008, "Required parameter is missing", &details)
        }
        _ => Rejection::new(400, 131009, "Parameter value is not valid", &details),
    }
}

/// Checks the template against the registry.
fn check_template(request: &SendRequest, registry: &[TemplateDef]) -> Result<(), Rejection> {
    let template = &request.template;
    let def = registry
        .iter()
        .find(|d| d.name == template.name && d.language == template.language.code)
        .ok_or_else(|| {
            Rejection::new(
                404,
                132001,
                "Template name does not exist in the translation",
                &format!(
                    "template name ({}) does not exist in {}",
                    template.name, template.language.code
                ),
            )
        })?;
    let parts = Parts::collect(&template.components)?;
    check_body(def, &parts)?;
    check_buttons(def, &parts)?;
    check_header(def, &parts)
}

/// The components of a request, sorted by role.
struct Parts<'a> {
    header: Option<&'a [Parameter]>,
    body: Vec<&'a Parameter>,
    /// Button components with their parsed `index`.
    buttons: Vec<(usize, &'a Component)>,
}

impl<'a> Parts<'a> {
    fn collect(components: &'a [Component]) -> Result<Parts<'a>, Rejection> {
        let mut parts = Parts {
            header: None,
            body: Vec::new(),
            buttons: Vec::new(),
        };
        for (i, component) in components.iter().enumerate() {
            match (component.kind.as_str(), component.sub_type.as_deref()) {
                ("header", _) => parts.header = Some(&component.parameters),
                ("body", _) => parts.body.extend(component.parameters.iter()),
                ("button", Some(_)) => {
                    let index = component
                        .index
                        .as_deref()
                        .and_then(|index| index.parse::<usize>().ok())
                        .ok_or_else(|| {
                            Rejection::invalid_parameter(format!(
                                "template.components[{i}].index: required for buttons, a \
                                 0-based position as a string"
                            ))
                        })?;
                    parts.buttons.push((index, component));
                }
                ("button", None) => {
                    return Err(Rejection::invalid_parameter(format!(
                        "template.components[{i}].sub_type: required for buttons"
                    )))
                }
                (other, _) => {
                    return Err(Rejection::invalid_parameter(format!(
                        "template.components[{i}].type: unknown component type \"{other}\""
                    )))
                }
            }
        }
        Ok(parts)
    }
}

fn count_mismatch(details: String) -> Rejection {
    Rejection::new(
        400,
        132000,
        "Number of parameters does not match the expected number of params",
        &details,
    )
}

fn format_mismatch(details: String) -> Rejection {
    Rejection::new(
        400,
        132012,
        "Parameter format does not match format in the created template",
        &details,
    )
}

fn check_body(def: &TemplateDef, parts: &Parts<'_>) -> Result<(), Rejection> {
    if parts.body.len() != def.body_params {
        return Err(count_mismatch(format!(
            "body: number of localizable_params ({}) does not match the expected number of params ({})",
            parts.body.len(),
            def.body_params
        )));
    }
    for (i, parameter) in parts.body.iter().enumerate() {
        match parameter {
            // Meta refuses empty variables with 131008 rather than rendering a blank.
            Parameter::Text { text } if text.trim().is_empty() => {
                return Err(Rejection::new(
                    400,
                    131008,
                    "Required parameter is missing",
                    &format!(
                        "body: parameter {} of type text is missing text value",
                        i + 1
                    ),
                ))
            }
            Parameter::Text { .. } => {}
            other => {
                return Err(format_mismatch(format!(
                    "body: parameter {} must be text, received {}",
                    i + 1,
                    parameter_type(other)
                )))
            }
        }
    }
    Ok(())
}

/// Every button component must name a button of the template by `index` and match its kind;
/// every dynamic URL button needs its suffix.
fn check_buttons(def: &TemplateDef, parts: &Parts<'_>) -> Result<(), Rejection> {
    let mut seen = HashSet::new();
    for &(index, component) in &parts.buttons {
        if !seen.insert(index) {
            return Err(Rejection::invalid_parameter(format!(
                "buttons: more than one component for the button at index {index}"
            )));
        }
        let sub_type = component.sub_type.as_deref().unwrap_or_default();
        match (def.buttons.get(index), sub_type) {
            (None, _) => {
                return Err(count_mismatch(format!(
                    "buttons: the template has no button at index {index}"
                )))
            }
            (Some(TemplateButton::DynamicUrl), "url") => check_url(index, component)?,
            (Some(TemplateButton::QuickReply), "quick_reply") => {
                check_quick_reply(index, component)?;
            }
            (Some(TemplateButton::StaticUrl), "url") => {
                return Err(count_mismatch(format!(
                    "buttons: button at index {index} of type Url has a fixed URL and takes no \
                     parameter"
                )))
            }
            (Some(kind), other) => {
                return Err(format_mismatch(format!(
                    "buttons: button at index {index} is of type {}, received {other}",
                    button_label(*kind)
                )))
            }
        }
    }
    let missing = def
        .buttons
        .iter()
        .enumerate()
        .find(|(index, kind)| **kind == TemplateButton::DynamicUrl && !seen.contains(index));
    match missing {
        Some((index, _)) => Err(count_mismatch(format!(
            "button: button at index {index} of type Url requires a parameter"
        ))),
        None => Ok(()),
    }
}

fn check_url(index: usize, button: &Component) -> Result<(), Rejection> {
    match button.parameters.as_slice() {
        [Parameter::Text { text }] if !text.is_empty() => Ok(()),
        _ => Err(count_mismatch(format!(
            "button: URL button at index {index} takes exactly one non-empty text parameter"
        ))),
    }
}

fn check_quick_reply(index: usize, button: &Component) -> Result<(), Rejection> {
    match button.parameters.as_slice() {
        [Parameter::Payload { payload }] => check_quick_reply_payload(
            &format!("buttons: button at index {index} of type QuickReply: payload"),
            payload,
        )
        .map_err(limit_rejection),
        [other] => Err(format_mismatch(format!(
            "buttons: button at index {index} of type QuickReply takes a payload parameter, \
             received {}",
            parameter_type(other)
        ))),
        params => Err(count_mismatch(format!(
            "buttons: button at index {index} of type QuickReply takes one payload parameter, \
             received {}",
            params.len()
        ))),
    }
}

fn button_label(kind: TemplateButton) -> &'static str {
    match kind {
        TemplateButton::DynamicUrl | TemplateButton::StaticUrl => "url",
        TemplateButton::QuickReply => "quick_reply",
    }
}

fn check_header(def: &TemplateDef, parts: &Parts<'_>) -> Result<(), Rejection> {
    match (def.header, parts.header) {
        (None, None) => Ok(()),
        (None, Some(params)) => Err(count_mismatch(format!(
            "header: the template has no header variables, received {}",
            params.len()
        ))),
        (Some(format), None) => Err(format_mismatch(format!(
            "header: expected {} parameter, received none",
            label(format)
        ))),
        (Some(format), Some([parameter]))
            if parameter_type(parameter) == format.parameter_type() =>
        {
            Ok(())
        }
        (Some(format), Some(params)) => Err(format_mismatch(format!(
            "header: format mismatch, expected {}, received {}",
            label(format),
            params
                .iter()
                .map(parameter_type)
                .collect::<Vec<_>>()
                .join(",")
        ))),
    }
}

fn label(format: HeaderFormat) -> String {
    format.parameter_type().to_uppercase()
}

fn parameter_type(parameter: &Parameter) -> &'static str {
    match parameter {
        Parameter::Text { .. } => "text",
        Parameter::Image { .. } => "image",
        Parameter::Video { .. } => "video",
        Parameter::Document { .. } => "document",
        Parameter::Payload { .. } => "payload",
    }
}

#[cfg(test)]
mod tests {
    use closeloop_whatsapp::wire::{
        HeaderKind, HeaderMedia, InteractiveAction, ListRow, ListSection, MediaLink, ReplyButton,
        ReplyOption, SessionContent,
    };
    use serde_json::json;

    use super::*;

    fn registry() -> Vec<TemplateDef> {
        vec![
            TemplateDef {
                buttons: vec![TemplateButton::DynamicUrl],
                ..TemplateDef::new("csat_invite", "es", 3)
            },
            TemplateDef {
                header: Some(HeaderFormat::Image),
                ..TemplateDef::new("with_image", "en", 1)
            },
            TemplateDef {
                buttons: vec![
                    TemplateButton::DynamicUrl,
                    TemplateButton::QuickReply,
                    TemplateButton::QuickReply,
                    TemplateButton::StaticUrl,
                ],
                header: Some(HeaderFormat::Video),
                ..TemplateDef::new("csat_qr", "en", 1)
            },
            TemplateDef {
                header: Some(HeaderFormat::Text),
                ..TemplateDef::new("with_text_header", "en", 0)
            },
        ]
    }

    fn quick(payloads: &[(usize, &str)]) -> SendRequest {
        let header = HeaderMedia::new(HeaderKind::Video, "https://x/y.mp4");
        let mut request = SendRequest::template(
            "34600111222",
            "csat_qr",
            "en",
            vec!["a".into()],
            Some("T".into()),
            Some(header),
        );
        for (index, payload) in payloads {
            request.template.components.push(Component {
                kind: "button".into(),
                sub_type: Some("quick_reply".into()),
                index: Some(index.to_string()),
                parameters: vec![Parameter::Payload {
                    payload: (*payload).into(),
                }],
            });
        }
        request
    }

    fn session_code(request: SessionRequest) -> Option<i64> {
        check(&Outgoing::Session(request), &registry())
            .err()
            .and_then(|r| r.code())
    }

    fn code_of(request: &SendRequest) -> Option<i64> {
        check_template(request, &registry())
            .err()
            .and_then(|r| r.code())
    }

    fn invite(params: usize, suffix: Option<&str>) -> SendRequest {
        let params = (0..params).map(|i| format!("p{i}")).collect();
        SendRequest::template(
            "34600111222",
            "csat_invite",
            "es",
            params,
            suffix.map(Into::into),
            None,
        )
    }

    fn parse_err(body: serde_json::Value) -> String {
        match parse_body(body.to_string().as_bytes()) {
            Err(r) => {
                assert_eq!(r.code(), Some(100));
                r.error.error_data.unwrap().details.unwrap()
            }
            Ok(other) => panic!("accepted {other:?}"),
        }
    }

    #[test]
    fn valid_request_passes() {
        let request = invite(3, Some("TOKEN"));
        let body = serde_json::to_vec(&request).unwrap();
        assert!(
            matches!(parse_body(&body), Ok(Parsed::Send(r)) if *r == Outgoing::Template(request.clone()))
        );
        assert_eq!(code_of(&request), None);
    }

    #[test]
    fn shape_errors_name_the_field() {
        let good = serde_json::to_value(invite(3, Some("T"))).unwrap();
        let with = |key: &str, v: serde_json::Value| {
            let mut body = good.clone();
            body[key] = v;
            body
        };
        assert!(parse_err(with("messaging_product", json!("sms"))).starts_with("messaging_product"));
        assert!(parse_err(with("type", json!("image"))).starts_with("type"));
        assert!(parse_err(with("to", json!("+34600111222"))).starts_with("to"));
        assert!(parse_err(with("to", json!("1234567"))).starts_with("to"));
        assert!(parse_err(with("to", json!("1234567890123456"))).starts_with("to"));
        assert!(parse_err(with("recipient_type", json!("group"))).starts_with("recipient_type"));
        let mut body = good.clone();
        body["template"]["language"] = json!({});
        assert!(parse_err(body).starts_with("template.language"));
        assert!(matches!(parse_body(b"nope"), Err(r) if r.code() == Some(100)));
    }

    #[test]
    fn mark_read_is_recognised() {
        let body = json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"});
        assert!(matches!(
            parse_body(body.to_string().as_bytes()),
            Ok(Parsed::MarkRead)
        ));
    }

    #[test]
    fn template_must_exist_in_that_language() {
        let mut request = invite(3, Some("T"));
        request.template.language.code = "es_ES".into();
        assert_eq!(code_of(&request), Some(132001));
        request.template.name = "other".into();
        assert_eq!(code_of(&request), Some(132001));
    }

    #[test]
    fn counts_and_buttons() {
        assert_eq!(code_of(&invite(2, Some("T"))), Some(132000));
        assert_eq!(code_of(&invite(4, Some("T"))), Some(132000));
        assert_eq!(code_of(&invite(3, None)), Some(132000));
        assert_eq!(code_of(&invite(3, Some(""))), Some(132000));
        let mut empty_param = invite(3, Some("T"));
        empty_param.template.components[0].parameters[1] = Parameter::Text { text: " ".into() };
        assert_eq!(code_of(&empty_param), Some(131008));
        let extra_button = SendRequest::template(
            "34600111222",
            "with_image",
            "en",
            vec!["a".into()],
            Some("T".into()),
            Some(HeaderMedia::Image("https://x/y.png".into())),
        );
        assert_eq!(code_of(&extra_button), Some(132000));
    }

    #[test]
    fn header_format_must_match() {
        let send = |header| {
            SendRequest::template(
                "34600111222",
                "with_image",
                "en",
                vec!["a".into()],
                None,
                header,
            )
        };
        assert_eq!(
            code_of(&send(Some(HeaderMedia::Image("https://x/y.png".into())))),
            None
        );
        assert_eq!(
            code_of(&send(Some(HeaderMedia::Video("https://x/y.mp4".into())))),
            Some(132012)
        );
        assert_eq!(code_of(&send(None)), Some(132012));
        let unexpected = SendRequest::template(
            "34600111222",
            "csat_invite",
            "es",
            vec!["a".into(), "b".into(), "c".into()],
            Some("T".into()),
            Some(HeaderMedia::Image("https://x/y.png".into())),
        );
        assert_eq!(code_of(&unexpected), Some(132000));
    }

    #[test]
    fn quick_replies_must_name_quick_reply_buttons() {
        assert_eq!(code_of(&quick(&[])), None);
        assert_eq!(code_of(&quick(&[(1, "csat:good"), (2, "csat:bad")])), None);
        // Index 0 is the URL button, 3 a fixed URL button: a payload there is the wrong format.
        let mut on_url = quick(&[]);
        on_url.template.components[2].sub_type = Some("quick_reply".into());
        on_url.template.components[2].parameters = vec![Parameter::Payload {
            payload: "p".into(),
        }];
        assert_eq!(code_of(&on_url), Some(132012));
        assert_eq!(code_of(&quick(&[(3, "p")])), Some(132012));
        assert_eq!(code_of(&quick(&[(4, "p")])), Some(132000));
        assert_eq!(code_of(&quick(&[(1, "p"), (1, "q")])), Some(100));
        let long = "p".repeat(closeloop_whatsapp::wire::limits::QUICK_REPLY_PAYLOAD_MAX + 1);
        assert_eq!(code_of(&quick(&[(1, &long)])), Some(131009));
        assert_eq!(code_of(&quick(&[(1, " ")])), Some(131008));
        let mut text_param = quick(&[(1, "p")]);
        let last = text_param.template.components.len() - 1;
        text_param.template.components[last].parameters =
            vec![Parameter::Text { text: "p".into() }];
        assert_eq!(code_of(&text_param), Some(132012));
        text_param.template.components[last].parameters = vec![];
        assert_eq!(code_of(&text_param), Some(132000));
        let mut bad_index = quick(&[(1, "p")]);
        bad_index.template.components[last].index = Some("one".into());
        assert_eq!(code_of(&bad_index), Some(100));
        let mut static_url = quick(&[]);
        static_url.template.components.push(Component {
            kind: "button".into(),
            sub_type: Some("url".into()),
            index: Some("3".into()),
            parameters: vec![Parameter::Text { text: "x".into() }],
        });
        assert_eq!(code_of(&static_url), Some(132000));
    }

    #[test]
    fn every_header_format_is_matched() {
        let mut wrong = quick(&[]);
        wrong.template.components[0].parameters = vec![Parameter::Document {
            document: MediaLink {
                link: "https://x/y.pdf".into(),
                filename: None,
            },
        }];
        assert_eq!(code_of(&wrong), Some(132012));
        let text_header = |header: Vec<Parameter>| {
            let mut request =
                SendRequest::template("34600111222", "with_text_header", "en", vec![], None, None);
            request.template.components.push(Component {
                kind: "header".into(),
                sub_type: None,
                index: None,
                parameters: header,
            });
            code_of(&request)
        };
        assert_eq!(
            text_header(vec![Parameter::Text {
                text: "Case 1".into()
            }]),
            None
        );
        assert_eq!(
            text_header(vec![Parameter::Image {
                image: MediaLink {
                    link: "https://x/y.png".into(),
                    filename: None
                }
            }]),
            Some(132012)
        );
    }

    #[test]
    fn session_messages_get_meta_codes_for_broken_limits() {
        let ok = SessionRequest::buttons(
            "34600111222",
            "Q?",
            vec![ReplyOption {
                id: "a".into(),
                title: "A".into(),
            }],
        )
        .unwrap();
        assert_eq!(session_code(ok.clone()), None);
        let with_buttons = |titles: &[&str]| {
            let mut request = ok.clone();
            let SessionContent::Interactive { interactive } = &mut request.content else {
                unreachable!()
            };
            interactive.action = InteractiveAction::Button {
                action: closeloop_whatsapp::wire::ButtonAction {
                    buttons: titles
                        .iter()
                        .enumerate()
                        .map(|(i, t)| ReplyButton::Reply {
                            reply: ReplyOption {
                                id: format!("id{i}"),
                                title: (*t).into(),
                            },
                        })
                        .collect(),
                },
            };
            session_code(request)
        };
        assert_eq!(with_buttons(&["a", "b", "c", "d"]), Some(131009));
        assert_eq!(with_buttons(&["a", "a"]), Some(131009));
        assert_eq!(with_buttons(&[&"t".repeat(21)]), Some(131009));
        assert_eq!(with_buttons(&[""]), Some(131008));
        let mut list = SessionRequest::list(
            "34600111222",
            "Q?",
            "Pick",
            vec![ListSection {
                title: None,
                rows: vec![ListRow {
                    id: "r".into(),
                    title: "R".into(),
                    description: None,
                }],
            }],
        )
        .unwrap();
        assert_eq!(session_code(list.clone()), None);
        if let SessionContent::Interactive { interactive } = &mut list.content {
            if let InteractiveAction::List { action } = &mut interactive.action {
                action.sections[0].rows = (0..11)
                    .map(|i| ListRow {
                        id: format!("r{i}"),
                        title: format!("{i}"),
                        description: None,
                    })
                    .collect();
            }
        }
        assert_eq!(session_code(list), Some(131009));
        let mut text = SessionRequest::text("34600111222", "hi").unwrap();
        if let SessionContent::Text { text } = &mut text.content {
            text.body = "x".repeat(4097);
        }
        assert_eq!(session_code(text), Some(100));
    }

    #[test]
    fn text_and_interactive_bodies_parse_without_recipient_type() {
        let body = json!({"messaging_product":"whatsapp","to":"5511988887777","type":"text",
                          "text":{"preview_url":true,"body":"Thanks"}});
        match parse_body(body.to_string().as_bytes()) {
            Ok(Parsed::Send(outgoing)) => {
                let Outgoing::Session(request) = *outgoing else {
                    panic!("expected a session message");
                };
                assert_eq!(request.recipient_type, "individual");
                assert_eq!(Outgoing::Session(request).text(), Some("Thanks"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let bad = json!({"messaging_product":"whatsapp","to":"5511988887777","type":"interactive",
                         "interactive":{"type":"carousel","body":{"text":"x"}}});
        let details = parse_err(bad);
        assert!(details.contains("carousel"), "{details}");
    }
}
