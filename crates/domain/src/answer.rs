//! Survey answers: validation of what a respondent sends (from the page form or JSON) and
//! the response status it leads to (SPEC §1.2). Pure: the caller stores the result.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{QuestionKind, Survey};
use crate::page_text::PageTexts;
use crate::status::ResponseStatus;

/// The longest free-text answer kept.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Why an answer was refused, next to the question it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    /// The question id.
    pub question: String,
    /// A sentence for the respondent, in English (the API's language).
    pub message: String,
    /// What is wrong, for saying it in the respondent's language.
    #[serde(skip)]
    pub problem: AnswerProblem,
}

/// What is wrong with an answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AnswerProblem {
    /// The survey has no such question.
    NotAQuestion,
    /// A required question has no answer at submit.
    Required,
    /// A number outside the question's scale.
    OutOfRange {
        /// Lowest allowed.
        low: i64,
        /// Highest allowed.
        high: i64,
    },
    /// Not one of the question's options.
    NotAnOption,
    /// A free-text answer that is not a string.
    NotText,
    /// A free-text answer longer than [`MAX_TEXT_CHARS`].
    TooLong {
        /// The most characters kept.
        max: usize,
    },
}

/// Merges `submitted` into `existing` after checking every value against its question;
/// with `submit`, also requires every required question. A null or empty value clears an
/// answer.
///
/// # Errors
/// Every problem found, one per question.
pub fn merge(
    survey: &Survey,
    existing: &Map<String, Value>,
    submitted: &Map<String, Value>,
    submit: bool,
) -> Result<Map<String, Value>, Vec<AnswerError>> {
    let mut merged = existing.clone();
    let mut errors = Vec::new();
    for (id, value) in submitted {
        let Some(question) = survey.questions.iter().find(|q| &q.id == id) else {
            errors.push(error(id, AnswerProblem::NotAQuestion));
            continue;
        };
        match normalize(&question.kind, value) {
            Ok(None) => {
                merged.remove(id);
            }
            Ok(Some(v)) => {
                merged.insert(id.clone(), v);
            }
            Err(problem) => errors.push(error(id, problem)),
        }
    }
    if submit {
        for q in survey.questions.iter().filter(|q| q.required) {
            if !merged.contains_key(&q.id) && !errors.iter().any(|e| e.question == q.id) {
                errors.push(error(&q.id, AnswerProblem::Required));
            }
        }
    }
    if errors.is_empty() {
        Ok(merged)
    } else {
        Err(errors)
    }
}

/// The response status after a successful save.
pub fn status_after_save(
    current: ResponseStatus,
    answers: &Map<String, Value>,
    submit: bool,
) -> ResponseStatus {
    let target = if submit {
        ResponseStatus::Completed
    } else if answers.is_empty() {
        ResponseStatus::SurveyOpened
    } else {
        ResponseStatus::InProgress
    };
    current.transition(target).unwrap_or(current)
}

/// The questions analytics score, as ids: the survey's first rating question (its CSAT)
/// and its first NPS question, `None` when it has none.
pub fn score_questions(survey: &Survey) -> (Option<&str>, Option<&str>) {
    let first = |wanted: fn(&QuestionKind) -> bool| {
        survey
            .questions
            .iter()
            .find(|q| wanted(&q.kind))
            .map(|q| q.id.as_str())
    };
    (
        first(|k| matches!(k, QuestionKind::Rating)),
        first(|k| matches!(k, QuestionKind::Nps)),
    )
}

fn error(question: &str, problem: AnswerProblem) -> AnswerError {
    AnswerError {
        question: question.to_string(),
        message: PageTexts::english().answer_problem(&problem),
        problem,
    }
}

/// The stored form of an answer; None clears it.
fn normalize(kind: &QuestionKind, value: &Value) -> Result<Option<Value>, AnswerProblem> {
    if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(None);
    }
    match kind {
        QuestionKind::Rating => integer_in(value, 1, 5).map(Some),
        QuestionKind::Nps => integer_in(value, 0, 10).map(Some),
        QuestionKind::SingleChoice { options } => {
            let chosen = value.as_str().ok_or(AnswerProblem::NotAnOption)?;
            if options.iter().any(|o| o.id == chosen) {
                Ok(Some(Value::String(chosen.to_string())))
            } else {
                Err(AnswerProblem::NotAnOption)
            }
        }
        QuestionKind::Text => {
            let text = value.as_str().ok_or(AnswerProblem::NotText)?;
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(AnswerProblem::TooLong {
                    max: MAX_TEXT_CHARS,
                });
            }
            Ok(Some(Value::String(text.trim().to_string())))
        }
    }
}

/// An integer within bounds; numeric strings (from HTML forms) are accepted.
fn integer_in(value: &Value, low: i64, high: i64) -> Result<Value, AnswerProblem> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (low..=high).contains(&n) => Ok(Value::from(n)),
        _ => Err(AnswerProblem::OutOfRange { low, high }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn survey() -> Survey {
        let yaml = r#"
surveys:
  - id: s
    owner: o
    default_language: en
    languages: [en]
    questions:
      - { id: score, type: rating, required: true, text: { en: "Score?" } }
      - { id: nps, type: nps, text: { en: "NPS?" } }
      - { id: pick, type: single_choice, text: { en: "Pick" }, options: [ { id: a, text: { en: A } }, { id: b, text: { en: B } } ] }
      - { id: comment, type: text, text: { en: "Else?" } }
"#;
        crate::config::load_str(yaml, &|_| None, time::OffsetDateTime::UNIX_EPOCH)
            .map(|l| l.config.surveys[0].clone())
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn values_are_checked_against_their_question() {
        let s = survey();
        let table = [
            (json!({"score": 5}), true),
            (json!({"score": "3"}), true),
            (json!({"score": 9}), false),
            (json!({"score": 0}), false),
            (json!({"nps": 0}), true),
            (json!({"nps": 11}), false),
            (json!({"pick": "a"}), true),
            (json!({"pick": "z"}), false),
            (json!({"comment": "fine"}), true),
            (json!({"comment": 5}), false),
            (json!({"unknown": 1}), false),
        ];
        for (input, ok) in table {
            assert_eq!(
                merge(&s, &Map::new(), &map(input.clone()), false).is_ok(),
                ok,
                "{input}"
            );
        }
    }

    #[test]
    fn the_scored_questions_are_the_first_rating_and_nps_ones() {
        let mut s = survey();
        assert_eq!(score_questions(&s), (Some("score"), Some("nps")));
        s.questions.retain(|q| q.id == "comment");
        assert_eq!(score_questions(&s), (None, None));
    }

    #[test]
    fn an_invalid_answer_names_its_question() {
        let errors = merge(&survey(), &Map::new(), &map(json!({"score": 9})), false).unwrap_err();
        assert_eq!(
            errors,
            vec![error(
                "score",
                AnswerProblem::OutOfRange { low: 1, high: 5 }
            )]
        );
        assert_eq!(errors[0].message, "Choose a number from 1 to 5.");
    }

    #[test]
    fn submit_requires_the_required_questions() {
        let s = survey();
        let errors = merge(&s, &Map::new(), &map(json!({"comment": "hi"})), true).unwrap_err();
        assert_eq!(errors[0].question, "score");
        let merged = merge(
            &s,
            &map(json!({"score": 4})),
            &map(json!({"comment": "hi"})),
            true,
        )
        .unwrap();
        assert_eq!(merged, map(json!({"score": 4, "comment": "hi"})));
    }

    #[test]
    fn empty_values_clear_answers() {
        let merged = merge(
            &survey(),
            &map(json!({"comment": "x", "score": 2})),
            &map(json!({"comment": ""})),
            false,
        )
        .unwrap();
        assert_eq!(merged, map(json!({"score": 2})));
    }

    #[test]
    fn status_follows_the_answers() {
        use ResponseStatus::*;
        let some = map(json!({"score": 1}));
        assert_eq!(status_after_save(SurveyOpened, &some, false), InProgress);
        assert_eq!(
            status_after_save(NotStarted, &Map::new(), false),
            SurveyOpened
        );
        assert_eq!(status_after_save(InProgress, &some, true), Completed);
        assert_eq!(
            status_after_save(PartiallyCompleted, &some, false),
            InProgress
        );
        assert_eq!(status_after_save(Completed, &some, false), Completed);
    }
}
