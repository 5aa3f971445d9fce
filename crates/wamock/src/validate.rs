//! Pure checks of a send body, in the order Meta applies them: shape (code 100), template
//! existence (132001), parameter counts (132000), parameter formats (132012).

use closeloop_whatsapp::wire::{Component, Parameter, SendRequest};
use serde_json::Value;

use crate::config::{HeaderFormat, TemplateDef};
use crate::failure::Rejection;

/// What a well-formed body asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A template send.
    Send(SendRequest),
    /// `{"status":"read","message_id":…}`: mark an inbound message as read.
    MarkRead,
}

/// Checks the envelope fields and parses the body as a SPEC §6 template request.
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
    match value.get("type").and_then(Value::as_str) {
        Some("template") => {}
        Some(other) => {
            return Err(Rejection::invalid_parameter(format!(
                "type: the mock supports only template messages, got \"{other}\""
            )))
        }
        None => {
            return Err(Rejection::invalid_parameter(
                "type: the parameter is required".into(),
            ))
        }
    }
    let to = value.get("to").and_then(Value::as_str).unwrap_or("");
    if !(8..=15).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::invalid_parameter(format!(
            "to: must be 8 to 15 digits without '+', got \"{to}\""
        )));
    }
    let request: SendRequest = serde_path_to_error::deserialize(value)
        .map_err(|e| Rejection::invalid_parameter(format!("{}: {}", e.path(), e.inner())))?;
    if request.recipient_type != "individual" {
        return Err(Rejection::invalid_parameter(
            "recipient_type: must be \"individual\"".into(),
        ));
    }
    Ok(Parsed::Send(request))
}

/// Checks the template against the registry.
pub(crate) fn check_template(
    request: &SendRequest,
    registry: &[TemplateDef],
) -> Result<(), Rejection> {
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
    check_url_button(def, &parts)?;
    check_header(def, &parts)
}

/// The components of a request, sorted by role.
struct Parts<'a> {
    header: Option<&'a [Parameter]>,
    body: Vec<&'a Parameter>,
    url_button: Option<&'a Component>,
}

impl<'a> Parts<'a> {
    fn collect(components: &'a [Component]) -> Result<Parts<'a>, Rejection> {
        let mut parts = Parts {
            header: None,
            body: Vec::new(),
            url_button: None,
        };
        for (i, component) in components.iter().enumerate() {
            match (component.kind.as_str(), component.sub_type.as_deref()) {
                ("header", _) => parts.header = Some(&component.parameters),
                ("body", _) => parts.body.extend(component.parameters.iter()),
                ("button", Some("url")) => parts.url_button = Some(component),
                ("button", Some(_)) => {}
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

fn check_url_button(def: &TemplateDef, parts: &Parts<'_>) -> Result<(), Rejection> {
    match (def.url_button, parts.url_button) {
        (false, None) => Ok(()),
        (false, Some(_)) => Err(count_mismatch(
            "button: the template has no dynamic URL button".into(),
        )),
        (true, None) => Err(count_mismatch(
            "button: button at index 0 of type Url requires a parameter".into(),
        )),
        (true, Some(button)) => match (button.index.as_deref(), button.parameters.as_slice()) {
            (Some("0"), [Parameter::Text { text }]) if !text.is_empty() => Ok(()),
            (Some("0"), _) => Err(count_mismatch(
                "button: URL button at index 0 takes exactly one non-empty text parameter".into(),
            )),
            (index, _) => Err(Rejection::invalid_parameter(format!(
                "button: the URL button is at index \"0\", got {index:?}"
            ))),
        },
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
    use closeloop_whatsapp::wire::HeaderMedia;
    use serde_json::json;

    use super::*;

    fn registry() -> Vec<TemplateDef> {
        vec![
            TemplateDef {
                url_button: true,
                ..TemplateDef::new("csat_invite", "es", 3)
            },
            TemplateDef {
                header: Some(HeaderFormat::Image),
                ..TemplateDef::new("with_image", "en", 1)
            },
        ]
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
        assert!(matches!(parse_body(&body), Ok(Parsed::Send(r)) if r == request));
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
        assert!(parse_err(with("type", json!("text"))).starts_with("type"));
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
}
