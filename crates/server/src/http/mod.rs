//! The HTTP transport: the `/api/v1` JSON API, Meta's webhook, the survey pages, the
//! operator console (HTML, outside the OpenAPI document) and the operations endpoints, in
//! one router whose OpenAPI document comes from the same route registrations. Handlers
//! parse and answer; what they do is an operation in `usecase`.

pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod console;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod html;
pub(crate) mod limits;
pub(crate) mod media;
pub(crate) mod openapi;
pub(crate) mod ops;
pub(crate) mod schemas;
pub(crate) mod server;
pub(crate) mod survey_page;
pub(crate) mod webhook;

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::server::HttpLimits;
use crate::runtime::intake::IntakeGate;
use crate::runtime::sandbox::SandboxLog;
use crate::usecase::Context;

/// What the handlers share: the operations' [`Context`] and the HTTP side's own handles.
pub(crate) struct Services {
    /// The operations' handles (store, config, clock, metrics, wake signals).
    pub(crate) ctx: Arc<Context>,
    /// Bulk intake's claim on the writer ahead of rule evaluation.
    pub(crate) intake: Arc<IntakeGate>,
    /// The sandbox provider's record of what it "sent".
    pub(crate) sandbox: Arc<SandboxLog>,
    /// The OpenAPI document, set when the router is built from the same registrations.
    pub(crate) openapi: OnceLock<serde_json::Value>,
    /// The connection limits and timeouts (handlers read the body deadline).
    pub(crate) http: HttpLimits,
}

impl Deref for Services {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

/// Shared handle to the handlers' services.
pub(crate) type AppState = Arc<Services>;

/// The `/api/v1` routes, each registered with its OpenAPI description; bodies are JSON but
/// for the NDJSON batch.
fn api_routes() -> OpenApiRouter<AppState> {
    use api::cases;
    let ndjson = OpenApiRouter::new()
        .routes(routes!(cases::batch))
        .route_layer(axum::middleware::from_fn_with_state(
            media::Accepts::Ndjson,
            media::require,
        ));
    json_api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            media::Accepts::Json,
            media::require,
        ))
        .merge(ndjson)
}

/// The `/api/v1` routes whose bodies are JSON.
fn json_api_routes() -> OpenApiRouter<AppState> {
    use api::{
        accounts, analytics, cases, distributions, invites, messages, objects, sandbox,
        suppressions, trace, users,
    };
    OpenApiRouter::new()
        .routes(routes!(cases::get_case, cases::put_case, cases::patch_case))
        .routes(routes!(trace::get_trace))
        .routes(routes!(messages::create))
        .routes(routes!(invites::list))
        .routes(routes!(invites::get_one))
        .routes(routes!(suppressions::list, suppressions::create))
        .routes(routes!(suppressions::get_one, suppressions::delete))
        .routes(routes!(objects::list_surveys, objects::create_survey))
        .routes(routes!(
            objects::get_survey,
            objects::put_survey,
            objects::patch_survey,
            objects::delete_survey
        ))
        .routes(routes!(
            objects::list_distributions,
            objects::create_distribution
        ))
        .routes(routes!(
            objects::get_distribution,
            objects::put_distribution,
            objects::patch_distribution,
            objects::delete_distribution
        ))
        .routes(routes!(distributions::preview))
        .routes(routes!(distributions::test_send))
        .routes(routes!(distributions::clone))
        .routes(routes!(objects::list_rules, objects::create_rule))
        .routes(routes!(
            objects::get_rule,
            objects::put_rule,
            objects::patch_rule,
            objects::delete_rule
        ))
        .routes(routes!(objects::list_accounts, objects::create_account))
        .routes(routes!(
            objects::get_account,
            objects::put_account,
            objects::patch_account,
            objects::delete_account
        ))
        .routes(routes!(accounts::resume))
        .routes(routes!(objects::list_users, objects::create_user))
        .routes(routes!(
            objects::get_user,
            objects::put_user,
            objects::patch_user,
            objects::delete_user
        ))
        .routes(routes!(users::list, users::issue))
        .routes(routes!(users::revoke))
        .routes(routes!(sandbox::list))
        .routes(routes!(analytics::get_analytics))
        .routes(routes!(crate::http::openapi::document))
}

/// The routes outside `/api/v1`: Meta's webhook, the survey pages, health and metrics.
fn public_routes() -> OpenApiRouter<AppState> {
    let json = OpenApiRouter::new()
        .routes(routes!(webhook::verify, webhook::receive))
        .routes(routes!(survey_page::submit_json))
        .route_layer(axum::middleware::from_fn_with_state(
            media::Accepts::Json,
            media::require,
        ));
    OpenApiRouter::new()
        .merge(json)
        .routes(routes!(survey_page::show, survey_page::submit_form))
        .routes(routes!(
            survey_page::unsubscribe_confirm,
            survey_page::unsubscribe
        ))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .route_layer(axum::middleware::from_fn(extract::refuse_nul_in_uri))
}

/// The HTTP router of the service (tests and the binary build the same one) and its
/// OpenAPI document, both from the same route registrations.
pub(crate) fn router_and_openapi(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let api = api_routes()
        .fallback(error::not_found)
        .route_layer(axum::middleware::from_fn(extract::refuse_nul_in_uri))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let (router, mut openapi) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", api)
        .merge(public_routes())
        .split_for_parts();
    openapi::add_shared_answers(&mut openapi);
    if let Ok(document) = serde_json::to_value(&openapi) {
        let _ = state.openapi.set(document);
    }
    let router = router
        .merge(console::routes(state.clone()))
        .fallback(error::not_found)
        // `limits::read_body` is the one body limit; axum's own would answer in plain text.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::read_body,
        ))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(limits::json_rejections))
        .with_state(state);
    (router, openapi)
}

/// The HTTP router of the service.
pub(crate) fn router(state: AppState) -> Router {
    router_and_openapi(state).0
}
