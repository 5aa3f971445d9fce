//! The Cloud API mock and the service config that points at it. The shape is the one the
//! integration tests use (crates/server/tests/common/mod.rs), with one account and a send
//! rate high enough that pacing is not what the benchmark measures.

use closeloop_wamock::{MockAccount, MockCloud, MockConfig, TemplateButton, TemplateDef};

/// Meta's id of the benchmark's business number.
pub const PHONE_NUMBER_ID: &str = "109876543210";
/// The access token the mock accepts; handed to the service through the environment.
pub const TOKEN: &str = "bench-access-token";
/// The webhook signing secret shared by the mock and the service.
pub const APP_SECRET: &str = "bench-app-secret";

/// The service config. `{api_base}` and `{public_url}` are filled in by [`config_yaml`]; the
/// secrets come from `${WA_TOKEN}`/`${WA_APP_SECRET}` like a production config would.
const CONFIG: &str = r#"
public_url: {public_url}
accounts:
  - id: support-wa
    provider: whatsapp_cloud
    phone_number_id: "109876543210"
    access_token: ${WA_TOKEN}
    app_secret: ${WA_APP_SECRET}
    verify_token: verify-me
    api_base: {api_base}
    messages_per_second: 1000
surveys:
  - id: csat
    name: Post-case CSAT
    owner: bench
    default_language: en
    languages: [en, es]
    questions:
      - { id: score, type: rating, required: true, text: { en: "How satisfied are you?", es: "¿Qué tan satisfecho está?" } }
      - { id: comment, type: text, text: { en: "Anything else?", es: "¿Algo más?" } }
distributions:
  - id: csat-wa
    survey: csat
    channel: whatsapp
    schedule: trigger_based
    sender_account: support-wa
    translation: { from: profile.language, fallback: en }
    messages:
      invitation:
        template: csat_invite
        languages: { en: en_US, es: es }
        body: "Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}"
        body_params: ["{{profile.first_name}}", "{{case.number}}", "{{survey.link}}"]
        url_button_suffix: "{{survey.token}}"
      reminder:
        template: csat_reminder
        languages: { en: en_US, es: es }
        body: "Reminder: {{1}}"
        body_params: ["{{survey.link}}"]
      thank_you:
        template: csat_thanks
        languages: { en: en_US, es: es }
        body: "Thank you, {{1}}!"
        body_params: ["{{profile.first_name}}"]
rules:
  - id: invite-on-resolve
    on: case_update
    when:
      all:
        - case.status: { changed_to: Resolved }
        - case.case_type: { in: [billing, technical] }
    then:
      - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa, use_distribution_account: true }
      - move_to_queue: survey-sent
"#;

/// The config text for a mock at `api_base` and a service at `public_url`.
pub fn config_yaml(api_base: &str, public_url: &str) -> String {
    CONFIG
        .replace("{api_base}", api_base)
        .replace("{public_url}", public_url)
}

/// Starts the mock on `127.0.0.1` with the benchmark account and the templates the config
/// uses. Automatic `sent`/`delivered`/`read` webhooks stay on: in production every message
/// costs the service three webhook calls, and the benchmark should pay them too.
pub async fn start() -> MockCloud {
    let mut templates = Vec::new();
    for language in ["en_US", "es"] {
        templates.push(TemplateDef {
            buttons: vec![TemplateButton::DynamicUrl],
            ..TemplateDef::new("csat_invite", language, 3)
        });
        templates.push(TemplateDef::new("csat_reminder", language, 1));
        templates.push(TemplateDef::new("csat_thanks", language, 1));
    }
    MockCloud::start(MockConfig {
        accounts: vec![MockAccount {
            phone_number_id: PHONE_NUMBER_ID.into(),
            access_token: TOKEN.into(),
            app_secret: APP_SECRET.into(),
        }],
        templates,
        auto_statuses: true,
        ..MockConfig::default()
    })
    .await
}
