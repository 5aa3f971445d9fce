//! `GET /api/v1/analytics` end to end: 50 cases across 3 agents pushed through the public
//! API, invitations sent to the Cloud API mock, some surveys answered through the survey
//! link; the per-agent numbers are then checked against values computed from the fixture.

mod common;

use std::time::Duration;

use closeloop::app::Clock;
use closeloop::app::{self, Running, StartOptions};
use common::*;
use serde_json::{json, Value};

const AGENTS: [&str; 3] = ["agent-1", "agent-2", "agent-3"];
const CASES: usize = 50;
/// The one case whose phone does not parse (agent-3's): its invite is `failed`.
const BAD_PHONE_CASE: usize = 2;

/// What the customer of fixture case `i` does with the survey.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Nothing,
    /// Answers saved without submitting: `in_progress`.
    Partial {
        score: i64,
        nps: i64,
    },
    /// Submitted: `completed`.
    Submitted {
        score: i64,
        nps: Option<i64>,
    },
}

struct Planned {
    id: String,
    agent: &'static str,
    phone: String,
    answer: Answer,
}

/// The fixture: agent by `i % 3`; every fourth case submits (score `1 + (i/4) % 5`, NPS
/// `i % 11` when `i % 8 == 0`), the next ones save a partial answer (score `1 + i % 5`,
/// NPS 10), the rest do not answer.
fn plan() -> Vec<Planned> {
    (0..CASES)
        .map(|i| {
            let i64_i = i as i64;
            let answer = if i == BAD_PHONE_CASE {
                Answer::Nothing
            } else {
                match i % 4 {
                    0 => Answer::Submitted {
                        score: 1 + (i64_i / 4) % 5,
                        nps: (i % 8 == 0).then_some(i64_i % 11),
                    },
                    1 => Answer::Partial {
                        score: 1 + i64_i % 5,
                        nps: 10,
                    },
                    _ => Answer::Nothing,
                }
            };
            Planned {
                id: format!("C-A{i:03}"),
                agent: AGENTS[i % 3],
                phone: if i == BAD_PHONE_CASE {
                    "not a phone".into()
                } else {
                    format!("+3460010{i:04}")
                },
                answer,
            }
        })
        .collect()
}

/// The numbers the API must answer for one agent, computed from the plan.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    invited: i64,
    sent: i64,
    failed: i64,
    responses: i64,
    completed: i64,
    scores: Vec<i64>,
    nps: Vec<i64>,
}

fn expected(agent: &str) -> Expected {
    let mut e = Expected::default();
    for p in plan().iter().filter(|p| p.agent == agent) {
        e.invited += 1;
        if p.phone.starts_with('+') {
            e.sent += 1;
        } else {
            e.failed += 1;
        }
        match p.answer {
            Answer::Nothing => {}
            Answer::Partial { nps, .. } => {
                e.responses += 1;
                e.nps.push(nps);
            }
            Answer::Submitted { score, nps } => {
                e.responses += 1;
                e.completed += 1;
                e.scores.push(score);
                e.nps.extend(nps);
            }
        }
    }
    e
}

struct Fixture {
    url: String,
    http: reqwest::Client,
    mock: closeloop_wamock::MockCloud,
    running: Running,
    _database: TestDatabase,
}

/// The test service with an NPS question added to the CSAT survey.
async fn start() -> Fixture {
    let mock = start_mock().await;
    let yaml = config_yaml(&mock.api_base(), &Options::default()).replace(
        "      - { id: comment,",
        "      - { id: nps, type: nps, text: { en: \"Would you recommend us?\" } }\n      - { id: comment,",
    );
    let loaded =
        closeloop_domain::config::load_str(&yaml, &test_env, time::OffsetDateTime::now_utc())
            .unwrap_or_else(|e| panic!("test config invalid: {e:?}"));
    let database = TestDatabase::fresh().await;
    let running = app::start(StartOptions {
        document: loaded.document,
        database_url: database.url().to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        clock: Clock::real(),
        secret_key: None,
        http: closeloop::app::HttpLimits::default(),
        wal_checkpoint: closeloop_store::WalCheckpoint::LARGE,
    })
    .await
    .expect("service starts");
    let url = running.url();
    mock.set_webhook_url(&format!("{url}/webhooks/whatsapp"));
    Fixture {
        url,
        http: reqwest::Client::new(),
        mock,
        running,
        _database: database,
    }
}

impl Fixture {
    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/api/v1{path}", self.url))
            .send()
            .await
            .expect("GET reaches the service");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn invites(&self) -> Vec<Value> {
        let (_, body) = self.get("/invites?limit=1000").await;
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

/// Pushes the fixture through the API and answers the surveys; returns when every
/// invite reached its final status and every answer is saved.
async fn load_fixture(app: &Fixture) {
    for p in plan() {
        let mut case = resolved_case(&p.id, &p.phone);
        case["assignee"] = json!(p.agent);
        let response = app
            .http
            .put(format!("{}/api/v1/cases/{}", app.url, p.id))
            .json(&case)
            .send()
            .await
            .expect("PUT reaches the service");
        assert_eq!(response.status(), 202, "{}", p.id);
    }
    let sendable = plan().iter().filter(|p| p.phone.starts_with('+')).count();
    let invites = eventually(Duration::from_secs(30), || async {
        let invites = app.invites().await;
        let opened = invites.iter().filter(|i| i["status"] == "opened").count();
        let failed = invites.iter().filter(|i| i["status"] == "failed").count();
        (opened == sendable && failed == CASES - sendable).then_some(invites)
    })
    .await
    .expect("every invite is opened (or failed) in time");
    assert_eq!(app.mock.received().len(), sendable);

    for p in plan() {
        let (answers, submit) = match p.answer {
            Answer::Nothing => continue,
            Answer::Partial { score, nps } => (json!({"score": score, "nps": nps}), false),
            Answer::Submitted { score, nps } => {
                let mut answers = json!({"score": score, "comment": "thanks"});
                if let Some(nps) = nps {
                    answers["nps"] = json!(nps);
                }
                (answers, true)
            }
        };
        let invite = invites
            .iter()
            .find(|i| i["case_id"] == p.id.as_str())
            .expect("an invite per case");
        let token = invite["link"]
            .as_str()
            .and_then(|l| l.rsplit('/').next())
            .expect("a link token");
        let response = app
            .http
            .post(format!("{}/s/{token}/answers", app.url))
            .json(&json!({"answers": answers, "submit": submit}))
            .send()
            .await
            .expect("answers reach the service");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "{}: {body}", p.id);
        let want = if submit { "completed" } else { "in_progress" };
        assert_eq!(body["response_status"], want, "{}", p.id);
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[tokio::test]
async fn per_agent_counts_rates_csat_and_nps_match_the_fixture() {
    let app = start().await;
    load_fixture(&app).await;

    let (status, body) = app.get("/analytics?survey=csat&group_by=agent").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["group_by"], "agent");
    let items = body["items"].as_array().expect("items");
    let keys: Vec<&str> = items.iter().filter_map(|i| i["key"].as_str()).collect();
    assert_eq!(keys, AGENTS, "one item per agent, ordered by key");

    // SPEC §5: without group_by, one row of totals, its key null.
    let (status, totals) = app.get("/analytics?survey=csat").await;
    assert_eq!(status, 200, "{totals}");
    assert_eq!(totals["group_by"], json!(null), "{totals}");
    let total = totals["items"].as_array().expect("items");
    assert_eq!(total.len(), 1, "one row: {totals}");
    assert_eq!(total[0]["key"], json!(null), "{totals}");
    for column in ["invited", "sent", "responses", "completed"] {
        let sum: i64 = items.iter().map(|i| i[column].as_i64().unwrap()).sum();
        assert_eq!(total[0][column], json!(sum), "{column}: {totals}");
    }

    // agent-1 by hand: cases 0, 3, …, 48 (17). Submitted: 0, 12, 24, 36, 48 with scores
    // 1, 4, 2, 5, 3 (avg 3.0) and NPS 0, 2, 4 (0, 24 and 48 are multiples of 8); partial:
    // 9, 21, 33, 45, each NPS 10. NPS = (4 promoters − 3 detractors) / 7 = 14.3.
    let agent1 = &items[0];
    for (column, want) in [
        ("invited", 17),
        ("sent", 17),
        ("delivered", 17),
        ("opened", 17),
        ("failed", 0),
        ("responses", 9),
        ("completed", 5),
    ] {
        assert_eq!(agent1[column], want, "agent-1 {column}: {agent1}");
    }
    assert_eq!(agent1["response_rate"], round(5.0 / 17.0, 4));
    assert_eq!(agent1["csat_avg"], 3.0);
    assert_eq!(agent1["nps"], 14.3);

    for (item, agent) in items.iter().zip(AGENTS) {
        let e = expected(agent);
        let context = format!("{agent}: {item}");
        assert_eq!(item["invited"], e.invited, "{context}");
        assert_eq!(item["sent"], e.sent, "{context}");
        assert_eq!(item["delivered"], e.sent, "{context}");
        assert_eq!(item["opened"], e.sent, "{context}");
        assert_eq!(item["failed"], e.failed, "{context}");
        for zero in ["quarantined", "suppressed", "unsubscribed"] {
            assert_eq!(item[zero], 0, "{context}");
        }
        assert_eq!(item["responses"], e.responses, "{context}");
        assert_eq!(item["completed"], e.completed, "{context}");
        let rate = e.completed as f64 / e.sent as f64;
        assert_eq!(item["response_rate"], round(rate, 4), "{context}");
        let csat = e.scores.iter().sum::<i64>() as f64 / e.scores.len() as f64;
        assert_eq!(item["csat_avg"], round(csat, 2), "{context}");
        let promoters = e.nps.iter().filter(|n| **n >= 9).count() as f64;
        let detractors = e.nps.iter().filter(|n| **n <= 6).count() as f64;
        let nps = 100.0 * (promoters - detractors) / e.nps.len() as f64;
        assert_eq!(item["nps"], round(nps, 1), "{context}");
    }
    assert_eq!(items[2]["failed"], 1, "agent-3 has the unparsable phone");

    // CSV: a header and the same numbers.
    let response = app
        .http
        .get(format!(
            "{}/api/v1/analytics?survey=csat&group_by=agent",
            app.url
        ))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("GET reaches the service");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = response.text().await.expect("CSV body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "key,invited,sent,delivered,opened,failed,quarantined,suppressed,unsubscribed,responses,completed,response_rate,csat_avg,nps"
    );
    assert_eq!(lines.len(), 1 + AGENTS.len(), "{csv}");
    assert_eq!(
        lines[1],
        format!(
            "agent-1,17,17,17,17,0,0,0,0,9,5,{},3.0,14.3",
            round(5.0 / 17.0, 4)
        )
    );

    // Other groupings and the time window.
    let (_, by_day) = app.get("/analytics?survey=csat&group_by=day").await;
    let days = by_day["items"].as_array().expect("items");
    assert_eq!(days.len(), 1, "{by_day}");
    assert_eq!(days[0]["invited"], CASES);
    let day = days[0]["key"].as_str().expect("a day key");
    assert!(
        day.len() == 10 && day.as_bytes()[4] == b'-',
        "YYYY-MM-DD: {day}"
    );
    let (_, by_type) = app
        .get("/analytics?survey=csat&distribution=csat-wa&group_by=case_type")
        .await;
    assert_eq!(by_type["items"][0]["key"], "billing");
    assert_eq!(by_type["items"][0]["invited"], CASES);
    let (_, later) = app
        .get("/analytics?survey=csat&group_by=agent&from=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(later["items"], json!([]));
    let (_, window) = app
        .get("/analytics?survey=csat&group_by=language&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00%2B02:00")
        .await;
    assert_eq!(window["items"][0]["key"], "es");
    assert_eq!(window["items"][0]["invited"], CASES);

    app.running.stop().await;
}

#[tokio::test]
async fn bad_queries_are_400_naming_the_parameter() {
    let app = start().await;
    for (query, path) in [
        ("group_by=agent", "survey"),
        ("survey=nope&group_by=agent", "survey"),
        ("survey=csat&colour=red", "colour"),
        ("survey=csat&group_by=colour", "group_by"),
        (
            "survey=csat&group_by=agent&distribution=other",
            "distribution",
        ),
        ("survey=csat&group_by=agent&from=yesterday", "from"),
        ("survey=csat&group_by=agent&to=2026-13-01T00:00:00Z", "to"),
        (
            "survey=csat&group_by=agent&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "from",
        ),
    ] {
        let (status, body) = app.get(&format!("/analytics?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["path"], path, "{query}: {body}");
    }
    let (status, body) = app
        .get("/analytics?survey=csat&group_by=agent&colour=red")
        .await;
    assert_eq!(status, 400, "unknown parameter: {body}");
    let (status, body) = app.get("/analytics?survey=csat&group_by=agent").await;
    assert_eq!(
        (status, &body["items"]),
        (200, &json!([])),
        "no invites yet"
    );
    let (status, body) = app.get("/analytics?survey=csat").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["key"], json!(null), "{body}");
    assert_eq!(
        body["items"][0]["invited"],
        json!(0),
        "totals of nothing: {body}"
    );
    app.running.stop().await;
}
