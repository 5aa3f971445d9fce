//! `GET /api/v1/openapi.json`: the document parses, names every route of SPEC §5, and every
//! operation it names is served by the router (none falls through to "no such path").

mod common;

use common::*;
use serde_json::Value;

/// SPEC §5's routes (and the routes outside `/api/v1`), as `METHOD path`.
const SPEC_ROUTES: &[&str] = &[
    "PUT /api/v1/cases/{id}",
    "PATCH /api/v1/cases/{id}",
    "POST /api/v1/cases:batch",
    "GET /api/v1/cases/{id}",
    "GET /api/v1/cases/{id}/trace",
    "POST /api/v1/cases/{id}/messages",
    "GET /api/v1/invites",
    "GET /api/v1/invites/{id}",
    "GET /api/v1/surveys",
    "POST /api/v1/surveys",
    "GET /api/v1/surveys/{id}",
    "PUT /api/v1/surveys/{id}",
    "DELETE /api/v1/surveys/{id}",
    "GET /api/v1/distributions",
    "POST /api/v1/distributions",
    "GET /api/v1/distributions/{id}",
    "PUT /api/v1/distributions/{id}",
    "DELETE /api/v1/distributions/{id}",
    "POST /api/v1/distributions/{id}/clone",
    "POST /api/v1/distributions/{id}/test",
    "GET /api/v1/distributions/{id}/preview",
    "GET /api/v1/rules",
    "POST /api/v1/rules",
    "GET /api/v1/rules/{id}",
    "PUT /api/v1/rules/{id}",
    "DELETE /api/v1/rules/{id}",
    "GET /api/v1/accounts",
    "POST /api/v1/accounts",
    "GET /api/v1/accounts/{id}",
    "PUT /api/v1/accounts/{id}",
    "DELETE /api/v1/accounts/{id}",
    "GET /api/v1/users",
    "POST /api/v1/users",
    "GET /api/v1/users/{id}",
    "PUT /api/v1/users/{id}",
    "DELETE /api/v1/users/{id}",
    "GET /api/v1/suppressions",
    "POST /api/v1/suppressions",
    "DELETE /api/v1/suppressions/{phone}",
    "GET /api/v1/analytics",
    "GET /api/v1/openapi.json",
    "GET /webhooks/whatsapp",
    "POST /webhooks/whatsapp",
    "GET /s/{token}",
    "POST /s/{token}",
    "POST /s/{token}/answers",
    "GET /s/{token}/unsubscribe",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

fn operations(document: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test]
async fn the_document_covers_every_route_and_every_route_it_names_is_served() {
    let app = spawn_app().await;
    let response = app.http.get(app.api("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("the document parses as JSON");
    assert!(
        document["openapi"].as_str().unwrap_or("").starts_with("3."),
        "an OpenAPI 3 document: {}",
        document["openapi"]
    );
    let operations = operations(&document);
    for route in SPEC_ROUTES {
        let (method, path) = route.split_once(' ').unwrap();
        assert!(
            operations.iter().any(|(m, p)| m == method && p == path),
            "{route} is not in the document"
        );
    }
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    let mut ids: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| {
            op["operationId"]
                .as_str()
                .expect("every operation has an id")
        })
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        count,
        "operation ids are unique (OpenAPI requires it)"
    );

    for (method, path) in &operations {
        let concrete = path
            .replace("{id}", "no-such-id")
            .replace("{token}", "no-such-token")
            .replace("{phone}", "+34600000000")
            .replace("{token_id}", "no-such-token");
        let url = format!("{}{concrete}", app.url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .http
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            status, 405,
            "{method} {path} is in the document but not routed"
        );
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !(status == 404 && message.starts_with("path ")),
            "{method} {path} is in the document but falls through to the router's fallback: {body}"
        );
        assert!(status < 500, "{method} {path} answered {status}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_error_code_answered_is_listed_in_the_document() {
    let app = spawn_app().await;
    let (_, document) = app.get_json("/openapi.json").await;
    let listed: Vec<&str> = document["components"]["schemas"]["Code"]["enum"]
        .as_array()
        .expect("the error codes are an enum in the document")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in ["invalid_json", "not_found", "breaks_config", "internal"] {
        assert!(listed.contains(&code), "{code} is not listed: {listed:?}");
    }
    let answered = [
        app.http
            .put(app.api("/cases/C-1"))
            .body("{not json")
            .send()
            .await
            .unwrap(),
        app.http.get(app.api("/cases/nope")).send().await.unwrap(),
        app.http
            .put(app.api("/cases/C-1"))
            .json(&serde_json::json!({"id": "C-2", "status": "New"}))
            .send()
            .await
            .unwrap(),
        app.http
            .get(app.api("/invites?limit=many"))
            .send()
            .await
            .unwrap(),
    ];
    for response in answered {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!((400..500).contains(&status), "{status} {body}");
        assert!(listed.contains(&code.as_str()), "{code} is not listed");
    }
    app.stop().await;
}
