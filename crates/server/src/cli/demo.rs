//! `closeloop demo`: the whole loop on a fresh SQLite file with the sandbox provider.
//! It pushes a handful of cases through the real HTTP API, waits for the sandbox to
//! deliver and read the invitations, and prints what happened to each case.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use closeloop_domain::config::MessageKind;
use serde_json::{json, Value};

use crate::app::{self, StartOptions};
use crate::cli::config_file;
use crate::runtime::clock::Clock;
use crate::runtime::secret::KEY_VARIABLE;

/// The demo config shipped in the binary, used when `examples/closeloop.yaml` is not
/// reachable from the working directory.
const EMBEDDED_CONFIG: &str = include_str!("../../../../examples/closeloop.yaml");

/// How much faster than real time the demo's clock runs by default: four hours a second, so
/// the config's real durations (24 h before a reminder, 1 h of inactivity) play out in seconds.
pub(crate) const DEMO_SPEED: f64 = 14_400.0;

/// The demo's clock must move forward, and not so fast that a link's lifetime passes
/// between two requests of the scenario.
const MAX_SPEED: f64 = 1_000_000.0;

/// Parses `--speed`: a factor in 1..=1,000,000.
pub(crate) fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if (1.0..=MAX_SPEED).contains(&speed) => Ok(speed),
        _ => Err(format!(
            "expected a number from 1 to {MAX_SPEED}, the clock's speed-up over real time"
        )),
    }
}

/// What the demo does after printing its summary.
pub(crate) enum Serving {
    /// Stop at once.
    No,
    /// Serve for this long, then stop.
    For(Duration),
    /// Serve until Ctrl-C or SIGTERM.
    UntilCtrlC,
}

/// The service clock's pace once the summary is printed.
pub(crate) enum AfterSummary {
    /// Back to real time, so the printed survey links stay open for their lifetime and the
    /// idle service does next to nothing.
    RealTime,
    /// Still accelerated (days pass in seconds; links expire as fast).
    KeepSpeed,
}

/// Runs the demo, then serves as `serving` says.
pub(crate) async fn run(
    listen: SocketAddr,
    config_path: &Path,
    speed: f64,
    serving: Serving,
    after: AfterSummary,
) -> anyhow::Result<ExitCode> {
    let loaded = if config_path.exists() {
        config_file::load(config_path)
    } else {
        config_file::load_text(EMBEDDED_CONFIG)
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            for line in e.lines(config_path) {
                eprintln!("{line}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let dir = tempdir()?;
    let database_url = format!("sqlite://{}", dir.join("demo.db").display());
    let listener_probe = std::net::TcpListener::bind(listen)
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener_probe.local_addr()?;
    drop(listener_probe);
    let mut document = loaded.document;
    document["public_url"] = serde_json::json!(format!("http://{addr}"));
    let sandbox_account = loaded
        .config
        .accounts
        .first()
        .map(|a| (a.phone_number_id.clone(), a.app_secret.expose().to_string()))
        .context("the demo config has no account")?;
    let open_console = loaded.config.users.is_empty();
    let clock = Clock::accelerated(speed);
    let running = app::start(StartOptions {
        document,
        database_url: database_url.clone(),
        listen: addr,
        clock: clock.clone(),
        secret_key: super::secret_key_from_env(KEY_VARIABLE)?,
        http: crate::app::HttpLimits::default(),
        // The demo is left running on a laptop: the smallest files.
        wal_checkpoint: closeloop_store::WalCheckpoint::SMALL,
    })
    .await?;
    let base = running.url();
    println!("closeloop demo: serving on {base} (database {database_url}, sandbox provider)");
    println!(
        "the clock runs {speed}× faster: a day of reminders passes in about {:.1} s\n",
        86_400.0 / speed
    );
    let demo = Demo {
        http: reqwest::Client::new(),
        base: base.clone(),
        sandbox_account,
    };
    let cases = scenario();
    demo.post(
        "/api/v1/suppressions",
        &json!({"phone": "+447911123456", "reason": "operator"}),
    )
    .await?;
    for case in &cases {
        demo.put_case(case).await?;
    }
    demo.wait_for(|rows| rows.iter().filter(|r| r.status == "opened").count() >= 4)
        .await?;
    println!("invitations delivered and read; three customers answer, one replies STOP…");
    demo.answer(
        "C-1001",
        json!({"score": 5, "nps": 9, "comment": "¡Muy rápido, gracias!"}),
    )
    .await?;
    demo.answer("C-1007", json!({"score": 2, "comment": "Demorou demais"}))
        .await?;
    demo.answer_partly("C-1009", json!({"score": 4})).await?;
    demo.reply("+14155550108", "STOP").await?;
    println!("waiting for reminders to the customers who did not answer…\n");
    let rows = demo
        .wait_for(|rows| {
            rows.iter().any(|r| r.case == "C-1002" && r.reminders >= 2)
                && rows.iter().filter(|r| r.thanked).count() >= 2
                && rows.iter().any(|r| r.response == "partially_completed")
        })
        .await?;
    print_table(&rows);
    let sign_in = if open_console {
        "open without sign-in: no users are configured"
    } else {
        "sign in with a user's API token"
    };
    println!("\nThe operator console:   {base}/console ({sign_in})");
    println!("What the customers saw: {base}/api/v1/sandbox/messages");
    println!("A case's trace:          closeloop explain C-1003 --server {base}");
    if matches!(after, AfterSummary::RealTime) && !matches!(serving, Serving::No) {
        clock.run_at_real_speed();
        println!(
            "The clock runs at real speed again: the links above stay open for their lifetime."
        );
    }
    match serving {
        Serving::No => {}
        Serving::For(duration) => {
            println!("\nServing for {} s.", duration.as_secs());
            tokio::select! {
                () = tokio::time::sleep(duration) => {}
                () = super::serve::shutdown_signal() => {}
            }
        }
        Serving::UntilCtrlC => {
            println!("\nServing until Ctrl-C.");
            super::serve::shutdown_signal().await;
        }
    }
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// The demo's HTTP client of its own service.
struct Demo {
    http: reqwest::Client,
    base: String,
    sandbox_account: (String, String),
}

impl Demo {
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await?;
        Ok(response.error_for_status()?.json().await?)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn put_case(&self, case: &Value) -> anyhow::Result<()> {
        let id = case["id"].as_str().unwrap_or_default();
        self.http
            .put(format!("{}/api/v1/cases/{id}", self.base))
            .json(case)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn token(&self, case_id: &str) -> anyhow::Result<String> {
        let case = self.get(&format!("/api/v1/cases/{case_id}")).await?;
        let link = case["invites"][0]["link"]
            .as_str()
            .context("the case has no invite link")?;
        Ok(link.rsplit('/').next().unwrap_or_default().to_string())
    }

    /// Opens the survey page and submits answers, as the customer's phone would.
    async fn answer(&self, case_id: &str, answers: Value) -> anyhow::Result<()> {
        let token = self.token(case_id).await?;
        self.http
            .get(format!("{}/s/{token}", self.base))
            .send()
            .await?
            .error_for_status()?;
        self.post(
            &format!("/s/{token}/answers"),
            &json!({"answers": answers, "submit": true}),
        )
        .await?;
        Ok(())
    }

    /// Answers part of the survey and leaves.
    async fn answer_partly(&self, case_id: &str, answers: Value) -> anyhow::Result<()> {
        let token = self.token(case_id).await?;
        self.post(
            &format!("/s/{token}/answers"),
            &json!({"answers": answers, "submit": false}),
        )
        .await?;
        Ok(())
    }

    /// An inbound WhatsApp text, signed like Meta's webhook.
    async fn reply(&self, from: &str, text: &str) -> anyhow::Result<()> {
        let (phone_number_id, secret) = &self.sandbox_account;
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "demo", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
                      "contacts": [{"wa_id": from.trim_start_matches('+'), "profile": {"name": "Demo"}}],
                      "messages": [{"from": from.trim_start_matches('+'), "id": "wamid.demo-inbound", "timestamp": "1732000000",
                                    "type": "text", "text": {"body": text}}]}}]}]});
        let raw = serde_json::to_vec(&body)?;
        let signature = closeloop_whatsapp::signature::sign(secret.as_bytes(), &raw);
        self.http
            .post(format!("{}/webhooks/whatsapp", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(raw)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Polls the cases until `done` holds (or 60 s pass) and returns the table rows.
    async fn wait_for(&self, done: impl Fn(&[Row]) -> bool) -> anyhow::Result<Vec<Row>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let rows = self.rows().await?;
            if done(&rows) || Instant::now() > deadline {
                return Ok(rows);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn rows(&self) -> anyhow::Result<Vec<Row>> {
        let mut rows = Vec::new();
        for case in scenario() {
            let id = case["id"].as_str().unwrap_or_default().to_string();
            let state = self.get(&format!("/api/v1/cases/{id}")).await?;
            let trace = self.get(&format!("/api/v1/cases/{id}/trace")).await?;
            let invite = state["invites"].get(0).cloned().unwrap_or(Value::Null);
            let messages: Vec<&Value> = invite["messages"]
                .as_array()
                .map(|m| m.iter().collect())
                .unwrap_or_default();
            let kinds: Vec<MessageKind> = messages
                .iter()
                .filter(|m| m["provider_message_id"].is_string())
                .filter_map(|m| m["kind"].as_str()?.parse().ok())
                .collect();
            rows.push(Row {
                outcome: first_outcome(&trace),
                status: invite["status"].as_str().unwrap_or("-").to_string(),
                response: invite["response_status"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
                language: invite["language"].as_str().unwrap_or("-").to_string(),
                reminders: kinds
                    .iter()
                    .filter(|k| **k == MessageKind::Reminder)
                    .count(),
                thanked: kinds.contains(&MessageKind::ThankYou),
                received: if kinds.is_empty() {
                    invite_text(&invite)
                } else {
                    kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                text: messages
                    .first()
                    .and_then(|m| m["text"].as_str())
                    .unwrap_or("")
                    .to_string(),
                queue: state["queue"].as_str().unwrap_or("-").to_string(),
                case: id,
            });
        }
        Ok(rows)
    }
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "closeloop-demo-{}",
        crate::runtime::ids::new_id("run")
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The scripted cases: invitations in three languages, one non-matching case, one bad
/// phone number, one recipient in quarantine, one suppressed number, one opt-out.
fn scenario() -> Vec<Value> {
    let case = |id: &str,
                status: &str,
                case_type: &str,
                name: &str,
                phone: &str,
                language: &str| {
        json!({"id": id, "number": id.trim_start_matches("C-"), "status": status, "case_type": case_type,
               "assignee": "agent-7", "region": "EMEA",
               "profile": {"name": name, "first_name": name, "phone": phone, "language": language}})
    };
    vec![
        case("C-1001", "Resolved", "billing", "Ana", "+34600000001", "es"),
        case(
            "C-1002",
            "Resolved",
            "technical",
            "John",
            "+14155550102",
            "en",
        ),
        case("C-1003", "Open", "billing", "Marta", "+34600000003", "es"),
        case("C-1004", "Resolved", "technical", "Pat", "12345", "en"),
        case(
            "C-1005",
            "Resolved",
            "billing",
            "John",
            "+14155550102",
            "en",
        ),
        case(
            "C-1006",
            "Resolved",
            "billing",
            "Sam",
            "+447911123456",
            "en",
        ),
        case(
            "C-1007",
            "Resolved",
            "technical",
            "João",
            "+5511988887777",
            "pt_BR",
        ),
        case("C-1008", "Resolved", "billing", "Mia", "+14155550108", "en"),
        case(
            "C-1009",
            "Resolved",
            "technical",
            "Lucas",
            "+5511988886666",
            "pt_BR",
        ),
    ]
}

struct Row {
    case: String,
    outcome: String,
    status: String,
    response: String,
    language: String,
    reminders: usize,
    thanked: bool,
    received: String,
    text: String,
    queue: String,
}

/// The first event's verdict: the action outcome, or the condition that failed.
fn first_outcome(trace: &Value) -> String {
    let Some(rule) = trace["events"][0]["rules"]
        .as_array()
        .and_then(|r| r.first())
    else {
        return "-".into();
    };
    if rule["matched"] == Value::Bool(true) {
        let action = &rule["actions"][0];
        let reason = action["reason"]
            .as_str()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        format!(
            "{} {}{}",
            rule["rule"].as_str().unwrap_or(""),
            action["outcome"].as_str().unwrap_or(""),
            reason
        )
    } else {
        let failed = rule["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["result"] == Value::Bool(false)))
            .map(|c| {
                format!(
                    "{} {} {} (saw {})",
                    c["field"].as_str().unwrap_or(""),
                    c["op"].as_str().unwrap_or(""),
                    c["expected"],
                    c["actual"]
                )
            })
            .unwrap_or_default();
        format!("no rule matched: {failed}")
    }
}

fn invite_text(invite: &Value) -> String {
    invite["messages"]
        .as_array()
        .and_then(|m| m.first())
        .and_then(|m| m["text"].as_str())
        .map(str::to_string)
        .or_else(|| {
            invite["reason"]
                .as_str()
                .map(|r| format!("(not sent: {r})"))
        })
        .unwrap_or_else(|| "-".into())
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<7} {:<38} {:<12} {:<19} {:<5} {:<11} MESSAGES RECEIVED",
        "CASE", "WHAT THE RULE DID", "INVITE", "RESPONSE", "LANG", "QUEUE"
    );
    for r in rows {
        println!(
            "{:<7} {:<38} {:<12} {:<19} {:<5} {:<11} {}",
            r.case,
            truncate(&r.outcome, 38),
            r.status,
            r.response,
            r.language,
            r.queue,
            r.received
        );
    }
    println!("\nThe invitations as the customers read them:");
    for r in rows.iter().filter(|r| !r.text.is_empty()) {
        println!("  {}  {}", r.case, r.text);
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}
