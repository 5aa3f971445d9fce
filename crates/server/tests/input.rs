//! Bad input gets a clear 4xx in the SPEC error shape, and the service stays healthy.

mod common;

use common::*;
use serde_json::{json, Value};

async fn put_raw(app: &TestApp, id: &str, body: &str) -> (u16, Value) {
    let response = app
        .http
        .put(app.api(&format!("/cases/{id}")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_rejected_with_the_field_path() {
    let app = spawn_app().await;
    let cases = [
        ("{\"status\": ", "invalid_json", None),
        ("[1,2]", "invalid_field", None),
        ("{\"status\": 7}", "invalid_field", Some("status")),
        (
            "{\"status\": \"Open\", \"tags\": \"vip\"}",
            "invalid_field",
            Some("tags"),
        ),
        (
            "{\"status\": \"Open\", \"colour\": \"red\"}",
            "invalid_field",
            None,
        ),
        (
            "{\"status\": \"Open\", \"profile\": {\"phone\": 34600}}",
            "invalid_field",
            Some("profile.phone"),
        ),
        (
            "{\"id\": \"other\", \"status\": \"Open\"}",
            "id_mismatch",
            Some("id"),
        ),
        ("{\"status\": \"\"}", "invalid_field", Some("status")),
        (
            "{\"status\": \"Open\", \"profile\": [null, \"Ana\"]}",
            "invalid_field",
            Some("profile"),
        ),
    ];
    for (body, code, path) in cases {
        let (status, answer) = put_raw(&app, "C-1", body).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} → {answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        if let Some(path) = path {
            assert_eq!(answer["error"]["path"], path, "{body} → {answer}");
        }
    }
    let (_, unknown) = put_raw(&app, "C-1", "{\"status\": \"Open\", \"colour\": \"red\"}").await;
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{unknown}"
    );
    let (status, _) = app.get_json("/cases/C-1").await;
    assert_eq!(status, 404, "nothing was stored");
    let health = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn messy_phone_values_are_accepted_and_judged_only_at_invite_time() {
    let app = spawn_app().await;
    let (status, _) = put_raw(
        &app,
        "C-2",
        r#"{"status": "Open", "profile": {"phone": "call me maybe"}}"#,
    )
    .await;
    assert_eq!(status, 202);
    app.stop().await;
}

#[tokio::test]
async fn patch_merges_into_the_stored_case() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-3", "+34600111222");
    case["status"] = json!("Open");
    app.put_case(&case).await;
    let response = app
        .http
        .patch(app.api("/cases/C-3"))
        .json(&json!({"status": "Resolved", "custom": {"alt_phone": "+34600000000"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    let changed: Vec<&str> = body["changed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        changed.contains(&"status") && changed.contains(&"custom.alt_phone"),
        "{body}"
    );
    let (_, stored) = app.get_json("/cases/C-3").await;
    assert_eq!(
        stored["case"]["profile"]["first_name"], "Ana",
        "untouched fields stay"
    );
    assert_eq!(stored["case"]["status"], "Resolved");
    app.invite_reaches("C-3", "opened").await;

    let missing = app
        .http
        .patch(app.api("/cases/nope"))
        .json(&json!({"status": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let bad = app
        .http
        .patch(app.api("/cases/C-3"))
        .json(&json!({"priority": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_accepts_good_lines_and_names_the_bad_ones() {
    let app = spawn_app().await;
    let good = serde_json::to_string(&resolved_case("C-10", "+34600111222")).unwrap();
    let other = serde_json::to_string(&resolved_case("C-11", "+34600111223")).unwrap();
    let body = format!("{good}\n{{\"id\": \"C-12\", \"status\": 3}}\nnot json\n{other}\n");
    let response = app
        .http
        .post(app.api("/cases:batch"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected"], 2);
    let lines: Vec<i64> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 400)
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3]);
    app.invite_reaches("C-10", "opened").await;
    app.invite_reaches("C-11", "opened").await;
    app.stop().await;
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    url: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = app.http.request(method, url).body(body.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_empty_batch_is_400_and_an_undocumented_media_type_is_415() {
    use reqwest::Method;
    let app = spawn_app().await;
    let batch = app.api("/cases:batch");
    for empty in ["", "\n", "  \n\r\n\t\n"] {
        let (status, body) = send(
            &app,
            Method::POST,
            &batch,
            Some("application/x-ndjson"),
            empty,
        )
        .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_body")),
            "{empty:?}: {body}"
        );
    }
    let line = json!({"id": "C-30", "status": "New"}).to_string();
    for (content_type, path) in [
        (Some("text/plain"), &batch),
        (Some("application/json"), &batch),
        (
            Some("application/x-www-form-urlencoded"),
            &app.api("/cases/C-30"),
        ),
        (Some("text/plain; charset=utf-8"), &app.api("/cases/C-30")),
        (Some("application/x-ndjson"), &app.api("/cases/C-30")),
    ] {
        let method = if path == &batch {
            Method::POST
        } else {
            Method::PUT
        };
        let (status, body) = send(&app, method, path, content_type, &line).await;
        assert_eq!(status, 415, "{content_type:?} to {path}: {body}");
        assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
        assert_eq!(body["error"]["path"], "Content-Type", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("application/")),
            "{body}"
        );
    }
    let (status, body) = app.get_json("/cases/C-30").await;
    assert_eq!(status, 404, "a refused body stores nothing: {body}");

    let (status, body) = send(
        &app,
        Method::POST,
        &batch,
        Some("application/x-ndjson"),
        &format!("\n{line}\n\n"),
    )
    .await;
    assert_eq!((status, &body["accepted"]), (202, &json!(1)), "{body}");
    let (status, body) = send(
        &app,
        Method::PUT,
        &app.api("/cases/C-31"),
        Some("application/json; charset=utf-8"),
        &line.replace("C-30", "C-31"),
    )
    .await;
    assert_eq!(status, 202, "JSON with a charset: {body}");
    let (status, body) = send(
        &app,
        Method::PUT,
        &app.api("/cases/C-32"),
        None,
        &line.replace("C-30", "C-32"),
    )
    .await;
    assert_eq!(
        status, 202,
        "no Content-Type is read as the operation's own: {body}"
    );
    let patch = json!({"priority": "high"}).to_string();
    let (status, body) = send(
        &app,
        Method::PATCH,
        &app.api("/cases/C-32"),
        Some("application/merge-patch+json"),
        &patch,
    )
    .await;
    assert_eq!(status, 202, "a merge patch in its own media type: {body}");
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("{}/s/no-such-token/answers", app.url),
        Some("text/plain"),
        "{}",
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (415, &json!("unsupported_media_type")),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_nul_character_is_refused_not_a_500_on_either_backend() {
    use reqwest::Method;
    let app = spawn_app().await;
    let body = r#"{"status": "New", "custom": {"note": "a\u0000b"}}"#;
    let (status, answer) = put_raw(&app, "C-40", body).await;
    assert_eq!(
        (status, &answer["error"]["path"]),
        (400, &json!("custom.note")),
        "{answer}"
    );
    let line = r#"{"id": "C-41", "status": "New", "tags": ["x\u0000"]}"#;
    let (status, answer) = send(&app, Method::POST, &app.api("/cases:batch"), None, line).await;
    assert_eq!((status, &answer["rejected"]), (202, &json!(1)), "{answer}");
    assert_eq!(answer["results"][0]["error"]["path"], "tags[0]", "{answer}");
    let (status, answer) = send(
        &app,
        Method::POST,
        &app.api("/suppressions"),
        None,
        r#"{"phone": "+34600111222", "reason": "\u0000"}"#,
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["path"]),
        (400, &json!("reason")),
        "{answer}"
    );
    let (status, answer) = send(
        &app,
        Method::PATCH,
        &app.api("/surveys/csat"),
        None,
        r#"{"name": "\u0000"}"#,
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["path"]),
        (400, &json!("name")),
        "{answer}"
    );
    let (status, answer) = app.get_json("/invites?cursor=a%00b").await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("invalid_query")),
        "{answer}"
    );
    for path in ["/cases/a%00b", "/cases/a%00b/trace", "/invites/a%00b"] {
        let (status, answer) = app.get_json(path).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
    let page = app
        .http
        .get(format!("{}/s/a%00b", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let (status, _) = app.get_json("/readyz").await;
    assert_ne!(status, 500);
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_ids_answer_404_in_the_error_shape() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = app.get_json("/invites/inv_missing").await;
    assert_eq!(status, 404);
    let (status, body) = app.get_json("/invites?status=bogus").await;
    assert_eq!(status, 400, "{body}");
    let page = app
        .http
        .get(format!("{}/s/unknown-token", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_exported_in_prometheus_format() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-20", "+34600111222")).await;
    app.invite_reaches("C-20", "opened").await;
    let text = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("closeloop_events_total{kind=\"case_created\"}"),
        "{text}"
    );
    assert!(
        text.contains("closeloop_messages_total{code=\"\",outcome=\"accepted\"} 1"),
        "{text}"
    );
    assert!(text.contains("closeloop_outbox_depth 0"), "{text}");
    assert!(
        text.contains("closeloop_dispatch_latency_seconds_count 1"),
        "{text}"
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn survey_pages_escape_the_survey_text() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-30", "+34600111222");
    case["profile"]["language"] = json!("en");
    app.put_case(&case).await;
    let invite = app.invite_reaches("C-30", "opened").await;
    let token = invite["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let html = app
        .http
        .get(format!("{}/s/{token}", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // askama writes `<` as `&#60;`; either entity is escaped.
    assert!(
        html.contains("Anything &lt;else&gt;?") || html.contains("Anything &#60;else&#62;?"),
        "{html}"
    );
    assert!(!html.contains("<else>"));
    app.stop().await;
}
