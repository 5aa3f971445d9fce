//! Bodies are bounded per route and answered 413 in the error shape; a batch is streamed
//! whatever its size; an inbound text is cut to WhatsApp's 4,096 characters; a large
//! status webhook does not hold up other writes (issue 14 item 3).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn signed_webhook(app: &TestApp, body: Vec<u8>) -> reqwest::RequestBuilder {
    let signature = closeloop_whatsapp::signature::sign(APP_SECRET.as_bytes(), &body);
    app.http
        .post(format!("{}/webhooks/whatsapp", app.url))
        .header("x-hub-signature-256", signature)
        .header("content-type", "application/json")
        .body(body)
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn assert_too_large(what: &str, (status, body): (u16, Value)) {
    assert_eq!(status, 413, "{what}: {body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{what}: {body}");
}

/// A case padded with a custom field to about `bytes`.
fn padded_case(id: &str, bytes: usize) -> Value {
    let mut case = resolved_case(id, "+34600111222");
    case["custom"] = json!({"notes": "x".repeat(bytes)});
    case
}

fn statuses_webhook(count: usize) -> Vec<u8> {
    let statuses: Vec<Value> = (0..count)
        .map(|i| json!({"id": format!("wamid.unknown{i}"), "status": "delivered", "timestamp": "1732000000", "recipient_id": "34600111222"}))
        .collect();
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": statuses}}]}]}))
    .unwrap()
}

#[tokio::test]
async fn each_route_answers_413_in_the_error_shape_over_its_limit() {
    let app = spawn_app().await;
    let big_case = padded_case("C-1", 300 * 1024);
    assert_too_large(
        "PUT case",
        answer(
            app.http
                .put(app.api("/cases/C-1"))
                .json(&big_case)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    assert_too_large(
        "PATCH case",
        answer(
            app.http
                .patch(app.api("/cases/C-1"))
                .json(&big_case)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let fits = padded_case("C-2", 200 * 1024);
    let (status, body) = answer(app.put_case(&fits).await).await;
    assert_eq!(status, 202, "a case under 256 KiB is accepted: {body}");

    let big_webhook = format!(
        "{{\"object\":\"whatsapp_business_account\",\"padding\":\"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    assert_too_large(
        "webhook",
        answer(
            signed_webhook(&app, big_webhook.into_bytes())
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    let big_object = json!({"id": "s-big", "padding": "x".repeat(1024 * 1024 + 1)});
    assert_too_large(
        "POST /surveys",
        call(
            &app,
            reqwest::Method::POST,
            "/surveys",
            None,
            Some(big_object),
        )
        .await,
    );

    // Without a Content-Length the limit holds as the chunks arrive.
    let addr = app.url.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"PUT /api/v1/cases/C-3 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    // Just over the limit and no more, so the server has read all of it when it answers.
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    for _ in 0..4 {
        socket.write_all(chunk.as_bytes()).await.unwrap();
    }
    socket
        .write_all(format!("400\r\n{}\r\n", "x".repeat(1024)).as_bytes())
        .await
        .unwrap();
    let mut head = vec![0u8; 256];
    let n = socket.read(&mut head).await.unwrap();
    let text = String::from_utf8_lossy(&head[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "chunked: {text}");

    let (status, body) = answer(
        app.http
            .delete(app.api("/cases:batch"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(
        body["error"]["code"], "method_not_allowed",
        "axum's own rejections come out in the error shape too"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_batch_larger_than_a_mebibyte_is_streamed_with_an_error_for_an_overlong_line() {
    let app = spawn_app().await;
    let lines = 2500;
    let mut body = String::new();
    for i in 1..=lines {
        if i == 1200 {
            body.push_str(&serde_json::to_string(&padded_case("C-LONG", 300 * 1024)).unwrap());
        } else {
            body.push_str(&serde_json::to_string(&padded_case(&format!("C-{i}"), 1000)).unwrap());
        }
        body.push('\n');
    }
    assert!(body.len() > 3 * 1024 * 1024, "{} bytes", body.len());
    let (status, batch) = answer(
        app.http
            .post(app.api("/cases:batch"))
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{}", batch["error"]);
    assert_eq!(batch["accepted"], lines - 1);
    assert_eq!(batch["rejected"], 1);
    let results = batch["results"].as_array().unwrap();
    assert_eq!(results.len(), lines);
    let rejected: Vec<&Value> = results.iter().filter(|r| r["status"] == 413).collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["line"], 1200);
    assert_eq!(rejected[0]["error"]["code"], "payload_too_large");
    assert_eq!(results[lines - 1]["line"], lines);
    assert_eq!(results[lines - 1]["id"], format!("C-{lines}"));
    let (status, case) = app.get_json(&format!("/cases/C-{lines}")).await;
    assert_eq!(
        status, 200,
        "the last line, in the last chunk, is stored: {case}"
    );
    let (status, _) = app.get_json("/cases/C-LONG").await;
    assert_eq!(status, 404);

    let (status, body) = answer(
        app.http
            .post(app.api("/cases:batch"))
            .body("\n  \n")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "an empty batch is refused: {body}");
    assert_eq!(body["error"]["code"], "invalid_body");
    app.stop().await;
}

#[tokio::test]
async fn an_inbound_text_is_stored_cut_to_4096_characters() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let text = "é".repeat(5000);
    let status = app
        .mock
        .send_inbound_text(PHONE_NUMBER_ID, "34600111222", &text)
        .await;
    assert_eq!(status, 200);
    let (_, case) = app.get_json("/cases/C-1").await;
    let stored = case["conversation"]["last_inbound_text"]
        .as_str()
        .unwrap_or_else(|| panic!("the text is recorded: {case}"));
    assert_eq!(stored.chars().count(), 4096);
    assert!(stored.chars().all(|c| c == 'é'));
    app.stop().await;
}

#[tokio::test]
async fn a_large_status_webhook_is_written_in_chunks_while_case_updates_are_answered() {
    let app = spawn_app().await;
    let body = statuses_webhook(7000);
    assert!(
        body.len() < 1024 * 1024,
        "{} bytes fit the limit",
        body.len()
    );
    let webhook = tokio::spawn(signed_webhook(&app, body).send());
    let mut answered_during = 0;
    let mut i = 0;
    let start = Instant::now();
    while !webhook.is_finished() && start.elapsed() < Duration::from_secs(120) {
        i += 1;
        let response = app
            .put_case(&resolved_case(&format!("C-{i}"), "+34600111222"))
            .await;
        assert_eq!(response.status(), 202);
        if !webhook.is_finished() {
            answered_during += 1;
        }
    }
    let (status, body) = answer(webhook.await.unwrap().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], 7000);
    assert!(
        answered_during >= 5,
        "only {answered_during} case updates were answered while the webhook's 7,000 statuses were written"
    );
    app.stop().await;
}
