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
use closeloop_wamock::{
    Failure, HeaderFormat, Inbound, MockAccount, MockCloud, MockConfig, Outgoing, TemplateButton,
    TemplateDef, WindowRefusal,
};
use closeloop_whatsapp::classify::{classify, ErrorClass};
use closeloop_whatsapp::client::{CloudClient, Outbound, SendError};
use closeloop_whatsapp::webhook::{self, DeliveryStatus, InboundContent, WebhookEvent};
use closeloop_whatsapp::wire::{
    HeaderKind, HeaderMedia, InboundButton, InboundMessage, ListRow, ListSection, ReplyOption,
    SendRequest, SessionContent, SessionRequest,
};
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
                buttons: vec![TemplateButton::DynamicUrl],
                ..TemplateDef::new("csat_invite", "es", 3)
            },
            TemplateDef {
                header: Some(HeaderFormat::Document),
                ..TemplateDef::new("summary", "en", 0)
            },
            TemplateDef {
                buttons: vec![
                    TemplateButton::DynamicUrl,
                    TemplateButton::QuickReply,
                    TemplateButton::QuickReply,
                ],
                header: Some(HeaderFormat::Video),
                ..TemplateDef::new("csat_qr", "en", 1)
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

async fn send<R: Outbound>(
    mock: &MockCloud,
    token: &str,
    request: &R,
) -> Result<Accepted, SendError> {
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

fn quick_invite(header: HeaderKind, payloads: &[(usize, &str)]) -> SendRequest {
    let mut request = SendRequest::template(
        TO,
        "csat_qr",
        "en",
        vec!["Ana".into()],
        Some("TOKEN".into()),
        Some(HeaderMedia::new(
            header,
            "https://cdn.example.com/thanks.mp4",
        )),
    );
    for (index, payload) in payloads {
        request = request.with_quick_reply(*index, payload).unwrap();
    }
    request
}

fn details(err: &SendError) -> String {
    match err {
        SendError::Api { details, .. } => details.clone().unwrap_or_default(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn buttons(to: &str) -> SessionRequest {
    let option = |id: &str, title: &str| ReplyOption {
        id: id.into(),
        title: title.into(),
    };
    SessionRequest::buttons(
        to,
        "How satisfied are you?",
        vec![
            option("csat:3", "Satisfied"),
            option("csat:1", "Unsatisfied"),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn quick_reply_payloads_are_validated_and_recorded() {
    let mock = MockCloud::start(config()).await;
    let request = quick_invite(HeaderKind::Video, &[(1, "csat:good"), (2, "csat:bad")]);
    send(&mock, TOKEN, &request).await.unwrap();
    let received = mock.received();
    assert_eq!(
        received[0].request.quick_replies(),
        vec![
            ("1".to_string(), "csat:good".to_string()),
            ("2".to_string(), "csat:bad".to_string())
        ]
    );
    assert_eq!(received[0].request, Outgoing::Template(request));

    // Index 3 does not exist; index 0 is the URL button (a second component for it).
    let mut beyond = quick_invite(HeaderKind::Video, &[]);
    beyond = beyond.with_quick_reply(3, "x").unwrap();
    let err = send(&mock, TOKEN, &beyond).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(132000)));
    assert!(
        details(&err).contains("no button at index 3"),
        "{}",
        details(&err)
    );

    let mut long = quick_invite(HeaderKind::Video, &[]);
    long.template
        .components
        .push(closeloop_whatsapp::wire::Component {
            kind: "button".into(),
            sub_type: Some("quick_reply".into()),
            index: Some("1".into()),
            parameters: vec![closeloop_whatsapp::wire::Parameter::Payload {
                payload: "p".repeat(257),
            }],
        });
    let err = send(&mock, TOKEN, &long).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(131009)));
    assert_eq!(err.title(), "Parameter value is not valid");
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test]
async fn header_must_match_the_template_format() {
    let mock = MockCloud::start(config()).await;
    for wrong in [HeaderKind::Image, HeaderKind::Document] {
        let err = send(&mock, TOKEN, &quick_invite(wrong, &[]))
            .await
            .unwrap_err();
        assert_eq!(api_parts(&err), (400, Some(132012)), "{wrong:?}");
        assert_eq!(
            err.title(),
            "Parameter format does not match format in the created template"
        );
    }
    send(&mock, TOKEN, &quick_invite(HeaderKind::Video, &[]))
        .await
        .unwrap();
}

#[tokio::test]
async fn free_form_needs_the_customer_service_window() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let text = SessionRequest::text(TO, "Thanks for your feedback!").unwrap();

    // Never wrote: refused synchronously, nothing recorded.
    for request in [&text, &buttons(TO)] {
        let err = client()
            .send(&mock.api_base(), PNID, TOKEN, request)
            .await
            .unwrap_err();
        assert_eq!(api_parts(&err), (400, Some(131047)));
        assert_eq!(err.title(), "Re-engagement message");
        assert_eq!(
            details(&err),
            "Message failed to send because more than 24 hours have passed since the customer \
             last replied to this number."
        );
    }
    assert!(mock.received().is_empty());
    // A template still goes out, and does not open the window.
    send(&mock, TOKEN, &invite(TO, 3)).await.unwrap();
    assert_eq!(
        api_parts(&send(&mock, TOKEN, &text).await.unwrap_err()),
        (400, Some(131047))
    );

    // The customer writes: the window opens for them, on this number only.
    let inbound = Inbound::new(TO, InboundContent::Text { body: "hi".into() });
    assert_eq!(mock.post_inbound(PNID, inbound).await.status, 200);
    hook.next().await;
    send(&mock, TOKEN, &text).await.unwrap();
    send(&mock, TOKEN, &buttons(TO)).await.unwrap();
    let other = SessionRequest::text("34600999888", "hi").unwrap();
    assert_eq!(
        api_parts(&send(&mock, TOKEN, &other).await.unwrap_err()),
        (400, Some(131047))
    );
    let received = mock.received();
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[1].request.text(),
        Some("Thanks for your feedback!")
    );
    assert_eq!(
        received[2].request.options(),
        vec![
            ("csat:3".to_string(), "Satisfied".to_string()),
            ("csat:1".to_string(), "Unsatisfied".to_string())
        ]
    );
    assert!(received.iter().all(|r| !r.window_refused));

    mock.close_window(PNID, TO);
    assert_eq!(
        api_parts(&send(&mock, TOKEN, &text).await.unwrap_err()),
        (400, Some(131047))
    );
    mock.open_window(PNID, TO);
    send(&mock, TOKEN, &text).await.unwrap();
}

#[tokio::test]
async fn window_expires_after_the_configured_length() {
    let mock = MockCloud::start(MockConfig {
        service_window: Duration::from_millis(100),
        ..config()
    })
    .await;
    mock.open_window(PNID, TO);
    let text = SessionRequest::text(TO, "Thanks!").unwrap();
    send(&mock, TOKEN, &text).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        api_parts(&send(&mock, TOKEN, &text).await.unwrap_err()),
        (400, Some(131047))
    );
}

#[tokio::test]
async fn window_refusal_can_come_as_a_failed_status() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(MockConfig {
        window_refusal: WindowRefusal::FailedStatus,
        webhook_url: Some(hook.url.clone()),
        ..config()
    })
    .await;
    let accepted = send(&mock, TOKEN, &buttons(TO)).await.unwrap();
    assert!(mock.received()[0].window_refused);
    let delivery = hook.next().await;
    let payload: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    let status = &payload["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(status["id"], accepted.wamid.as_str());
    assert_eq!(status["status"], "failed");
    assert_eq!(
        status["errors"][0],
        serde_json::json!({"code": 131047, "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"})
    );
    let events = events_of(&delivery);
    let [WebhookEvent::Status(event)] = events.as_slice() else {
        panic!("expected one status, got {events:?}");
    };
    assert_eq!(
        event.errors,
        vec![(Some(131047), "Re-engagement message".to_string())]
    );
    // Auto statuses are off, and a refused message gets no others.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hook.pending(), 0);
}

#[tokio::test]
async fn interactive_limits_are_refused_with_meta_codes() {
    let mock = MockCloud::start(config()).await;
    mock.open_window(PNID, TO);
    let mut four = buttons(TO);
    let mut long_row = SessionRequest::list(
        TO,
        "Score?",
        "Choose",
        vec![ListSection {
            title: None,
            rows: vec![ListRow {
                id: "nps:10".into(),
                title: "10".into(),
                description: None,
            }],
        }],
    )
    .unwrap();
    send(&mock, TOKEN, &long_row).await.unwrap();
    if let SessionContent::Interactive { interactive } = &mut four.content {
        if let closeloop_whatsapp::wire::InteractiveAction::Button { action } =
            &mut interactive.action
        {
            action.buttons = [1, 2, 3, 4]
                .iter()
                .map(|i| closeloop_whatsapp::wire::ReplyButton::Reply {
                    reply: ReplyOption {
                        id: format!("b{i}"),
                        title: format!("B{i}"),
                    },
                })
                .collect();
        }
    }
    let err = send(&mock, TOKEN, &four).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(131009)));
    assert!(details(&err).starts_with("interactive.action.buttons"));
    if let SessionContent::Interactive { interactive } = &mut long_row.content {
        if let closeloop_whatsapp::wire::InteractiveAction::List { action } =
            &mut interactive.action
        {
            action.sections[0].rows[0].title = "t".repeat(25);
        }
    }
    let err = send(&mock, TOKEN, &long_row).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(131009)));
    let mut text = SessionRequest::text(TO, "x").unwrap();
    if let SessionContent::Text { text } = &mut text.content {
        text.body = "x".repeat(4097);
    }
    let err = send(&mock, TOKEN, &text).await.unwrap_err();
    assert_eq!(api_parts(&err), (400, Some(100)));
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test]
async fn inbound_taps_arrive_signed_typed_and_tied_to_our_message() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let invite = send(
        &mock,
        TOKEN,
        &quick_invite(HeaderKind::Video, &[(1, "csat:good")]),
    )
    .await
    .unwrap();
    let taps = [
        InboundContent::QuickReply {
            payload: "csat:good".into(),
            text: Some("Great".into()),
        },
        InboundContent::ButtonReply {
            id: "csat:3".into(),
            title: Some("Satisfied".into()),
        },
        InboundContent::ListReply {
            id: "nps:10".into(),
            title: Some("10".into()),
            description: Some("Extremely likely".into()),
        },
        InboundContent::Text {
            body: "Très bien".into(),
        },
    ];
    let mut wamids = Vec::new();
    for content in taps.clone() {
        let posted = mock
            .post_inbound(PNID, Inbound::new("5511988887777", content))
            .await;
        assert_eq!(posted.status, 200);
        let delivery = hook.next().await;
        assert!(signature::verify(
            SECRET.as_bytes(),
            &delivery.body,
            delivery.signature.as_deref()
        ));
        let events = events_of(&delivery);
        let [WebhookEvent::Inbound(event)] = events.as_slice() else {
            panic!("expected one inbound, got {events:?}");
        };
        assert_eq!(event.wamid.as_deref(), Some(posted.wamid.as_str()));
        assert_eq!(event.from, "5511988887777");
        assert_eq!(event.phone_number_id.as_deref(), Some(PNID));
        assert!(event.timestamp.is_some());
        wamids.push((
            posted.wamid,
            event.content.clone(),
            event.context_wamid.clone(),
        ));
    }
    let contents: Vec<_> = wamids.iter().map(|(_, c, _)| c.clone()).collect();
    assert_eq!(contents, taps);
    // The invite went to TO, not to this customer: no message to tie the taps to.
    assert!(wamids.iter().all(|(_, _, context)| context.is_none()));
    let unique: std::collections::HashSet<_> = wamids.iter().map(|(w, _, _)| w).collect();
    assert_eq!(unique.len(), 4);

    // A tap from the invite's recipient points at the invite, in Meta's envelope.
    let tap = InboundContent::QuickReply {
        payload: "csat:good".into(),
        text: Some("Great".into()),
    };
    mock.post_inbound(PNID, Inbound::new(TO, tap)).await;
    let delivery = hook.next().await;
    let raw: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(raw["object"], "whatsapp_business_account");
    let value = &raw["entry"][0]["changes"][0]["value"];
    assert_eq!(raw["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(value["contacts"][0]["wa_id"], TO);
    let message = &value["messages"][0];
    assert_eq!(message["type"], "button");
    assert_eq!(message["button"]["payload"], "csat:good");
    assert_eq!(message["context"]["id"], invite.wamid.as_str());
    assert_eq!(
        message["context"]["from"],
        value["metadata"]["display_phone_number"]
    );
    assert!(message["timestamp"].is_string());
}

#[tokio::test]
async fn redelivery_keeps_the_wamid_and_inbound_opens_the_window() {
    let mut hook = receiver(&[]).await;
    let mock = MockCloud::start(config()).await;
    mock.set_webhook_url(&hook.url);
    let inbound = Inbound {
        wamid: Some("wamid.SAME".into()),
        context: Some("wamid.OUT".into()),
        profile_name: Some("Ana".into()),
        ..Inbound::new(
            TO,
            InboundContent::ButtonReply {
                id: "csat:3".into(),
                title: Some("Satisfied".into()),
            },
        )
    };
    let first = mock.post_inbound(PNID, inbound.clone()).await;
    let second = mock.post_inbound(PNID, inbound).await;
    assert_eq!(first.wamid, "wamid.SAME");
    assert_eq!(second.wamid, "wamid.SAME");
    for _ in 0..2 {
        let events = events_of(&hook.next().await);
        let [WebhookEvent::Inbound(event)] = events.as_slice() else {
            panic!("expected one inbound, got {events:?}");
        };
        assert_eq!(event.wamid.as_deref(), Some("wamid.SAME"));
        assert_eq!(event.context_wamid.as_deref(), Some("wamid.OUT"));
        assert_eq!(event.profile_name.as_deref(), Some("Ana"));
        assert_eq!(event.reply_id.as_deref(), Some("csat:3"));
    }
    // The tap opened the window: a thank-you may now be free-form.
    send(
        &mock,
        TOKEN,
        &SessionRequest::text(TO, "Thank you!").unwrap(),
    )
    .await
    .unwrap();
}
