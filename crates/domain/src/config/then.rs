//! Parsing a rule's `then` list (SPEC §3.2): one-key action maps, the short forms
//! `move_to_queue: Q` / `add_tag: T`, and nested `{if, then, else}` elements. Survey actions
//! are checked against the surveys and distributions they name and the author's permission.

use serde_json::{Map, Value};

use super::error::{index, join, serde_path, Problems};
use super::raw::RawSurveyAction;
use super::scope::Scope;
use super::when;
use crate::action::{Action, SurveyAction, ThenElement};
use crate::case::Case;
use crate::condition::SurveyRef;
use crate::field::FieldPath;
use crate::language::Language;

const ACTIONS: &str = "trigger_survey_invitation, send_survey_reminder, send_thank_you_message, move_to_queue, set_field, add_tag";

/// Parses a `then` list.
pub(crate) fn parse_list(
    v: &Value,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<Vec<ThenElement>> {
    let Value::Array(items) = v else {
        p.add(path, "expected a list of actions");
        return None;
    };
    let parsed: Vec<Option<ThenElement>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_element(item, &index(path, i), scope, p))
        .collect();
    parsed.into_iter().collect()
}

fn parse_element(v: &Value, path: &str, scope: &Scope, p: &mut Problems) -> Option<ThenElement> {
    let Value::Object(map) = v else {
        p.add(
            path,
            format!("expected an action map (one of {ACTIONS}) or an if/then/else"),
        );
        return None;
    };
    if map.contains_key("if") {
        return parse_if(map, path, scope, p);
    }
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((name, body)), None) => {
            parse_action(name, body, &join(path, name), scope, p).map(ThenElement::Action)
        }
        (None, _) => {
            p.add(path, "empty action");
            None
        }
        _ => {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            p.add(
                path,
                format!(
                    "an action element has exactly one key, the action name; found {}",
                    keys.join(", ")
                ),
            );
            None
        }
    }
}

fn parse_if(
    map: &Map<String, Value>,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<ThenElement> {
    let mut ok = true;
    for key in map.keys() {
        if !matches!(key.as_str(), "if" | "then" | "else") {
            p.add(
                join(path, key),
                format!("unknown key `{key}` (expected if, then, else)"),
            );
            ok = false;
        }
    }
    let condition = when::parse(&map["if"], &join(path, "if"), scope, p);
    let then = match map.get("then") {
        Some(v) => parse_list(v, &join(path, "then"), scope, p),
        None => {
            p.add(join(path, "then"), "missing required field");
            None
        }
    };
    let otherwise = match map.get("else") {
        Some(v) => parse_list(v, &join(path, "else"), scope, p),
        None => Some(Vec::new()),
    };
    if !ok {
        return None;
    }
    Some(ThenElement::If {
        condition: condition?,
        then: then?,
        otherwise: otherwise?,
    })
}

/// A short form (`move_to_queue: Q`) or `{key: Q}`.
fn short_form(v: &Value, key: &str, path: &str, p: &mut Problems) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(map) => {
            let mut ok = true;
            for k in map.keys().filter(|k| *k != key) {
                p.add(join(path, k), format!("unknown key `{k}` (expected {key})"));
                ok = false;
            }
            match map.get(key) {
                Some(Value::String(s)) if !s.is_empty() => ok.then(|| s.clone()),
                Some(_) => {
                    p.add(join(path, key), "expected a non-empty string");
                    None
                }
                None => {
                    p.add(join(path, key), "missing required field");
                    None
                }
            }
        }
        _ => {
            p.add(path, format!("expected a {key} name or {{{key}: ...}}"));
            None
        }
    }
}

fn parse_action(
    name: &str,
    body: &Value,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<Action> {
    match name {
        "trigger_survey_invitation" => {
            parse_survey_action(name, body, path, scope, p).map(Action::TriggerSurveyInvitation)
        }
        "send_survey_reminder" => {
            parse_survey_action(name, body, path, scope, p).map(Action::SendSurveyReminder)
        }
        "send_thank_you_message" => {
            parse_survey_action(name, body, path, scope, p).map(Action::SendThankYouMessage)
        }
        "move_to_queue" => {
            short_form(body, "queue", path, p).map(|queue| Action::MoveToQueue { queue })
        }
        "add_tag" => short_form(body, "tag", path, p).map(|tag| Action::AddTag { tag }),
        "set_field" => parse_set_field(body, path, p),
        _ => {
            p.add(
                path,
                format!("unknown action `{name}` (expected one of {ACTIONS})"),
            );
            None
        }
    }
}

fn parse_set_field(body: &Value, path: &str, p: &mut Problems) -> Option<Action> {
    let Value::Object(map) = body else {
        p.add(path, "set_field needs {field, value}");
        return None;
    };
    let mut ok = true;
    for k in map
        .keys()
        .filter(|k| !matches!(k.as_str(), "field" | "value"))
    {
        p.add(
            join(path, k),
            format!("unknown key `{k}` (expected field, value)"),
        );
        ok = false;
    }
    let field = match map.get("field") {
        Some(Value::String(s)) => match FieldPath::parse(s) {
            Ok(f) => Some(f),
            Err(e) => {
                p.add(join(path, "field"), e.to_string());
                None
            }
        },
        Some(_) => {
            p.add(join(path, "field"), "expected a field name");
            None
        }
        None => {
            p.add(join(path, "field"), "missing required field");
            None
        }
    };
    let Some(value) = map.get("value") else {
        p.add(join(path, "value"), "missing required field");
        return None;
    };
    let field = field?;
    // Try the write on a scratch case: the same rules as at run time decide what fits.
    if let Err(e) = Case::default().set_field(&field, value.clone()) {
        p.add(join(path, "value"), e.to_string());
        return None;
    }
    ok.then(|| Action::SetField {
        field,
        value: value.clone(),
    })
}

fn parse_survey_action(
    name: &str,
    body: &Value,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<SurveyAction> {
    let raw: RawSurveyAction = match serde_path_to_error::deserialize(body) {
        Ok(raw) => raw,
        Err(e) => {
            p.add(join(path, &serde_path(e.path())), e.inner().to_string());
            return None;
        }
    };
    let survey = p.required(&raw.survey, path, "survey").cloned();
    let channel = p.required(&raw.channel, path, "channel").cloned();
    let distribution = p.required(&raw.distribution, path, "distribution").cloned();
    let target = SurveyRef {
        survey: survey?,
        channel: channel?,
        distribution: distribution?,
    };
    let mut ok = true;
    if raw.use_distribution_account.is_some() && name != "trigger_survey_invitation" {
        p.add(
            join(path, "use_distribution_account"),
            "only trigger_survey_invitation chooses the account; reminders and thank-yous use the invite's",
        );
        ok = false;
    }
    let language = match raw.language.as_deref().map(Language::parse) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            p.add(join(path, "language"), e.to_string());
            ok = false;
            None
        }
        None => None,
    };
    for (key, value) in [
        ("recipient_case_field", &raw.recipient_case_field),
        ("recipient_profile_field", &raw.recipient_profile_field),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            p.add(join(path, key), "must not be empty");
            ok = false;
        }
    }
    if let Some((survey, dist)) = scope.check_target(&target, path, p) {
        scope.check_permission(survey, &join(path, "survey"), p);
        let dist_path = join(path, "distribution");
        scope.check_sending(dist, &dist_path, p);
        let needs = match name {
            "send_survey_reminder" => dist.messages.reminder.is_none().then_some("reminder"),
            "send_thank_you_message" => dist.messages.thank_you.is_none().then_some("thank_you"),
            _ => None,
        };
        if let Some(message) = needs {
            p.add(
                &dist_path,
                format!(
                    "distribution `{}` has no `{message}` message, needed by {name}",
                    dist.id
                ),
            );
        }
        if let Some(lang) = &language {
            if !survey.offers(lang) {
                p.add(
                    join(path, "language"),
                    format!("survey `{}` is not offered in `{lang}`", survey.id),
                );
            }
        }
    }
    ok.then(|| SurveyAction {
        target,
        language,
        use_last_message_language: raw.use_last_message_language.unwrap_or(false),
        recipient_case_field: raw.recipient_case_field,
        recipient_profile_field: raw.recipient_profile_field,
        use_distribution_account: raw.use_distribution_account.unwrap_or(false),
    })
}
