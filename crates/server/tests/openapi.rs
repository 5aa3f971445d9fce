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

/// Why a config object's merge patch is any object: `null` removes a field at any depth,
/// and what counts is the object the patch makes, which the config builder judges.
const MERGE_PATCH: &str = "a merge patch of a config object: any JSON object";

/// Bodies the document deliberately leaves as a bare object, each with its reason, as
/// `METHOD path status` (`request` for the request body).
const UNTYPED: &[(&str, &str)] = &[
    ("PATCH /api/v1/surveys/{id} request", MERGE_PATCH),
    ("PATCH /api/v1/distributions/{id} request", MERGE_PATCH),
    ("PATCH /api/v1/rules/{id} request", MERGE_PATCH),
    ("PATCH /api/v1/accounts/{id} request", MERGE_PATCH),
    ("PATCH /api/v1/users/{id} request", MERGE_PATCH),
    (
        "GET /api/v1/openapi.json 200",
        "this document: its schema is OpenAPI's own",
    ),
];

/// Whether a schema says nothing of its value: missing, `{}`, an object without any
/// property, or an array of those.
fn untyped(schema: Option<&Value>) -> bool {
    let Some(schema) = schema else {
        return true;
    };
    let Some(map) = schema.as_object() else {
        return false;
    };
    let kind = map.get("type").and_then(Value::as_str);
    map.is_empty()
        || (kind == Some("object")
            && !map.contains_key("properties")
            && !map.contains_key("additionalProperties"))
        || (kind == Some("array") && untyped(map.get("items")))
}

#[tokio::test]
async fn no_request_or_response_schema_is_left_untyped() {
    let app = spawn_app().await;
    let (status, document) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let mut bodies = 0;
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let mut contents = Vec::new();
            if let Some(content) = operation["requestBody"]["content"].as_object() {
                contents.push((format!("{name} request"), content));
            } else if operation.get("requestBody").is_some() {
                found.push(format!("{name} request: no content"));
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if let Some(content) = response["content"].as_object() {
                    contents.push((format!("{name} {status}"), content));
                } else if status != "204" {
                    found.push(format!("{name} {status}: no content"));
                }
            }
            for (what, content) in contents {
                for (media, body) in content {
                    bodies += 1;
                    if untyped(body.get("schema")) && !UNTYPED.iter().any(|(w, _)| *w == what) {
                        found.push(format!("{what} ({media}): {}", body["schema"]));
                    }
                }
            }
        }
    }
    assert!(bodies > 150, "only {bodies} bodies described");
    assert!(
        found.is_empty(),
        "{} of {bodies} bodies have no schema:\n{}",
        found.len(),
        found.join("\n")
    );
    for (what, _) in UNTYPED {
        let (method, rest) = what.split_once(' ').unwrap();
        let (path, _) = rest.rsplit_once(' ').unwrap();
        assert!(
            document["paths"][path][method.to_lowercase()].is_object(),
            "{what} is listed as untyped but is not in the document"
        );
    }
    app.stop().await;
}
