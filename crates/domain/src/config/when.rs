//! Parsing condition trees from their config form (SPEC §3.1) into [`Condition`]s.
//!
//! Accepted forms: a list (= `all`), a map of entries (several entries = `all`), `all`/`any`
//! lists, `not`, `field: value` (= `eq`), `field: {op: value, ...}`, and the four survey
//! conditions. Every problem is reported with its path; parsing goes on after an error so
//! one run shows them all.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::{index, join, Problems};
use super::scope::Scope;
use crate::condition::{Condition, EventKind, Op, Pattern, StatusSet, SurveyCondition, SurveyRef};
use crate::duration::Duration;
use crate::field::FieldPath;

const OPERATORS: &str =
    "eq, ne, in, not_in, contains, exists, gt, gte, lt, lte, matches, changed, changed_to, changed_from";

/// Parses a condition (`when`, `if`, `not`, list items).
pub(crate) fn parse(v: &Value, path: &str, scope: &Scope, p: &mut Problems) -> Option<Condition> {
    match v {
        Value::Array(items) => parse_list(items, path, scope, p).map(Condition::All),
        Value::Object(map) if map.is_empty() => {
            p.add(path, "empty condition");
            None
        }
        Value::Object(map) => {
            let mut out = Vec::new();
            let mut ok = true;
            for (key, val) in map {
                match parse_entry(key, val, &join(path, key), scope, p) {
                    Some(c) => out.push(c),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Some(if out.len() == 1 {
                out.remove(0)
            } else {
                Condition::All(out)
            })
        }
        _ => {
            p.add(path, "expected a condition map or a list of conditions");
            None
        }
    }
}

fn parse_list(
    items: &[Value],
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<Vec<Condition>> {
    let parsed: Vec<Option<Condition>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse(item, &index(path, i), scope, p))
        .collect();
    parsed.into_iter().collect()
}

fn parse_entry(
    key: &str,
    v: &Value,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<Condition> {
    match key {
        "all" | "any" => {
            let Value::Array(items) = v else {
                p.add(path, format!("`{key}` needs a list of conditions"));
                return None;
            };
            let children = parse_list(items, path, scope, p)?;
            Some(if key == "all" {
                Condition::All(children)
            } else {
                Condition::Any(children)
            })
        }
        "not" => parse(v, path, scope, p).map(|c| Condition::Not(Box::new(c))),
        "survey.invite_status"
        | "survey.response_status"
        | "survey.last_sent_before"
        | "survey.answer" => parse_survey(key, v, path, scope, p).map(Condition::Survey),
        _ if key.starts_with("survey.") => {
            p.add(
                path,
                format!("unknown survey condition `{key}` (expected survey.invite_status, survey.response_status, survey.last_sent_before or survey.answer)"),
            );
            None
        }
        _ => {
            let field = match FieldPath::parse(key) {
                Ok(f) => f,
                Err(e) => {
                    p.add(path, e.to_string());
                    return None;
                }
            };
            let ops = parse_ops(&field, v, path, p)?;
            Some(Condition::Field { field, ops })
        }
    }
}

/// A field's operators: a map of `op: operand`, or a bare value meaning `eq`.
fn parse_ops(field: &FieldPath, v: &Value, path: &str, p: &mut Problems) -> Option<Vec<Op>> {
    let Value::Object(map) = v else {
        let op = Op::Eq(v.clone());
        check_event_kind(field, &op, path, p)?;
        return Some(vec![op]);
    };
    if map.is_empty() {
        p.add(path, format!("no operator (expected one of {OPERATORS})"));
        return None;
    }
    let mut ops = Vec::new();
    let mut ok = true;
    for (name, operand) in map {
        let op_path = join(path, name);
        match parse_op(name, operand, &op_path, p).and_then(|op| {
            check_event_kind(field, &op, &op_path, p)?;
            Some(op)
        }) {
            Some(op) => ops.push(op),
            None => ok = false,
        }
    }
    ok.then_some(ops)
}

/// `event.kind` is not a case field: it never changes and only takes event kind names.
fn check_event_kind(field: &FieldPath, op: &Op, path: &str, p: &mut Problems) -> Option<()> {
    if *field != FieldPath::EventKind {
        return Some(());
    }
    if op.is_change_op() {
        p.add(path, "event.kind cannot be tested for changes");
        return None;
    }
    let names: Vec<&Value> = match op {
        Op::Eq(v) | Op::Ne(v) => vec![v],
        Op::In(vs) | Op::NotIn(vs) => vs.iter().collect(),
        _ => Vec::new(),
    };
    for v in names {
        let known = v.as_str().is_some_and(|s| s.parse::<EventKind>().is_ok());
        if !known {
            p.add(
                path,
                format!("`{v}` is not an event kind (case_created, case_updated, survey_updated, message_received, scheduled)"),
            );
            return None;
        }
    }
    Some(())
}

fn is_comparable(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => {
            OffsetDateTime::parse(s, &Rfc3339).is_ok() || s.trim().parse::<f64>().is_ok()
        }
        _ => false,
    }
}

/// Parses one `op: operand`.
pub(crate) fn parse_op(name: &str, v: &Value, path: &str, p: &mut Problems) -> Option<Op> {
    let list = |p: &mut Problems| match v {
        Value::Array(items) => Some(items.clone()),
        _ => {
            p.add(path, format!("`{name}` needs a list"));
            None
        }
    };
    let flag = |p: &mut Problems| match v {
        Value::Bool(b) => Some(*b),
        _ => {
            p.add(path, format!("`{name}` needs true or false"));
            None
        }
    };
    let ordered = |p: &mut Problems| {
        if is_comparable(v) {
            Some(v.clone())
        } else {
            p.add(
                path,
                format!("`{name}` needs a number or an RFC 3339 timestamp"),
            );
            None
        }
    };
    Some(match name {
        "eq" => Op::Eq(v.clone()),
        "ne" => Op::Ne(v.clone()),
        "contains" => Op::Contains(v.clone()),
        "changed_to" => Op::ChangedTo(v.clone()),
        "changed_from" => Op::ChangedFrom(v.clone()),
        "in" => Op::In(list(p)?),
        "not_in" => Op::NotIn(list(p)?),
        "exists" => Op::Exists(flag(p)?),
        "changed" => Op::Changed(flag(p)?),
        "gt" => Op::Gt(ordered(p)?),
        "gte" => Op::Gte(ordered(p)?),
        "lt" => Op::Lt(ordered(p)?),
        "lte" => Op::Lte(ordered(p)?),
        "matches" => {
            let Some(pattern) = v.as_str() else {
                p.add(path, "`matches` needs a regular expression string");
                return None;
            };
            match Pattern::new(pattern) {
                Ok(re) => Op::Matches(re),
                Err(e) => {
                    p.add(path, format!("invalid regular expression: {e}"));
                    return None;
                }
            }
        }
        _ => {
            p.add(
                path,
                format!("unknown operator `{name}` (expected one of {OPERATORS})"),
            );
            return None;
        }
    })
}

/// Takes the string `key` out of `map`, reporting it missing or mistyped.
fn take_string(
    map: &mut Map<String, Value>,
    key: &str,
    base: &str,
    p: &mut Problems,
) -> Option<String> {
    match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            p.add(join(base, key), "expected a string");
            None
        }
        None => {
            p.add(join(base, key), "missing required field");
            None
        }
    }
}

fn status_list(
    v: Value,
    path: &str,
    valid: fn(&str) -> bool,
    what: &str,
    p: &mut Problems,
) -> Option<Vec<String>> {
    let Value::Array(items) = v else {
        p.add(path, "expected a list of status names");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.into_iter().enumerate() {
        match item.as_str() {
            Some(name) if valid(name) => out.push(name.to_owned()),
            _ => {
                p.add(index(path, i), format!("`{item}` is not {what}"));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn parse_survey(
    key: &str,
    v: &Value,
    path: &str,
    scope: &Scope,
    p: &mut Problems,
) -> Option<SurveyCondition> {
    let Value::Object(map) = v else {
        p.add(
            path,
            format!("`{key}` needs a map with survey, channel and distribution"),
        );
        return None;
    };
    let mut map = map.clone();
    let survey = take_string(&mut map, "survey", path, p);
    let channel = take_string(&mut map, "channel", path, p);
    let distribution = take_string(&mut map, "distribution", path, p);
    let target = SurveyRef {
        survey: survey?,
        channel: channel?,
        distribution: distribution?,
    };
    let typed = scope.check_target(&target, path, p);
    match key {
        "survey.invite_status" | "survey.response_status" => {
            let (valid, what): (fn(&str) -> bool, &str) = if key == "survey.invite_status" {
                (
                    StatusSet::valid_invite_name,
                    "an invite status (or none, invite_sent)",
                )
            } else {
                (
                    StatusSet::valid_response_name,
                    "a response status (or none)",
                )
            };
            let mut set = StatusSet::default();
            let mut ok = true;
            for (op, val) in std::mem::take(&mut map) {
                let op_path = join(path, &op);
                let slot = match op.as_str() {
                    "in" => &mut set.include,
                    "not_in" => &mut set.exclude,
                    _ => {
                        p.add(
                            op_path,
                            format!("unknown key `{op}` (expected in or not_in)"),
                        );
                        ok = false;
                        continue;
                    }
                };
                *slot = status_list(val, &op_path, valid, what, p);
                ok &= slot.is_some();
            }
            if set.include.is_none() && set.exclude.is_none() && ok {
                p.add(path, format!("`{key}` needs `in` or `not_in`"));
                return None;
            }
            if !ok {
                return None;
            }
            Some(if key == "survey.invite_status" {
                SurveyCondition::InviteStatus { target, ops: set }
            } else {
                SurveyCondition::ResponseStatus { target, ops: set }
            })
        }
        "survey.last_sent_before" => {
            let duration = take_string(&mut map, "duration", path, p).and_then(|s| {
                match Duration::parse(&s) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        p.add(join(path, "duration"), e.to_string());
                        None
                    }
                }
            });
            let ok = reject_rest(&map, path, "duration", p);
            ok.then_some(SurveyCondition::LastSentBefore {
                target,
                duration: duration?,
            })
        }
        _ => {
            let question = take_string(&mut map, "question", path, p)?;
            if let Some((survey, _)) = typed {
                if survey.question(&question).is_none() {
                    p.add(
                        join(path, "question"),
                        format!("survey `{}` has no question `{question}`", survey.id),
                    );
                }
            }
            if map.is_empty() {
                p.add(
                    path,
                    format!("`survey.answer` needs an operator ({OPERATORS})"),
                );
                return None;
            }
            let mut ops = Vec::new();
            let mut ok = true;
            for (name, operand) in &map {
                let op_path = join(path, name);
                match parse_op(name, operand, &op_path, p) {
                    Some(op) if op.is_change_op() => {
                        p.add(op_path, "answers cannot be tested for changes");
                        ok = false;
                    }
                    Some(op) => ops.push(op),
                    None => ok = false,
                }
            }
            ok.then_some(SurveyCondition::Answer {
                target,
                question,
                ops,
            })
        }
    }
}

fn reject_rest(map: &Map<String, Value>, path: &str, expected: &str, p: &mut Problems) -> bool {
    for key in map.keys() {
        p.add(
            join(path, key),
            format!("unknown key `{key}` (expected survey, channel, distribution, {expected})"),
        );
    }
    map.is_empty()
}
