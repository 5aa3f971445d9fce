//! The condition tree of a rule (SPEC §3.1) and its pure evaluation against one event.
//!
//! Everything the evaluator needs — the case before and after, the case's invites — is loaded
//! by the caller into an [`EvalContext`]; evaluation never fails (incomparable values are
//! simply `false`) and records every leaf it evaluated in a [`ConditionTrace`] so a person can
//! see why a rule did or did not fire.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::case::{field_changed, Case};
use crate::duration::Duration;
use crate::field::FieldPath;
use crate::status::{InviteStatus, ResponseStatus, StatusError};

/// A compiled regular expression that compares equal by its pattern text.
#[derive(Clone, Debug)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// Compiles a pattern.
    ///
    /// # Errors
    /// When the pattern is not a valid regular expression.
    pub fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(pattern).map(Pattern)
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the pattern matches somewhere in `s`.
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One operator applied to a field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Equal (numbers compare numerically).
    Eq(Value),
    /// Not equal.
    Ne(Value),
    /// The value (or, for a list field, any element) is one of these.
    In(Vec<Value>),
    /// Neither the value nor any element of a list field is one of these.
    NotIn(Vec<Value>),
    /// List field: has this element; string: has this substring.
    Contains(Value),
    /// `true`: the value is present (non-null, non-empty list); `false`: absent.
    Exists(bool),
    /// Greater than (numbers, or RFC 3339 timestamps as instants).
    Gt(Value),
    /// Greater than or equal.
    Gte(Value),
    /// Less than.
    Lt(Value),
    /// Less than or equal.
    Lte(Value),
    /// The string (or any string element of a list) matches the regex.
    Matches(Pattern),
    /// `true`: the field changed in this event; `false`: it did not.
    Changed(bool),
    /// Changed, and the new value equals this.
    ChangedTo(Value),
    /// Changed, and the old value equals this.
    ChangedFrom(Value),
}

impl Op {
    /// The operator name as written in config.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Eq(_) => "eq",
            Op::Ne(_) => "ne",
            Op::In(_) => "in",
            Op::NotIn(_) => "not_in",
            Op::Contains(_) => "contains",
            Op::Exists(_) => "exists",
            Op::Gt(_) => "gt",
            Op::Gte(_) => "gte",
            Op::Lt(_) => "lt",
            Op::Lte(_) => "lte",
            Op::Matches(_) => "matches",
            Op::Changed(_) => "changed",
            Op::ChangedTo(_) => "changed_to",
            Op::ChangedFrom(_) => "changed_from",
        }
    }

    /// The operand, as shown in a trace.
    pub fn expected(&self) -> Value {
        match self {
            Op::Eq(v)
            | Op::Ne(v)
            | Op::Contains(v)
            | Op::Gt(v)
            | Op::Gte(v)
            | Op::Lt(v)
            | Op::Lte(v)
            | Op::ChangedTo(v)
            | Op::ChangedFrom(v) => v.clone(),
            Op::In(vs) | Op::NotIn(vs) => Value::Array(vs.clone()),
            Op::Exists(b) | Op::Changed(b) => Value::Bool(*b),
            Op::Matches(p) => Value::String(p.as_str().to_owned()),
        }
    }

    /// Whether this operator looks at the change between `before` and `after`.
    pub fn is_change_op(&self) -> bool {
        matches!(self, Op::Changed(_) | Op::ChangedTo(_) | Op::ChangedFrom(_))
    }

    /// Applies a value-only operator. Change operators need the event and return `false`
    /// here; [`Condition::evaluate`] handles them.
    pub fn test(&self, actual: &Value) -> bool {
        match self {
            Op::Eq(v) => values_equal(actual, v),
            Op::Ne(v) => !values_equal(actual, v),
            Op::In(set) => is_in(actual, set),
            Op::NotIn(set) => !is_in(actual, set),
            Op::Contains(v) => match actual {
                Value::Array(items) => items.iter().any(|i| values_equal(i, v)),
                Value::String(s) => v.as_str().is_some_and(|needle| s.contains(needle)),
                _ => false,
            },
            Op::Exists(want) => is_present(actual) == *want,
            Op::Gt(v) => compare(actual, v) == Some(Ordering::Greater),
            Op::Gte(v) => matches!(
                compare(actual, v),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Op::Lt(v) => compare(actual, v) == Some(Ordering::Less),
            Op::Lte(v) => matches!(compare(actual, v), Some(Ordering::Less | Ordering::Equal)),
            Op::Matches(p) => match actual {
                Value::String(s) => p.is_match(s),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|s| p.is_match(s)),
                _ => false,
            },
            Op::Changed(_) | Op::ChangedTo(_) | Op::ChangedFrom(_) => false,
        }
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// JSON equality, except that numbers compare by value (`1` equals `1.0`).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Membership; for a list value, any element in the set.
fn is_in(actual: &Value, set: &[Value]) -> bool {
    let one = |v: &Value| set.iter().any(|s| values_equal(v, s));
    match actual {
        Value::Array(items) => items.iter().any(one),
        other => one(other),
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        // Helpdesks often send numbers as strings; compare them as numbers too.
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_instant(v: &Value) -> Option<OffsetDateTime> {
    v.as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

/// Ordering of numbers or timestamps; `None` when the two cannot be compared.
fn compare(actual: &Value, expected: &Value) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (as_instant(actual), as_instant(expected)) {
        return Some(a.cmp(&b));
    }
    let numeric = matches!(actual, Value::Number(_)) || matches!(expected, Value::Number(_));
    if numeric {
        if let (Some(a), Some(b)) = (as_number(actual), as_number(expected)) {
            return a.partial_cmp(&b);
        }
    }
    None
}

/// Which invites a survey condition looks at: those of one survey, channel and distribution.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SurveyRef {
    /// Survey id.
    pub survey: String,
    /// Channel (always `whatsapp` today).
    pub channel: String,
    /// Distribution id.
    pub distribution: String,
}

impl SurveyRef {
    /// Whether an invite belongs to this survey + channel + distribution.
    pub fn selects(&self, invite: &InviteFacts) -> bool {
        invite.survey == self.survey
            && invite.channel == self.channel
            && invite.distribution == self.distribution
    }
}

impl fmt::Display for SurveyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.survey, self.channel, self.distribution)
    }
}

/// Status name meaning "the case has no invite for this target".
pub const NO_INVITE: &str = "none";

/// `in` / `not_in` lists of status names (including `none`, and `invite_sent` for invite
/// status). Each present list is one leaf; both must hold when both are given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusSet {
    /// `in:` — the status must be one of these.
    pub include: Option<Vec<String>>,
    /// `not_in:` — the status must be none of these.
    pub exclude: Option<Vec<String>>,
}

impl StatusSet {
    /// Valid names for an invite-status condition.
    pub fn valid_invite_name(name: &str) -> bool {
        name == NO_INVITE
            || name == crate::status::INVITE_SENT_ALIAS
            || InviteStatus::from_str(name).is_ok()
    }

    /// Valid names for a response-status condition.
    pub fn valid_response_name(name: &str) -> bool {
        name == NO_INVITE || ResponseStatus::from_str(name).is_ok()
    }
}

/// A condition on the case's latest invite for a target.
#[derive(Clone, Debug, PartialEq)]
pub enum SurveyCondition {
    /// `survey.invite_status`
    InviteStatus {
        /// Which invites.
        target: SurveyRef,
        /// Allowed / forbidden statuses.
        ops: StatusSet,
    },
    /// `survey.response_status`
    ResponseStatus {
        /// Which invites.
        target: SurveyRef,
        /// Allowed / forbidden statuses.
        ops: StatusSet,
    },
    /// `survey.last_sent_before`: the last invitation or reminder went out more than
    /// `duration` ago (false when nothing was ever sent).
    LastSentBefore {
        /// Which invites.
        target: SurveyRef,
        /// How long ago.
        duration: Duration,
    },
    /// `survey.answer`: operators over one answer of the latest invite's response.
    Answer {
        /// Which invites.
        target: SurveyRef,
        /// Question id.
        question: String,
        /// Operators that must all hold (`Null` when unanswered).
        ops: Vec<Op>,
    },
}

impl SurveyCondition {
    /// The invites this condition looks at.
    pub fn target(&self) -> &SurveyRef {
        match self {
            SurveyCondition::InviteStatus { target, .. }
            | SurveyCondition::ResponseStatus { target, .. }
            | SurveyCondition::LastSentBefore { target, .. }
            | SurveyCondition::Answer { target, .. } => target,
        }
    }

    /// The config key, e.g. `survey.invite_status`.
    pub fn key(&self) -> &'static str {
        match self {
            SurveyCondition::InviteStatus { .. } => "survey.invite_status",
            SurveyCondition::ResponseStatus { .. } => "survey.response_status",
            SurveyCondition::LastSentBefore { .. } => "survey.last_sent_before",
            SurveyCondition::Answer { .. } => "survey.answer",
        }
    }
}

/// A condition tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Every child holds (true when empty).
    All(Vec<Condition>),
    /// At least one child holds (false when empty).
    Any(Vec<Condition>),
    /// The child does not hold.
    Not(Box<Condition>),
    /// Operators over one field, all of which must hold.
    Field {
        /// The field tested.
        field: FieldPath,
        /// Its operators.
        ops: Vec<Op>,
    },
    /// A condition on the case's invites.
    Survey(SurveyCondition),
}

/// What happened to the case.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// First time the case was seen.
    CaseCreated,
    /// The case's state changed.
    CaseUpdated,
    /// An invite or response status of the case changed.
    SurveyUpdated,
    /// A message arrived in the case's conversation.
    MessageReceived,
    /// A periodic queue rule run.
    Scheduled,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 5] = [
        EventKind::CaseCreated,
        EventKind::CaseUpdated,
        EventKind::SurveyUpdated,
        EventKind::MessageReceived,
        EventKind::Scheduled,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::CaseCreated => "case_created",
            EventKind::CaseUpdated => "case_updated",
            EventKind::SurveyUpdated => "survey_updated",
            EventKind::MessageReceived => "message_received",
            EventKind::Scheduled => "scheduled",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StatusError(s.to_owned()))
    }
}

/// What the evaluator knows about one invite of the case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteFacts {
    /// Survey id.
    pub survey: String,
    /// Channel.
    pub channel: String,
    /// Distribution id.
    pub distribution: String,
    /// Invite status.
    pub status: InviteStatus,
    /// Response status.
    pub response_status: ResponseStatus,
    /// When the invite was created; the latest invite of a target has the greatest one.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the last invitation or reminder was accepted by the provider.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sent_at: Option<OffsetDateTime>,
    /// Answers given so far, by question id.
    pub answers: Map<String, Value>,
}

/// Everything one evaluation may look at, pre-loaded by the caller.
#[derive(Clone, Copy, Debug)]
pub struct EvalContext<'a> {
    /// The event being evaluated.
    pub event_kind: EventKind,
    /// The case before the event (`None` when it was just created).
    pub before: Option<&'a Case>,
    /// The case after the event.
    pub after: &'a Case,
    /// All invites of the case.
    pub invites: &'a [InviteFacts],
    /// The evaluation instant.
    pub now: OffsetDateTime,
}

impl EvalContext<'_> {
    /// The latest invite (greatest `created_at`; the later one in the slice on a tie).
    pub fn latest_invite(&self, target: &SurveyRef) -> Option<&InviteFacts> {
        self.invites
            .iter()
            .filter(|i| target.selects(i))
            .max_by_key(|i| i.created_at)
    }

    fn field_value(&self, field: &FieldPath) -> Value {
        match field {
            FieldPath::EventKind => Value::String(self.event_kind.as_str().to_owned()),
            other => self.after.field(other),
        }
    }
}

/// One evaluated leaf: what was tested, against what, and the outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionTrace {
    /// Field or survey condition, e.g. `case.status` or `survey.invite_status[csat/whatsapp/csat-wa]`.
    pub field: String,
    /// Operator name.
    pub op: String,
    /// The operand.
    pub expected: Value,
    /// The value seen.
    pub actual: Value,
    /// The outcome.
    pub result: bool,
}

impl Condition {
    /// Evaluates the tree. `All`/`Any` short-circuit; every operator of a field map is
    /// evaluated. Each evaluated leaf is appended to `trace`.
    pub fn evaluate(&self, ctx: &EvalContext, trace: &mut Vec<ConditionTrace>) -> bool {
        match self {
            Condition::All(children) => children.iter().all(|c| c.evaluate(ctx, trace)),
            Condition::Any(children) => children.iter().any(|c| c.evaluate(ctx, trace)),
            Condition::Not(child) => !child.evaluate(ctx, trace),
            Condition::Field { field, ops } => {
                let name = field.as_string();
                let mut all = true;
                for op in ops {
                    let (actual, result) = eval_field_op(ctx, field, op);
                    push(trace, &name, op, actual, result);
                    all &= result;
                }
                all
            }
            Condition::Survey(sc) => eval_survey(sc, ctx, trace),
        }
    }

    /// Every leaf condition of the tree, depth first.
    pub fn leaves(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Condition>) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().for_each(|c| c.collect_leaves(out));
            }
            Condition::Not(c) => c.collect_leaves(out),
            leaf => out.push(leaf),
        }
    }
}

fn push(trace: &mut Vec<ConditionTrace>, field: &str, op: &Op, actual: Value, result: bool) {
    trace.push(ConditionTrace {
        field: field.to_owned(),
        op: op.name().to_owned(),
        expected: op.expected(),
        actual,
        result,
    });
}

/// Returns the value shown in the trace and the outcome.
fn eval_field_op(ctx: &EvalContext, field: &FieldPath, op: &Op) -> (Value, bool) {
    let after = ctx.field_value(field);
    let changed = || field_changed(ctx.before, ctx.after, field);
    match op {
        Op::Changed(want) => {
            let c = changed();
            (Value::Bool(c), c == *want)
        }
        Op::ChangedTo(v) => {
            let ok = changed() && values_equal(&after, v);
            (after, ok)
        }
        Op::ChangedFrom(v) => {
            let before = ctx.before.map_or(Value::Null, |b| b.field(field));
            let ok = changed() && values_equal(&before, v);
            (before, ok)
        }
        other => {
            let ok = other.test(&after);
            (after, ok)
        }
    }
}

fn status_leaves(
    trace: &mut Vec<ConditionTrace>,
    field: &str,
    set: &StatusSet,
    name: &str,
    matches: impl Fn(&str) -> bool,
) -> bool {
    let mut all = true;
    let lists = [
        (set.include.as_ref(), Op::In(Vec::new()), true),
        (set.exclude.as_ref(), Op::NotIn(Vec::new()), false),
    ];
    for (list, op, want) in lists {
        let Some(list) = list else { continue };
        let hit = list.iter().any(|n| matches(n));
        let result = hit == want;
        trace.push(ConditionTrace {
            field: field.to_owned(),
            op: op.name().to_owned(),
            expected: Value::Array(list.iter().cloned().map(Value::String).collect()),
            actual: Value::String(name.to_owned()),
            result,
        });
        all &= result;
    }
    all
}

fn eval_survey(sc: &SurveyCondition, ctx: &EvalContext, trace: &mut Vec<ConditionTrace>) -> bool {
    let target = sc.target();
    let latest = ctx.latest_invite(target);
    let field = format!("{}[{}]", sc.key(), target);
    match sc {
        SurveyCondition::InviteStatus { ops, .. } => {
            let name = latest.map_or(NO_INVITE, |i| i.status.as_str());
            status_leaves(trace, &field, ops, name, |n| match latest {
                None => n == NO_INVITE,
                Some(i) => i.status.matches(n),
            })
        }
        SurveyCondition::ResponseStatus { ops, .. } => {
            let name = latest.map_or(NO_INVITE, |i| i.response_status.as_str());
            status_leaves(trace, &field, ops, name, |n| n == name)
        }
        SurveyCondition::LastSentBefore { duration, .. } => {
            let sent = latest.and_then(|i| i.last_sent_at);
            let result = sent.is_some_and(|t| ctx.now - t > duration.to_time());
            let actual = sent
                .and_then(|t| t.format(&Rfc3339).ok())
                .map_or(Value::Null, Value::String);
            trace.push(ConditionTrace {
                field,
                op: "last_sent_before".to_owned(),
                expected: Value::String(duration.to_string()),
                actual,
                result,
            });
            result
        }
        SurveyCondition::Answer { question, ops, .. } => {
            let answer = latest
                .and_then(|i| i.answers.get(question).cloned())
                .unwrap_or(Value::Null);
            let field = format!("{field}.{question}");
            let mut all = true;
            for op in ops {
                // There is no "before" for an answer; change operators never hold.
                let result = op.test(&answer);
                push(trace, &field, op, answer.clone(), result);
                all &= result;
            }
            all
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn case(v: Value) -> Case {
        serde_json::from_value(v).unwrap()
    }

    fn field(path: &str, ops: Vec<Op>) -> Condition {
        Condition::Field {
            field: FieldPath::parse(path).unwrap(),
            ops,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-01-10 12:00 UTC);

    fn ctx<'a>(
        before: Option<&'a Case>,
        after: &'a Case,
        invites: &'a [InviteFacts],
    ) -> EvalContext<'a> {
        EvalContext {
            event_kind: EventKind::CaseUpdated,
            before,
            after,
            invites,
            now: NOW,
        }
    }

    fn eval(c: &Condition, cx: &EvalContext) -> bool {
        c.evaluate(cx, &mut Vec::new())
    }

    #[test]
    fn every_operator() {
        let after = case(json!({
            "id":"C","status":"Resolved","case_type":"billing","tags":["vip","es"],
            "custom":{"score":3,"score_s":"7","due":"2026-01-09T10:00:00+01:00","name":"Ana"}
        }));
        let cx = ctx(None, &after, &[]);
        let re = |p: &str| Op::Matches(Pattern::new(p).unwrap());
        let table: Vec<(&str, Op, bool)> = vec![
            ("case.status", Op::Eq(json!("Resolved")), true),
            ("case.status", Op::Eq(json!("resolved")), false),
            ("case.status", Op::Ne(json!("Open")), true),
            ("case.status", Op::Ne(json!("Resolved")), false),
            ("case.custom.score", Op::Eq(json!(3.0)), true),
            (
                "case.case_type",
                Op::In(vec![json!("billing"), json!("tech")]),
                true,
            ),
            ("case.case_type", Op::In(vec![json!("tech")]), false),
            ("case.case_type", Op::NotIn(vec![json!("tech")]), true),
            ("case.priority", Op::NotIn(vec![json!("high")]), true),
            ("case.priority", Op::In(vec![json!("high")]), false),
            ("case.tags", Op::In(vec![json!("vip"), json!("x")]), true),
            ("case.tags", Op::In(vec![json!("x")]), false),
            ("case.tags", Op::NotIn(vec![json!("vip")]), false),
            ("case.tags", Op::Contains(json!("vip")), true),
            ("case.tags", Op::Contains(json!("v")), false),
            ("case.custom.name", Op::Contains(json!("n")), true),
            ("case.custom.name", Op::Contains(json!("x")), false),
            ("case.custom.score", Op::Contains(json!(3)), false),
            ("case.status", Op::Exists(true), true),
            ("case.priority", Op::Exists(true), false),
            ("case.priority", Op::Exists(false), true),
            ("profile.phone", Op::Exists(false), true),
            ("case.custom.score", Op::Gt(json!(2)), true),
            ("case.custom.score", Op::Gt(json!(3)), false),
            ("case.custom.score", Op::Gte(json!(3)), true),
            ("case.custom.score", Op::Lt(json!(3.5)), true),
            ("case.custom.score", Op::Lte(json!(2)), false),
            ("case.custom.score_s", Op::Gt(json!(5)), true),
            ("case.custom.name", Op::Gt(json!(1)), false),
            ("case.custom.name", Op::Lt(json!("Zed")), false),
            ("case.status", Op::Gt(Value::Null), false),
            (
                "case.custom.due",
                Op::Lt(json!("2026-01-09T10:00:00Z")),
                true,
            ),
            (
                "case.custom.due",
                Op::Gte(json!("2026-01-09T09:00:00Z")),
                true,
            ),
            (
                "case.custom.due",
                Op::Gt(json!("2026-01-09T09:00:00Z")),
                false,
            ),
            ("case.status", re("^Res"), true),
            ("case.status", re("^res"), false),
            ("case.tags", re("^e"), true),
            ("case.custom.score", re("3"), false),
            ("event.kind", Op::Eq(json!("case_updated")), true),
            ("case.status", Op::Changed(true), true),
            ("case.status", Op::ChangedTo(json!("Resolved")), true),
            ("case.status", Op::ChangedFrom(json!("Open")), false),
            ("case.status", Op::ChangedFrom(Value::Null), true),
            ("case.priority", Op::Changed(false), true),
            ("case.priority", Op::ChangedTo(Value::Null), false),
        ];
        for (path, op, want) in table {
            let name = format!("{path} {op:?}");
            let mut trace = Vec::new();
            let got = field(path, vec![op]).evaluate(&cx, &mut trace);
            assert_eq!(got, want, "{name}");
            assert_eq!(trace.len(), 1, "{name}");
            assert_eq!(trace[0].result, want, "{name}");
            assert_eq!(trace[0].field, path);
        }
    }

    #[test]
    fn changed_ops_with_before() {
        let before = case(json!({"id":"C","status":"Open","tags":["a"]}));
        let after = case(json!({"id":"C","status":"Resolved","tags":["a"]}));
        let cx = ctx(Some(&before), &after, &[]);
        let table: Vec<(&str, Op, bool)> = vec![
            ("case.status", Op::Changed(true), true),
            ("case.status", Op::ChangedTo(json!("Resolved")), true),
            ("case.status", Op::ChangedTo(json!("Open")), false),
            ("case.status", Op::ChangedFrom(json!("Open")), true),
            ("case.status", Op::ChangedFrom(json!("Resolved")), false),
            ("case.tags", Op::Changed(true), false),
            ("case.tags", Op::Changed(false), true),
            ("case.id", Op::Changed(true), false),
            ("event.kind", Op::Changed(true), false),
        ];
        for (path, op, want) in table {
            let name = format!("{path} {op:?}");
            assert_eq!(eval(&field(path, vec![op]), &cx), want, "{name}");
        }
        // Unchanged status that already equals the target is not changed_to.
        let same = ctx(Some(&after), &after, &[]);
        assert!(!eval(
            &field("case.status", vec![Op::ChangedTo(json!("Resolved"))]),
            &same
        ));
    }

    #[test]
    fn several_ops_must_all_hold_and_all_are_traced() {
        let after = case(json!({"id":"C","status":"Resolved"}));
        let cx = ctx(None, &after, &[]);
        let c = field(
            "case.status",
            vec![
                Op::Ne(json!("Open")),
                Op::Eq(json!("Closed")),
                Op::Exists(true),
            ],
        );
        let mut trace = Vec::new();
        assert!(!c.evaluate(&cx, &mut trace));
        let results: Vec<_> = trace.iter().map(|t| (t.op.as_str(), t.result)).collect();
        assert_eq!(results, vec![("ne", true), ("eq", false), ("exists", true)]);
        assert_eq!(trace[1].actual, json!("Resolved"));
        assert_eq!(trace[1].expected, json!("Closed"));
    }

    #[test]
    fn combinators_short_circuit_and_trace_what_ran() {
        let after = case(json!({"id":"C","status":"Resolved","priority":"high"}));
        let cx = ctx(None, &after, &[]);
        let yes = || field("case.status", vec![Op::Eq(json!("Resolved"))]);
        let no = || field("case.priority", vec![Op::Eq(json!("low"))]);
        let table: Vec<(Condition, bool, usize)> = vec![
            (Condition::All(vec![yes(), no()]), false, 2),
            (Condition::All(vec![no(), yes()]), false, 1),
            (Condition::Any(vec![no(), yes()]), true, 2),
            (Condition::Any(vec![yes(), no()]), true, 1),
            (Condition::Not(Box::new(no())), true, 1),
            (Condition::All(vec![]), true, 0),
            (Condition::Any(vec![]), false, 0),
            (
                Condition::All(vec![
                    yes(),
                    Condition::Any(vec![no(), Condition::Not(Box::new(no()))]),
                ]),
                true,
                3,
            ),
        ];
        for (c, want, leaves) in table {
            let mut trace = Vec::new();
            assert_eq!(c.evaluate(&cx, &mut trace), want, "{c:?}");
            assert_eq!(trace.len(), leaves, "{c:?}");
        }
    }

    fn target() -> SurveyRef {
        SurveyRef {
            survey: "csat".into(),
            channel: "whatsapp".into(),
            distribution: "csat-wa".into(),
        }
    }

    fn invite(
        created: OffsetDateTime,
        status: InviteStatus,
        response: ResponseStatus,
    ) -> InviteFacts {
        InviteFacts {
            survey: "csat".into(),
            channel: "whatsapp".into(),
            distribution: "csat-wa".into(),
            status,
            response_status: response,
            created_at: created,
            last_sent_at: None,
            answers: Map::new(),
        }
    }

    fn names(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn invite_and_response_status_conditions() {
        let after = case(json!({"id":"C","status":"x"}));
        let older = invite(
            datetime!(2026-01-01 0:00 UTC),
            InviteStatus::Failed,
            ResponseStatus::NotStarted,
        );
        let latest = invite(
            datetime!(2026-01-05 0:00 UTC),
            InviteStatus::Delivered,
            ResponseStatus::InProgress,
        );
        let mut other = latest.clone();
        other.distribution = "other".into();
        other.created_at = datetime!(2026-01-09 0:00 UTC);
        let invites = vec![latest, older, other];
        let none: Vec<InviteFacts> = Vec::new();

        let inv = |include: &[&str], exclude: &[&str]| {
            Condition::Survey(SurveyCondition::InviteStatus {
                target: target(),
                ops: StatusSet {
                    include: (!include.is_empty()).then(|| names(include)).flatten(),
                    exclude: (!exclude.is_empty()).then(|| names(exclude)).flatten(),
                },
            })
        };
        let resp = |include: &[&str]| {
            Condition::Survey(SurveyCondition::ResponseStatus {
                target: target(),
                ops: StatusSet {
                    include: names(include),
                    exclude: None,
                },
            })
        };
        let with = ctx(None, &after, &invites);
        let without = ctx(None, &after, &none);
        let table: Vec<(Condition, &EvalContext, bool)> = vec![
            (inv(&["delivered"], &[]), &with, true),
            (inv(&["invite_sent"], &[]), &with, true),
            (inv(&["failed"], &[]), &with, false),
            (inv(&[], &["failed", "quarantined"]), &with, true),
            (inv(&["invite_sent"], &["opened"]), &with, true),
            (inv(&["none"], &[]), &with, false),
            (inv(&["none"], &[]), &without, true),
            (inv(&["invite_sent"], &[]), &without, false),
            (inv(&[], &["failed"]), &without, true),
            (resp(&["in_progress"]), &with, true),
            (resp(&["completed"]), &with, false),
            (resp(&["none"]), &without, true),
            (resp(&["not_started"]), &without, false),
        ];
        for (c, cx, want) in table {
            let mut trace = Vec::new();
            assert_eq!(c.evaluate(cx, &mut trace), want, "{c:?}");
            assert!(trace[0].field.starts_with("survey."), "{trace:?}");
        }
    }

    #[test]
    fn last_sent_before() {
        let after = case(json!({"id":"C","status":"x"}));
        let mut sent = invite(
            datetime!(2026-01-08 0:00 UTC),
            InviteStatus::Sent,
            ResponseStatus::NotStarted,
        );
        let cond = Condition::Survey(SurveyCondition::LastSentBefore {
            target: target(),
            duration: Duration::parse("24h").unwrap(),
        });
        let table: &[(Option<OffsetDateTime>, bool)] = &[
            (Some(datetime!(2026-01-09 11:00 UTC)), true),
            (Some(datetime!(2026-01-09 12:00 UTC)), false), // exactly 24h: not "longer ago"
            (Some(datetime!(2026-01-10 09:00 UTC)), false),
            (None, false),
        ];
        for (at, want) in table {
            sent.last_sent_at = *at;
            let invites = [sent.clone()];
            assert_eq!(eval(&cond, &ctx(None, &after, &invites)), *want, "{at:?}");
        }
        assert!(!eval(&cond, &ctx(None, &after, &[])));
    }

    #[test]
    fn answer_condition_uses_latest_invite() {
        let after = case(json!({"id":"C","status":"x"}));
        let mut old = invite(
            datetime!(2026-01-01 0:00 UTC),
            InviteStatus::Opened,
            ResponseStatus::Completed,
        );
        old.answers.insert("score".into(), json!(5));
        let mut new = old.clone();
        new.created_at = datetime!(2026-01-02 0:00 UTC);
        new.answers.insert("score".into(), json!(2));
        let invites = [new, old];
        let cond = |ops| {
            Condition::Survey(SurveyCondition::Answer {
                target: target(),
                question: "score".into(),
                ops,
            })
        };
        let cx = ctx(None, &after, &invites);
        assert!(eval(&cond(vec![Op::Lte(json!(2))]), &cx));
        assert!(!eval(&cond(vec![Op::Gt(json!(3))]), &cx));
        assert!(eval(
            &cond(vec![Op::Exists(true), Op::In(vec![json!(1), json!(2)])]),
            &cx
        ));
        let unanswered = Condition::Survey(SurveyCondition::Answer {
            target: target(),
            question: "comment".into(),
            ops: vec![Op::Exists(false)],
        });
        assert!(eval(&unanswered, &cx));
        assert!(!eval(
            &cond(vec![Op::Lte(json!(2))]),
            &ctx(None, &after, &[])
        ));
    }

    #[test]
    fn event_kind_names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
    }
}
