//! Pure evaluation of one event against a list of rules: which rules fit the event, whether
//! their conditions hold, and which actions they choose through `if`/`else`.
//!
//! The engine decides nothing about side effects: it returns [`RuleOutcome`]s and the server
//! carries the actions out (and records the trace). Applying case actions can change the case
//! and so cause another event; the server bounds that cascade with [`MAX_CASCADE_DEPTH`].

use serde::Serialize;

use crate::action::{Action, ThenElement};
use crate::case::{field_changed, Case};
use crate::condition::{Condition, ConditionTrace, EvalContext, EventKind, Op};
use crate::field::FieldPath;
use crate::rule::Rule;

/// How many rounds of rule-made case changes the server follows for one external event before
/// it stops (and records that it stopped). Rules like "on change set X" that feed each other
/// would otherwise loop forever; eight rounds is far more than any sane rule chain needs.
pub const MAX_CASCADE_DEPTH: u32 = 8;

/// The result of one rule for one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleOutcome {
    /// Rule id.
    pub rule: String,
    /// Whether `when` held.
    pub matched: bool,
    /// Every condition leaf evaluated, `when` first then `if` conditions in order.
    pub conditions: Vec<ConditionTrace>,
    /// The actions chosen (empty when not matched), survey actions ordered per SPEC §4.7.
    pub actions: Vec<Action>,
    /// A case field the rule needs to have changed and that did not: the rule was not
    /// evaluated (its conditions could not hold).
    pub unchanged: Option<String>,
}

/// The rules of a config arranged for evaluation, built once per config: for each event
/// kind the rules whose trigger fits it, and for each rule the case fields that must change
/// for it to hold (`changed`, `changed_to`, `changed_from` in its top-level `all`).
#[derive(Clone, Debug, Default)]
pub struct RuleIndex {
    by_kind: [Vec<usize>; EventKind::ALL.len()],
    required: Vec<Vec<FieldPath>>,
}

impl RuleIndex {
    /// The index of `rules`; it answers for that list only.
    pub fn new(rules: &[Rule]) -> RuleIndex {
        let mut by_kind: [Vec<usize>; EventKind::ALL.len()] = Default::default();
        for (slot, kind) in by_kind.iter_mut().zip(EventKind::ALL) {
            *slot = (0..rules.len())
                .filter(|&i| rules[i].on.fits(kind))
                .collect();
        }
        let required = rules
            .iter()
            .map(|rule| {
                let mut fields = Vec::new();
                if let Some(when) = &rule.when {
                    required_changes(when, &mut fields);
                }
                fields.into_iter().cloned().collect()
            })
            .collect();
        RuleIndex { by_kind, required }
    }

    /// The positions of the rules whose trigger fits `kind`, in config order.
    fn fitting(&self, kind: EventKind) -> &[usize] {
        let slot = EventKind::ALL.iter().position(|k| *k == kind);
        slot.map_or(&[], |i| &self.by_kind[i])
    }

    /// The first field rule `i` needs to have changed that this event left as it was.
    fn unchanged<'i>(
        &'i self,
        i: usize,
        before: Option<&Case>,
        after: &Case,
    ) -> Option<&'i FieldPath> {
        self.required[i]
            .iter()
            .find(|field| !field_changed(before, after, field))
    }

    /// Whether some rule is to be evaluated for an event of `kind` that changed the case
    /// from `before` to `after`; when none is, the event needs no further facts.
    pub fn any_to_evaluate(&self, kind: EventKind, before: Option<&Case>, after: &Case) -> bool {
        self.fitting(kind)
            .iter()
            .any(|&i| self.unchanged(i, before, after).is_none())
    }
}

/// Evaluates every rule whose trigger fits `ctx.event_kind`, in the given order. A rule
/// that needs a case field to change is not evaluated when that field did not change: a
/// `survey_updated` or `message_received` event leaves the case as it was, so "on Resolved"
/// rules cannot hold. `index` is [`RuleIndex::new`] of `rules`.
pub fn evaluate(rules: &[Rule], index: &RuleIndex, ctx: &EvalContext) -> Vec<RuleOutcome> {
    index
        .fitting(ctx.event_kind)
        .iter()
        .map(|&i| match index.unchanged(i, ctx.before, ctx.after) {
            Some(field) => RuleOutcome {
                rule: rules[i].id.clone(),
                matched: false,
                conditions: Vec::new(),
                actions: Vec::new(),
                unchanged: Some(field.as_string()),
            },
            None => evaluate_rule(&rules[i], ctx),
        })
        .collect()
}

/// The fields that must change for `condition` to hold: its `changed: true`,
/// `changed_to` and `changed_from` leaves, through `all` only (under `any` or `not` a
/// change is not required).
fn required_changes<'c>(condition: &'c Condition, out: &mut Vec<&'c FieldPath>) {
    match condition {
        Condition::All(children) => {
            for child in children {
                required_changes(child, out);
            }
        }
        Condition::Field { field, ops } => {
            let needs_change = ops.iter().any(|op| {
                matches!(
                    op,
                    Op::Changed(true) | Op::ChangedTo(_) | Op::ChangedFrom(_)
                )
            });
            if needs_change && *field != FieldPath::EventKind {
                out.push(field);
            }
        }
        Condition::Any(_) | Condition::Not(_) | Condition::Survey(_) => {}
    }
}

/// Evaluates one rule regardless of its trigger.
pub fn evaluate_rule(rule: &Rule, ctx: &EvalContext) -> RuleOutcome {
    let mut conditions = Vec::new();
    let matched = rule
        .when
        .as_ref()
        .is_none_or(|c| c.evaluate(ctx, &mut conditions));
    let mut actions = Vec::new();
    if matched {
        flatten(&rule.then, ctx, &mut conditions, &mut actions);
        order_survey_actions(&mut actions);
    }
    RuleOutcome {
        rule: rule.id.clone(),
        matched,
        conditions,
        actions,
        unchanged: None,
    }
}

fn flatten(
    elements: &[ThenElement],
    ctx: &EvalContext,
    trace: &mut Vec<ConditionTrace>,
    out: &mut Vec<Action>,
) {
    for element in elements {
        match element {
            ThenElement::Action(a) => out.push(a.clone()),
            ThenElement::If {
                condition,
                then,
                otherwise,
            } => {
                let branch = if condition.evaluate(ctx, trace) {
                    then
                } else {
                    otherwise
                };
                flatten(branch, ctx, trace, out);
            }
        }
    }
}

fn survey_rank(a: &Action) -> u8 {
    match a {
        Action::TriggerSurveyInvitation(_) => 0,
        Action::SendSurveyReminder(_) => 1,
        _ => 2,
    }
}

/// Within each survey target, puts invitation before reminder before thank-you, reusing the
/// slots those actions already occupy, so that every other action keeps its position and a
/// reminder can never overtake its invitation (SPEC §4.7).
pub fn order_survey_actions(actions: &mut [Action]) {
    let mut done = vec![false; actions.len()];
    for start in 0..actions.len() {
        let Some(target) = actions[start].survey_target().cloned() else {
            continue;
        };
        if done[start] {
            continue;
        }
        let slots: Vec<usize> = (start..actions.len())
            .filter(|&i| actions[i].survey_target() == Some(&target))
            .collect();
        let mut group: Vec<Action> = slots.iter().map(|&i| actions[i].clone()).collect();
        group.sort_by_key(survey_rank); // stable: equal kinds keep their order
        for (slot, action) in slots.into_iter().zip(group) {
            actions[slot] = action;
            done[slot] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::SurveyAction;
    use crate::case::Case;
    use crate::condition::{Condition, EventKind, Op, SurveyRef};
    use crate::duration::Duration;
    use crate::field::FieldPath;
    use crate::rule::Trigger;
    use serde_json::json;
    use time::macros::datetime;

    fn target(d: &str) -> SurveyRef {
        SurveyRef {
            survey: "csat".into(),
            channel: "whatsapp".into(),
            distribution: d.into(),
        }
    }
    fn invite(d: &str) -> Action {
        Action::TriggerSurveyInvitation(SurveyAction::new(target(d)))
    }
    fn remind(d: &str) -> Action {
        Action::SendSurveyReminder(SurveyAction::new(target(d)))
    }
    fn thank(d: &str) -> Action {
        Action::SendThankYouMessage(SurveyAction::new(target(d)))
    }
    fn tag(t: &str) -> Action {
        Action::AddTag { tag: t.into() }
    }
    fn status_is(s: &str) -> Condition {
        Condition::Field {
            field: FieldPath::parse("case.status").unwrap(),
            ops: vec![Op::Eq(json!(s))],
        }
    }
    fn rule(id: &str, on: Trigger, when: Option<Condition>, then: Vec<ThenElement>) -> Rule {
        Rule {
            id: id.into(),
            on,
            when,
            then,
            author: "alice".into(),
        }
    }
    fn ctx(kind: EventKind, case: &Case) -> EvalContext<'_> {
        EvalContext {
            event_kind: kind,
            before: None,
            after: case,
            invites: &[],
            now: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn survey_actions_are_ordered_per_target() {
        let table: Vec<(Vec<Action>, Vec<Action>)> = vec![
            (
                vec![thank("a"), remind("a"), invite("a")],
                vec![invite("a"), remind("a"), thank("a")],
            ),
            (
                vec![remind("a"), tag("x"), invite("a")],
                vec![invite("a"), tag("x"), remind("a")],
            ),
            (
                // other targets and other actions keep their slots
                vec![
                    tag("1"),
                    remind("a"),
                    invite("b"),
                    tag("2"),
                    invite("a"),
                    thank("b"),
                ],
                vec![
                    tag("1"),
                    invite("a"),
                    invite("b"),
                    tag("2"),
                    remind("a"),
                    thank("b"),
                ],
            ),
            (
                vec![thank("b"), remind("a"), invite("b")],
                vec![invite("b"), remind("a"), thank("b")],
            ),
            (vec![tag("1"), tag("2")], vec![tag("1"), tag("2")]),
        ];
        for (mut input, want) in table {
            order_survey_actions(&mut input);
            assert_eq!(input, want);
        }
    }

    #[test]
    fn a_rule_that_needs_a_change_is_not_evaluated_when_the_case_did_not_change() {
        let resolved: Case = serde_json::from_value(json!({"id":"C","status":"Resolved"})).unwrap();
        let open: Case = serde_json::from_value(json!({"id":"C","status":"Open"})).unwrap();
        let on_resolve = Condition::All(vec![
            Condition::Field {
                field: FieldPath::parse("case.status").unwrap(),
                ops: vec![Op::ChangedTo(json!("Resolved"))],
            },
            status_is("Resolved"),
        ]);
        let either = Condition::Any(vec![
            Condition::Field {
                field: FieldPath::parse("case.status").unwrap(),
                ops: vec![Op::ChangedTo(json!("Resolved"))],
            },
            status_is("Resolved"),
        ]);
        let rules = [
            rule(
                "on-resolve",
                Trigger::CaseUpdate,
                Some(on_resolve),
                vec![ThenElement::Action(invite("a"))],
            ),
            rule(
                "any",
                Trigger::CaseUpdate,
                Some(either),
                vec![ThenElement::Action(tag("x"))],
            ),
        ];
        let unchanged = EvalContext {
            before: Some(&resolved),
            ..ctx(EventKind::SurveyUpdated, &resolved)
        };
        let out = evaluate(&rules, &RuleIndex::new(&rules), &unchanged);
        assert_eq!(out[0].unchanged.as_deref(), Some("case.status"));
        assert!(!out[0].matched && out[0].conditions.is_empty());
        assert_eq!(
            out[1].unchanged, None,
            "under `any` a change is not required"
        );
        assert!(out[1].matched);

        let resolving = EvalContext {
            before: Some(&open),
            ..ctx(EventKind::CaseUpdated, &resolved)
        };
        let out = evaluate(&rules, &RuleIndex::new(&rules), &resolving);
        assert_eq!(out[0].unchanged, None);
        assert!(out[0].matched, "the change is there: evaluated and matched");
        let created = evaluate(
            &rules,
            &RuleIndex::new(&rules),
            &ctx(EventKind::CaseCreated, &resolved),
        );
        assert!(created[0].matched, "a new case counts as changed");
    }

    #[test]
    fn if_else_is_flattened_and_traced() {
        let case: Case = serde_json::from_value(json!({"id":"C","status":"Resolved"})).unwrap();
        let nested = ThenElement::If {
            condition: status_is("Resolved"),
            then: vec![
                ThenElement::Action(tag("resolved")),
                ThenElement::If {
                    condition: status_is("Closed"),
                    then: vec![ThenElement::Action(tag("closed"))],
                    otherwise: vec![ThenElement::Action(thank("a"))],
                },
            ],
            otherwise: vec![ThenElement::Action(tag("open"))],
        };
        let r = rule(
            "r",
            Trigger::CaseUpdate,
            Some(status_is("Resolved")),
            vec![
                ThenElement::Action(remind("a")),
                nested,
                ThenElement::Action(invite("a")),
            ],
        );
        let rules = [r];
        let out = evaluate(
            &rules,
            &RuleIndex::new(&rules),
            &ctx(EventKind::CaseUpdated, &case),
        );
        assert_eq!(out.len(), 1);
        assert!(out[0].matched);
        assert_eq!(
            out[0].actions,
            vec![invite("a"), tag("resolved"), remind("a"), thank("a")]
        );
        // when + two if conditions
        assert_eq!(out[0].conditions.len(), 3);
        assert_eq!(
            out[0]
                .conditions
                .iter()
                .map(|t| t.result)
                .collect::<Vec<_>>(),
            vec![true, true, false]
        );
    }

    #[test]
    fn triggers_select_rules_and_unmatched_rules_report_no_actions() {
        let case: Case = serde_json::from_value(json!({"id":"C","status":"Open"})).unwrap();
        let queue = Trigger::Queue {
            queue: "q".into(),
            every: Duration::from_secs(900),
            runs_for: crate::rule::DEFAULT_QUEUE_RULE_FOR,
        };
        let rules = vec![
            rule(
                "always",
                Trigger::CaseUpdate,
                None,
                vec![ThenElement::Action(tag("a"))],
            ),
            rule(
                "resolved",
                Trigger::CaseUpdate,
                Some(status_is("Resolved")),
                vec![ThenElement::Action(tag("b"))],
            ),
            rule("sched", queue, None, vec![ThenElement::Action(remind("a"))]),
        ];
        let updated = evaluate(
            &rules,
            &RuleIndex::new(&rules),
            &ctx(EventKind::SurveyUpdated, &case),
        );
        let summary: Vec<_> = updated
            .iter()
            .map(|o| (o.rule.as_str(), o.matched, o.actions.len()))
            .collect();
        assert_eq!(summary, vec![("always", true, 1), ("resolved", false, 0)]);
        assert_eq!(updated[1].conditions.len(), 1);

        let scheduled = evaluate(
            &rules,
            &RuleIndex::new(&rules),
            &ctx(EventKind::Scheduled, &case),
        );
        assert_eq!(scheduled.len(), 1);
        assert_eq!(scheduled[0].rule, "sched");
        assert_eq!(scheduled[0].actions, vec![remind("a")]);
    }
}
