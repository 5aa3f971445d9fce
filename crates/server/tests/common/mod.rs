//! The integration-test harness: the real service on a random port with a fresh database
//! (a SQLite file, or a PostgreSQL database when `CLOSELOOP_TEST_POSTGRES` names a
//! server), talking to the Cloud API mock over real HTTP. Background work is awaited by
//! polling observable state with a deadline, never by fixed sleeps.

#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use closeloop::app::Clock;
use closeloop::app::{self, HttpLimits, Running, StartOptions};
pub use closeloop_testdb::TestDatabase;
use closeloop_wamock::{
    HeaderFormat, MockAccount, MockCloud, MockConfig, TemplateButton, TemplateDef,
};
use serde_json::{json, Value};

pub const PHONE_NUMBER_ID: &str = "109876543210";
pub const TOKEN: &str = "test-access-token";
pub const APP_SECRET: &str = "test-app-secret";
pub const OTHER_PHONE_NUMBER_ID: &str = "200000000002";
pub const OTHER_TOKEN: &str = "other-access-token";
pub const OTHER_APP_SECRET: &str = "other-app-secret";
/// The key the harness seals secrets with (`CLOSELOOP_SECRET_KEY`).
pub const SECRET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

/// The config most tests use: one Cloud API account (pointed at the mock), the CSAT survey,
/// one distribution, the invitation rule. `{api_base}`, `{mps}`, `{quarantine}` and
/// `{extra_rules}` are filled in by [`config_yaml`].
const BASE_CONFIG: &str = r#"
public_url: http://closeloop.test
accounts:
  - id: support-wa
    provider: whatsapp_cloud
    phone_number_id: "109876543210"
    access_token: ${WA_TOKEN}
    app_secret: ${WA_APP_SECRET}
    verify_token: verify-me
    api_base: {api_base}
    messages_per_second: {mps}
    {account_extra}
  - id: other-wa
    provider: whatsapp_cloud
    phone_number_id: "200000000002"
    access_token: other-access-token
    app_secret: other-app-secret
    api_base: {api_base}
surveys:
  - id: csat
    name: Post-case CSAT
    owner: alice
    default_language: en
    languages: [en, es, pt_BR]
    questions:
      - { id: score, type: rating, required: true, text: { en: "How satisfied are you?", es: "¿Qué tan satisfecho está?", pt_BR: "Quão satisfeito você está?" } }
      - { id: comment, type: text, text: { en: "Anything <else>?", es: "¿Algo más?" } }
distributions:
  - id: csat-wa
    survey: csat
    channel: whatsapp
    schedule: trigger_based
    sender_account: support-wa
    {distribution_extra}
    translation: { from: profile.language, fallback: en }
    messages:
      invitation:
        template: csat_invite
        languages: { en: en_US, es: es, pt_BR: pt_BR }
        body: "Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}"
        body_params: ["{{profile.first_name}}", "{{case.number}}", "{{survey.link}}"]
        url_button_suffix: "{{survey.token}}"
      reminder:
        template: csat_reminder
        languages: { en: en_US, es: es, pt_BR: pt_BR }
        body: "Reminder: {{1}}"
        body_params: ["{{survey.link}}"]
      thank_you:
        template: csat_thanks
        languages: { en: en_US, es: es, pt_BR: pt_BR }
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
      - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa, {invite_action} }
      - move_to_queue: survey-sent
{extra_rules}
"#;

/// Knobs of the test config.
#[derive(Clone, Debug)]
pub struct Options {
    pub messages_per_second: u32,
    pub quarantine: Option<&'static str>,
    /// Extra distribution settings, one `key: value` per line (4-space indented lines
    /// after the first).
    pub distribution: &'static str,
    /// Extra settings of the first account (`default_region: ES`).
    pub account: &'static str,
    /// The optional fields of the rule's `trigger_survey_invitation`.
    pub invite_action: &'static str,
    /// A last edit of the whole config text (users, shares…).
    pub edit: Option<fn(String) -> String>,
    pub extra_rules: &'static str,
    /// How fast the service's clock runs (1.0: real time).
    pub clock_speed: f64,
    /// How long a customer's message keeps the mock's 24-hour window open (zero: every
    /// free-form message is outside it).
    pub service_window: Duration,
    /// The secret key the service starts with (`CLOSELOOP_SECRET_KEY`).
    pub secret_key: Option<&'static str>,
    /// The HTTP server's connection limits and timeouts.
    pub http: HttpLimits,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            messages_per_second: 80,
            quarantine: None,
            distribution: "",
            account: "",
            invite_action: "use_distribution_account: true",
            edit: None,
            extra_rules: "",
            clock_speed: 1.0,
            service_window: MockConfig::default().service_window,
            secret_key: Some(SECRET_KEY),
            http: HttpLimits::default(),
        }
    }
}

/// The test config text for a mock at `api_base`.
pub fn config_yaml(api_base: &str, options: &Options) -> String {
    let text = BASE_CONFIG
        .replace("{api_base}", api_base)
        .replace("{mps}", &options.messages_per_second.to_string())
        .replace(
            "{distribution_extra}",
            &format!(
                "{}\n    {}",
                options
                    .quarantine
                    .map(|q| format!("quarantine: {q}"))
                    .unwrap_or_default(),
                options.distribution
            ),
        )
        .replace("{account_extra}", options.account)
        .replace("{invite_action}", options.invite_action)
        .replace("{extra_rules}", options.extra_rules);
    match options.edit {
        Some(edit) => edit(text),
        None => text,
    }
}

/// The environment the test config reads.
pub fn test_env(name: &str) -> Option<String> {
    match name {
        "WA_TOKEN" => Some(TOKEN.into()),
        "WA_APP_SECRET" => Some(APP_SECRET.into()),
        _ => None,
    }
}

/// The templates approved at the mock.
pub fn mock_templates() -> Vec<TemplateDef> {
    let mut templates = Vec::new();
    for language in ["en_US", "es", "pt_BR"] {
        templates.push(TemplateDef {
            // The survey link, then three quick replies (5, 3 and 1 stars).
            buttons: vec![
                TemplateButton::DynamicUrl,
                TemplateButton::QuickReply,
                TemplateButton::QuickReply,
                TemplateButton::QuickReply,
            ],
            ..TemplateDef::new("csat_invite", language, 3)
        });
        // The invitation with a media header of each format Meta offers (and the URL button).
        for (name, header) in [
            ("csat_image", HeaderFormat::Image),
            ("csat_video", HeaderFormat::Video),
            ("csat_document", HeaderFormat::Document),
        ] {
            templates.push(TemplateDef {
                buttons: vec![TemplateButton::DynamicUrl],
                header: Some(header),
                ..TemplateDef::new(name, language, 3)
            });
        }
        templates.push(TemplateDef::new("csat_reminder", language, 1));
        templates.push(TemplateDef::new("csat_thanks", language, 1));
    }
    templates
}

/// A Cloud API mock knowing both test accounts and the test templates.
pub async fn start_mock() -> MockCloud {
    start_mock_with(MockConfig::default().service_window).await
}

/// A Cloud API mock knowing both test accounts and the test templates, whose customer
/// service windows last `service_window`.
pub async fn start_mock_with(service_window: Duration) -> MockCloud {
    MockCloud::start(MockConfig {
        service_window,
        accounts: vec![
            MockAccount {
                phone_number_id: PHONE_NUMBER_ID.into(),
                access_token: TOKEN.into(),
                app_secret: APP_SECRET.into(),
            },
            MockAccount {
                phone_number_id: OTHER_PHONE_NUMBER_ID.into(),
                access_token: OTHER_TOKEN.into(),
                app_secret: OTHER_APP_SECRET.into(),
            },
        ],
        templates: mock_templates(),
        ..MockConfig::default()
    })
    .await
}

/// A running service with its mock.
pub struct TestApp {
    pub url: String,
    pub mock: MockCloud,
    pub http: reqwest::Client,
    running: Option<Running>,
    document: Value,
    clock_speed: f64,
    secret_key: Option<String>,
    http_limits: HttpLimits,
    pub database: TestDatabase,
}

/// Starts the service with the default options.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// Starts the service with the given options.
pub async fn spawn_app_with(options: Options) -> TestApp {
    let mock = start_mock_with(options.service_window).await;
    let yaml = config_yaml(&mock.api_base(), &options);
    let loaded =
        closeloop_domain::config::load_str(&yaml, &test_env, time::OffsetDateTime::now_utc())
            .unwrap_or_else(|e| panic!("test config invalid: {e:?}"));
    let database = TestDatabase::fresh().await;
    let clock = options.clock_speed;
    let secret_key = options.secret_key.map(str::to_owned);
    let running = start_service(
        loaded.document.clone(),
        database.url(),
        clock,
        secret_key.as_deref(),
        options.http,
    )
    .await
    .expect("service starts");
    let url = running.url();
    mock.set_webhook_url(&format!("{url}/webhooks/whatsapp"));
    TestApp {
        url,
        mock,
        http: reqwest::Client::new(),
        running: Some(running),
        document: loaded.document,
        clock_speed: clock,
        secret_key,
        http_limits: options.http,
        database,
    }
}

async fn start_service(
    document: Value,
    database_url: &str,
    clock_speed: f64,
    secret_key: Option<&str>,
    http: HttpLimits,
) -> anyhow::Result<Running> {
    let clock = if clock_speed == 1.0 {
        Clock::real()
    } else {
        Clock::accelerated(clock_speed)
    };
    app::start(StartOptions {
        document,
        database_url: database_url.to_string(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        clock,
        secret_key: secret_key.map(|k| k.parse().expect("a valid test key")),
        http,
        wal_checkpoint: closeloop_store::WalCheckpoint::LARGE,
    })
    .await
}

impl TestApp {
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    pub async fn put_case(&self, case: &Value) -> reqwest::Response {
        let id = case["id"].as_str().expect("case id");
        self.http
            .put(self.api(&format!("/cases/{id}")))
            .json(case)
            .send()
            .await
            .expect("PUT reaches the service")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.api(path))
            .send()
            .await
            .expect("GET reaches the service");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn invites_of(&self, case_id: &str) -> Vec<Value> {
        let (_, body) = self.get_json(&format!("/invites?case_id={case_id}")).await;
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until every event of the case is processed.
    pub async fn settled(&self, case_id: &str) -> Value {
        eventually(Duration::from_secs(10), || async {
            let (status, trace) = self.get_json(&format!("/cases/{case_id}/trace")).await;
            let events = trace["events"].as_array()?;
            (status == 200
                && !events.is_empty()
                && events.iter().all(|e| e["processed"] == json!(true)))
            .then_some(trace)
        })
        .await
        .unwrap_or_else(|| panic!("events of {case_id} were not processed in time"))
    }

    /// Waits until the case's latest invite has this response status.
    pub async fn response_reaches(&self, case_id: &str, status: &str) -> Value {
        eventually(Duration::from_secs(15), || async {
            let invites = self.invites_of(case_id).await;
            invites
                .into_iter()
                .find(|i| i["response_status"] == json!(status))
        })
        .await
        .unwrap_or_else(|| panic!("the response of {case_id} did not reach {status}"))
    }

    /// The token of a case's first invite.
    pub async fn token_of(&self, case_id: &str) -> String {
        let invites = self.invites_of(case_id).await;
        let link = invites[0]["link"].as_str().expect("invite link");
        link.rsplit('/').next().unwrap_or_default().to_string()
    }

    /// Posts JSON answers to a survey link.
    pub async fn answer(&self, token: &str, answers: Value, submit: bool) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/s/{token}/answers", self.url))
            .json(&json!({"answers": answers, "submit": submit}))
            .send()
            .await
            .expect("answers reach the service");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Messages of a kind the mock accepted for a recipient (digits).
    pub fn messages_to(&self, to: &str, template: &str) -> usize {
        self.mock
            .received()
            .iter()
            .filter(|r| r.to == to && r.body["template"]["name"] == template)
            .count()
    }

    /// Waits until the case's first invite has `status`.
    pub async fn invite_reaches(&self, case_id: &str, status: &str) -> Value {
        eventually(Duration::from_secs(15), || async {
            let invites = self.invites_of(case_id).await;
            invites.into_iter().find(|i| i["status"] == json!(status))
        })
        .await
        .unwrap_or_else(|| panic!("the invite of {case_id} did not reach {status}"))
    }

    /// Stops the service and starts it again on the same database and config file.
    pub async fn restart(&mut self) {
        let key = self.secret_key.clone();
        self.restart_with_key(key.as_deref())
            .await
            .expect("service starts");
    }

    /// Stops the service and starts it again on the same database with `secret_key`
    /// (kept for later restarts); the error when it refuses to start.
    pub async fn restart_with_key(&mut self, secret_key: Option<&str>) -> anyhow::Result<()> {
        self.halt().await;
        self.secret_key = secret_key.map(str::to_owned);
        let running = start_service(
            self.document.clone(),
            self.database.url(),
            self.clock_speed,
            secret_key,
            self.http_limits,
        )
        .await?;
        self.url = running.url();
        self.mock
            .set_webhook_url(&format!("{}/webhooks/whatsapp", self.url));
        self.running = Some(running);
        Ok(())
    }

    /// Stops the service and keeps its database (for a command to run on it).
    pub async fn halt(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        self.database.remove().await;
    }
}

/// A resolved billing case for `phone`.
pub fn resolved_case(id: &str, phone: &str) -> Value {
    json!({
        "id": id, "number": id.trim_start_matches("C-"), "status": "Resolved", "priority": "high",
        "case_type": "billing", "queue": "tier1", "assignee": "agent-7", "region": "EMEA",
        "profile": {"id": format!("P-{id}"), "name": "Ana López", "first_name": "Ana", "phone": phone, "language": "es"}
    })
}

/// Polls `probe` until it yields a value or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// Users of the permission tests: alice is an admin and owns the survey; bob holds
// view_distribution, carol edit_distribution, dave nothing.
pub const ALICE: &str = "alice-token-0123456789";
pub const BOB: &str = "bob-token-0123456789";
pub const CAROL: &str = "carol-token-0123456789";
pub const DAVE: &str = "dave-token-0123456789";

pub fn with_users(text: String) -> String {
    let users = format!(
        "users:\n  - {{ id: alice, name: Alice, role: admin, token: {ALICE} }}\n  - {{ id: bob, role: member, token: {BOB} }}\n  - {{ id: carol, role: member, token: {CAROL} }}\n  - {{ id: dave, role: member, token: {DAVE} }}\n"
    );
    text.replacen("accounts:\n", &format!("{users}accounts:\n"), 1).replacen(
        "    owner: alice\n",
        "    owner: alice\n    shared_with: [ { user: bob, permission: view_distribution }, { user: carol, permission: edit_distribution } ]\n",
        1,
    )
}

pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.api(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts that none of `paths` answers a configured secret (account tokens and app
/// secrets, the verify token, the users' tokens) or any of `issued`.
pub async fn assert_no_secret_in(app: &TestApp, paths: &[String], issued: &[&str]) {
    for path in paths {
        let (status, body) = call(app, reqwest::Method::GET, path, Some(ALICE), None).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        let configured = [
            TOKEN,
            APP_SECRET,
            OTHER_TOKEN,
            OTHER_APP_SECRET,
            ALICE,
            BOB,
            CAROL,
            DAVE,
            "verify-me",
        ];
        for secret in configured.iter().chain(issued) {
            assert!(!text.contains(secret), "{path} leaks a secret: {text}");
        }
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Writes the test config, with a Cloud API nobody answers, as `closeloop.yaml` in `dir`,
/// for a `serve` that is expected to refuse to start.
pub fn unreachable_config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("closeloop.yaml");
    std::fs::write(
        &config,
        config_yaml("http://127.0.0.1:9", &Options::default()),
    )
    .unwrap();
    config
}

/// `closeloop serve` as a child process on loopback `port`, with the test config's
/// environment and warnings only in its log; the caller says where stderr goes.
pub fn serve_command(config: &std::path::Path, database: &str, port: u16) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_closeloop"));
    command
        .args(["serve", "--config"])
        .arg(config)
        .args([
            "--database",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("WA_TOKEN", TOKEN)
        .env("WA_APP_SECRET", APP_SECRET)
        .env("CLOSELOOP_SECRET_KEY", SECRET_KEY)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    command
}

/// The test config with the invitation's text written per language (Spanish and
/// Portuguese too), as an approved template's text is.
pub fn with_translated_invitation(text: String) -> String {
    text.replacen(
        "        body: \"Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}\"\n",
        "        body:\n          en: \"Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}\"\n          es: \"Hola {{1}}, su caso {{2}} está resuelto. Cuéntenos qué tal: {{3}}\"\n          pt_BR: \"Olá {{1}}, seu caso {{2}} foi resolvido. Conte-nos: {{3}}\"\n",
        1,
    )
}
