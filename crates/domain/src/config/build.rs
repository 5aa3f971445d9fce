//! From raw structs to the typed [`Config`]: defaults (SPEC §3), required fields, unique ids,
//! references between objects and the per-object checks of SPEC §3.3. All problems are
//! collected with their paths.

use std::collections::{BTreeMap, BTreeSet};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::{index, join, Problems};
use super::model::*;
use super::raw::*;
use super::scope::{Scope, TargetChecks, CHANNEL_WHATSAPP};
use super::Validation;
use super::{then, when};
use crate::duration::Duration;
use crate::field::FieldPath;
use crate::language::Language;
use crate::page_text::{unknown_placeholders, CustomTexts, PageText};
use crate::phone::is_known_region;
use crate::rule::{Rule, Trigger, DEFAULT_QUEUE_RULE_FOR};
use crate::template::{is_known_placeholder, placeholder_names, positional_indices};

/// Reports ids that appear twice within one kind of object.
fn check_unique<'a>(
    kind: &str,
    ids: impl Iterator<Item = (usize, Option<&'a String>)>,
    p: &mut Problems,
) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, id) in ids {
        let Some(id) = id else { continue };
        if let Some(first) = seen.get(id.as_str()) {
            p.add(
                join(&index(kind, i), "id"),
                format!("duplicate id `{id}` (first used at {kind}[{first}])"),
            );
        } else {
            seen.insert(id, i);
        }
    }
}

fn non_empty(value: &Option<String>, base: &str, key: &str, p: &mut Problems) -> Option<String> {
    match p.required(value, base, key) {
        Some(s) if s.trim().is_empty() => {
            p.add(join(base, key), "must not be empty");
            None
        }
        other => other.cloned(),
    }
}

fn language(raw: &str, path: &str, p: &mut Problems) -> Option<Language> {
    Language::parse(raw)
        .map_err(|e| p.add(path, e.to_string()))
        .ok()
}

pub(crate) fn build(
    raw: RawConfig,
    now: OffsetDateTime,
    validation: &Validation<'_>,
    p: &mut Problems,
) -> Config {
    let public_url = raw
        .public_url
        .clone()
        .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned())
        .trim_end_matches('/')
        .to_owned();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        p.add("public_url", "must start with http:// or https://");
    }
    let opt_out_words = match &raw.opt_out_words {
        None => DEFAULT_OPT_OUT_WORDS
            .iter()
            .map(|w| w.to_string())
            .collect(),
        Some(words) => {
            for (i, w) in words.iter().enumerate() {
                if w.trim().is_empty() {
                    p.add(index("opt_out_words", i), "must not be empty");
                }
            }
            words.iter().map(|w| w.trim().to_owned()).collect()
        }
    };

    let retention = Retention {
        events: raw
            .retention
            .as_ref()
            .and_then(|r| r.events)
            .unwrap_or(DEFAULT_EVENT_RETENTION),
    };
    if retention.events.as_secs() == 0 {
        p.add("retention.events", "must be longer than 0s");
    }

    check_unique(
        "accounts",
        raw.accounts.iter().map(|a| a.id.as_ref()).enumerate(),
        p,
    );
    check_unique(
        "users",
        raw.users.iter().map(|u| u.id.as_ref()).enumerate(),
        p,
    );
    check_unique(
        "surveys",
        raw.surveys.iter().map(|s| s.id.as_ref()).enumerate(),
        p,
    );
    check_unique(
        "distributions",
        raw.distributions.iter().map(|d| d.id.as_ref()).enumerate(),
        p,
    );
    check_unique(
        "rules",
        raw.rules.iter().map(|r| r.id.as_ref()).enumerate(),
        p,
    );

    let accounts: Vec<Account> = raw
        .accounts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| account(a, &index("accounts", i), p))
        .collect();
    let users: Vec<User> = raw
        .users
        .iter()
        .enumerate()
        .filter_map(|(i, u)| user(u, &index("users", i), p))
        .collect();
    let user_ids: BTreeSet<&str> = raw.users.iter().filter_map(|u| u.id.as_deref()).collect();
    let surveys: Vec<Survey> = raw
        .surveys
        .iter()
        .enumerate()
        .filter_map(|(i, s)| survey(s, &index("surveys", i), &user_ids, p))
        .collect();
    let declared_accounts: BTreeSet<&str> = raw
        .accounts
        .iter()
        .filter_map(|a| a.id.as_deref())
        .collect();
    let declared_surveys: BTreeSet<String> =
        raw.surveys.iter().filter_map(|s| s.id.clone()).collect();
    let distributions: Vec<Distribution> = raw
        .distributions
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let path = index("distributions", i);
            distribution(d, &path, &declared_surveys, &declared_accounts, &surveys, p)
        })
        .collect();

    if let Some(owner) = &raw.owner {
        if !users.is_empty() && !user_ids.contains(owner.as_str()) {
            p.add("owner", format!("unknown user `{owner}`"));
        }
    }
    let declared_distributions: BTreeSet<String> = raw
        .distributions
        .iter()
        .filter_map(|d| d.id.clone())
        .collect();
    let no_failed_accounts = BTreeSet::new();
    let failed_accounts = match validation {
        Validation::File => &no_failed_accounts,
        Validation::Live {
            failed_accounts, ..
        } => *failed_accounts,
    };
    let scope = Scope {
        surveys: &surveys,
        distributions: &distributions,
        users: &users,
        declared_surveys: &declared_surveys,
        declared_distributions: &declared_distributions,
        failed_accounts,
        author: raw.owner.as_deref(),
        checks: TargetChecks::default(),
        now,
    };
    let rules = raw
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let scope = rule_scope(&scope, r, validation);
            rule(r, &index("rules", i), &scope, p)
        })
        .collect();

    Config {
        public_url,
        accounts,
        users,
        surveys,
        distributions,
        rules,
        opt_out_words,
        retention,
    }
}

fn account(a: &RawAccount, path: &str, p: &mut Problems) -> Option<Account> {
    let id = non_empty(&a.id, path, "id", p);
    let provider = p.required(&a.provider, path, "provider").copied();
    let access_token = p.required(&a.access_token, path, "access_token").cloned();
    let app_secret = p.required(&a.app_secret, path, "app_secret").cloned();
    let phone_number_id = match (provider, &a.phone_number_id, &id) {
        (_, Some(pid), _) => Some(pid.clone()),
        (Some(ProviderKind::Sandbox), None, Some(id)) => Some(format!("sandbox-{id}")),
        (Some(ProviderKind::WhatsappCloud), None, _) => {
            p.add(
                join(path, "phone_number_id"),
                "missing required field (whatsapp_cloud accounts need it)",
            );
            None
        }
        _ => None,
    };
    let messages_per_second = a.messages_per_second.unwrap_or(80);
    if messages_per_second == 0 {
        p.add(join(path, "messages_per_second"), "must be greater than 0");
    }
    if let Some(region) = &a.default_region {
        if !is_known_region(region) {
            p.add(
                join(path, "default_region"),
                format!("unknown ISO 3166 region `{region}`"),
            );
        }
    }
    let api_base = a
        .api_base
        .clone()
        .unwrap_or_else(|| DEFAULT_API_BASE.to_owned())
        .trim_end_matches('/')
        .to_owned();
    Some(Account {
        id: id?,
        provider: provider?,
        phone_number_id: phone_number_id?,
        display_phone_number: a.display_phone_number.clone(),
        access_token: Secret::new(access_token?),
        app_secret: Secret::new(app_secret?),
        verify_token: a.verify_token.clone().map(Secret::new),
        api_base,
        messages_per_second,
        default_region: a.default_region.as_ref().map(|r| r.to_ascii_uppercase()),
    })
}

fn user(u: &RawUser, path: &str, p: &mut Problems) -> Option<User> {
    let id = non_empty(&u.id, path, "id", p);
    if u.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        p.add(join(path, "token"), "must not be empty");
    }
    Some(User {
        id: id?,
        name: u.name.clone(),
        role: u.role.unwrap_or(Role::Member),
        token: u
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .map(Secret::new),
    })
}

/// A `{language: text}` map over the survey's languages.
fn texts(
    raw: &BTreeMap<String, String>,
    path: &str,
    languages: &[Language],
    p: &mut Problems,
) -> BTreeMap<Language, String> {
    let mut out = BTreeMap::new();
    for (key, text) in raw {
        let key_path = join(path, key);
        let Some(lang) = language(key, &key_path, p) else {
            continue;
        };
        if !languages.contains(&lang) {
            p.add(
                key_path,
                format!("`{lang}` is not one of the survey's languages"),
            );
        }
        out.insert(lang, text.clone());
    }
    out
}

fn survey(s: &RawSurvey, path: &str, users: &BTreeSet<&str>, p: &mut Problems) -> Option<Survey> {
    let id = non_empty(&s.id, path, "id", p);
    let owner = non_empty(&s.owner, path, "owner", p);
    let check_user = |user: &str, at: String, p: &mut Problems| {
        if !users.is_empty() && !users.contains(user) {
            p.add(at, format!("unknown user `{user}`"));
        }
    };
    if let Some(owner) = &owner {
        check_user(owner, join(path, "owner"), p);
    }
    let shared_with: Vec<Share> = s
        .shared_with
        .iter()
        .enumerate()
        .map(|(i, sh)| {
            check_user(
                &sh.user,
                join(&index(&join(path, "shared_with"), i), "user"),
                p,
            );
            Share {
                user: sh.user.clone(),
                permission: sh.permission,
            }
        })
        .collect();
    let langs_path = join(path, "languages");
    let languages: Vec<Language> = p
        .required(&s.languages, path, "languages")
        .map(|ls| {
            let parsed: Vec<Language> = ls
                .iter()
                .enumerate()
                .filter_map(|(i, l)| language(l, &index(&langs_path, i), p))
                .collect();
            if ls.is_empty() {
                p.add(&langs_path, "needs at least one language");
            }
            parsed
        })
        .unwrap_or_default();
    let mut unique = BTreeSet::new();
    for (i, l) in languages.iter().enumerate() {
        if !unique.insert(l) {
            p.add(index(&langs_path, i), format!("`{l}` is listed twice"));
        }
    }
    let default_path = join(path, "default_language");
    let default_language = p
        .required(&s.default_language, path, "default_language")
        .and_then(|l| language(l, &default_path, p));
    if let Some(d) = &default_language {
        if !languages.is_empty() && !languages.contains(d) {
            p.add(
                &default_path,
                format!("`{d}` is not one of the survey's languages"),
            );
        }
    }
    let questions_path = join(path, "questions");
    let questions = p
        .required(&s.questions, path, "questions")
        .map(|qs| {
            if qs.is_empty() {
                p.add(&questions_path, "needs at least one question");
            }
            let mut seen = BTreeSet::new();
            qs.iter()
                .enumerate()
                .filter_map(|(i, q)| {
                    let qpath = index(&questions_path, i);
                    if let Some(qid) = &q.id {
                        if !seen.insert(qid.clone()) {
                            p.add(join(&qpath, "id"), format!("duplicate question id `{qid}`"));
                        }
                    }
                    question(q, &qpath, &languages, default_language.as_ref(), p)
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let page_texts = s
        .page_texts
        .as_ref()
        .map(|raw| page_texts(raw, &join(path, "page_texts"), &languages, p))
        .unwrap_or_default();
    let id = id?;
    Some(Survey {
        name: s.name.clone().unwrap_or_else(|| id.clone()),
        id,
        owner: owner?,
        shared_with,
        default_language: default_language?,
        languages,
        questions,
        page_texts,
    })
}

/// `page_texts: {es: {submit: "…"}}`: survey languages to known page texts.
fn page_texts(
    raw: &BTreeMap<String, BTreeMap<String, String>>,
    path: &str,
    languages: &[Language],
    p: &mut Problems,
) -> BTreeMap<Language, CustomTexts> {
    let mut out = BTreeMap::new();
    for (lang_key, texts) in raw {
        let lang_path = join(path, lang_key);
        let Some(lang) = language(lang_key, &lang_path, p) else {
            continue;
        };
        if !languages.is_empty() && !languages.contains(&lang) {
            p.add(
                &lang_path,
                format!("`{lang}` is not one of the survey's languages"),
            );
        }
        let mut custom = CustomTexts::new();
        for (key, text) in texts {
            let text_path = join(&lang_path, key);
            let Some(which) = PageText::from_key(key) else {
                let known: Vec<&str> = PageText::ALL.iter().map(|t| t.key()).collect();
                p.add(
                    text_path,
                    format!(
                        "unknown page text `{key}` (expected one of: {})",
                        known.join(", ")
                    ),
                );
                continue;
            };
            if text.trim().is_empty() {
                p.add(&text_path, "must not be empty");
            }
            for name in unknown_placeholders(which, text) {
                let takes = match which.placeholders() {
                    [] => "none".to_owned(),
                    names => names
                        .iter()
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                p.add(
                    &text_path,
                    format!("unknown placeholder `{{{name}}}` (this text takes {takes})"),
                );
            }
            custom.insert(which, text.clone());
        }
        out.insert(lang, custom);
    }
    out
}

fn question(
    q: &RawQuestion,
    path: &str,
    languages: &[Language],
    default: Option<&Language>,
    p: &mut Problems,
) -> Option<Question> {
    let id = non_empty(&q.id, path, "id", p);
    let text_path = join(path, "text");
    let with_default = |raw: &Option<BTreeMap<String, String>>, at: &str, p: &mut Problems| {
        let Some(raw) = raw else {
            p.add(at, "missing required field");
            return None;
        };
        let map = texts(raw, at, languages, p);
        if let Some(d) = default {
            if !map.contains_key(d) {
                p.add(at, format!("missing text for the default language `{d}`"));
            }
        }
        Some(map)
    };
    let text = with_default(&q.text, &text_path, p);
    let options_path = join(path, "options");
    let kind = match p.required(&q.kind, path, "type").map(String::as_str) {
        Some("rating") => Some(QuestionKind::Rating),
        Some("nps") => Some(QuestionKind::Nps),
        Some("text") => Some(QuestionKind::Text),
        Some("single_choice") => {
            let raw = q.options.as_deref().unwrap_or_default();
            if raw.is_empty() {
                p.add(&options_path, "single_choice needs at least one option");
            }
            let mut seen = BTreeSet::new();
            let options: Vec<ChoiceOption> = raw
                .iter()
                .enumerate()
                .filter_map(|(i, o)| {
                    let opath = index(&options_path, i);
                    let oid = non_empty(&o.id, &opath, "id", p)?;
                    if !seen.insert(oid.clone()) {
                        p.add(join(&opath, "id"), format!("duplicate option id `{oid}`"));
                    }
                    let text = with_default(&o.text, &join(&opath, "text"), p)?;
                    Some(ChoiceOption { id: oid, text })
                })
                .collect();
            Some(QuestionKind::SingleChoice { options })
        }
        Some(other) => {
            p.add(
                join(path, "type"),
                format!(
                    "unknown question type `{other}` (expected rating, nps, single_choice or text)"
                ),
            );
            None
        }
        None => None,
    };
    if q.options.is_some() && !matches!(kind, Some(QuestionKind::SingleChoice { .. }) | None) {
        p.add(options_path, "only single_choice questions have options");
    }
    Some(Question {
        id: id?,
        kind: kind?,
        required: q.required.unwrap_or(false),
        text: text?,
    })
}

fn distribution(
    d: &RawDistribution,
    path: &str,
    declared_surveys: &BTreeSet<String>,
    declared_accounts: &BTreeSet<&str>,
    surveys: &[Survey],
    p: &mut Problems,
) -> Option<Distribution> {
    let id = non_empty(&d.id, path, "id", p);
    let survey_id = non_empty(&d.survey, path, "survey", p);
    if let Some(s) = &survey_id {
        if !declared_surveys.contains(s) {
            p.add(join(path, "survey"), format!("unknown survey `{s}`"));
        }
    }
    let channel = non_empty(&d.channel, path, "channel", p);
    if let Some(c) = channel.as_deref().filter(|c| *c != CHANNEL_WHATSAPP) {
        p.add(
            join(path, "channel"),
            format!("unsupported channel `{c}` (only `whatsapp`)"),
        );
    }
    if let Some(s) = p.required(&d.schedule, path, "schedule") {
        if s != "trigger_based" {
            p.add(
                join(path, "schedule"),
                format!("unsupported schedule `{s}` (only `trigger_based`)"),
            );
        }
    }
    let sender_account = non_empty(&d.sender_account, path, "sender_account", p);
    if let Some(a) = &sender_account {
        if !declared_accounts.contains(a.as_str()) {
            p.add(
                join(path, "sender_account"),
                format!("unknown account `{a}`"),
            );
        }
    }
    let expires_at = d.expires_at.as_ref().and_then(|s| {
        OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| {
                p.add(
                    join(path, "expires_at"),
                    format!("not an RFC 3339 timestamp: {e}"),
                )
            })
            .ok()
    });
    let survey = survey_id
        .as_ref()
        .and_then(|s| surveys.iter().find(|x| &x.id == s));
    let translation = d.translation.as_ref().and_then(|t| {
        let tpath = join(path, "translation");
        let from = p.required(&t.from, &tpath, "from").and_then(|f| {
            FieldPath::parse(f)
                .map_err(|e| p.add(join(&tpath, "from"), e.to_string()))
                .ok()
        });
        let fallback = t.fallback.as_ref().and_then(|f| {
            let fpath = join(&tpath, "fallback");
            let lang = language(f, &fpath, p)?;
            if survey.is_some_and(|s| !s.offers(&lang)) {
                p.add(
                    fpath,
                    format!("`{lang}` is not one of the survey's languages"),
                );
            }
            Some(lang)
        });
        Some(Translation {
            from: from?,
            fallback,
        })
    });
    let messages_path = join(path, "messages");
    let messages = p.required(&d.messages, path, "messages").and_then(|m| {
        let tmpl = |raw: &RawTemplate, key: &str, p: &mut Problems| {
            template(raw, &join(&messages_path, key), survey, p)
        };
        let invitation = match &m.invitation {
            Some(raw) => tmpl(raw, "invitation", p),
            None => {
                p.add(join(&messages_path, "invitation"), "missing required field");
                None
            }
        };
        let reminder = m.reminder.as_ref().and_then(|r| tmpl(r, "reminder", p));
        let thank_you = m.thank_you.as_ref().and_then(|r| tmpl(r, "thank_you", p));
        Some(Messages {
            invitation: invitation?,
            reminder,
            thank_you,
        })
    });
    Some(Distribution {
        id: id?,
        survey: survey_id?,
        channel: channel?,
        sender_account: sender_account?,
        status: d.status.unwrap_or(DistributionStatus::Active),
        expires_at,
        link_expires_after: d
            .link
            .as_ref()
            .and_then(|l| l.expires_after)
            .unwrap_or(Duration::from_secs(7 * 86_400)),
        partial_after: d.partial_after.unwrap_or(Duration::from_secs(3_600)),
        once_per_case: d.once_per_case.unwrap_or(true),
        quarantine: d.quarantine,
        max_reminders: d.max_reminders.unwrap_or(1),
        translation,
        in_chat: d.in_chat.unwrap_or(false),
        messages: messages?,
    })
}

fn check_placeholders(text: &str, path: &str, p: &mut Problems) {
    for name in placeholder_names(text) {
        if !is_known_placeholder(&name) {
            p.add(path, format!("unknown placeholder `{{{{{name}}}}}`"));
        }
    }
}

fn template(
    raw: &RawTemplate,
    path: &str,
    survey: Option<&Survey>,
    p: &mut Problems,
) -> Option<MessageTemplate> {
    let name = non_empty(&raw.template, path, "template", p);
    let langs_path = join(path, "languages");
    let mut languages = BTreeMap::new();
    match &raw.languages {
        None => p.add(&langs_path, "missing required field"),
        Some(map) => {
            for (key, code) in map {
                let key_path = join(&langs_path, key);
                let Some(lang) = language(key, &key_path, p) else {
                    continue;
                };
                if survey.is_some_and(|s| !s.offers(&lang)) {
                    p.add(
                        key_path,
                        format!("`{lang}` is not one of the survey's languages"),
                    );
                }
                languages.insert(lang, code.clone());
            }
        }
    }
    if let (Some(survey), Some(_)) = (survey, &raw.languages) {
        for lang in &survey.languages {
            if !languages.contains_key(lang) {
                p.add(
                    &langs_path,
                    format!("no template language for survey language `{lang}`"),
                );
            }
        }
    }
    let body = raw
        .body
        .as_ref()
        .and_then(|b| message_body(b, path, survey, raw.body_params.len(), p));
    for (i, param) in raw.body_params.iter().enumerate() {
        check_placeholders(param, &index(&join(path, "body_params"), i), p);
    }
    if let Some(suffix) = &raw.url_button_suffix {
        check_placeholders(suffix, &join(path, "url_button_suffix"), p);
    }
    let header = header(raw, path, p);
    let quick_replies = raw
        .quick_replies
        .as_ref()
        .and_then(|q| quick_replies(q, &join(path, "quick_replies"), survey, p));
    Some(MessageTemplate {
        template: name?,
        languages,
        body,
        body_params: raw.body_params.clone(),
        url_button_suffix: raw.url_button_suffix.clone(),
        header,
        quick_replies,
    })
}

/// SPEC §3.3: the question exists and each value is a valid answer of it, at most ten.
fn quick_replies(
    raw: &RawQuickReplies,
    path: &str,
    survey: Option<&Survey>,
    p: &mut Problems,
) -> Option<QuickReplies> {
    let question = non_empty(&raw.question, path, "question", p)?;
    let values_path = join(path, "values");
    if raw.values.is_empty() || raw.values.len() > MAX_QUICK_REPLIES {
        p.add(
            &values_path,
            format!(
                "needs 1 to {MAX_QUICK_REPLIES} values, one per quick-reply button (has {})",
                raw.values.len()
            ),
        );
    }
    if let Some(survey) = survey {
        if !survey.questions.iter().any(|q| q.id == question) {
            p.add(
                join(path, "question"),
                format!("the survey has no question `{question}`"),
            );
            return None;
        }
        for (i, value) in raw.values.iter().enumerate() {
            let answer = serde_json::Map::from_iter([(question.clone(), value.clone())]);
            if let Err(errors) =
                crate::answer::merge(survey, &serde_json::Map::new(), &answer, false)
            {
                for e in errors {
                    p.add(index(&values_path, i), e.message);
                }
            }
        }
    }
    Some(QuickReplies {
        question,
        values: raw.values.clone(),
    })
}

/// Whether a body's `{{1}}..{{n}}` run without gaps; their count.
fn positional_count(text: &str, path: &str, p: &mut Problems) -> usize {
    let indices = positional_indices(text);
    if !indices.iter().enumerate().all(|(i, n)| *n == i + 1) {
        p.add(
            path,
            "positional placeholders must be {{1}}..{{n}} without gaps",
        );
    }
    indices.len()
}

/// A message's `body`: one text (its placeholder count is checked against `body_params`)
/// or a text per survey language (each checked, at `body.<language>`).
fn message_body(
    raw: &RawBody,
    path: &str,
    survey: Option<&Survey>,
    params: usize,
    p: &mut Problems,
) -> Option<MessageBody> {
    let body_path = join(path, "body");
    let mismatch = |count: usize| {
        format!("body has {count} placeholder(s) but body_params has {params} value(s)")
    };
    match raw {
        RawBody::Shared(text) => {
            let count = positional_count(text, &body_path, p);
            if count != params {
                p.add(join(path, "body_params"), mismatch(count));
            }
            Some(MessageBody::Shared(text.clone()))
        }
        RawBody::PerLanguage(texts) => {
            let mut out = BTreeMap::new();
            for (key, text) in texts {
                let key_path = join(&body_path, key);
                let Some(lang) = language(key, &key_path, p) else {
                    continue;
                };
                if survey.is_some_and(|s| !s.offers(&lang)) {
                    p.add(
                        &key_path,
                        format!("`{lang}` is not one of the survey's languages"),
                    );
                }
                let count = positional_count(text, &key_path, p);
                if count != params {
                    p.add(&key_path, mismatch(count));
                }
                out.insert(lang, text.clone());
            }
            for lang in survey.map_or(&[][..], |s| &s.languages) {
                if !out.contains_key(lang) {
                    p.add(&body_path, format!("no text for survey language `{lang}`"));
                }
            }
            Some(MessageBody::PerLanguage(out))
        }
    }
}

/// At most one of `header_image`, `header_video`, `header_document`, each a web URL.
fn header(raw: &RawTemplate, path: &str, p: &mut Problems) -> Option<HeaderMedia> {
    let mut found = Vec::new();
    let mut link = |key: &str, url: &str, p: &mut Problems| {
        found.push(key.to_owned());
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            p.add(join(path, key), "must be an http:// or https:// URL");
        }
        url.to_owned()
    };
    let image = raw.header_image.as_ref().map(|url| HeaderMedia::Image {
        link: link("header_image", url, p),
    });
    let video = raw.header_video.as_ref().map(|url| HeaderMedia::Video {
        link: link("header_video", url, p),
    });
    let document = raw.header_document.as_ref().map(|d| match d {
        RawDocument::Link(url) => HeaderMedia::Document {
            link: link("header_document", url, p),
            filename: None,
        },
        RawDocument::Named(named) => {
            if named
                .filename
                .as_deref()
                .is_some_and(|f| f.trim().is_empty())
            {
                p.add(join(path, "header_document.filename"), "must not be empty");
            }
            HeaderMedia::Document {
                link: link("header_document", &named.link, p),
                filename: named.filename.clone(),
            }
        }
    });
    if found.len() > 1 {
        p.add(
            path,
            format!(
                "a message has at most one media header, but this one has {}",
                found.join(" and ")
            ),
        );
    }
    image.or(video).or(document)
}

fn trigger(v: &serde_json::Value, path: &str, p: &mut Problems) -> Option<Trigger> {
    use serde_json::Value;
    match v {
        Value::String(s) if s == "case_update" => Some(Trigger::CaseUpdate),
        Value::Object(map) => {
            let mut ok = true;
            for k in map
                .keys()
                .filter(|k| !matches!(k.as_str(), "queue" | "every" | "for"))
            {
                p.add(
                    join(path, k),
                    format!("unknown key `{k}` (expected queue, every, for)"),
                );
                ok = false;
            }
            let queue = match map.get("queue") {
                Some(Value::String(q)) if !q.is_empty() => Some(q.clone()),
                Some(_) => {
                    p.add(join(path, "queue"), "expected a queue name");
                    None
                }
                None => {
                    p.add(join(path, "queue"), "missing required field");
                    None
                }
            };
            let every = match map.get("every") {
                Some(Value::String(s)) => match Duration::parse(s) {
                    Ok(d) if d.as_secs() == 0 => {
                        p.add(join(path, "every"), "must be longer than 0s");
                        None
                    }
                    Ok(d) => Some(d),
                    Err(e) => {
                        p.add(join(path, "every"), e.to_string());
                        None
                    }
                },
                Some(_) => {
                    p.add(join(path, "every"), "expected a duration like 15m");
                    None
                }
                None => {
                    p.add(join(path, "every"), "missing required field");
                    None
                }
            };
            let runs_for = match map.get("for") {
                None => Some(DEFAULT_QUEUE_RULE_FOR),
                Some(Value::String(s)) => match Duration::parse(s) {
                    Ok(d) if d.as_secs() == 0 => {
                        p.add(join(path, "for"), "must be longer than 0s");
                        None
                    }
                    Ok(d) => Some(d),
                    Err(e) => {
                        p.add(join(path, "for"), e.to_string());
                        None
                    }
                },
                Some(_) => {
                    p.add(join(path, "for"), "expected a duration like 7d");
                    None
                }
            };
            ok.then_some(Trigger::Queue {
                queue: queue?,
                every: every?,
                runs_for: runs_for?,
            })
        }
        _ => {
            p.add(path, "expected `case_update` or {queue: Q, every: 15m}");
            None
        }
    }
}

/// What one rule is checked for. A file's rules are checked at every load, as their
/// `author` (or the file's `owner`). In the live config only the rule being written is
/// checked for its author's permission and its distributions' state: the others were
/// checked when they were written, and a distribution expiring or being paused later must
/// not make unrelated writes fail.
fn rule_scope<'a>(scope: &Scope<'a>, r: &'a RawRule, validation: &Validation<'_>) -> Scope<'a> {
    let author = r.author.as_deref().or(scope.author);
    let checks = match validation {
        Validation::File => TargetChecks {
            permission: true,
            expiry: true,
            sending_state: false,
        },
        Validation::Live { checked_rule, .. } if r.id.as_deref() == *checked_rule => TargetChecks {
            permission: true,
            expiry: true,
            sending_state: true,
        },
        Validation::Live { .. } => TargetChecks::default(),
    };
    Scope {
        author,
        checks,
        ..*scope
    }
}

pub(crate) fn rule(r: &RawRule, path: &str, scope: &Scope, p: &mut Problems) -> Option<Rule> {
    let id = non_empty(&r.id, path, "id", p);
    let on = p
        .required(&r.on, path, "on")
        .and_then(|v| trigger(v, &join(path, "on"), p));
    // Parse `when` and `then` both before giving up, so errors in either are all reported.
    let when = r
        .when
        .as_ref()
        .map(|v| when::parse(v, &join(path, "when"), scope, p));
    let then_path = join(path, "then");
    let then = p
        .required(&r.then, path, "then")
        .and_then(|v| then::parse_list(v, &then_path, scope, p));
    if then.as_ref().is_some_and(Vec::is_empty) {
        p.add(&then_path, "needs at least one action");
    }
    let then = then?;
    let when = match when {
        Some(parsed) => Some(parsed?),
        None => None,
    };
    // A rule without an author (in a file without `owner`) is trusted: it acts for the
    // owner of the survey it sends.
    let author = scope
        .author
        .map(str::to_owned)
        .or_else(|| {
            crate::action::ThenElement::all_actions(&then)
                .into_iter()
                .find_map(|a| a.survey_target())
                .and_then(|t| scope.survey(&t.survey))
                .map(|s| s.owner.clone())
        })
        .unwrap_or_default();
    Some(Rule {
        id: id?,
        on: on?,
        when,
        then,
        author,
    })
}
