//! Language detection of short chat messages (SPEC §4.1 "last message language").
//!
//! Uses `whatlang` restricted to the languages a survey offers: restricting the candidates
//! is what makes trigram detection usable on chat-length text, and it keeps a detection
//! around 10 µs. A message with too few letters, or whose best candidate is not clearly
//! ahead, is reported as undetectable so the caller falls through to the next rule.

use whatlang::{Detector, Lang};

/// Below this whatlang confidence a detection is treated as ambiguous. Tuned on chat
/// messages: full sentences score 0.2–0.7 against a 3-language allowlist, single words
/// and greetings shared by several languages score below 0.15.
pub const MIN_CONFIDENCE: f64 = 0.15;
/// Fewer letters than this cannot be told apart reliably ("ok", "sí", "thx").
pub const MIN_LETTERS: usize = 8;

/// The outcome of detecting a message's language.
#[derive(Clone, Debug, PartialEq)]
pub enum Detection {
    /// The language (ISO 639-1, e.g. `pt`) with its confidence.
    Detected {
        /// ISO 639-1 code.
        language: &'static str,
        /// whatlang's confidence, 0–1.
        confidence: f64,
    },
    /// The text is too short to tell.
    TooShort,
    /// No candidate is clearly ahead (the best guess and its confidence).
    Ambiguous {
        /// The best guess (ISO 639-1), if any.
        best: Option<&'static str>,
        /// Its confidence.
        confidence: f64,
    },
    /// None of the candidates is a language the detector knows.
    NoCandidates,
}

/// ISO 639-1 ↔ whatlang for the languages WhatsApp templates are commonly approved in.
const LANGUAGES: &[(&str, Lang)] = &[
    ("af", Lang::Afr),
    ("ar", Lang::Ara),
    ("bg", Lang::Bul),
    ("bn", Lang::Ben),
    ("cs", Lang::Ces),
    ("da", Lang::Dan),
    ("de", Lang::Deu),
    ("el", Lang::Ell),
    ("en", Lang::Eng),
    ("es", Lang::Spa),
    ("et", Lang::Est),
    ("fa", Lang::Pes),
    ("fi", Lang::Fin),
    ("fr", Lang::Fra),
    ("gu", Lang::Guj),
    ("he", Lang::Heb),
    ("hi", Lang::Hin),
    ("hr", Lang::Hrv),
    ("hu", Lang::Hun),
    ("id", Lang::Ind),
    ("it", Lang::Ita),
    ("ja", Lang::Jpn),
    ("ka", Lang::Kat),
    ("kn", Lang::Kan),
    ("ko", Lang::Kor),
    ("lt", Lang::Lit),
    ("lv", Lang::Lav),
    ("mk", Lang::Mkd),
    ("ml", Lang::Mal),
    ("mr", Lang::Mar),
    ("nb", Lang::Nob),
    ("nl", Lang::Nld),
    ("pa", Lang::Pan),
    ("pl", Lang::Pol),
    ("pt", Lang::Por),
    ("ro", Lang::Ron),
    ("ru", Lang::Rus),
    ("sk", Lang::Slk),
    ("sl", Lang::Slv),
    ("sr", Lang::Srp),
    ("sv", Lang::Swe),
    ("ta", Lang::Tam),
    ("te", Lang::Tel),
    ("th", Lang::Tha),
    ("tr", Lang::Tur),
    ("uk", Lang::Ukr),
    ("ur", Lang::Urd),
    ("uz", Lang::Uzb),
    ("vi", Lang::Vie),
    ("zh", Lang::Cmn),
];

fn to_whatlang(code: &str) -> Option<Lang> {
    LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

fn to_iso(lang: Lang) -> Option<&'static str> {
    LANGUAGES.iter().find(|(_, l)| *l == lang).map(|(c, _)| *c)
}

/// Detects the language of `text` among `candidates` (ISO 639-1 base codes, e.g. the
/// bases of a survey's languages).
pub fn detect(text: &str, candidates: &[&str]) -> Detection {
    let allow: Vec<Lang> = candidates.iter().filter_map(|c| to_whatlang(c)).collect();
    if allow.is_empty() {
        return Detection::NoCandidates;
    }
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return Detection::TooShort;
    }
    let Some(info) = Detector::with_allowlist(allow).detect(text) else {
        return Detection::Ambiguous {
            best: None,
            confidence: 0.0,
        };
    };
    let language = to_iso(info.lang());
    match language {
        Some(language) if info.confidence() >= MIN_CONFIDENCE => Detection::Detected {
            language,
            confidence: info.confidence(),
        },
        best => Detection::Ambiguous {
            best,
            confidence: info.confidence(),
        },
    }
}

impl Detection {
    /// The detected ISO 639-1 code, when detection succeeded.
    pub fn language(&self) -> Option<&'static str> {
        match self {
            Detection::Detected { language, .. } => Some(language),
            _ => None,
        }
    }

    /// A sentence for the trace.
    pub fn describe(&self) -> String {
        match self {
            Detection::Detected { language, confidence } => format!("detected {language} (confidence {confidence:.2})"),
            Detection::TooShort => format!("the last message is too short to detect its language (fewer than {MIN_LETTERS} letters)"),
            Detection::Ambiguous { best, confidence } => format!(
                "the last message's language is ambiguous (best guess {}, confidence {confidence:.2} < {MIN_CONFIDENCE})",
                best.unwrap_or("none")
            ),
            Detection::NoCandidates => "no candidate language can be detected".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SURVEY: &[&str] = &["en", "es", "pt"];

    #[test]
    fn chat_sentences_are_detected_among_the_survey_languages() {
        let table = [
            ("Olá, obrigado pela ajuda, o problema foi resolvido", "pt"),
            ("Hola, gracias por la ayuda, ya funciona", "es"),
            ("Thanks, all good now!", "en"),
            ("Ainda não funciona", "pt"),
        ];
        for (text, expected) in table {
            assert_eq!(
                detect(text, SURVEY).language(),
                Some(expected),
                "{text}: {:?}",
                detect(text, SURVEY)
            );
        }
    }

    #[test]
    fn short_or_ambiguous_messages_fall_through() {
        assert_eq!(detect("ok", SURVEY), Detection::TooShort);
        assert_eq!(detect("sí", SURVEY), Detection::TooShort);
        assert!(matches!(
            detect("muchas gracias por todo", SURVEY),
            Detection::Ambiguous {
                best: Some("es"),
                ..
            }
        ));
        assert_eq!(
            detect("Olá, obrigado pela ajuda", &["xx"]),
            Detection::NoCandidates
        );
    }

    #[test]
    fn descriptions_say_why() {
        assert!(Detection::TooShort.describe().contains("too short"));
        assert!(
            detect("Olá, obrigado pela ajuda, o problema foi resolvido", SURVEY)
                .describe()
                .starts_with("detected pt")
        );
    }
}
