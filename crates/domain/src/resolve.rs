//! Choosing a message's language (SPEC §4.1) and its recipient number (SPEC §4.2), purely
//! from the action, the configuration and the case.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::action::SurveyAction;
use crate::case::Case;
use crate::config::{Distribution, Survey};
use crate::language::Language;
use crate::phone::E164;

/// Which rule of SPEC §4.1 picked the language.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageSource {
    /// The action's `language`.
    Action,
    /// The detected language of the case's last inbound message.
    LastMessage,
    /// The distribution's `translation` (field value or fallback).
    Translation,
    /// The survey's default language.
    Default,
}

impl LanguageSource {
    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            LanguageSource::Action => "action",
            LanguageSource::LastMessage => "last_message",
            LanguageSource::Translation => "translation",
            LanguageSource::Default => "default",
        }
    }
}

/// The message language: the first candidate the survey offers among the action's
/// `language`, the last inbound message's language (when `use_last_message_language`), the
/// distribution's translation field then its fallback, and finally the default language.
pub fn language(
    action: &SurveyAction,
    survey: &Survey,
    distribution: &Distribution,
    case: &Case,
    last_message_language: Option<&Language>,
) -> (Language, LanguageSource) {
    if let Some(l) = action.language.as_ref().and_then(|l| offered(survey, l)) {
        return (l, LanguageSource::Action);
    }
    if action.use_last_message_language {
        if let Some(l) = last_message_language.and_then(|l| offered(survey, l)) {
            return (l, LanguageSource::LastMessage);
        }
    }
    if let Some(t) = &distribution.translation {
        let from_case = case
            .field(&t.from)
            .as_str()
            .and_then(|s| Language::parse(s).ok())
            .and_then(|l| offered(survey, &l));
        if let Some(l) = from_case.or_else(|| t.fallback.as_ref().and_then(|l| offered(survey, l)))
        {
            return (l, LanguageSource::Translation);
        }
    }
    (survey.default_language.clone(), LanguageSource::Default)
}

/// The survey language that serves `wanted`: the same tag, else the first offered
/// language with the same base (`pt` → `pt_BR`, `es_MX` → `es`).
pub fn offered(survey: &Survey, wanted: &Language) -> Option<Language> {
    if survey.offers(wanted) {
        return Some(wanted.clone());
    }
    survey
        .languages
        .iter()
        .find(|l| l.base() == wanted.base())
        .cloned()
}

/// Where a recipient number came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RecipientSource {
    /// `case.custom.<key>` (`recipient_case_field`).
    CaseField(String),
    /// `profile.custom.<key>` (`recipient_profile_field`).
    ProfileField(String),
    /// `profile.phone`.
    ProfilePhone,
}

impl fmt::Display for RecipientSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientSource::CaseField(k) => write!(f, "case.custom.{k}"),
            RecipientSource::ProfileField(k) => write!(f, "profile.custom.{k}"),
            RecipientSource::ProfilePhone => f.write_str("profile.phone"),
        }
    }
}

impl Serialize for RecipientSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Accepts `alt_phone` as well as the full `case.custom.alt_phone` form.
fn custom_key<'a>(configured: &'a str, prefix: &str) -> &'a str {
    configured.strip_prefix(prefix).unwrap_or(configured)
}

/// The raw text of a phone value; numbers are accepted because helpdesks send them.
fn phone_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The recipient: the first configured source that is present on the case among
/// `recipient_case_field`, `recipient_profile_field` and `profile.phone`, parsed as E.164.
///
/// # Errors
/// The chosen source and why, when its value is empty or not a valid number, or when no
/// source has a value (then the source is `profile.phone`).
pub fn recipient(
    action: &SurveyAction,
    case: &Case,
    default_region: Option<&str>,
) -> Result<(E164, RecipientSource), (RecipientSource, String)> {
    let profile = case.profile.as_ref();
    let mut candidates: Vec<(RecipientSource, Option<&Value>)> = Vec::new();
    if let Some(k) = &action.recipient_case_field {
        let key = custom_key(k, "case.custom.");
        candidates.push((
            RecipientSource::CaseField(key.to_owned()),
            case.custom.get(key),
        ));
    }
    if let Some(k) = &action.recipient_profile_field {
        let key = custom_key(k, "profile.custom.");
        let value = profile.and_then(|p| p.custom.get(key));
        candidates.push((RecipientSource::ProfileField(key.to_owned()), value));
    }
    let phone = profile.and_then(|p| p.phone.clone()).map(Value::String);
    candidates.push((RecipientSource::ProfilePhone, phone.as_ref()));

    let chosen = candidates
        .into_iter()
        .find(|(_, v)| v.is_some_and(|v| !v.is_null()));
    let Some((source, Some(value))) = chosen else {
        return Err((
            RecipientSource::ProfilePhone,
            "no phone number on the case".to_owned(),
        ));
    };
    let Some(raw) = phone_text(value) else {
        return Err((source, format!("not a phone number: {value}")));
    };
    match E164::parse(&raw, default_region) {
        Ok(number) => Ok((number, source)),
        Err(e) => Err((source, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::SurveyRef;
    use crate::config::{DistributionStatus, MessageTemplate, Messages, Translation};
    use crate::duration::Duration;
    use crate::field::FieldPath;
    use serde_json::json;

    fn lang(s: &str) -> Language {
        Language::parse(s).unwrap()
    }

    fn survey() -> Survey {
        Survey {
            id: "csat".into(),
            name: "CSAT".into(),
            owner: "alice".into(),
            shared_with: vec![],
            default_language: lang("en"),
            languages: vec![lang("en"), lang("es"), lang("pt_BR")],
            questions: vec![],
            page_texts: Default::default(),
        }
    }

    fn distribution(translation: Option<Translation>) -> Distribution {
        Distribution {
            id: "csat-wa".into(),
            survey: "csat".into(),
            channel: "whatsapp".into(),
            sender_account: "support-wa".into(),
            status: DistributionStatus::Active,
            expires_at: None,
            link_expires_after: Duration::from_secs(604_800),
            partial_after: Duration::from_secs(3_600),
            once_per_case: true,
            quarantine: None,
            max_reminders: 1,
            translation,
            in_chat: false,
            messages: Messages {
                invitation: MessageTemplate {
                    template: "t".into(),
                    languages: Default::default(),
                    body: None,
                    body_params: vec![],
                    url_button_suffix: None,
                    header: None,
                    quick_replies: None,
                },
                reminder: None,
                thank_you: None,
            },
        }
    }

    fn action() -> SurveyAction {
        SurveyAction::new(SurveyRef {
            survey: "csat".into(),
            channel: "whatsapp".into(),
            distribution: "csat-wa".into(),
        })
    }

    fn case(v: serde_json::Value) -> Case {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn language_table() {
        let tr = |fallback: Option<&str>| {
            Some(Translation {
                from: FieldPath::parse("profile.language").unwrap(),
                fallback: fallback.map(lang),
            })
        };
        let es_case = case(json!({"id":"C","status":"x","profile":{"language":"es"}}));
        let fr_case = case(json!({"id":"C","status":"x","profile":{"language":"fr"}}));
        let junk_case = case(json!({"id":"C","status":"x","profile":{"language":"??"}}));
        let pt = lang("pt_BR");
        let fr = lang("fr");
        struct Row<'a> {
            action_lang: Option<&'a str>,
            use_last: bool,
            last: Option<&'a Language>,
            translation: Option<Translation>,
            case: &'a Case,
            want: (&'a str, LanguageSource),
        }
        let rows = vec![
            Row {
                action_lang: Some("es"),
                use_last: true,
                last: Some(&pt),
                translation: tr(None),
                case: &fr_case,
                want: ("es", LanguageSource::Action),
            },
            Row {
                action_lang: Some("fr"),
                use_last: true,
                last: Some(&pt),
                translation: None,
                case: &fr_case,
                want: ("pt_BR", LanguageSource::LastMessage),
            },
            Row {
                action_lang: None,
                use_last: false,
                last: Some(&pt),
                translation: None,
                case: &fr_case,
                want: ("en", LanguageSource::Default),
            },
            Row {
                action_lang: None,
                use_last: true,
                last: Some(&fr),
                translation: tr(None),
                case: &es_case,
                want: ("es", LanguageSource::Translation),
            },
            Row {
                action_lang: None,
                use_last: true,
                last: None,
                translation: tr(Some("pt_BR")),
                case: &fr_case,
                want: ("pt_BR", LanguageSource::Translation),
            },
            Row {
                action_lang: None,
                use_last: false,
                last: None,
                translation: tr(Some("fr")),
                case: &fr_case,
                want: ("en", LanguageSource::Default),
            },
            Row {
                action_lang: None,
                use_last: false,
                last: None,
                translation: tr(None),
                case: &junk_case,
                want: ("en", LanguageSource::Default),
            },
        ];
        for (i, row) in rows.into_iter().enumerate() {
            let mut a = action();
            a.language = row.action_lang.map(lang);
            a.use_last_message_language = row.use_last;
            let got = language(
                &a,
                &survey(),
                &distribution(row.translation),
                row.case,
                row.last,
            );
            assert_eq!((got.0.as_str(), got.1), row.want, "row {i}");
        }
    }

    #[test]
    fn recipient_table() {
        let full = case(json!({
            "id":"C","status":"x","custom":{"alt_phone":"+34600111222","empty":"","num":34600111333u64},
            "profile":{"phone":"+34600000000","custom":{"mobile":"+34611222333","bad":"nope"}}
        }));
        let no_profile = case(json!({"id":"C","status":"x"}));
        let national = case(json!({"id":"C","status":"x","profile":{"phone":"600111222"}}));
        type Want = Result<(&'static str, &'static str), &'static str>;
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            &'a Case,
            Option<&'a str>,
            Want,
        );
        let rows: Vec<Row> = vec![
            (
                Some("alt_phone"),
                Some("mobile"),
                &full,
                None,
                Ok(("+34600111222", "case.custom.alt_phone")),
            ),
            (
                Some("case.custom.alt_phone"),
                None,
                &full,
                None,
                Ok(("+34600111222", "case.custom.alt_phone")),
            ),
            (
                Some("missing"),
                Some("mobile"),
                &full,
                None,
                Ok(("+34611222333", "profile.custom.mobile")),
            ),
            (
                Some("missing"),
                Some("missing"),
                &full,
                None,
                Ok(("+34600000000", "profile.phone")),
            ),
            (
                None,
                None,
                &full,
                None,
                Ok(("+34600000000", "profile.phone")),
            ),
            (
                Some("num"),
                None,
                &full,
                None,
                Ok(("+34600111333", "case.custom.num")),
            ),
            (
                Some("empty"),
                Some("mobile"),
                &full,
                None,
                Err("case.custom.empty"),
            ),
            (None, Some("bad"), &full, None, Err("profile.custom.bad")),
            (None, None, &no_profile, None, Err("profile.phone")),
            (None, None, &national, None, Err("profile.phone")),
            (
                None,
                None,
                &national,
                Some("ES"),
                Ok(("+34600111222", "profile.phone")),
            ),
        ];
        for (i, (case_field, profile_field, case, region, want)) in rows.into_iter().enumerate() {
            let mut a = action();
            a.recipient_case_field = case_field.map(str::to_owned);
            a.recipient_profile_field = profile_field.map(str::to_owned);
            let got = recipient(&a, case, region);
            match (got, want) {
                (Ok((n, s)), Ok((wn, ws))) => {
                    assert_eq!((n.as_str(), s.to_string().as_str()), (wn, ws), "row {i}")
                }
                (Err((s, why)), Err(ws)) => {
                    assert_eq!(s.to_string(), ws, "row {i}");
                    assert!(!why.is_empty());
                }
                (got, want) => panic!("row {i}: got {got:?}, want {want:?}"),
            }
        }
    }
}
