//! The words of the customer's survey pages (SPEC §4.18): every label, button, notice and
//! answer problem of the page, its thank-you, expired, paused, unsubscribe and error pages,
//! built in for en, es, pt (pt_BR and pt), fr, de and it, and overridable per survey and
//! language in the config (`surveys[].page_texts`).
//!
//! A plain table per language rather than a message-catalogue crate: the set is small and
//! fixed, every table is a struct literal, so the compiler refuses a language that lacks a
//! text, and the texts need no plural or gender rules beyond what a sentence can avoid.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::answer::AnswerProblem;
use crate::language::Language;

/// One text of the survey pages; its config key is the snake_case name (`submit`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageText {
    /// After a required question's label: `(required)`.
    Required,
    /// The button that submits the survey.
    Submit,
    /// The button that saves answers without submitting.
    Save,
    /// Shown after a save.
    Saved,
    /// Above the form when answers need fixing.
    CheckAnswers,
    /// The unsubscribe link under the form.
    StopMessages,
    /// An answer to a question the survey does not have.
    NotAQuestion,
    /// A required question left empty.
    AnswerRequired,
    /// A number outside the scale; takes `{low}` and `{high}`.
    NumberRange,
    /// A choice that is not one of the options.
    ChooseOption,
    /// A free-text answer that is not text.
    TextExpected,
    /// A free-text answer that is too long; takes `{max}`.
    TextTooLong,
    /// The page after submitting (and for a completed survey).
    ThankYouTitle,
    /// Its sentence.
    ThankYouMessage,
    /// The page of an expired link (410).
    ExpiredTitle,
    /// Its sentence.
    ExpiredMessage,
    /// The page of a paused distribution (423).
    PausedTitle,
    /// Its sentence.
    PausedMessage,
    /// The page of an unknown link (404).
    NotFoundTitle,
    /// Its sentence.
    NotFoundMessage,
    /// The page shown when the survey cannot be served right now.
    UnavailableTitle,
    /// Its sentence.
    UnavailableMessage,
    /// The page of a form that could not be read.
    FormErrorTitle,
    /// Its sentence.
    FormErrorMessage,
    /// The unsubscribe confirmation page.
    UnsubscribeTitle,
    /// Its sentence.
    UnsubscribeMessage,
    /// Its confirm button.
    UnsubscribeButton,
    /// The page after unsubscribing.
    UnsubscribedTitle,
    /// Its sentence.
    UnsubscribedMessage,
    /// The button that opens the list of options of a question asked in the chat
    /// (at most 20 characters).
    ChatChoose,
    /// The chat message that sends the survey link for the questions the chat cannot ask;
    /// takes `{link}`.
    ChatContinue,
}

impl PageText {
    /// Every text, in the order `check` lists them.
    pub const ALL: [PageText; 31] = [
        PageText::Required,
        PageText::Submit,
        PageText::Save,
        PageText::Saved,
        PageText::CheckAnswers,
        PageText::StopMessages,
        PageText::NotAQuestion,
        PageText::AnswerRequired,
        PageText::NumberRange,
        PageText::ChooseOption,
        PageText::TextExpected,
        PageText::TextTooLong,
        PageText::ThankYouTitle,
        PageText::ThankYouMessage,
        PageText::ExpiredTitle,
        PageText::ExpiredMessage,
        PageText::PausedTitle,
        PageText::PausedMessage,
        PageText::NotFoundTitle,
        PageText::NotFoundMessage,
        PageText::UnavailableTitle,
        PageText::UnavailableMessage,
        PageText::FormErrorTitle,
        PageText::FormErrorMessage,
        PageText::UnsubscribeTitle,
        PageText::UnsubscribeMessage,
        PageText::UnsubscribeButton,
        PageText::UnsubscribedTitle,
        PageText::UnsubscribedMessage,
        PageText::ChatChoose,
        PageText::ChatContinue,
    ];

    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            PageText::Required => "required",
            PageText::Submit => "submit",
            PageText::Save => "save",
            PageText::Saved => "saved",
            PageText::CheckAnswers => "check_answers",
            PageText::StopMessages => "stop_messages",
            PageText::NotAQuestion => "not_a_question",
            PageText::AnswerRequired => "answer_required",
            PageText::NumberRange => "number_range",
            PageText::ChooseOption => "choose_option",
            PageText::TextExpected => "text_expected",
            PageText::TextTooLong => "text_too_long",
            PageText::ThankYouTitle => "thank_you_title",
            PageText::ThankYouMessage => "thank_you_message",
            PageText::ExpiredTitle => "expired_title",
            PageText::ExpiredMessage => "expired_message",
            PageText::PausedTitle => "paused_title",
            PageText::PausedMessage => "paused_message",
            PageText::NotFoundTitle => "not_found_title",
            PageText::NotFoundMessage => "not_found_message",
            PageText::UnavailableTitle => "unavailable_title",
            PageText::UnavailableMessage => "unavailable_message",
            PageText::FormErrorTitle => "form_error_title",
            PageText::FormErrorMessage => "form_error_message",
            PageText::UnsubscribeTitle => "unsubscribe_title",
            PageText::UnsubscribeMessage => "unsubscribe_message",
            PageText::UnsubscribeButton => "unsubscribe_button",
            PageText::UnsubscribedTitle => "unsubscribed_title",
            PageText::UnsubscribedMessage => "unsubscribed_message",
            PageText::ChatChoose => "chat_choose",
            PageText::ChatContinue => "chat_continue",
        }
    }

    /// The text with this config key.
    pub fn from_key(key: &str) -> Option<PageText> {
        PageText::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The `{name}` placeholders the text may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            PageText::NumberRange => &["low", "high"],
            PageText::TextTooLong => &["max"],
            PageText::ChatContinue => &["link"],
            _ => &[],
        }
    }
}

impl fmt::Display for PageText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Serialize for PageText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

/// The `{name}`s a text uses that `text_key` does not take.
pub fn unknown_placeholders(text_key: PageText, text: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let name = &rest[..close];
        let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if is_name && !text_key.placeholders().contains(&name) {
            unknown.push(name.to_owned());
        }
    }
    unknown
}

/// A survey's own texts for one language (`surveys[].page_texts.<language>`).
pub type CustomTexts = BTreeMap<PageText, String>;

/// The page texts in one language: the survey's own for it, then the built-in ones for it,
/// then the English ones.
#[derive(Clone, Debug, PartialEq)]
pub struct PageTexts {
    language: Language,
    custom: CustomTexts,
    builtin: &'static Table,
}

impl PageTexts {
    /// The texts of `language`, with a survey's own texts for it over the built-in ones.
    pub fn new(language: Language, custom: CustomTexts) -> PageTexts {
        let builtin = builtin(&language).unwrap_or(&EN);
        PageTexts {
            language,
            custom,
            builtin,
        }
    }

    /// The built-in English texts, for pages that belong to no invite.
    pub fn english() -> PageTexts {
        PageTexts {
            language: Language::english(),
            custom: CustomTexts::new(),
            builtin: &EN,
        }
    }

    /// The language the page is in (its `<html lang>`).
    pub fn language(&self) -> &Language {
        &self.language
    }

    /// One text, placeholders not filled.
    pub fn get(&self, text: PageText) -> &str {
        self.custom
            .get(&text)
            .map_or_else(|| self.builtin.get(text), String::as_str)
    }

    /// The sentence for an answer the page refused.
    pub fn answer_problem(&self, problem: &AnswerProblem) -> String {
        match *problem {
            AnswerProblem::NotAQuestion => self.get(PageText::NotAQuestion).to_owned(),
            AnswerProblem::Required => self.get(PageText::AnswerRequired).to_owned(),
            AnswerProblem::OutOfRange { low, high } => self
                .get(PageText::NumberRange)
                .replace("{low}", &low.to_string())
                .replace("{high}", &high.to_string()),
            AnswerProblem::NotAnOption => self.get(PageText::ChooseOption).to_owned(),
            AnswerProblem::NotText => self.get(PageText::TextExpected).to_owned(),
            AnswerProblem::TooLong { max } => self
                .get(PageText::TextTooLong)
                .replace("{max}", &max.to_string()),
        }
    }
}

/// Whether closeloop has its own texts for `language` (by its primary language: `pt_BR`
/// and `pt` share one table).
pub fn is_built_in(language: &Language) -> bool {
    builtin(language).is_some()
}

fn builtin(language: &Language) -> Option<&'static Table> {
    match language.primary() {
        "en" => Some(&EN),
        "es" => Some(&ES),
        "pt" => Some(&PT),
        "fr" => Some(&FR),
        "de" => Some(&DE),
        "it" => Some(&IT),
        _ => None,
    }
}

/// The texts of one language; a field per [`PageText`].
#[derive(Debug, PartialEq)]
struct Table {
    required: &'static str,
    submit: &'static str,
    save: &'static str,
    saved: &'static str,
    check_answers: &'static str,
    stop_messages: &'static str,
    not_a_question: &'static str,
    answer_required: &'static str,
    number_range: &'static str,
    choose_option: &'static str,
    text_expected: &'static str,
    text_too_long: &'static str,
    thank_you_title: &'static str,
    thank_you_message: &'static str,
    expired_title: &'static str,
    expired_message: &'static str,
    paused_title: &'static str,
    paused_message: &'static str,
    not_found_title: &'static str,
    not_found_message: &'static str,
    unavailable_title: &'static str,
    unavailable_message: &'static str,
    form_error_title: &'static str,
    form_error_message: &'static str,
    unsubscribe_title: &'static str,
    unsubscribe_message: &'static str,
    unsubscribe_button: &'static str,
    unsubscribed_title: &'static str,
    unsubscribed_message: &'static str,
    chat_choose: &'static str,
    chat_continue: &'static str,
}

impl Table {
    fn get(&self, text: PageText) -> &'static str {
        match text {
            PageText::Required => self.required,
            PageText::Submit => self.submit,
            PageText::Save => self.save,
            PageText::Saved => self.saved,
            PageText::CheckAnswers => self.check_answers,
            PageText::StopMessages => self.stop_messages,
            PageText::NotAQuestion => self.not_a_question,
            PageText::AnswerRequired => self.answer_required,
            PageText::NumberRange => self.number_range,
            PageText::ChooseOption => self.choose_option,
            PageText::TextExpected => self.text_expected,
            PageText::TextTooLong => self.text_too_long,
            PageText::ThankYouTitle => self.thank_you_title,
            PageText::ThankYouMessage => self.thank_you_message,
            PageText::ExpiredTitle => self.expired_title,
            PageText::ExpiredMessage => self.expired_message,
            PageText::PausedTitle => self.paused_title,
            PageText::PausedMessage => self.paused_message,
            PageText::NotFoundTitle => self.not_found_title,
            PageText::NotFoundMessage => self.not_found_message,
            PageText::UnavailableTitle => self.unavailable_title,
            PageText::UnavailableMessage => self.unavailable_message,
            PageText::FormErrorTitle => self.form_error_title,
            PageText::FormErrorMessage => self.form_error_message,
            PageText::UnsubscribeTitle => self.unsubscribe_title,
            PageText::UnsubscribeMessage => self.unsubscribe_message,
            PageText::UnsubscribeButton => self.unsubscribe_button,
            PageText::UnsubscribedTitle => self.unsubscribed_title,
            PageText::UnsubscribedMessage => self.unsubscribed_message,
            PageText::ChatChoose => self.chat_choose,
            PageText::ChatContinue => self.chat_continue,
        }
    }
}

static EN: Table = Table {
    required: "(required)",
    submit: "Submit",
    save: "Save and finish later",
    saved: "Your answers are saved. You can finish later.",
    check_answers: "Please check the questions marked below.",
    stop_messages: "Stop survey messages",
    not_a_question: "This is not a question of this survey.",
    answer_required: "This question is required.",
    number_range: "Choose a number from {low} to {high}.",
    choose_option: "Choose one of the options.",
    text_expected: "Please write your answer as text.",
    text_too_long: "Please keep your answer under {max} characters.",
    thank_you_title: "Thank you!",
    thank_you_message: "Your answers have been received. There is nothing more to do.",
    expired_title: "This survey has expired",
    expired_message: "The link to this survey has expired. Thank you for your time.",
    paused_title: "This survey is paused",
    paused_message: "This survey is paused for now. Please try again later.",
    not_found_title: "Survey not found",
    not_found_message: "This survey link is not valid. Please check the link in your message.",
    unavailable_title: "Please try again",
    unavailable_message: "The survey cannot be shown right now. Please try again in a moment.",
    form_error_title: "Something went wrong",
    form_error_message: "The form could not be read. Please try again.",
    unsubscribe_title: "Stop survey messages?",
    unsubscribe_message: "You will receive no more survey messages from us on WhatsApp.",
    unsubscribe_button: "Yes, stop messages",
    unsubscribed_title: "You are unsubscribed",
    unsubscribed_message: "You will receive no more survey messages from us.",
    chat_choose: "Choose",
    chat_continue: "Please answer the rest of the survey here: {link}",
};

static ES: Table = Table {
    required: "(obligatoria)",
    submit: "Enviar",
    save: "Guardar y terminar más tarde",
    saved: "Sus respuestas se han guardado. Puede terminar más tarde.",
    check_answers: "Revise las preguntas marcadas abajo.",
    stop_messages: "No recibir más encuestas",
    not_a_question: "Esta pregunta no forma parte de la encuesta.",
    answer_required: "Esta pregunta es obligatoria.",
    number_range: "Elija un número del {low} al {high}.",
    choose_option: "Elija una de las opciones.",
    text_expected: "Escriba su respuesta como texto.",
    text_too_long: "Su respuesta puede tener como máximo {max} caracteres.",
    thank_you_title: "¡Gracias!",
    thank_you_message: "Hemos recibido sus respuestas. No tiene que hacer nada más.",
    expired_title: "Esta encuesta ha caducado",
    expired_message: "El enlace de esta encuesta ha caducado. Gracias por su tiempo.",
    paused_title: "Esta encuesta está en pausa",
    paused_message: "Esta encuesta está en pausa por ahora. Vuelva a intentarlo más tarde.",
    not_found_title: "Encuesta no encontrada",
    not_found_message: "Este enlace de encuesta no es válido. Compruebe el enlace de su mensaje.",
    unavailable_title: "Vuelva a intentarlo",
    unavailable_message:
        "No podemos mostrar la encuesta en este momento. Vuelva a intentarlo en unos instantes.",
    form_error_title: "Algo salió mal",
    form_error_message: "No se pudo leer el formulario. Vuelva a intentarlo.",
    unsubscribe_title: "¿Dejar de recibir encuestas?",
    unsubscribe_message: "No volverá a recibir mensajes de encuestas nuestros por WhatsApp.",
    unsubscribe_button: "Sí, no enviarme más mensajes",
    unsubscribed_title: "Se ha dado de baja",
    unsubscribed_message: "No volverá a recibir mensajes de encuestas nuestros.",
    chat_choose: "Elegir",
    chat_continue: "Responda el resto de la encuesta aquí: {link}",
};

static PT: Table = Table {
    required: "(obrigatória)",
    submit: "Enviar",
    save: "Salvar e terminar depois",
    saved: "Suas respostas foram salvas. Você pode terminar depois.",
    check_answers: "Confira as perguntas marcadas abaixo.",
    stop_messages: "Não receber mais pesquisas",
    not_a_question: "Esta pergunta não faz parte da pesquisa.",
    answer_required: "Esta pergunta é obrigatória.",
    number_range: "Escolha um número de {low} a {high}.",
    choose_option: "Escolha uma das opções.",
    text_expected: "Escreva sua resposta em texto.",
    text_too_long: "Sua resposta pode ter no máximo {max} caracteres.",
    thank_you_title: "Obrigado!",
    thank_you_message: "Recebemos suas respostas. Não é preciso fazer mais nada.",
    expired_title: "Esta pesquisa expirou",
    expired_message: "O link desta pesquisa expirou. Obrigado pelo seu tempo.",
    paused_title: "Esta pesquisa está pausada",
    paused_message: "Esta pesquisa está pausada no momento. Tente novamente mais tarde.",
    not_found_title: "Pesquisa não encontrada",
    not_found_message: "Este link de pesquisa não é válido. Confira o link na sua mensagem.",
    unavailable_title: "Tente novamente",
    unavailable_message: "Não foi possível mostrar a pesquisa agora. Tente novamente em instantes.",
    form_error_title: "Algo deu errado",
    form_error_message: "Não foi possível ler o formulário. Tente novamente.",
    unsubscribe_title: "Parar de receber pesquisas?",
    unsubscribe_message: "Você não vai mais receber mensagens de pesquisa nossas pelo WhatsApp.",
    unsubscribe_button: "Sim, parar as mensagens",
    unsubscribed_title: "Inscrição cancelada",
    unsubscribed_message: "Você não vai mais receber mensagens de pesquisa nossas.",
    chat_choose: "Escolher",
    chat_continue: "Responda o restante da pesquisa aqui: {link}",
};

static FR: Table = Table {
    required: "(obligatoire)",
    submit: "Envoyer",
    save: "Enregistrer et terminer plus tard",
    saved: "Vos réponses sont enregistrées. Vous pourrez terminer plus tard.",
    check_answers: "Veuillez vérifier les questions signalées ci-dessous.",
    stop_messages: "Ne plus recevoir d’enquêtes",
    not_a_question: "Cette question ne fait pas partie de l’enquête.",
    answer_required: "Cette question est obligatoire.",
    number_range: "Choisissez un nombre de {low} à {high}.",
    choose_option: "Choisissez l’une des options.",
    text_expected: "Veuillez saisir votre réponse sous forme de texte.",
    text_too_long: "Votre réponse ne doit pas dépasser {max} caractères.",
    thank_you_title: "Merci\u{a0}!",
    thank_you_message: "Nous avons bien reçu vos réponses. Vous n’avez rien d’autre à faire.",
    expired_title: "Cette enquête a expiré",
    expired_message:
        "Le lien de cette enquête a expiré. Merci pour le temps que vous nous avez accordé.",
    paused_title: "Cette enquête est suspendue",
    paused_message: "Cette enquête est suspendue pour le moment. Veuillez réessayer plus tard.",
    not_found_title: "Enquête introuvable",
    not_found_message:
        "Ce lien d’enquête n’est pas valide. Veuillez vérifier le lien dans votre message.",
    unavailable_title: "Veuillez réessayer",
    unavailable_message:
        "L’enquête ne peut pas être affichée pour le moment. Veuillez réessayer dans un instant.",
    form_error_title: "Une erreur s’est produite",
    form_error_message: "Le formulaire n’a pas pu être lu. Veuillez réessayer.",
    unsubscribe_title: "Ne plus recevoir d’enquêtes\u{a0}?",
    unsubscribe_message: "Vous ne recevrez plus de messages d’enquête de notre part sur WhatsApp.",
    unsubscribe_button: "Oui, ne plus recevoir de messages",
    unsubscribed_title: "Votre désinscription est confirmée",
    unsubscribed_message: "Vous ne recevrez plus de messages d’enquête de notre part.",
    chat_choose: "Choisir",
    chat_continue: "Répondez à la suite du questionnaire ici : {link}",
};

static DE: Table = Table {
    required: "(Pflichtfrage)",
    submit: "Absenden",
    save: "Speichern und später fortfahren",
    saved: "Ihre Antworten wurden gespeichert. Sie können später fortfahren.",
    check_answers: "Bitte prüfen Sie die unten markierten Fragen.",
    stop_messages: "Keine Umfragen mehr erhalten",
    not_a_question: "Diese Frage gehört nicht zu dieser Umfrage.",
    answer_required: "Bitte beantworten Sie diese Frage.",
    number_range: "Bitte wählen Sie eine Zahl von {low} bis {high}.",
    choose_option: "Bitte wählen Sie eine der Antworten.",
    text_expected: "Bitte geben Sie Ihre Antwort als Text ein.",
    text_too_long: "Ihre Antwort darf höchstens {max} Zeichen lang sein.",
    thank_you_title: "Vielen Dank!",
    thank_you_message: "Wir haben Ihre Antworten erhalten. Sie müssen nichts weiter tun.",
    expired_title: "Diese Umfrage ist abgelaufen",
    expired_message: "Der Link zu dieser Umfrage ist abgelaufen. Vielen Dank für Ihre Zeit.",
    paused_title: "Diese Umfrage ist pausiert",
    paused_message: "Diese Umfrage ist derzeit pausiert. Bitte versuchen Sie es später erneut.",
    not_found_title: "Umfrage nicht gefunden",
    not_found_message:
        "Dieser Umfragelink ist ungültig. Bitte prüfen Sie den Link in Ihrer Nachricht.",
    unavailable_title: "Bitte versuchen Sie es erneut",
    unavailable_message:
        "Die Umfrage kann gerade nicht angezeigt werden. Bitte versuchen Sie es gleich noch einmal.",
    form_error_title: "Etwas ist schiefgelaufen",
    form_error_message: "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
    unsubscribe_title: "Keine Umfragen mehr erhalten?",
    unsubscribe_message: "Sie erhalten dann keine Umfrage-Nachrichten mehr von uns über WhatsApp.",
    unsubscribe_button: "Ja, keine Nachrichten mehr",
    unsubscribed_title: "Sie sind abgemeldet",
    unsubscribed_message: "Sie erhalten keine Umfrage-Nachrichten mehr von uns.",
    chat_choose: "Auswählen",
    chat_continue: "Bitte beantworten Sie den Rest der Umfrage hier: {link}",
};

static IT: Table = Table {
    required: "(obbligatoria)",
    submit: "Invia",
    save: "Salva e completa più tardi",
    saved: "Le sue risposte sono state salvate. Potrà completare il sondaggio più tardi.",
    check_answers: "Controlli le domande evidenziate qui sotto.",
    stop_messages: "Non ricevere più sondaggi",
    not_a_question: "Questa domanda non fa parte del sondaggio.",
    answer_required: "Questa domanda è obbligatoria.",
    number_range: "Scelga un numero da {low} a {high}.",
    choose_option: "Scelga una delle opzioni.",
    text_expected: "Scriva la sua risposta come testo.",
    text_too_long: "La risposta può contenere al massimo {max} caratteri.",
    thank_you_title: "Grazie!",
    thank_you_message: "Abbiamo ricevuto le sue risposte. Non deve fare nient’altro.",
    expired_title: "Questo sondaggio è scaduto",
    expired_message:
        "Il link a questo sondaggio è scaduto. Grazie per il tempo che ci ha dedicato.",
    paused_title: "Questo sondaggio è in pausa",
    paused_message: "Questo sondaggio è momentaneamente in pausa. Riprovi più tardi.",
    not_found_title: "Sondaggio non trovato",
    not_found_message:
        "Questo link al sondaggio non è valido. Controlli il link nel messaggio ricevuto.",
    unavailable_title: "Riprovi tra poco",
    unavailable_message:
        "Al momento non è possibile mostrare il sondaggio. Riprovi tra qualche istante.",
    form_error_title: "Si è verificato un problema",
    form_error_message: "Non è stato possibile leggere il modulo. Riprovi.",
    unsubscribe_title: "Non ricevere più sondaggi?",
    unsubscribe_message: "Non riceverà più messaggi di sondaggio da parte nostra su WhatsApp.",
    unsubscribe_button: "Sì, non inviatemi più messaggi",
    unsubscribed_title: "Disiscrizione completata",
    unsubscribed_message: "Non riceverà più messaggi di sondaggio da parte nostra.",
    chat_choose: "Scegli",
    chat_continue: "Risponda al resto del sondaggio qui: {link}",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).unwrap()
    }

    #[test]
    fn keys_round_trip_and_are_unique() {
        for text in PageText::ALL {
            assert_eq!(PageText::from_key(text.key()), Some(text));
        }
        let keys: std::collections::BTreeSet<_> = PageText::ALL.iter().map(|t| t.key()).collect();
        assert_eq!(keys.len(), PageText::ALL.len());
        assert_eq!(PageText::from_key("sumbit"), None);
    }

    #[test]
    fn every_built_in_table_is_translated_and_keeps_its_placeholders() {
        for table in [&ES, &PT, &FR, &DE, &IT] {
            for text in PageText::ALL {
                let (ours, english) = (table.get(text), EN.get(text));
                assert!(!ours.trim().is_empty(), "{text}");
                for name in text.placeholders() {
                    assert!(ours.contains(&format!("{{{name}}}")), "{text}: {ours}");
                }
                assert!(
                    unknown_placeholders(text, ours).is_empty(),
                    "{text}: {ours}"
                );
                // Short words may coincide (`Enviar`), whole sentences must not.
                if english.len() > 20 {
                    assert_ne!(ours, english, "{text} is not translated");
                }
            }
        }
    }

    #[test]
    fn regional_variants_share_their_language_and_others_fall_back_to_english() {
        let pt_br = PageTexts::new(lang("pt_BR"), CustomTexts::new());
        assert_eq!(pt_br.get(PageText::Submit), "Enviar");
        assert_eq!(pt_br.language().bcp47(), "pt-BR");
        assert!(is_built_in(&lang("pt")));
        assert!(!is_built_in(&lang("ja")));
        let ja = PageTexts::new(lang("ja"), CustomTexts::new());
        assert_eq!(ja.get(PageText::Submit), "Submit");
        assert_eq!(
            ja.language().as_str(),
            "ja",
            "the page still declares its language"
        );
    }

    #[test]
    fn a_survey_text_wins_over_the_built_in_one() {
        let custom = CustomTexts::from([(PageText::Submit, "Mandar".to_owned())]);
        let es = PageTexts::new(lang("es"), custom);
        assert_eq!(es.get(PageText::Submit), "Mandar");
        assert_eq!(es.get(PageText::Save), "Guardar y terminar más tarde");
    }

    #[test]
    fn answer_problems_are_filled_in_the_page_language() {
        let es = PageTexts::new(lang("es"), CustomTexts::new());
        assert_eq!(
            es.answer_problem(&AnswerProblem::OutOfRange { low: 1, high: 5 }),
            "Elija un número del 1 al 5."
        );
        assert_eq!(
            PageTexts::english().answer_problem(&AnswerProblem::TooLong { max: 2000 }),
            "Please keep your answer under 2000 characters."
        );
    }

    #[test]
    fn unknown_placeholders_are_found() {
        assert_eq!(
            unknown_placeholders(PageText::NumberRange, "De {low} a {hihg}"),
            ["hihg"]
        );
        assert!(unknown_placeholders(PageText::Submit, "Enviar {").is_empty());
        assert_eq!(unknown_placeholders(PageText::Submit, "{max}"), ["max"]);
    }
}
