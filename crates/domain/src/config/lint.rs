//! Lint warnings (SPEC §3.3): legal configs that are probably not what the author meant.

use std::collections::BTreeSet;

use super::error::{index, join, ConfigError};
use crate::action::{Action, ThenElement};
use crate::condition::{Condition, SurveyCondition, SurveyRef};
use crate::rule::{Rule, Trigger};

/// All warnings for a list of rules; `rules[i]` paths follow the slice order.
pub fn lint_rules(rules: &[Rule]) -> Vec<ConfigError> {
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| lint_rule(r, &index("rules", i)))
        .collect()
}

/// Leaf conditions of `when` and of every `if` in `then`.
fn all_leaves(rule: &Rule) -> Vec<&Condition> {
    fn walk<'a>(elements: &'a [ThenElement], out: &mut Vec<&'a Condition>) {
        for e in elements {
            if let ThenElement::If {
                condition,
                then,
                otherwise,
            } = e
            {
                out.extend(condition.leaves());
                walk(then, out);
                walk(otherwise, out);
            }
        }
    }
    let mut out: Vec<&Condition> = rule.when.iter().flat_map(Condition::leaves).collect();
    walk(&rule.then, &mut out);
    out
}

/// Warnings for one rule at `path`.
pub fn lint_rule(rule: &Rule, path: &str) -> Vec<ConfigError> {
    let mut out = Vec::new();
    let actions = ThenElement::all_actions(&rule.then);
    let survey_actions = actions.iter().filter(|a| a.is_survey_action()).count();
    if survey_actions > 1 {
        out.push(ConfigError::new(
            join(path, "then"),
            format!(
                "Separate Rules Required: this rule has {survey_actions} survey actions; give each its own rule so each has its own conditions"
            ),
        ));
    }

    let leaves = all_leaves(rule);
    let guarded = |target: &SurveyRef, invite: bool| {
        leaves.iter().any(|c| match c {
            Condition::Survey(SurveyCondition::InviteStatus { target: t, .. }) => {
                invite && t == target
            }
            Condition::Survey(SurveyCondition::ResponseStatus { target: t, .. }) => {
                !invite && t == target
            }
            _ => false,
        })
    };
    let mut reminded = BTreeSet::new();
    for a in &actions {
        if let Action::SendSurveyReminder(sa) = a {
            let t = &sa.target;
            if reminded.insert(t) && !(guarded(t, true) && guarded(t, false)) {
                out.push(ConfigError::new(
                    join(path, "when"),
                    format!(
                        "reminder rule without both survey.invite_status and survey.response_status guards for {t}: it may try to remind failed, unsubscribed or completed invites"
                    ),
                ));
            }
        }
    }

    if rule.on == Trigger::CaseUpdate {
        let tested: BTreeSet<String> = leaves
            .iter()
            .filter_map(|c| match c {
                Condition::Field { field, ops } if ops.iter().any(|o| o.is_change_op()) => {
                    Some(field.as_string())
                }
                _ => None,
            })
            .collect();
        let written: BTreeSet<String> = actions
            .iter()
            .filter_map(|a| a.written_field())
            .map(|f| f.as_string())
            .filter(|f| tested.contains(f))
            .collect();
        for field in written {
            out.push(ConfigError::new(
                path,
                format!(
                    "this rule changes {field}, which its own conditions test for changes: it can re-trigger itself"
                ),
            ));
        }
    }
    out
}
