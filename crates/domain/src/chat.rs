//! The survey continued in the chat (`in_chat`, SPEC §4.16): after a reply, which question
//! comes next and in which form WhatsApp can ask it. Reply buttons for up to three short
//! options, a list for up to ten, a text prompt for free text, and the survey link for
//! anything else (an 11-point NPS). Pure: the caller builds and sends the message.
//!
//! The limits are Meta's (reference §1.5): a reply button's title has at most 20
//! characters, a list row's at most 24.

use serde_json::{Map, Value};

use crate::config::{Question, QuestionKind, Survey};
use crate::language::Language;

/// Most reply buttons in one message.
pub const MAX_BUTTONS: usize = 3;
/// Most rows in one list message.
pub const MAX_LIST_ROWS: usize = 10;
/// Longest reply-button title, in characters.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Longest list-row title, in characters.
pub const MAX_ROW_TITLE: usize = 24;

/// One answer the customer can pick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatOption {
    /// Its position among the question's options: what a reply id carries.
    pub index: usize,
    /// What the customer sees.
    pub title: String,
}

/// How the next question is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// Reply buttons.
    Buttons(Vec<ChatOption>),
    /// A list behind a button.
    List(Vec<ChatOption>),
    /// A text message whose next inbound text is the answer.
    TextPrompt,
    /// The question does not fit the chat: the survey link goes instead.
    Link,
}

/// The next question to ask in the chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// Its position in the survey: what a reply id carries.
    pub index: usize,
    /// The question.
    pub question: &'a Question,
    /// The question's text in the customer's language.
    pub text: &'a str,
    /// How to ask it.
    pub form: Form,
}

/// The first question of the survey without an answer, and how to ask it in `language`;
/// None when every question has one.
pub fn next_step<'a>(
    survey: &'a Survey,
    answers: &Map<String, Value>,
    language: &Language,
) -> Option<Step<'a>> {
    let (index, question) = survey
        .questions
        .iter()
        .enumerate()
        .find(|(_, q)| !answers.contains_key(&q.id))?;
    Some(Step {
        index,
        question,
        text: survey.question_text(question, language),
        form: form_of(survey, question, language),
    })
}

fn form_of(survey: &Survey, question: &Question, language: &Language) -> Form {
    let options = options(survey, question, language);
    let fits = |max: usize| options.iter().all(|o| o.title.chars().count() <= max);
    match &question.kind {
        QuestionKind::Text => Form::TextPrompt,
        _ if options.is_empty() => Form::Link,
        _ if options.len() <= MAX_BUTTONS && fits(MAX_BUTTON_TITLE) => Form::Buttons(options),
        _ if options.len() <= MAX_LIST_ROWS && fits(MAX_ROW_TITLE) => Form::List(options),
        _ => Form::Link,
    }
}

/// The options of a question as the chat shows them (none for free text).
fn options(survey: &Survey, question: &Question, language: &Language) -> Vec<ChatOption> {
    let titles: Vec<String> = match &question.kind {
        QuestionKind::Rating => (1..=5).map(|n| n.to_string()).collect(),
        QuestionKind::Nps => (0..=10).map(|n| n.to_string()).collect(),
        QuestionKind::SingleChoice { options } => options
            .iter()
            .map(|o| {
                o.text
                    .get(language)
                    .or_else(|| o.text.get(&survey.default_language))
                    .cloned()
                    .unwrap_or_else(|| o.id.clone())
            })
            .collect(),
        QuestionKind::Text => Vec::new(),
    };
    titles
        .into_iter()
        .enumerate()
        .map(|(index, title)| ChatOption { index, title })
        .collect()
}

/// The answer the option at `index` of a question records, as the survey page would send
/// it; None for an index the question does not have.
pub fn option_value(question: &Question, index: usize) -> Option<Value> {
    match &question.kind {
        QuestionKind::Rating => (index < 5).then(|| Value::from(index + 1)),
        QuestionKind::Nps => (index <= 10).then(|| Value::from(index)),
        QuestionKind::SingleChoice { options } => {
            options.get(index).map(|o| Value::String(o.id.clone()))
        }
        QuestionKind::Text => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn survey(questions: &str) -> Survey {
        let yaml = format!(
            "surveys:\n  - id: s\n    owner: o\n    default_language: en\n    languages: [en, es]\n    questions:\n{questions}"
        );
        load_str(&yaml, &|_| None, time::OffsetDateTime::UNIX_EPOCH)
            .map(|l| l.config.surveys[0].clone())
            .unwrap_or_else(|e| panic!("test survey: {e:?}"))
    }

    fn lang(tag: &str) -> Language {
        Language::parse(tag).expect("a language")
    }

    #[test]
    fn each_question_gets_the_form_that_fits_it_and_answered_ones_are_skipped() {
        let s = survey(concat!(
            "      - { id: score, type: rating, required: true, text: { en: Score? } }\n",
            "      - { id: channel, type: single_choice, text: { en: How?, es: ¿Cómo? },\n",
            "          options: [ { id: a, text: { en: Phone, es: Teléfono } }, { id: b, text: { en: Mail } }, { id: c, text: { en: Chat } } ] }\n",
            "      - { id: nps, type: nps, text: { en: Recommend? } }\n",
            "      - { id: comment, type: text, text: { en: Anything else? } }\n",
        ));
        let mut answers = Map::new();
        let first = next_step(&s, &answers, &lang("es")).expect("a step");
        assert_eq!(first.question.id, "score");
        assert!(matches!(first.form, Form::List(ref o) if o.len() == 5));
        answers.insert("score".into(), Value::from(5));
        let second = next_step(&s, &answers, &lang("es")).expect("a step");
        assert_eq!((second.index, second.text), (1, "¿Cómo?"));
        let Form::Buttons(options) = second.form else {
            panic!("three short options are buttons: {:?}", second.form)
        };
        let titles: Vec<&str> = options.iter().map(|o| o.title.as_str()).collect();
        assert_eq!(titles, ["Teléfono", "Mail", "Chat"]);
        assert_eq!(option_value(second.question, 2), Some(Value::from("c")));
        assert_eq!(option_value(second.question, 3), None);
        answers.insert("channel".into(), Value::from("a"));
        let third = next_step(&s, &answers, &lang("en")).expect("a step");
        assert_eq!(
            (third.question.id.as_str(), third.form),
            ("nps", Form::Link)
        );
        answers.insert("nps".into(), Value::from(9));
        let fourth = next_step(&s, &answers, &lang("en")).expect("a step");
        assert_eq!(fourth.form, Form::TextPrompt);
        answers.insert("comment".into(), Value::from("fine"));
        assert_eq!(next_step(&s, &answers, &lang("en")), None);
    }

    #[test]
    fn options_too_long_for_buttons_become_a_list_and_too_long_for_a_list_the_link() {
        let s = survey(concat!(
            "      - { id: q, type: single_choice, text: { en: Q },\n",
            "          options: [ { id: a, text: { en: Twenty-one characters } }, { id: b, text: { en: B } } ] }\n",
            "      - { id: r, type: single_choice, text: { en: R },\n",
            "          options: [ { id: a, text: { en: Twenty-five characters ok } }, { id: b, text: { en: B } } ] }\n",
        ));
        let answers = Map::new();
        assert!(matches!(
            next_step(&s, &answers, &lang("en")).map(|s| s.form),
            Some(Form::List(_))
        ));
        let answers = Map::from_iter([("q".to_string(), Value::from("a"))]);
        assert_eq!(
            next_step(&s, &answers, &lang("en")).map(|s| s.form),
            Some(Form::Link)
        );
    }
}
