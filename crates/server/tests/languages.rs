//! Languages, recipients and sender accounts (SPEC §4.1–4.3): the right language, the right
//! number, from the right account.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

async fn first_message(app: &TestApp) -> closeloop_wamock::Received {
    let received = app.mock.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1, "one message at the mock");
    received[0].clone()
}

fn language_code(message: &closeloop_wamock::Received) -> String {
    message.body["template"]["language"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn say(app: &TestApp, case_id: &str, text: &str) {
    let response = app
        .http
        .post(app.api(&format!("/cases/{case_id}/messages")))
        .json(&json!({"direction": "inbound", "text": text, "account": "support-wa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

fn open_case(id: &str, phone: &str) -> Value {
    let mut case = resolved_case(id, phone);
    case["status"] = json!("Open");
    case
}

#[tokio::test]
async fn the_rule_language_overrides_the_profile_language() {
    let app = spawn_app_with(Options {
        invite_action: "use_distribution_account: true, language: pt_BR",
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    assert_eq!(language_code(&first_message(&app).await), "pt_BR");
    let invite = &app.invites_of("C-1").await[0];
    assert_eq!(invite["language"], "pt_BR");
    assert_eq!(invite["language_source"], "action");
    let token = app.token_of("C-1").await;
    let html = app
        .http
        .get(format!("{}/s/{token}", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Quão satisfeito você está?"),
        "the page is in Portuguese"
    );
    assert!(html.contains("<html lang=\"pt-BR\">"), "{html}");
    assert!(html.contains("Salvar e terminar depois"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn the_last_message_language_is_detected_and_short_messages_fall_through() {
    let app = spawn_app_with(Options {
        invite_action: "use_distribution_account: true, use_last_message_language: true",
        ..Options::default()
    })
    .await;
    app.put_case(&open_case("C-2", "+34600111222")).await;
    say(
        &app,
        "C-2",
        "Olá, obrigado pela ajuda, o problema foi resolvido",
    )
    .await;
    app.put_case(&resolved_case("C-2", "+34600111222")).await;
    assert_eq!(language_code(&first_message(&app).await), "pt_BR");
    let invite = &app.invites_of("C-2").await[0];
    assert_eq!(invite["language_source"], "last_message");

    app.put_case(&open_case("C-3", "+34600111333")).await;
    say(&app, "C-3", "ok").await;
    app.put_case(&resolved_case("C-3", "+34600111333")).await;
    let invite = app.invite_reaches("C-3", "opened").await;
    assert_eq!(
        invite["language"], "es",
        "falls through to the translation (profile.language es)"
    );
    assert_eq!(invite["language_source"], "translation");
    let trace = app.settled("C-3").await;
    let notes = trace.to_string();
    assert!(
        notes.contains("too short to detect"),
        "the trace says why: {notes}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_inbound_whatsapp_message_reaches_the_case_and_opens_the_service_window() {
    let app = spawn_app().await;
    app.put_case(&open_case("C-4", "+34600111222")).await;
    app.settled("C-4").await;
    assert_eq!(
        app.mock
            .send_inbound_text(
                PHONE_NUMBER_ID,
                "34600111222",
                "Hola, ¿alguna novedad de mi caso?"
            )
            .await,
        200
    );
    let (_, case) = app.get_json("/cases/C-4").await;
    assert_eq!(case["conversation"]["service_window_open"], true, "{case}");
    assert_eq!(case["conversation"]["account"], "support-wa");
    let trace = app.settled("C-4").await;
    assert!(trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "message_received"));
    app.stop().await;
}

#[tokio::test]
async fn an_alternate_number_from_a_case_field_is_used_and_validated() {
    let app = spawn_app_with(Options {
        invite_action: "use_distribution_account: true, recipient_case_field: alt_phone",
        ..Options::default()
    })
    .await;
    let mut case = resolved_case("C-5", "+34600111222");
    case["custom"] = json!({"alt_phone": "+34 611 222 333"});
    app.put_case(&case).await;
    assert_eq!(first_message(&app).await.to, "34611222333");
    let invite = &app.invites_of("C-5").await[0];
    assert_eq!(invite["recipient_source"], "case.custom.alt_phone");

    let mut bad = resolved_case("C-6", "+34600111444");
    bad["custom"] = json!({"alt_phone": "call me"});
    app.put_case(&bad).await;
    let invite = app.invite_reaches("C-6", "failed").await;
    assert_eq!(invite["reason"], "invalid_recipient");
    assert_eq!(invite["recipient_source"], "case.custom.alt_phone");
    assert_eq!(app.mock.received().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_national_number_is_sent_in_e164_with_the_accounts_default_region() {
    let app = spawn_app_with(Options {
        account: "default_region: ES",
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-7", "600 111 555")).await;
    assert_eq!(first_message(&app).await.to, "34600111555");
    let invite = &app.invites_of("C-7").await[0];
    assert_eq!(invite["recipient"], "+34600111555");
    app.stop().await;
}

#[tokio::test]
async fn without_the_distribution_account_the_case_conversation_account_sends() {
    let app = spawn_app_with(Options {
        invite_action: "use_distribution_account: false",
        ..Options::default()
    })
    .await;
    let mut case = resolved_case("C-8", "+34600111222");
    case["conversation"] = json!({"account": "other-wa"});
    app.put_case(&case).await;
    let message = first_message(&app).await;
    assert_eq!(message.phone_number_id, OTHER_PHONE_NUMBER_ID);
    let invite = app.invite_reaches("C-8", "opened").await;
    assert_eq!(invite["account"], "other-wa");

    app.put_case(&resolved_case("C-9", "+34600111333")).await;
    let invite = app.invite_reaches("C-9", "opened").await;
    assert_eq!(
        invite["account"], "support-wa",
        "no conversation account → the distribution's"
    );
    let trace = app.settled("C-9").await.to_string();
    assert!(
        trace.contains("the case has no conversation account"),
        "{trace}"
    );
    let senders: Vec<String> = app
        .mock
        .received()
        .iter()
        .map(|r| r.phone_number_id.clone())
        .collect();
    assert_eq!(senders, [OTHER_PHONE_NUMBER_ID, PHONE_NUMBER_ID]);
    app.stop().await;
}

#[tokio::test]
async fn the_preview_fills_the_placeholders_from_a_case() {
    let app = spawn_app().await;
    let mut case = open_case("C-10", "+34600111222");
    case["number"] = json!("4711");
    app.put_case(&case).await;
    let (status, preview) = app
        .get_json("/distributions/csat-wa/preview?message=invitation&language=es&case_id=C-10")
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["template_language"], "es");
    let text = preview["text"].as_str().unwrap();
    assert!(
        text.starts_with("Hi Ana, your case 4711 is resolved."),
        "{text}"
    );
    let (status, sample) = app
        .get_json("/distributions/csat-wa/preview?message=thank_you")
        .await;
    assert_eq!(status, 200);
    assert_eq!(sample["sample"], true);
    let (status, bad) = app
        .get_json("/distributions/csat-wa/preview?language=fr")
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["error"]["path"], "language");
    let (status, _) = app.get_json("/distributions/nope/preview").await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// The test config with the invitation's body per language and a Spanish page text of the
/// survey's own.
fn spanish_texts(text: String) -> String {
    text.replacen(
        r#"body: "Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}""#,
        r#"body: { en: "Hi {{1}}, your case {{2}} is resolved. Tell us how we did: {{3}}", es: "Hola {{1}}, su caso {{2}} está resuelto. Cuéntenos qué tal lo hicimos: {{3}}", pt_BR: "Olá {{1}}, seu caso {{2}} foi resolvido. Conte como nos saímos: {{3}}" }"#,
        1,
    )
    .replacen(
        "    languages: [en, es, pt_BR]\n",
        "    languages: [en, es, pt_BR]\n    page_texts: { es: { submit: \"Enviar respuestas\" } }\n",
        1,
    )
}

async fn page_of(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .http
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn the_preview_and_the_sent_text_are_in_the_invites_language() {
    let app = spawn_app_with(Options {
        edit: Some(spanish_texts),
        ..Options::default()
    })
    .await;
    let mut case = open_case("C-11", "+34600111222");
    case["number"] = json!("4711");
    app.put_case(&case).await;
    let (status, preview) = app
        .get_json("/distributions/csat-wa/preview?message=invitation&language=es&case_id=C-11")
        .await;
    assert_eq!(status, 200, "{preview}");
    let text = preview["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Hola Ana, su caso 4711 está resuelto. Cuéntenos qué tal lo hicimos: http://closeloop.test/s/SAMPLE-TOKEN"
    );
    let (_, english) = app
        .get_json("/distributions/csat-wa/preview?message=invitation&language=en")
        .await;
    assert!(
        english["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi Ana, your case 1001"),
        "{english}"
    );

    app.put_case(&resolved_case("C-11", "+34600111222")).await;
    let invite = app.invite_reaches("C-11", "opened").await;
    let sent = invite["messages"][0]["text"].as_str().unwrap();
    assert!(
        sent.starts_with("Hola Ana, su caso 11 está resuelto."),
        "{invite}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_spanish_invite_gets_every_page_in_spanish() {
    let app = spawn_app_with(Options {
        edit: Some(spanish_texts),
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-12", "+34600111222")).await;
    app.invite_reaches("C-12", "opened").await;
    let token = app.token_of("C-12").await;

    let (status, html) = page_of(&app, &format!("/s/{token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(
        html.contains(">Enviar respuestas</button>"),
        "the survey's own text: {html}"
    );
    assert!(
        html.contains(">Guardar y terminar más tarde</button>"),
        "{html}"
    );
    assert!(html.contains("No recibir más encuestas"), "{html}");
    assert!(html.contains("(obligatoria)"), "{html}");
    assert!(
        !html.contains("Submit") && !html.contains("Save and finish"),
        "{html}"
    );

    let invalid = app
        .http
        .post(format!("{}/s/{token}", app.url))
        .form(&[("score", "9"), ("_action", "submit")])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let html = invalid.text().await.unwrap();
    assert!(html.contains("Elija un número del 1 al 5."), "{html}");
    assert!(
        html.contains("Revise las preguntas marcadas abajo."),
        "{html}"
    );

    let saved = app
        .http
        .post(format!("{}/s/{token}", app.url))
        .form(&[("score", "4"), ("_action", "save")])
        .send()
        .await
        .unwrap();
    let html = saved.text().await.unwrap();
    assert!(html.contains("Sus respuestas se han guardado."), "{html}");

    let (status, html) = page_of(&app, &format!("/s/{token}/unsubscribe")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("¿Dejar de recibir encuestas?"), "{html}");

    let done = app
        .http
        .post(format!("{}/s/{token}", app.url))
        .form(&[("score", "5"), ("_action", "submit")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("¡Gracias!"), "the thank-you page: {html}");
    assert!(html.contains("Hemos recibido sus respuestas."), "{html}");

    let (status, html) = page_of(&app, "/s/0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Survey not found"),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn paused_and_expired_pages_speak_the_invites_language() {
    let app = spawn_app_with(Options {
        distribution: "link: { expires_after: 3s }",
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-13", "+34600111222")).await;
    app.invite_reaches("C-13", "opened").await;
    let token = app.token_of("C-13").await;
    let patch = |status: &'static str| {
        app.http
            .patch(app.api("/distributions/csat-wa"))
            .json(&json!({ "status": status }))
            .send()
    };
    assert_eq!(patch("paused").await.unwrap().status(), 200);
    let paused = eventually(Duration::from_secs(5), || async {
        let (status, html) = page_of(&app, &format!("/s/{token}")).await;
        (status == 423).then_some(html)
    })
    .await
    .expect("the page shows the distribution paused");
    assert!(paused.contains("<html lang=\"es\">"), "{paused}");
    assert!(paused.contains("Esta encuesta está en pausa"), "{paused}");
    assert_eq!(patch("active").await.unwrap().status(), 200);

    let expired = eventually(Duration::from_secs(10), || async {
        let (status, html) = page_of(&app, &format!("/s/{token}")).await;
        (status == 410).then_some(html)
    })
    .await
    .expect("the link expires");
    assert!(expired.contains("<html lang=\"es\">"), "{expired}");
    assert!(expired.contains("Esta encuesta ha caducado"), "{expired}");
    app.stop().await;
}

/// SPEC §4.16: Meta redelivers a webhook it thinks failed; the same wamid twice records the
/// message once (one `message_received` event), and a new wamid is a new message.
#[tokio::test]
async fn a_redelivered_inbound_message_is_recorded_once() {
    use closeloop_wamock::Inbound;
    use closeloop_whatsapp::webhook::InboundContent;

    let app = spawn_app().await;
    app.put_case(&open_case("C-9", "+34600111222")).await;
    app.settled("C-9").await;
    let text = || InboundContent::Text {
        body: "¿Hay novedades?".into(),
    };
    let first = app
        .mock
        .post_inbound(PHONE_NUMBER_ID, Inbound::new("34600111222", text()))
        .await;
    assert_eq!(first.status, 200);
    let mut again = Inbound::new("34600111222", text());
    again.wamid = Some(first.wamid.clone());
    assert_eq!(
        app.mock.post_inbound(PHONE_NUMBER_ID, again).await.status,
        200
    );
    let received = |trace: &Value| {
        trace["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "message_received")
            .count()
    };
    assert_eq!(
        received(&app.settled("C-9").await),
        1,
        "the redelivery recorded nothing"
    );
    let other = app
        .mock
        .post_inbound(PHONE_NUMBER_ID, Inbound::new("34600111222", text()))
        .await;
    assert_ne!(other.wamid, first.wamid);
    assert_eq!(
        received(&app.settled("C-9").await),
        2,
        "a new wamid is a new message"
    );
    app.stop().await;
}
