//! End-to-end tests: the real `CloudClient` against the mock, and the mock's webhooks against a
//! tiny receiver that checks signatures the way the service does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use closeloop_wamock::{Failure, HeaderFormat, MockAccount, MockCloud, MockConfig, TemplateDef};
use closeloop_whatsapp::classify::{classify, ErrorClass};
use closeloop_whatsapp::client::{CloudClient, SendError};
use closeloop_whatsapp::webhook::{self, DeliveryStatus, WebhookEvent};
use closeloop_whatsapp::wire::{HeaderMedia, InboundButton, InboundMessage, SendRequest};
use closeloop_whatsapp::{signature, Accepted};
use tokio::sync::mpsc;

const PNID: &str = "106540352242922";
const TOKEN: &str = "EAAJB-test-token";
const SECRET: &str = "test_app_secret";
const TO: &str = "34600111222";

fn config() -> MockConfig {
    MockConfig {
        accounts: vec![MockAccount {
            phone_number_id: PNID.into(),
            access_token: TOKEN.into(),
            app_secret: SECRET.into(),
        }],
        templates: vec![
            TemplateDef {
                url_button: true,
                ..TemplateDef::new("csat_invite", "es", 3)
            },
            TemplateDef {
                header: Some(HeaderFormat::Document),
                ..TemplateDef::new("summary", "en", 0)
            },
        ],
        auto_statuses: false,
        ..MockConfig::default()
    }
}

fn invite(to: &str, params: usize) -> SendRequest {
    let params = (0..params).map(|i| format!("v{i}")).collect();
    SendRequest::template(to, "csat_invite", "es", params, Some("TOKEN".into()), None)
}

fn client() -> CloudClient {
    CloudClient::new(Duration::from_secs(5))
}

async fn send(mock: &MockCloud, token: &str, request: &SendRequest) -> Result<Accepted, SendError> {
    client().send(&mock.api_base(), PNID, token, request).await
}

fn api_parts(err: &SendError) -> (u16, Option<i64>) {
    match err {
        SendError::Api {
            http_status, code, ..
        } => (*http_status, *code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// One webhook as the receiver saw it.
struct Delivery {
    signature: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

/// A webhook endpoint that checks the signature (401 on mismatch, like the service) and
/// otherwise answers the queued statuses, then 200.
struct Receiver {
    url: String,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
}

#[derive(Clone)]
struct ReceiverState {
    answers: Arc<Mutex<VecDeque<u16>>>,
    tx: mpsc::UnboundedSender<Delivery>,
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let signature = header("x-hub-signature-256");
    let valid = signature::verify(SECRET.as_bytes(), &body, signature.as_deref());
    let _ = state.tx.send(Delivery {
        signature,
        content_type: header("content-type"),
        body,
    });
    if !valid {
        return StatusCode::UNAUTHORIZED;
    }
    let answer = state.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(answer).unwrap()
}

async fn receiver(answers: &[u16]) -> Receiver {
    let (tx, deliveries) = mpsc::unbounded_channel();
    let state = ReceiverState {
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
        tx,
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, deliveries }
}

impl Receiver {
    async fn next(&mut self) -> Delivery {
        tokio::time::timeout(Duration::from_secs(5), self.deliveries.recv())
            .await
            .expect("a webhook within 5s")
            .expect("receiver alive")
    }

    fn pending(&mut self) -> usize {
        let mut n = 0;
        while self.deliveries.try_recv().is_ok() {
            n += 1;
        }
        n
    }
}

fn events_of(delivery: &Delivery) -> Vec<WebhookEvent> {
    webhook::events(&webhook::parse(&delivery.body).unwrap())
}

#[tokio::test]
async fn accepted_send_is_recorded() {
    let mock = MockCloud::start(config()).await;
    let request = invite(TO, 3);
    let accepted = send(&mock, TOKEN, &request).await.unwrap();
    assert!(accepted.wamid.starts_with("wamid."));
    assert_eq!(accepted.wa_id.as_deref(), Some(TO));
    assert_eq!(accepted.message_status.as_deref(), Some("accepted"));

    let received = mock.wait_for_messages(1, Duration::from_secs(1)).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].wamid, accepted.wamid);
    assert_eq!(received[0].phone_number_id, PNID);
    assert_eq!(received[0].to, TO);
    assert_eq!(received[0].body, serde_json::to_value(&request).unwrap());
    assert_eq!(mock.attempts(), 1);
}

#[tokio::test]
async fn media_header_and_other_versions_and_marketing_path() {
    let mock = MockCloud::start(config()).await;
    let request = SendRequest::template(
        TO,
        "summary",
        "en",
        vec![],
        None,
        Some(HeaderMedia::Document {
            link: "https://cdn.example.com/summary.pdf".into(),
            filename: Some("case-summary.pdf".into()),
        }),
    );
    let base = mock.api_base().replace("v21.0", "v23.0");
    client().send(&base, PNID, TOKEN, &request).await.unwrap();

    let response = reqwest::Client::new()
        .post(format!("{base}/{PNID}/marketing_messages"))
        .bearer_auth(TOKEN)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(mock.received().len(), 2);
}

#[tokio::test]
async fn bad_token_is_190() {
    let mock = MockCloud::start(config()).await;
    let err = send(&mock, "wrong", &invite(TO, 3)).await.unwrap_err();
    assert_eq!(api_parts(&err), (401, Some(190)));
    assert_eq!(classify(&err), ErrorClass::Account);
    assert!(err.title().starts_with("Invalid OAuth access token"));
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn unknown_phone_number_id_is_100() {
    let mock = MockCloud::start(config()).await;
    let err = client()
        .send(&mock.api_base(), "999", TOKEN, &invite(TO, 3))
        .await
        .unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(100)));
}

#[tokio::test]
async fn unknown_template_is_132001() {
    let mock = MockCloud::start(config()).await;
    let mut request = invite(TO, 3);
    request.template.language.code = "pt_BR".into();
    let err = send(&mock, TOKEN, &request).await.unwrap_err();
    assert_eq!(api_parts(&err), (404, Some(132001)));
    assert_eq!(classify(&err), ErrorClass::Permanent);
    match err {
        SendError::Api {
            title,
            details,
            fbtrace_id,
            ..
        } => {
            assert_eq!(title, "Template name does not exist in the translation");
            assert_eq!(
                details.as_deref(),
                Some("template name (csat_invite) does not exist in pt_BR")
            );
            assert!(fbtrace_id.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn wrong_parameter_count_is_132000() {
    let mock = MockCloud::start(config()).await;
    let err = send(&mock, TOKEN, &invite(TO, 2)).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(132000)));
    assert_eq!(mock.attempts(), 1);
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn bad_recipient_names_the_field() {
    let mock = MockCloud::start(config()).await;
    let err = send(&mock, TOKEN, &invite("+34600111222", 3))
        .await
        .unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(100)));
    match err {
        SendError::Api { details, .. } => assert!(details.unwrap().starts_with("to:")),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn injected_failures_come_first_in_order() {
    let mock = MockCloud::start(config()).await;
    mock.fail_next(Failure::server_error());
    mock.fail_next(Failure::graph(503, 131016, "Service unavailable"));

    let first = send(&mock, TOKEN, &invite(TO, 3)).await.unwrap_err();
    assert_eq!(api_parts(&first), (500, None));
    assert_eq!(classify(&first), ErrorClass::Retryable);

    // Even a bad token is answered with the injected failure.
    let second = send(&mock, "wrong", &invite(TO, 3)).await.unwrap_err();
    assert_eq!(api_parts(&second), (503, Some(131016)));
    assert_eq!(second.title(), "Service unavailable");

    send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    assert_eq!(mock.attempts(), 3);
    assert_eq!(mock.received().len(), 1);
}

async fn pair_rate(throttle_http_status: u16) {
    let mock = MockCloud::start(MockConfig {
        pair_rate_limit: Some(Duration::from_secs(6)),
        throttle_http_status,
        ..config()
    })
    .await;
    send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    let err = send(&mock, TOKEN, &invite(TO, 3)).await.unwrap_err();
    assert_eq!(api_parts(&err), (throttle_http_status, Some(131056)));
    assert_eq!(classify(&err), ErrorClass::RecipientThrottled);
    // Another recipient is unaffected.
    send(&mock, TOKEN, &invite("34600999888", 3)).await.unwrap();
    assert_eq!(mock.received().len(), 2);
    assert_eq!(mock.attempts(), 3);
}

#[tokio::test]
async fn pair_rate_limit_is_131056_with_429() {
    pair_rate(429).await;
}

#[tokio::test]
async fn pair_rate_limit_is_131056_with_legacy_400() {
    pair_rate(400).await;
}

#[tokio::test]
async fn unknown_path_is_a_graph_404() {
    let mock = MockCloud::start(config()).await;
    for path in ["/v21.0/nope", "/latest/106/messages"] {
        let base = mock.api_base().replace("/v21.0", "");
        let response = reqwest::Client::new()
            .post(format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unknown path"));
    }
    assert_eq!(mock.attempts(), 0);
}

#[tokio::test]
async fn wait_for_messages_times_out_with_what_it_has() {
    let mock = MockCloud::start(config()).await;
    send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    let got = mock.wait_for_messages(2, Duration::from_millis(50)).await;
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn wait_for_messages_wakes_on_a_later_send() {
    let mock = Arc::new(MockCloud::start(config()).await);
    let waiter = {
        let mock = mock.clone();
        tokio::spawn(async move { mock.wait_for_messages(1, Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    assert_eq!(waiter.await.unwrap().len(), 1);
}

#[tokio::test]
async fn auto_statuses_are_signed_and_parse() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(MockConfig {
        auto_statuses: true,
        webhook_url: Some(hook.url.clone()),
        ..config()
    })
    .await;
    let mut request = invite(TO, 3);
    request.biz_opaque_callback_data = Some("case=1001".into());
    let accepted = send(&mock, TOKEN, &request).await.unwrap();

    let mut seen = Vec::new();
    for _ in 0..3 {
        let delivery = hook.next().await;
        assert_eq!(delivery.content_type.as_deref(), Some("application/json"));
        assert!(signature::verify(
            SECRET.as_bytes(),
            &delivery.body,
            delivery.signature.as_deref()
        ));
        let payload: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
        let status = &payload["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(status["biz_opaque_callback_data"], "case=1001");
        for event in events_of(&delivery) {
            let WebhookEvent::Status(status) = event else {
                panic!("expected a status");
            };
            assert_eq!(status.wamid, accepted.wamid);
            assert_eq!(status.phone_number_id.as_deref(), Some(PNID));
            assert_eq!(status.recipient_id.as_deref(), Some(TO));
            assert!(status.timestamp.is_some());
            seen.push(status.status);
        }
    }
    assert_eq!(
        seen,
        vec![
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read
        ]
    );
}

#[tokio::test]
async fn failed_status_carries_errors() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let accepted = send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    let answer = mock
        .send_status(
            &accepted.wamid,
            "failed",
            vec![(131026, "Message undeliverable".into())],
        )
        .await;
    assert_eq!(answer, 200);
    let events = events_of(&hook.next().await);
    let [WebhookEvent::Status(status)] = events.as_slice() else {
        panic!("expected one status, got {events:?}");
    };
    assert_eq!(status.status, DeliveryStatus::Failed);
    assert_eq!(
        status.errors,
        vec![(Some(131026), "Message undeliverable".to_string())]
    );
    // With automatic statuses off, nothing else arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hook.pending(), 0);
}

#[tokio::test]
async fn webhooks_are_redelivered_until_200() {
    let mut hook = receiver(&[500, 503]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let accepted = send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    assert_eq!(mock.send_status(&accepted.wamid, "read", vec![]).await, 200);
    let bodies: Vec<Bytes> = [hook.next().await, hook.next().await, hook.next().await]
        .into_iter()
        .map(|d| d.body)
        .collect();
    assert!(bodies.iter().all(|b| b == &bodies[0]));
    assert_eq!(hook.pending(), 0);
}

#[tokio::test]
async fn redelivery_is_bounded() {
    let mut hook = receiver(&[500, 500, 500]).await;
    let mock = MockCloud::start(MockConfig {
        webhook_retries: 2,
        ..config()
    })
    .await;
    mock.set_webhook_url(&hook.url);
    assert_eq!(mock.send_status("wamid.unknown", "sent", vec![]).await, 500);
    for _ in 0..3 {
        hook.next().await;
    }
    assert_eq!(hook.pending(), 0);
}

#[tokio::test]
async fn no_webhook_url_or_dead_receiver_answers_zero() {
    let mock = MockCloud::start(MockConfig {
        webhook_retries: 1,
        ..config()
    })
    .await;
    assert_eq!(mock.send_inbound_text(PNID, TO, "hi").await, 0);
    mock.set_webhook_url("http://127.0.0.1:9/hook");
    assert_eq!(mock.send_inbound_text(PNID, TO, "hi").await, 0);
}

#[tokio::test]
async fn inbound_text_is_escaped_signed_and_parses() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    assert_eq!(
        mock.send_inbound_text(PNID, "5511988887777", "Olá, PARAR")
            .await,
        200
    );
    let delivery = hook.next().await;
    let raw = String::from_utf8(delivery.body.to_vec()).unwrap();
    assert!(raw.contains(r"Ol\u00e1"), "{raw}");
    assert!(signature::verify(
        SECRET.as_bytes(),
        &delivery.body,
        delivery.signature.as_deref()
    ));
    let events = events_of(&delivery);
    let [WebhookEvent::Inbound(inbound)] = events.as_slice() else {
        panic!("expected one inbound, got {events:?}");
    };
    assert_eq!(inbound.from, "5511988887777");
    assert_eq!(inbound.text.as_deref(), Some("Olá, PARAR"));
    assert_eq!(inbound.phone_number_id.as_deref(), Some(PNID));
    assert!(inbound.profile_name.is_some());
    assert!(inbound.wamid.as_deref().unwrap().starts_with("wamid."));
}

#[tokio::test]
async fn inbound_button_tap() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let message = InboundMessage {
        from: Some(TO.into()),
        id: Some("wamid.TAP".into()),
        timestamp: Some("1764590520".into()),
        kind: Some("button".into()),
        button: Some(InboundButton {
            payload: Some("csat:S-77:good".into()),
            text: Some("Great".into()),
        }),
        context: Some(serde_json::json!({"from": "15550783881", "id": "wamid.OUT"})),
        ..InboundMessage::default()
    };
    assert_eq!(mock.send_inbound(PNID, message, Some("Ana")).await, 200);
    let events = events_of(&hook.next().await);
    let [WebhookEvent::Inbound(inbound)] = events.as_slice() else {
        panic!("expected one inbound, got {events:?}");
    };
    assert_eq!(inbound.reply_id.as_deref(), Some("csat:S-77:good"));
    assert_eq!(inbound.text.as_deref(), Some("Great"));
    assert_eq!(inbound.profile_name.as_deref(), Some("Ana"));
    assert_eq!(inbound.timestamp, Some(1764590520));
}

#[tokio::test]
async fn forged_webhook_is_posted_once() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    let forged = signature::sign(b"not the secret", &body);
    assert_eq!(mock.post_webhook(body.clone(), Some(forged)).await, 401);
    assert_eq!(mock.post_webhook(body.clone(), None).await, 401);
    hook.next().await;
    hook.next().await;
    assert_eq!(hook.pending(), 0);
    let genuine = mock.sign_for(PNID, &body);
    assert_eq!(
        genuine.as_deref(),
        Some("sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756")
    );
    assert_eq!(mock.post_webhook(body, genuine).await, 200);
}
