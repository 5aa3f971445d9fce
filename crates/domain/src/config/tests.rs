//! Loader tests: error paths, defaults, short forms, permissions and lint.

use serde_json::json;
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::action::{Action, ThenElement};
use crate::condition::{Condition, Op};
use crate::field::FieldPath;
use crate::rule::Trigger;

const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

/// A small valid config; tests replace one piece of it.
const BASE: &str = r#"
accounts:
  - { id: wa, provider: sandbox, access_token: t, app_secret: s }
users:
  - { id: alice, role: admin, token: a }
  - { id: bob, token: b }
  - { id: carol, token: c }
surveys:
  - id: csat
    owner: alice
    shared_with: [ { user: bob, permission: edit_distribution }, { user: carol, permission: view_distribution } ]
    default_language: en
    languages: [en, es]
    questions:
      - { id: score, type: rating, required: true, text: { en: "Score?", es: "¿Nota?" } }
  - id: other
    owner: alice
    default_language: en
    languages: [en]
    questions:
      - { id: q, type: text, text: { en: "Q?" } }
distributions:
  - id: csat-wa
    survey: csat
    channel: whatsapp
    schedule: trigger_based
    sender_account: wa
    messages:
      invitation:
        template: inv
        languages: { en: en_US, es: es }
        body: { en: "Hi {{1}}: {{2}}", es: "Hola {{1}}: {{2}}" }
        body_params: ["{{profile.first_name}}", "{{survey.link}}"]
      reminder: { template: rem, languages: { en: en_US, es: es } }
  - id: other-wa
    survey: other
    channel: whatsapp
    schedule: trigger_based
    sender_account: wa
    messages:
      invitation: { template: inv2, languages: { en: en_US } }
rules:
  - id: r1
    on: case_update
    when:
      all:
        - case.status: { changed_to: Resolved }
    then:
      - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa }
"#;

fn env(_: &str) -> Option<String> {
    None
}

fn load(yaml: &str) -> Result<Loaded, Vec<ConfigError>> {
    load_str(yaml, &env, NOW)
}

fn replaced(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

fn errors(yaml: &str) -> Vec<ConfigError> {
    match load(yaml) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn assert_error(yaml: &str, path: &str, needle: &str) {
    let errs = errors(yaml);
    assert!(
        errs.iter()
            .any(|e| e.path == path && e.message.contains(needle)),
        "no error at {path:?} containing {needle:?}; got:\n{}",
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A BASE with `rules:` replaced by this rules block.
fn with_rules(rules: &str) -> String {
    let head = &BASE[..BASE.find("rules:").unwrap()];
    format!("{head}rules:\n{rules}")
}

#[test]
fn base_loads_with_defaults() {
    let loaded = load(BASE).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.public_url, DEFAULT_PUBLIC_URL);
    let a = &c.accounts[0];
    assert_eq!(a.phone_number_id, "sandbox-wa");
    assert_eq!(a.api_base, DEFAULT_API_BASE);
    assert_eq!(a.messages_per_second, 80);
    assert!(a.verify_token.is_none());
    assert_eq!(c.users[1].role, Role::Member);
    assert_eq!(c.surveys[0].name, "csat");
    assert!(!c.surveys[1].questions[0].required);
    let d = &c.distributions[0];
    assert_eq!(d.status, DistributionStatus::Active);
    assert_eq!(d.link_expires_after.to_string(), "1w");
    assert_eq!(d.partial_after.to_string(), "1h");
    assert!(d.once_per_case);
    assert_eq!(d.quarantine, None);
    assert_eq!(d.max_reminders, 1);
    assert_eq!(d.translation, None);
    assert_eq!(d.expires_at, None);
    assert!(d.messages.thank_you.is_none());
    assert!(c.is_opt_out("  stop "));
    assert!(c.is_opt_out("arrêt"));
    assert!(!c.is_opt_out("stop please"));
    assert!(c.may_edit("bob", &c.surveys[0]));
    assert!(c.may_edit("alice", &c.surveys[1]));
    assert!(!c.may_edit("carol", &c.surveys[0]));
}

#[test]
fn unknown_key_is_an_error_with_its_path() {
    let errs = errors(&replaced(
        "    owner: alice\n    shared_with",
        "    owner: alice\n    nmae: x\n    shared_with",
    ));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "surveys[0].nmae");
    assert!(
        errs[0].message.starts_with("unknown field `nmae`"),
        "{}",
        errs[0]
    );
    assert_error(&replaced("schedule: trigger_based\n    sender_account: wa\n    messages:\n      invitation:\n        template: inv",
        "schedule: trigger_based\n    sender_account: wa\n    messages:\n      invitation:\n        templat: inv"),
        "distributions[0].messages.invitation.templat", "unknown field `templat`");
}

#[test]
fn missing_required_fields_are_all_reported() {
    let yaml = replaced("access_token: t, app_secret: s", "access_token: t").replacen(
        "    default_language: en\n    languages: [en, es]",
        "    languages: [en, es]",
        1,
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"accounts[0].app_secret"), "{paths:?}");
    assert!(paths.contains(&"surveys[0].default_language"), "{paths:?}");
    assert!(errs
        .iter()
        .all(|e| e.message.contains("missing required field") || !e.path.ends_with("app_secret")));
    assert_error(
        &replaced("provider: sandbox", "provider: whatsapp_cloud"),
        "accounts[0].phone_number_id",
        "missing required field",
    );
}

/// BASE with the invitation's per-language body replaced by `body`.
fn with_body(body: &str) -> String {
    replaced(
        r#"body: { en: "Hi {{1}}: {{2}}", es: "Hola {{1}}: {{2}}" }"#,
        &format!("body: {body}"),
    )
}

#[test]
fn body_params_must_match_placeholders() {
    let shared = with_body(r#""Hi {{1}}: {{2}}""#);
    assert_error(
        &shared.replacen(
            r#"body_params: ["{{profile.first_name}}", "{{survey.link}}"]"#,
            r#"body_params: ["{{survey.link}}"]"#,
            1,
        ),
        "distributions[0].messages.invitation.body_params",
        "2 placeholder(s) but body_params has 1",
    );
    assert_error(
        &replaced(r#""{{survey.link}}"]"#, r#""{{case.colour}}"]"#),
        "distributions[0].messages.invitation.body_params[1]",
        "case.colour",
    );
    assert_error(
        &shared.replacen("Hi {{1}}: {{2}}", "Hi {{1}}: {{3}}", 1),
        "distributions[0].messages.invitation.body",
        "without gaps",
    );
}

#[test]
fn a_body_per_language_is_checked_language_by_language() {
    let loaded = load(BASE).unwrap();
    let body = loaded.config.distributions[0]
        .messages
        .invitation
        .body
        .clone()
        .unwrap();
    let es = crate::language::Language::parse("es").unwrap();
    assert_eq!(body.text(&es), Some("Hola {{1}}: {{2}}"));

    let path = "distributions[0].messages.invitation.body";
    assert_error(
        &with_body(r#"{ en: "Hi {{1}}: {{2}}", es: "Hola {{1}}" }"#),
        &format!("{path}.es"),
        "1 placeholder(s) but body_params has 2",
    );
    let errs = errors(&with_body(r#"{ en: "Hi {{1}}: {{2}}", es: "Hola {{1}}" }"#));
    assert_eq!(errs.len(), 1, "only Spanish is wrong: {errs:?}");
    assert_error(
        &with_body(r#"{ en: "Hi {{1}}: {{3}}", es: "Hola {{1}}: {{2}}" }"#),
        &format!("{path}.en"),
        "without gaps",
    );
    assert_error(
        &with_body(
            r#"{ en: "Hi {{1}}: {{2}}", es: "Hola {{1}}: {{2}}", fr: "Salut {{1}}: {{2}}" }"#,
        ),
        &format!("{path}.fr"),
        "not one of the survey's languages",
    );
    assert_error(
        &with_body(r#"{ en: "Hi {{1}}: {{2}}" }"#),
        path,
        "no text for survey language `es`",
    );
    assert_error(
        &with_body(r#"[ "Hi" ]"#),
        path,
        "a text, or a map from survey language to text",
    );
}

#[test]
fn one_body_for_several_languages_is_a_warning() {
    let loaded = load(&with_body(r#""Hi {{1}}: {{2}}""#)).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let warning = &loaded.warnings[0];
    assert_eq!(warning.path, "distributions[0].messages.invitation.body");
    assert!(
        warning
            .message
            .contains("previews and the sandbox show this text for es"),
        "{warning}"
    );
    let one_language = "      invitation: { template: inv2, languages: { en: en_US } }";
    let loaded = load(&replaced(
        one_language,
        "      invitation: { template: inv2, languages: { en: en_US }, body: \"Hi\" }",
    ))
    .unwrap();
    assert!(
        loaded.warnings.is_empty(),
        "a one-language survey: {:?}",
        loaded.warnings
    );
}

#[test]
fn a_message_has_at_most_one_media_header() {
    let with_header = |header: &str| {
        replaced(
            "        template: inv\n",
            &format!("        template: inv\n        {header}\n"),
        )
    };
    let loaded = load(&with_header(
        "header_document: { link: https://cdn.example.com/case.pdf, filename: case.pdf }",
    ))
    .unwrap();
    assert_eq!(
        loaded.config.distributions[0].messages.invitation.header,
        Some(HeaderMedia::Document {
            link: "https://cdn.example.com/case.pdf".into(),
            filename: Some("case.pdf".into()),
        })
    );
    let loaded = load(&with_header(
        "header_video: https://cdn.example.com/thanks.mp4",
    ))
    .unwrap();
    assert_eq!(
        loaded.config.distributions[0].messages.invitation.header,
        Some(HeaderMedia::Video {
            link: "https://cdn.example.com/thanks.mp4".into()
        })
    );
    assert_error(
        &with_header(
            "header_image: https://cdn.example.com/logo.png\n        header_video: https://cdn.example.com/a.mp4",
        ),
        "distributions[0].messages.invitation",
        "at most one media header, but this one has header_image and header_video",
    );
    assert_error(
        &with_header("header_video: cdn.example.com/a.mp4"),
        "distributions[0].messages.invitation.header_video",
        "http:// or https:// URL",
    );
    assert_error(
        &with_header("header_document: { link: https://cdn.example.com/a.pdf, name: a.pdf }"),
        "distributions[0].messages.invitation.header_document",
        "a document URL, or {link: URL, filename: name.pdf}",
    );
}

#[test]
fn page_texts_are_checked_with_their_paths() {
    let with_texts = |texts: &str| {
        replaced(
            "    languages: [en, es]\n",
            &format!("    languages: [en, es]\n    page_texts: {texts}\n"),
        )
    };
    let loaded = load(&with_texts(
        r#"{ es: { submit: "Mandar", number_range: "De {low} a {high}" } }"#,
    ))
    .unwrap();
    let es = crate::language::Language::parse("es").unwrap();
    let texts = loaded.config.surveys[0].page_texts(&es);
    assert_eq!(texts.get(crate::page_text::PageText::Submit), "Mandar");
    assert_eq!(
        texts.answer_problem(&crate::answer::AnswerProblem::OutOfRange { low: 1, high: 5 }),
        "De 1 a 5"
    );
    assert_error(
        &with_texts(r#"{ es: { sbumit: "Mandar" } }"#),
        "surveys[0].page_texts.es.sbumit",
        "unknown page text `sbumit` (expected one of: required, submit,",
    );
    assert_error(
        &with_texts(r#"{ fr: { submit: "Envoyer" } }"#),
        "surveys[0].page_texts.fr",
        "not one of the survey's languages",
    );
    assert_error(
        &with_texts(r#"{ es: { number_range: "De {low} a {hihg}" } }"#),
        "surveys[0].page_texts.es.number_range",
        "unknown placeholder `{hihg}` (this text takes {low}, {high})",
    );
    assert_error(
        &with_texts(r#"{ es: { submit: " " } }"#),
        "surveys[0].page_texts.es.submit",
        "must not be empty",
    );
    assert_error(
        &with_texts(r#"{ es: [ submit ] }"#),
        "surveys[0].page_texts.es",
        "expected mapping",
    );
}

#[test]
fn a_language_without_page_texts_is_warned_about() {
    let japanese = replaced("    languages: [en]\n", "    languages: [en, ja]\n").replacen(
        "invitation: { template: inv2, languages: { en: en_US } }",
        "invitation: { template: inv2, languages: { en: en_US, ja: ja } }",
        1,
    );
    let w = load(&japanese).unwrap().warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].path, "surveys[1].page_texts.ja");
    assert!(
        w[0].message
            .contains("31 of the survey page's texts show in English"),
        "{}",
        w[0]
    );

    let all: Vec<String> = crate::page_text::PageText::ALL
        .iter()
        .map(|t| format!("{t}: \"…\""))
        .collect();
    let configured = japanese.replacen(
        "    languages: [en, ja]\n",
        &format!(
            "    languages: [en, ja]\n    page_texts: {{ ja: {{ {} }} }}\n",
            all.join(", ")
        ),
        1,
    );
    let loaded = load(&configured).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn every_survey_language_needs_a_template_language() {
    assert_error(
        &replaced(
            "template: inv\n        languages: { en: en_US, es: es }",
            "template: inv\n        languages: { en: en_US }",
        ),
        "distributions[0].messages.invitation.languages",
        "`es`",
    );
    assert_error(
        &replaced(
            "reminder: { template: rem, languages: { en: en_US, es: es } }",
            "reminder: { template: rem, languages: { en: en_US, es: es, fr: fr } }",
        ),
        "distributions[0].messages.reminder.languages.fr",
        "not one of the survey's languages",
    );
}

#[test]
fn action_distribution_must_belong_to_its_survey() {
    let yaml = replaced("distribution: csat-wa }", "distribution: other-wa }");
    assert_error(
        &yaml,
        "rules[0].then[0].trigger_survey_invitation.distribution",
        "belongs to survey `other`",
    );
    assert_error(
        &replaced("distribution: csat-wa }", "distribution: nope }"),
        "rules[0].then[0].trigger_survey_invitation.distribution",
        "unknown distribution",
    );
    assert_error(
        &replaced(
            "{ survey: csat, channel: whatsapp, distribution: csat-wa }",
            "{ survey: csat, channel: sms, distribution: csat-wa }",
        ),
        "rules[0].then[0].trigger_survey_invitation.channel",
        "sms",
    );
    assert_error(
        &replaced(
            "{ survey: csat, channel: whatsapp, distribution: csat-wa }",
            "{ survey: csat, channel: whatsapp }",
        ),
        "rules[0].then[0].trigger_survey_invitation.distribution",
        "missing required field",
    );
    assert_error(
        &replaced(
            "{ survey: csat, channel: whatsapp, distribution: csat-wa }",
            "{ survey: csat, channel: whatsapp, distribution: csat-wa, langauge: es }",
        ),
        "rules[0].then[0].trigger_survey_invitation.langauge",
        "unknown field `langauge`",
    );
}

#[test]
fn unknown_condition_field_and_operator() {
    assert_error(
        &replaced(
            "- case.status: { changed_to: Resolved }",
            "- case.colour: red",
        ),
        "rules[0].when.all[0].case.colour",
        "unknown field `case.colour`",
    );
    assert_error(
        &replaced("{ changed_to: Resolved }", "{ chnaged_to: Resolved }"),
        "rules[0].when.all[0].case.status.chnaged_to",
        "unknown operator",
    );
    assert_error(
        &replaced("{ changed_to: Resolved }", "{ gt: soon }"),
        "rules[0].when.all[0].case.status.gt",
        "number or an RFC 3339",
    );
    assert_error(
        &replaced("{ changed_to: Resolved }", "{ matches: '(' }"),
        "rules[0].when.all[0].case.status.matches",
        "invalid regular expression",
    );
    assert_error(
        &replaced(
            "- case.status: { changed_to: Resolved }",
            "- event.kind: case_exploded",
        ),
        "rules[0].when.all[0].event.kind",
        "not an event kind",
    );
}

#[test]
fn reminder_and_thank_you_need_their_messages() {
    let rules = "  - id: t\n    on: case_update\n    then:\n      - send_thank_you_message: { survey: csat, channel: whatsapp, distribution: csat-wa }\n  - id: r\n    on: case_update\n    then:\n      - send_survey_reminder: { survey: other, channel: whatsapp, distribution: other-wa }\n";
    let errs = errors(&with_rules(rules));
    let at = |path: &str, needle: &str| {
        errs.iter()
            .any(|e| e.path == path && e.message.contains(needle))
    };
    assert!(
        at(
            "rules[0].then[0].send_thank_you_message.distribution",
            "thank_you"
        ),
        "{errs:?}"
    );
    assert!(
        at(
            "rules[1].then[0].send_survey_reminder.distribution",
            "reminder"
        ),
        "{errs:?}"
    );
}

#[test]
fn expired_distribution_cannot_be_targeted() {
    let yaml = replaced("    sender_account: wa\n    messages:\n      invitation:\n        template: inv\n", "    sender_account: wa\n    expires_at: 2025-06-01T00:00:00Z\n    messages:\n      invitation:\n        template: inv\n");
    assert_error(
        &yaml,
        "rules[0].then[0].trigger_survey_invitation.distribution",
        "expired",
    );
}

#[test]
fn rule_author_needs_edit_permission() {
    let owned = |owner: &str| format!("owner: {owner}\n{BASE}");
    assert!(load(&owned("alice")).is_ok());
    assert!(load(&owned("bob")).is_ok(), "edit_distribution share");
    assert_error(
        &owned("carol"),
        "rules[0].then[0].trigger_survey_invitation.survey",
        "`carol` may not write rules",
    );
    assert_error(&owned("mallory"), "owner", "unknown user");
    assert_eq!(load(&owned("bob")).unwrap().config.rules[0].author, "bob");
    assert_eq!(load(BASE).unwrap().config.rules[0].author, "alice");
}

#[test]
fn ids_unique_and_references_exist() {
    let yaml = replaced("  - id: other\n", "  - id: csat\n");
    assert_error(&yaml, "surveys[1].id", "duplicate id `csat`");
    assert_error(
        &replaced(
            "sender_account: wa\n    messages:\n      invitation:\n        template: inv\n",
            "sender_account: nope\n    messages:\n      invitation:\n        template: inv\n",
        ),
        "distributions[0].sender_account",
        "unknown account",
    );
    assert_error(
        &replaced("survey: other\n", "survey: ghost\n"),
        "distributions[1].survey",
        "unknown survey",
    );
    assert_error(
        &replaced("{ user: carol,", "{ user: dave,"),
        "surveys[0].shared_with[1].user",
        "unknown user",
    );
    assert_error(&replaced("schedule: trigger_based\n    sender_account: wa\n    messages:\n      invitation:\n        template: inv\n", "schedule: recurring\n    sender_account: wa\n    messages:\n      invitation:\n        template: inv\n"), "distributions[0].schedule", "trigger_based");
    assert_error(
        &replaced(
            "channel: whatsapp\n    schedule",
            "channel: email\n    schedule",
        ),
        "distributions[0].channel",
        "email",
    );
}

#[test]
fn question_checks() {
    assert_error(
        &replaced("text: { en: \"Q?\" }", "text: { es: \"Q?\" }"),
        "surveys[1].questions[0].text",
        "default language `en`",
    );
    assert_error(
        &replaced("type: text", "type: essay"),
        "surveys[1].questions[0].type",
        "essay",
    );
    assert_error(
        &replaced("type: text", "type: single_choice"),
        "surveys[1].questions[0].options",
        "at least one option",
    );
    let choice = replaced(
        "{ id: q, type: text, text: { en: \"Q?\" } }",
        "{ id: q, type: single_choice, text: { en: \"Q?\" }, options: [ { id: y, text: { en: Yes } }, { id: n, text: { en: No } } ] }",
    );
    let c = load(&choice).unwrap().config;
    match &c.surveys[1].questions[0].kind {
        QuestionKind::SingleChoice { options } => assert_eq!(options.len(), 2),
        other => panic!("{other:?}"),
    }
    let dup = replaced("      - { id: q, type: text, text: { en: \"Q?\" } }", "      - { id: q, type: text, text: { en: \"Q?\" } }\n      - { id: q, type: nps, text: { en: \"N?\" } }");
    assert_error(&dup, "surveys[1].questions[1].id", "duplicate question id");
}

#[test]
fn short_forms_triggers_and_if_else() {
    let rules = r#"  - id: q
    on: { queue: survey-sent, every: 15m }
    when: { case.priority: high, not: { case.tags: { contains: vip } } }
    then:
      - move_to_queue: recovery
      - add_tag: { tag: followup }
      - set_field: { field: case.custom.flag, value: 1 }
      - if: { survey.answer: { survey: csat, channel: whatsapp, distribution: csat-wa, question: score, lte: 2 } }
        then: [ { add_tag: unhappy } ]
        else: [ { move_to_queue: done } ]
"#;
    let c = load(&with_rules(rules)).unwrap().config;
    let r = &c.rules[0];
    assert_eq!(
        r.on,
        Trigger::Queue {
            queue: "survey-sent".into(),
            every: crate::duration::Duration::parse("15m").unwrap(),
            runs_for: crate::rule::DEFAULT_QUEUE_RULE_FOR,
        }
    );
    match &r.when {
        Some(Condition::All(parts)) => {
            assert_eq!(parts.len(), 2);
            assert_eq!(
                parts[0],
                Condition::Field {
                    field: FieldPath::parse("case.priority").unwrap(),
                    ops: vec![Op::Eq(json!("high"))]
                }
            );
            assert!(matches!(parts[1], Condition::Not(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r.then[0],
        ThenElement::Action(Action::MoveToQueue {
            queue: "recovery".into()
        })
    );
    assert_eq!(
        r.then[1],
        ThenElement::Action(Action::AddTag {
            tag: "followup".into()
        })
    );
    assert_eq!(
        r.then[2],
        ThenElement::Action(Action::SetField {
            field: FieldPath::parse("case.custom.flag").unwrap(),
            value: json!(1)
        })
    );
    match &r.then[3] {
        ThenElement::If {
            then, otherwise, ..
        } => {
            assert_eq!(
                then,
                &vec![ThenElement::Action(Action::AddTag {
                    tag: "unhappy".into()
                })]
            );
            assert_eq!(
                otherwise,
                &vec![ThenElement::Action(Action::MoveToQueue {
                    queue: "done".into()
                })]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rule_shape_errors() {
    let bad =
        |rules: &str, path: &str, needle: &str| assert_error(&with_rules(rules), path, needle);
    bad(
        "  - id: x\n    on: hourly\n    then: [ { add_tag: a } ]\n",
        "rules[0].on",
        "case_update",
    );
    bad(
        "  - id: x\n    on: { queue: q }\n    then: [ { add_tag: a } ]\n",
        "rules[0].on.every",
        "missing required field",
    );
    bad(
        "  - id: x\n    on: case_update\n    then: [ { add_tag: a, move_to_queue: b } ]\n",
        "rules[0].then[0]",
        "exactly one key",
    );
    bad(
        "  - id: x\n    on: case_update\n    then: [ { send_sms: a } ]\n",
        "rules[0].then[0].send_sms",
        "unknown action",
    );
    bad(
        "  - id: x\n    on: case_update\n    then: []\n",
        "rules[0].then",
        "at least one action",
    );
    bad(
        "  - id: x\n    on: case_update\n",
        "rules[0].then",
        "missing required field",
    );
    bad("  - id: x\n    on: case_update\n    then: [ { set_field: { field: case.tags, value: vip } } ]\n", "rules[0].then[0].set_field.value", "list of strings");
    bad("  - id: x\n    on: case_update\n    then: [ { set_field: { field: case.id, value: x } } ]\n", "rules[0].then[0].set_field.value", "cannot be set");
    bad(
        "  - id: x\n    on: case_update\n    when: { survey.invite_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [sending] } }\n    then: [ { add_tag: a } ]\n",
        "rules[0].when.survey.invite_status.in[0]",
        "not an invite status",
    );
    bad(
        "  - id: x\n    on: case_update\n    when: { survey.answer: { survey: csat, channel: whatsapp, distribution: csat-wa, question: nope, lte: 2 } }\n    then: [ { add_tag: a } ]\n",
        "rules[0].when.survey.answer.question",
        "no question `nope`",
    );
    bad(
        "  - id: x\n    on: case_update\n    then: [ { send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa, use_distribution_account: true } } ]\n",
        "rules[0].then[0].send_survey_reminder.use_distribution_account",
        "only trigger_survey_invitation",
    );
}

#[test]
fn all_validation_errors_are_collected() {
    let yaml = replaced("distribution: csat-wa }", "distribution: other-wa }")
        .replacen(
            r#"body_params: ["{{profile.first_name}}", "{{survey.link}}"]"#,
            r#"body_params: []"#,
            1,
        )
        .replacen(
            "- case.status: { changed_to: Resolved }",
            "- case.colour: red",
            1,
        );
    let errs = errors(&yaml);
    assert!(errs.len() >= 3, "{errs:?}");
}

#[test]
fn missing_env_var() {
    let errs = errors(&replaced("access_token: t", "access_token: ${WA_TOKEN}"));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.contains("`WA_TOKEN`"), "{}", errs[0]);
    let env = |n: &str| (n == "WA_TOKEN").then(|| "secret".to_owned());
    let c = load_str(
        &replaced("access_token: t", "access_token: ${WA_TOKEN}"),
        &env,
        NOW,
    )
    .unwrap();
    assert_eq!(c.config.accounts[0].access_token.expose(), "secret");
}

#[test]
fn lint_separate_rules_required() {
    let rules = "  - id: both\n    on: case_update\n    then:\n      - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa }\n      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }\n";
    let w = load(&with_rules(rules)).unwrap().warnings;
    assert!(
        w.iter()
            .any(|e| e.path == "rules[0].then" && e.message.contains("Separate Rules Required")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|e| e.path == "rules[0].when" && e.message.contains("guards")),
        "{w:?}"
    );
}

#[test]
fn lint_reminder_guards_and_self_retrigger() {
    let guarded = "  - id: r\n    on: { queue: q, every: 1h }\n    when:\n      - survey.invite_status: { survey: csat, channel: whatsapp, distribution: csat-wa, in: [invite_sent] }\n      - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [completed] }\n    then:\n      - send_survey_reminder: { survey: csat, channel: whatsapp, distribution: csat-wa }\n";
    assert!(load(&with_rules(guarded)).unwrap().warnings.is_empty());
    let half = guarded.replacen("      - survey.response_status: { survey: csat, channel: whatsapp, distribution: csat-wa, not_in: [completed] }\n", "", 1);
    let w = load(&with_rules(&half)).unwrap().warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].path, "rules[0].when");

    let loop_rule = "  - id: l\n    on: case_update\n    when: { case.queue: { changed: true } }\n    then: [ { move_to_queue: next } ]\n";
    let w = load(&with_rules(loop_rule)).unwrap().warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].path, "rules[0]");
    assert!(w[0].message.contains("case.queue"));
    let fine = "  - id: l\n    on: case_update\n    when: { case.queue: tier1 }\n    then: [ { move_to_queue: next } ]\n";
    assert!(load(&with_rules(fine)).unwrap().warnings.is_empty());
}

fn live(doc: &serde_json::Value, rule: Option<&str>) -> Result<Loaded, Vec<ConfigError>> {
    let failed = std::collections::BTreeSet::from(["stopped".to_owned()]);
    load_document(
        doc,
        NOW,
        &Validation::Live {
            checked_rule: rule,
            failed_accounts: &failed,
        },
    )
}

#[test]
fn a_rule_written_live_is_checked_as_its_author_and_others_are_not() {
    let mut doc = load(BASE).unwrap().document;
    let rule = |author: &str| {
        json!({
            "id": "api-rule", "author": author, "on": "case_update",
            "when": {"case.status": {"changed_to": "Resolved"}},
            "then": [{"trigger_survey_invitation": {"survey": "csat", "channel": "whatsapp", "distribution": "csat-wa"}}]
        })
    };
    document::put(&mut doc, document::Kind::Rules, "api-rule", rule("bob"));
    let loaded = live(&doc, Some("api-rule")).unwrap();
    assert_eq!(
        loaded.config.rules.last().map(|r| r.author.as_str()),
        Some("bob")
    );

    document::put(&mut doc, document::Kind::Rules, "api-rule", rule("carol"));
    let errs = live(&doc, Some("api-rule")).unwrap_err();
    assert_eq!(
        errs[0].path, "rules[1].then[0].trigger_survey_invitation.survey",
        "{errs:?}"
    );
    assert!(
        live(&doc, None).is_ok(),
        "a rule not being written is not re-checked"
    );

    document::put(&mut doc, document::Kind::Rules, "api-rule", rule("alice"));
    assert!(live(&doc, Some("api-rule")).is_ok(), "admin");
    doc["distributions"][0]["status"] = json!("paused");
    let errs = live(&doc, Some("api-rule")).unwrap_err();
    assert!(errs[0].message.contains("is paused"), "{errs:?}");
    assert!(
        live(&doc, None).is_ok(),
        "pausing a distribution that rules use is allowed"
    );
    doc["distributions"][0]["status"] = json!("active");
    doc["distributions"][0]["sender_account"] = json!("stopped");
    let stopped =
        json!({"id": "stopped", "provider": "sandbox", "access_token": "t", "app_secret": "s"});
    document::put(&mut doc, document::Kind::Accounts, "stopped", stopped);
    let errs = live(&doc, Some("api-rule")).unwrap_err();
    assert!(errs[0].message.contains("has failed"), "{errs:?}");

    let typo = json!({"id": "x", "on": "case_update", "then": [], "whne": {}});
    document::put(&mut doc, document::Kind::Rules, "x", typo);
    assert!(live(&doc, None).unwrap_err()[0].message.contains("whne"));
}

#[test]
fn opt_out_words_are_configurable() {
    let c = load(&format!("opt_out_words: [ALTO, Halt]\n{BASE}"))
        .unwrap()
        .config;
    assert_eq!(c.opt_out_words, vec!["ALTO", "Halt"]);
    assert!(c.is_opt_out("halt"));
    assert!(!c.is_opt_out("STOP"));
}

#[test]
fn a_queue_rule_runs_for_30_days_unless_it_says_for_how_long() {
    let rule = |on: &str| format!("  - id: r\n    on: {on}\n    then:\n      - add_tag: x\n");
    let c = load(&with_rules(&rule("{ queue: q, every: 1h, for: 7d }")))
        .unwrap()
        .config;
    match &c.rules[0].on {
        Trigger::Queue { runs_for, .. } => assert_eq!(runs_for.as_secs(), 7 * 86_400),
        other => panic!("{other:?}"),
    }
    let c = load(&with_rules(&rule("{ queue: q, every: 1h }")))
        .unwrap()
        .config;
    match &c.rules[0].on {
        Trigger::Queue { runs_for, .. } => assert_eq!(runs_for.as_secs(), 30 * 86_400),
        other => panic!("{other:?}"),
    }
    let errs = errors(&with_rules(&rule("{ queue: q, every: 1h, for: soon }")));
    assert_eq!(errs[0].path, "rules[0].on.for", "{errs:?}");
    let errs = errors(&with_rules(&rule("{ queue: q, every: 1h, for: 0s }")));
    assert!(errs[0].message.contains("longer than 0s"), "{errs:?}");
}

#[test]
fn opt_out_words_match_trimmed_and_case_insensitive() {
    let c = load(&format!("opt_out_words: [STOP, BAJA, ARRÊT]\n{BASE}"))
        .unwrap()
        .config;
    for text in ["STOP", " stop ", "Baja", "arrêt"] {
        assert!(c.is_opt_out(text), "{text:?} should opt out");
    }
    for text in ["stop it", "", "  ", "please stop"] {
        assert!(!c.is_opt_out(text), "{text:?} should not opt out");
    }
}

#[test]
fn wrong_types_report_their_path_once() {
    let errs = errors(&replaced("    sender_account: wa\n    messages:\n      invitation:\n        template: inv\n", "    sender_account: wa\n    max_reminders: two\n    messages:\n      invitation:\n        template: inv\n"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "distributions[0].max_reminders");
    assert!(!errs[0].message.contains("distributions[0]"), "{}", errs[0]);
    assert!(errs[0].message.contains("line"), "{}", errs[0]);
    let errs = errors(&BASE.replacen("    sender_account: wa\n    messages:\n      invitation:\n        template: inv\n", "    sender_account: wa\n    quarantine: 5\n    messages:\n      invitation:\n        template: inv\n", 1));
    assert_eq!(errs[0].path, "distributions[0].quarantine", "{errs:?}");
}

#[test]
fn quick_replies_must_be_valid_answers_of_their_question() {
    let with_replies = |replies: &str| {
        replaced(
            "        template: inv\n",
            &format!("        template: inv\n        quick_replies: {replies}\n"),
        )
    };
    let loaded = load(&with_replies("{ question: score, values: [5, 3, 1] }")).unwrap();
    assert_eq!(
        loaded.config.distributions[0]
            .messages
            .invitation
            .quick_replies,
        Some(QuickReplies {
            question: "score".into(),
            values: vec![5.into(), 3.into(), 1.into()],
        })
    );
    assert_error(
        &with_replies("{ question: score, values: [5, 7] }"),
        "distributions[0].messages.invitation.quick_replies.values[1]",
        "",
    );
    assert_error(
        &with_replies("{ question: nope, values: [5] }"),
        "distributions[0].messages.invitation.quick_replies.question",
        "the survey has no question `nope`",
    );
    assert_error(
        &with_replies("{ question: score, values: [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1] }"),
        "distributions[0].messages.invitation.quick_replies.values",
        "needs 1 to 10 values",
    );
}
