//! `closeloop demo`: the whole loop on a fresh SQLite file with the sandbox provider.
//! It pushes a handful of cases through the real HTTP API, waits for the sandbox to
//! deliver and read the invitations, and prints what happened to each case.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::app::{self, StartOptions};
use crate::clock::Clock;
use crate::config_file;

/// The demo config shipped in the binary, used when `examples/closeloop.yaml` is not
/// reachable from the working directory.
const EMBEDDED_CONFIG: &str = include_str!("../../../../examples/closeloop.yaml");

/// Runs the demo; serves until Ctrl-C unless `no_serve`.
pub async fn run(
    listen: SocketAddr,
    config_path: &Path,
    no_serve: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = if config_path.exists() {
        config_file::load(config_path)
    } else {
        config_file::load_text(EMBEDDED_CONFIG)
    };
    let mut config = match loaded {
        Ok(l) => l.config,
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
    config.public_url = format!("http://{addr}");
    let running = app::start(StartOptions {
        config,
        database_url: database_url.clone(),
        listen: addr,
        clock: Clock::real(),
    })
    .await?;
    let base = running.url();
    println!("closeloop demo: serving on {base} (database {database_url}, sandbox provider)\n");
    let http = reqwest::Client::new();
    let cases = scenario();
    http.post(format!("{base}/api/v1/suppressions"))
        .json(&json!({"phone": "+447911123456", "reason": "operator"}))
        .send()
        .await?
        .error_for_status()?;
    for case in &cases {
        http.put(format!(
            "{base}/api/v1/cases/{}",
            case["id"].as_str().unwrap_or_default()
        ))
        .json(case)
        .send()
        .await?
        .error_for_status()?;
    }
    let rows = wait_for_outcomes(&http, &base, &cases).await?;
    print_table(&rows);
    println!("\nWhat the customers saw: {base}/api/v1/sandbox/messages");
    println!("A case's trace:          closeloop explain C-1003 --server {base}");
    if no_serve {
        running.stop().await;
    } else {
        println!("\nServing until Ctrl-C.");
        super::serve::shutdown_signal().await;
        running.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("closeloop-demo-{}", crate::ids::new_id("run")));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The scripted cases: two invitations in two languages, one non-matching case, one bad
/// phone number, one recipient in quarantine, one suppressed number.
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
    ]
}

struct Row {
    case: String,
    outcome: String,
    status: String,
    language: String,
    text: String,
}

async fn wait_for_outcomes(
    http: &reqwest::Client,
    base: &str,
    cases: &[Value],
) -> anyhow::Result<Vec<Row>> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut rows = Vec::new();
        let mut settled = true;
        for case in cases {
            let id = case["id"].as_str().unwrap_or_default();
            let state: Value = http
                .get(format!("{base}/api/v1/cases/{id}"))
                .send()
                .await?
                .json()
                .await?;
            let trace: Value = http
                .get(format!("{base}/api/v1/cases/{id}/trace"))
                .send()
                .await?
                .json()
                .await?;
            let invite = state["invites"].get(0).cloned().unwrap_or(Value::Null);
            let status = invite["status"].as_str().unwrap_or("-").to_string();
            if matches!(status.as_str(), "pending" | "sent" | "delivered") {
                settled = false;
            }
            if trace["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["processed"] == Value::Bool(false)))
            {
                settled = false;
            }
            rows.push(Row {
                case: id.to_string(),
                outcome: first_outcome(&trace),
                status,
                language: invite["language"].as_str().unwrap_or("-").to_string(),
                text: invite_text(&invite),
            });
        }
        if settled || Instant::now() > deadline {
            return Ok(rows);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
    let widths = [8, 52, 12, 6];
    println!(
        "{:<w0$} {:<w1$} {:<w2$} {:<w3$} MESSAGE AS THE CUSTOMER SEES IT",
        "CASE",
        "WHAT HAPPENED",
        "INVITE",
        "LANG",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3]
    );
    for r in rows {
        println!(
            "{:<w0$} {:<w1$} {:<w2$} {:<w3$} {}",
            r.case,
            truncate(&r.outcome, widths[1]),
            r.status,
            r.language,
            r.text,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
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
