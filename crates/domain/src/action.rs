//! What a rule does when it fires (SPEC §3.2), and the `then` tree with nested if/else.
//!
//! Case actions (`move_to_queue`, `set_field`, `add_tag`) are applied here, purely, to a case
//! value; survey actions only describe what to send — the server decides whether and how.

use serde::Serialize;
use serde_json::Value;

use crate::case::Case;
use crate::condition::{Condition, SurveyRef};
use crate::field::{CaseField, FieldError, FieldPath};
use crate::language::Language;

/// The parameters of a survey action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurveyAction {
    /// Survey, channel and distribution to send through.
    #[serde(flatten)]
    pub target: SurveyRef,
    /// Forced message language (used only if the survey offers it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Prefer the detected language of the case's last inbound message.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub use_last_message_language: bool,
    /// Key in `case.custom` holding the recipient's number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_case_field: Option<String>,
    /// Key in `profile.custom` holding the recipient's number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_profile_field: Option<String>,
    /// Always send from the distribution's account, not the conversation's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub use_distribution_account: bool,
}

impl SurveyAction {
    /// An action on `target` with every option at its default.
    pub fn new(target: SurveyRef) -> SurveyAction {
        SurveyAction {
            target,
            language: None,
            use_last_message_language: false,
            recipient_case_field: None,
            recipient_profile_field: None,
            use_distribution_account: false,
        }
    }
}

/// One action.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send the invitation message.
    TriggerSurveyInvitation(SurveyAction),
    /// Send a reminder for the latest invite.
    SendSurveyReminder(SurveyAction),
    /// Send the thank-you message for the latest invite.
    SendThankYouMessage(SurveyAction),
    /// Set `case.queue`.
    MoveToQueue {
        /// The new queue.
        queue: String,
    },
    /// Write one case field.
    SetField {
        /// The field.
        field: FieldPath,
        /// Its new value (`null` clears).
        value: Value,
    },
    /// Add a tag unless already present.
    AddTag {
        /// The tag.
        tag: String,
    },
}

impl Action {
    /// The action name as written in config.
    pub fn name(&self) -> &'static str {
        match self {
            Action::TriggerSurveyInvitation(_) => "trigger_survey_invitation",
            Action::SendSurveyReminder(_) => "send_survey_reminder",
            Action::SendThankYouMessage(_) => "send_thank_you_message",
            Action::MoveToQueue { .. } => "move_to_queue",
            Action::SetField { .. } => "set_field",
            Action::AddTag { .. } => "add_tag",
        }
    }

    /// Invitation, reminder or thank-you.
    pub fn is_survey_action(&self) -> bool {
        self.survey_action().is_some()
    }

    /// The parameters of a survey action.
    pub fn survey_action(&self) -> Option<&SurveyAction> {
        match self {
            Action::TriggerSurveyInvitation(a)
            | Action::SendSurveyReminder(a)
            | Action::SendThankYouMessage(a) => Some(a),
            _ => None,
        }
    }

    /// The target of a survey action.
    pub fn survey_target(&self) -> Option<&SurveyRef> {
        self.survey_action().map(|a| &a.target)
    }

    /// The case field a case action writes (`case.queue`, `case.tags`, or the set field).
    pub fn written_field(&self) -> Option<FieldPath> {
        match self {
            Action::MoveToQueue { .. } => Some(FieldPath::Case(CaseField::Queue)),
            Action::AddTag { .. } => Some(FieldPath::Case(CaseField::Tags)),
            Action::SetField { field, .. } => Some(field.clone()),
            _ => None,
        }
    }

    /// Applies a case action to `case`; returns whether the case changed.
    /// Survey actions leave the case alone and return `Ok(false)`.
    ///
    /// # Errors
    /// From [`Case::set_field`] when a `set_field` value does not fit its field.
    pub fn apply_to_case(&self, case: &mut Case) -> Result<bool, FieldError> {
        match self {
            Action::MoveToQueue { queue } => {
                let changed = case.queue.as_deref() != Some(queue.as_str());
                case.queue = Some(queue.clone());
                Ok(changed)
            }
            Action::AddTag { tag } => {
                if case.tags.contains(tag) {
                    return Ok(false);
                }
                case.tags.push(tag.clone());
                Ok(true)
            }
            Action::SetField { field, value } => {
                let before = case.clone();
                case.set_field(field, value.clone())?;
                Ok(*case != before)
            }
            _ => Ok(false),
        }
    }
}

/// An element of a rule's `then` list.
#[derive(Clone, Debug, PartialEq)]
pub enum ThenElement {
    /// Run this action.
    Action(Action),
    /// Choose a branch by a condition evaluated at the same event.
    If {
        /// The test.
        condition: Condition,
        /// Elements when it holds.
        then: Vec<ThenElement>,
        /// Elements when it does not.
        otherwise: Vec<ThenElement>,
    },
}

impl ThenElement {
    /// Every action in the tree, in both branches (for validation and lint).
    pub fn all_actions(elements: &[ThenElement]) -> Vec<&Action> {
        let mut out = Vec::new();
        for e in elements {
            match e {
                ThenElement::Action(a) => out.push(a),
                ThenElement::If {
                    then, otherwise, ..
                } => {
                    out.extend(ThenElement::all_actions(then));
                    out.extend(ThenElement::all_actions(otherwise));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> SurveyRef {
        SurveyRef {
            survey: "csat".into(),
            channel: "whatsapp".into(),
            distribution: "csat-wa".into(),
        }
    }

    #[test]
    fn names_and_kinds() {
        let sa = SurveyAction::new(target());
        let table: Vec<(Action, &str, bool)> = vec![
            (
                Action::TriggerSurveyInvitation(sa.clone()),
                "trigger_survey_invitation",
                true,
            ),
            (
                Action::SendSurveyReminder(sa.clone()),
                "send_survey_reminder",
                true,
            ),
            (
                Action::SendThankYouMessage(sa),
                "send_thank_you_message",
                true,
            ),
            (
                Action::MoveToQueue { queue: "q".into() },
                "move_to_queue",
                false,
            ),
            (Action::AddTag { tag: "t".into() }, "add_tag", false),
            (
                Action::SetField {
                    field: FieldPath::parse("case.custom.x").unwrap(),
                    value: json!(1),
                },
                "set_field",
                false,
            ),
        ];
        for (a, name, survey) in table {
            assert_eq!(a.name(), name);
            assert_eq!(a.is_survey_action(), survey, "{name}");
            assert_eq!(a.survey_target().is_some(), survey, "{name}");
            assert_eq!(a.written_field().is_none(), survey, "{name}");
        }
    }

    #[test]
    fn apply_reports_changes() {
        let mut case = Case {
            id: "C".into(),
            status: "Open".into(),
            ..Case::default()
        };
        let q = Action::MoveToQueue { queue: "q".into() };
        assert_eq!(q.apply_to_case(&mut case), Ok(true));
        assert_eq!(q.apply_to_case(&mut case), Ok(false));
        let t = Action::AddTag { tag: "vip".into() };
        assert_eq!(t.apply_to_case(&mut case), Ok(true));
        assert_eq!(t.apply_to_case(&mut case), Ok(false));
        assert_eq!(case.tags, vec!["vip"]);
        let s = Action::SetField {
            field: FieldPath::parse("case.status").unwrap(),
            value: json!("Closed"),
        };
        assert_eq!(s.apply_to_case(&mut case), Ok(true));
        assert_eq!(s.apply_to_case(&mut case), Ok(false));
        let bad = Action::SetField {
            field: FieldPath::parse("case.status").unwrap(),
            value: json!(1),
        };
        assert!(bad.apply_to_case(&mut case).is_err());
        let survey = Action::SendSurveyReminder(SurveyAction::new(target()));
        let snapshot = case.clone();
        assert_eq!(survey.apply_to_case(&mut case), Ok(false));
        assert_eq!(case, snapshot);
    }

    #[test]
    fn serializes_like_config() {
        let a = Action::TriggerSurveyInvitation(SurveyAction::new(target()));
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"trigger_survey_invitation":{"survey":"csat","channel":"whatsapp","distribution":"csat-wa"}})
        );
        let q = Action::MoveToQueue { queue: "q".into() };
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            json!({"move_to_queue":{"queue":"q"}})
        );
    }
}
