//! The SPEC §3 example config loads without errors or warnings and yields exactly the
//! documented values and defaults.

use closeloop_domain::action::{Action, ThenElement};
use closeloop_domain::condition::{Condition, Op, StatusSet, SurveyCondition, SurveyRef};
use closeloop_domain::config::*;
use closeloop_domain::duration::Duration;
use closeloop_domain::field::FieldPath;
use closeloop_domain::language::Language;
use closeloop_domain::rule::Trigger;
use serde_json::json;
use time::macros::datetime;

const YAML: &str = include_str!("fixtures/spec_example.yaml");

fn env(name: &str) -> Option<String> {
    Some(format!("value-of-{name}"))
}

fn lang(s: &str) -> Language {
    Language::parse(s).unwrap()
}

fn target() -> SurveyRef {
    SurveyRef {
        survey: "csat".into(),
        channel: "whatsapp".into(),
        distribution: "csat-wa".into(),
    }
}

fn load() -> Loaded {
    load_str(YAML, &env, datetime!(2026-01-01 0:00 UTC)).unwrap_or_else(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        panic!("spec example failed to load:\n{}", lines.join("\n"))
    })
}

#[test]
fn loads_with_only_the_warnings_for_one_body_in_every_language() {
    let loaded = load();
    let paths: Vec<&str> = loaded.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "distributions[0].messages.reminder.body",
            "distributions[0].messages.thank_you.body"
        ],
        "the example writes the reminder's and thank-you's body once for all languages"
    );
    assert_eq!(loaded.config.public_url, "http://127.0.0.1:8080");
    assert_eq!(
        loaded.config.opt_out_words,
        DEFAULT_OPT_OUT_WORDS.map(String::from).to_vec()
    );
}

#[test]
fn account_and_users() {
    let c = load().config;
    assert_eq!(c.accounts.len(), 1);
    let a = c.account("support-wa").unwrap();
    assert_eq!(a.provider, ProviderKind::WhatsappCloud);
    assert_eq!(a.phone_number_id, "109876543210");
    assert_eq!(a.display_phone_number.as_deref(), Some("+1 555 0100"));
    assert_eq!(a.access_token.expose(), "value-of-WA_TOKEN");
    assert_eq!(a.app_secret.expose(), "value-of-WA_APP_SECRET");
    assert_eq!(
        a.verify_token.as_ref().map(Secret::expose),
        Some("value-of-WA_VERIFY_TOKEN")
    );
    assert_eq!(a.api_base, "https://graph.facebook.com/v21.0");
    assert_eq!(a.messages_per_second, 80);
    assert_eq!(a.default_region, None);
    assert_eq!(format!("{:?}", a.access_token), "***");

    let ids: Vec<(&str, Option<&str>, Role, &str)> = c
        .users
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                u.name.as_deref(),
                u.role,
                u.token.as_ref().map_or("", |t| t.expose()),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("alice", Some("Alice"), Role::Admin, "value-of-ALICE_TOKEN"),
            ("bob", Some("Bob"), Role::Member, "value-of-BOB_TOKEN"),
        ]
    );
}

#[test]
fn survey() {
    let c = load().config;
    let s = c.survey("csat").unwrap();
    assert_eq!(s.name, "Post-case CSAT");
    assert_eq!(s.owner, "alice");
    assert_eq!(
        s.shared_with,
        vec![Share {
            user: "bob".into(),
            permission: Permission::EditDistribution
        }]
    );
    assert!(s.can_edit("bob") && s.can_edit("alice") && !s.can_edit("carol"));
    assert_eq!(s.default_language, lang("en"));
    assert_eq!(s.languages, vec![lang("en"), lang("es"), lang("pt_BR")]);
    let qs: Vec<(&str, &str, bool)> = s
        .questions
        .iter()
        .map(|q| (q.id.as_str(), q.kind.name(), q.required))
        .collect();
    assert_eq!(
        qs,
        vec![
            ("score", "rating", true),
            ("nps", "nps", false),
            ("comment", "text", false)
        ]
    );
    let score = &s.questions[0];
    assert_eq!(
        s.question_text(score, &lang("es")),
        "¿Qué tan satisfecho está?"
    );
    assert_eq!(
        s.question_text(score, &lang("fr")),
        "How satisfied are you?"
    );
}

#[test]
fn distribution() {
    let c = load().config;
    let d = c.distribution("csat-wa").unwrap();
    assert_eq!(d.survey, "csat");
    assert_eq!(d.channel, "whatsapp");
    assert_eq!(d.sender_account, "support-wa");
    assert_eq!(d.status, DistributionStatus::Active);
    assert_eq!(d.expires_at, Some(datetime!(2027-12-31 0:00 UTC)));
    assert!(!d.is_expired(datetime!(2027-12-30 23:59 UTC)));
    assert!(d.is_expired(datetime!(2027-12-31 0:00 UTC)));
    assert_eq!(d.link_expires_after, Duration::parse("7d").unwrap());
    assert_eq!(d.partial_after, Duration::parse("1h").unwrap());
    assert!(d.once_per_case);
    assert_eq!(d.quarantine, Some(Duration::parse("30d").unwrap()));
    assert_eq!(d.max_reminders, 2);
    assert_eq!(
        d.translation,
        Some(Translation {
            from: FieldPath::parse("profile.language").unwrap(),
            fallback: Some(lang("en")),
        })
    );
    let codes = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (lang(k), v.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let all = codes(&[("en", "en_US"), ("es", "es"), ("pt_BR", "pt_BR")]);
    let inv = &d.messages.invitation;
    assert_eq!(inv.template, "csat_invite");
    assert_eq!(inv.languages, all);
    let body = inv.body.as_ref().unwrap();
    assert_eq!(
        body.text(&lang("en")),
        Some("Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}")
    );
    assert_eq!(
        body.text(&lang("pt_BR")),
        Some("Olá {{1}}, seu caso {{2}} foi resolvido. Conte como nos saímos: {{3}}")
    );
    assert_eq!(
        inv.body_params,
        vec![
            "{{profile.first_name}}",
            "{{case.number}}",
            "{{survey.link}}"
        ]
    );
    assert_eq!(inv.url_button_suffix.as_deref(), Some("{{survey.token}}"));
    assert_eq!(
        inv.header,
        Some(HeaderMedia::Image {
            link: "https://example.com/logo.png".into()
        })
    );
    let rem = d.messages.get(MessageKind::Reminder).unwrap();
    assert_eq!(
        (
            rem.template.as_str(),
            rem.body_params.clone(),
            rem.url_button_suffix.clone()
        ),
        ("csat_reminder", vec!["{{survey.link}}".to_owned()], None)
    );
    let ty = d.messages.get(MessageKind::ThankYou).unwrap();
    assert_eq!(ty.template, "csat_thanks");
    assert_eq!(ty.languages, all);
    assert_eq!(ty.header, None);
}

#[test]
fn rules() {
    let c = load().config;
    let ids: Vec<&str> = c.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["invite-on-resolve", "remind", "thank"]);
    for r in &c.rules {
        assert_eq!(r.author, "alice", "file rules act for the survey owner");
    }

    let r1 = &c.rules[0];
    assert_eq!(r1.on, Trigger::CaseUpdate);
    assert_eq!(
        r1.when,
        Some(Condition::All(vec![
            Condition::Field {
                field: FieldPath::parse("case.status").unwrap(),
                ops: vec![Op::ChangedTo(json!("Resolved"))],
            },
            Condition::Field {
                field: FieldPath::parse("case.case_type").unwrap(),
                ops: vec![Op::In(vec![json!("billing"), json!("technical")])],
            },
        ]))
    );
    let mut invite = closeloop_domain::action::SurveyAction::new(target());
    invite.use_distribution_account = true;
    assert_eq!(
        r1.then,
        vec![
            ThenElement::Action(Action::TriggerSurveyInvitation(invite)),
            ThenElement::Action(Action::MoveToQueue {
                queue: "survey-sent".into()
            }),
        ]
    );

    let r2 = &c.rules[1];
    assert_eq!(
        r2.on,
        Trigger::Queue {
            queue: "survey-sent".into(),
            every: Duration::parse("15m").unwrap(),
            runs_for: closeloop_domain::rule::DEFAULT_QUEUE_RULE_FOR,
        }
    );
    let names = |l: &[&str]| Some(l.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        r2.when,
        Some(Condition::All(vec![
            Condition::Survey(SurveyCondition::InviteStatus {
                target: target(),
                ops: StatusSet {
                    include: None,
                    exclude: names(&["failed", "quarantined", "suppressed", "unsubscribed"]),
                },
            }),
            Condition::Survey(SurveyCondition::ResponseStatus {
                target: target(),
                ops: StatusSet {
                    include: None,
                    exclude: names(&["completed"]),
                },
            }),
            Condition::Survey(SurveyCondition::LastSentBefore {
                target: target(),
                duration: Duration::parse("24h").unwrap(),
            }),
        ]))
    );
    assert_eq!(
        r2.then,
        vec![ThenElement::Action(Action::SendSurveyReminder(
            closeloop_domain::action::SurveyAction::new(target())
        ))]
    );

    let r3 = &c.rules[2];
    assert_eq!(r3.on, Trigger::CaseUpdate);
    assert_eq!(
        r3.when,
        Some(Condition::All(vec![Condition::Survey(
            SurveyCondition::ResponseStatus {
                target: target(),
                ops: StatusSet {
                    include: names(&["completed"]),
                    exclude: None,
                },
            }
        )]))
    );
    assert_eq!(
        r3.then,
        vec![ThenElement::Action(Action::SendThankYouMessage(
            closeloop_domain::action::SurveyAction::new(target())
        ))]
    );
}

#[test]
fn missing_env_var_is_named() {
    let env = |name: &str| (name != "WA_APP_SECRET").then(|| "x".to_owned());
    let errs = load_str(YAML, &env, datetime!(2026-01-01 0:00 UTC)).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "");
    assert!(errs[0].message.contains("WA_APP_SECRET"), "{}", errs[0]);
}
