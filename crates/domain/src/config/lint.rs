//! Lint warnings (SPEC §3.3): legal configs that are probably not what the author meant.

use std::collections::BTreeSet;

use super::error::{index, join, ConfigError};
use super::model::{Config, MessageBody, MessageKind, Survey};
use crate::action::{Action, ThenElement};
use crate::condition::{Condition, SurveyCondition, SurveyRef};
use crate::page_text::{is_built_in, PageText};
use crate::rule::{Rule, Trigger};

/// All warnings for a config: its rules', its messages' and its surveys' pages'. Paths
/// index the config's lists, which follow the file's order.
pub fn lint_config(config: &Config) -> Vec<ConfigError> {
    let mut out = lint_rules(&config.rules);
    for (i, survey) in config.surveys.iter().enumerate() {
        out.extend(lint_page_texts(survey, &index("surveys", i)));
    }
    for (i, distribution) in config.distributions.iter().enumerate() {
        let Some(survey) = config.survey(&distribution.survey) else {
            continue;
        };
        let path = join(&index("distributions", i), "messages");
        for kind in [
            MessageKind::Invitation,
            MessageKind::Reminder,
            MessageKind::ThankYou,
        ] {
            let shared = distribution
                .messages
                .get(kind)
                .and_then(|m| m.body.as_ref())
                .is_some_and(|b| matches!(b, MessageBody::Shared(_)));
            let others: Vec<&str> = survey
                .languages
                .iter()
                .filter(|l| **l != survey.default_language)
                .map(|l| l.as_str())
                .collect();
            if shared && !others.is_empty() {
                out.push(ConfigError::new(
                    join(&join(&path, kind.as_str()), "body"),
                    format!(
                        "one body for every language: previews and the sandbox show this text for {} too; give the approved template's text per language ({{{}: \"…\", …}})",
                        others.join(", "),
                        survey.default_language
                    ),
                ));
            }
        }
    }
    out
}

/// A survey language with neither built-in nor configured texts for every page text.
fn lint_page_texts(survey: &Survey, path: &str) -> Vec<ConfigError> {
    survey
        .languages
        .iter()
        .filter(|l| !is_built_in(l))
        .filter_map(|lang| {
            let custom = survey.page_texts.get(lang);
            let missing: Vec<&str> = PageText::ALL
                .iter()
                .filter(|t| custom.is_none_or(|c| !c.contains_key(t)))
                .map(|t| t.key())
                .collect();
            (!missing.is_empty()).then(|| {
                ConfigError::new(
                    join(&join(path, "page_texts"), lang.as_str()),
                    format!(
                        "closeloop has no page texts for `{lang}`: {} of the survey page's texts show in English ({})",
                        missing.len(),
                        missing.join(", ")
                    ),
                )
            })
        })
        .collect()
}

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

    lint_invite_options(&rule.then, &join(path, "then"), &mut out);

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

/// `recipient_*` and `use_last_message_language` on a reminder or thank-you, anywhere in
/// the `then` tree at `path`: they are accepted, but the message goes to the invite's
/// recipient in the invite's language (SPEC §4.1, §4.7), so the author's intent is lost.
fn lint_invite_options(elements: &[ThenElement], path: &str, out: &mut Vec<ConfigError>) {
    for (i, element) in elements.iter().enumerate() {
        let at = index(path, i);
        let (name, action) = match element {
            ThenElement::If {
                then, otherwise, ..
            } => {
                lint_invite_options(then, &join(&at, "then"), out);
                lint_invite_options(otherwise, &join(&at, "else"), out);
                continue;
            }
            ThenElement::Action(Action::SendSurveyReminder(a)) => ("send_survey_reminder", a),
            ThenElement::Action(Action::SendThankYouMessage(a)) => ("send_thank_you_message", a),
            ThenElement::Action(_) => continue,
        };
        let action_path = join(&at, name);
        let ignored = [
            (
                "recipient_case_field",
                action.recipient_case_field.is_some(),
                "the invite's recipient",
            ),
            (
                "recipient_profile_field",
                action.recipient_profile_field.is_some(),
                "the invite's recipient",
            ),
            (
                "use_last_message_language",
                action.use_last_message_language,
                "the invite's language",
            ),
        ];
        for (key, set, instead) in ignored {
            if set {
                out.push(ConfigError::new(
                    join(&action_path, key),
                    format!(
                        "{key} has no effect on {name}: it goes to {instead}, as the invitation did; set it on trigger_survey_invitation"
                    ),
                ));
            }
        }
    }
}
