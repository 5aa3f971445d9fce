//! The running service: shared state, the HTTP router, and start/stop of the server and
//! its workers. `serve`, `demo` and the integration tests all start it through [`start`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use closeloop_domain::config::Config;
use closeloop_store::Store;
use closeloop_whatsapp::client::CloudClient;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::Clock;
use crate::live::LiveConfig;
use crate::metrics::Metrics;
use crate::sandbox::Sandbox;
use crate::{api, auth, ops, survey_page, webhook, worker};

/// The largest request body accepted (a batch of case updates fits; anything bigger is 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Everything a handler or worker needs.
pub struct Services {
    /// The configuration in force (the file with the API's changes).
    pub live: LiveConfig,
    /// The database.
    pub store: Store,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The service clock.
    pub clock: Clock,
    /// Wakes the event worker when an event was committed.
    pub wake_events: Notify,
    /// Wakes the dispatcher when a message was queued.
    pub wake_dispatch: Notify,
    /// The WhatsApp Cloud API client.
    pub cloud: CloudClient,
    /// The sandbox provider's record of what it "sent".
    pub sandbox: Sandbox,
    /// This process's id as a lease owner.
    pub instance: String,
    /// Group commit of case updates.
    pub ingest: crate::ingest::Ingest,
    /// Exact per-account sending windows of this process.
    pub send_windows: crate::rate::SendWindows,
    /// Bulk intake's claim on the writer ahead of rule evaluation.
    pub intake: crate::intake::IntakeGate,
    /// The OpenAPI document, set when the router is built from the same registrations.
    pub openapi: std::sync::OnceLock<serde_json::Value>,
}

impl Services {
    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.live.get()
    }
}

/// Shared handle to the services.
pub type AppState = Arc<Services>;

/// How to start the service.
pub struct StartOptions {
    /// The config file as a document (`Loaded::document`); the changes made through the
    /// API are applied over it.
    pub document: serde_json::Value,
    /// The database URL.
    pub database_url: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The clock (real unless the demo accelerates it).
    pub clock: Clock,
}

/// A started service.
pub struct Running {
    /// The address it listens on (the real port when 0 was asked).
    pub addr: SocketAddr,
    /// Its shared state.
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Opens the database, applies migrations, binds the listener and starts the HTTP server
/// and the workers.
///
/// # Errors
/// When the database cannot be opened or migrated, the config with the API's changes does
/// not load, the address is not loopback while no users are configured (the API would be
/// open to the network), or it cannot be bound.
pub async fn start(options: StartOptions) -> anyhow::Result<Running> {
    let store = Store::open(&options.database_url).await?;
    store.migrate().await?;
    let (live, warnings) = LiveConfig::open(options.document, &store, options.clock.now()).await?;
    for warning in &warnings {
        tracing::warn!(path = %warning.path, "{}", warning.message);
    }
    if live.get().users.is_empty() && !options.listen.ip().is_loopback() {
        anyhow::bail!("refusing to listen on {} with no users configured: the API would be open to the network; add users to the config or listen on 127.0.0.1", options.listen);
    }
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let (ingest, ingest_queue) = crate::ingest::channel();
    let state: AppState = Arc::new(Services {
        live,
        store,
        metrics: Metrics::new(),
        clock: options.clock,
        wake_events: Notify::new(),
        wake_dispatch: Notify::new(),
        cloud: CloudClient::new(std::time::Duration::from_secs(20)),
        sandbox: Sandbox::default(),
        instance: crate::ids::new_id("proc"),
        ingest,
        send_windows: crate::rate::SendWindows::default(),
        intake: crate::intake::IntakeGate::default(),
        openapi: std::sync::OnceLock::new(),
    });
    state
        .store
        .set_queue_rules(
            worker::schedule::queue_rules(&state.config()),
            state.clock.now_ms(),
        )
        .await?;
    let (shutdown, stop) = watch::channel(false);
    let mut tasks = worker::spawn_all(&state, &stop);
    tasks.push(tokio::spawn(crate::ingest::run(
        state.clone(),
        ingest_queue,
        stop.clone(),
    )));
    let app = router(state.clone());
    let mut http_stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "http server stopped");
        }
    }));
    tracing::info!(%addr, "closeloop listening");
    Ok(Running {
        addr,
        state,
        shutdown,
        tasks,
    })
}

impl Running {
    /// Stops accepting requests, lets workers finish the unit of work they are in
    /// (anything unfinished stays leased and is reclaimed after a restart), and closes
    /// the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.state.wake_events.notify_waiters();
        self.state.wake_dispatch.notify_waiters();
        for task in self.tasks {
            let _ = task.await;
        }
        self.state.store.close().await;
    }

    /// The base URL of the running service.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The `/api/v1` routes, each registered with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    use api::{
        accounts, analytics, cases, distributions, invites, messages, objects, openapi, sandbox,
        suppressions, trace, users,
    };
    OpenApiRouter::new()
        .routes(routes!(cases::get_case, cases::put_case, cases::patch_case))
        .routes(routes!(cases::batch))
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
        .routes(routes!(openapi::document))
}

/// The routes outside `/api/v1`: Meta's webhook, the survey pages, health and metrics.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhook::verify, webhook::receive))
        .routes(routes!(survey_page::show, survey_page::submit_form))
        .routes(routes!(survey_page::submit_json))
        .routes(routes!(
            survey_page::unsubscribe_confirm,
            survey_page::unsubscribe
        ))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

/// The HTTP router of the service (tests and the binary build the same one) and its
/// OpenAPI document, both from the same route registrations.
pub fn router_and_openapi(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let api =
        api_routes()
            .fallback(api::not_found)
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require_token,
            ));
    let (router, openapi) = OpenApiRouter::with_openapi(api::openapi::ApiDoc::openapi())
        .nest("/api/v1", api)
        .merge(public_routes())
        .split_for_parts();
    if let Ok(document) = serde_json::to_value(&openapi) {
        let _ = state.openapi.set(document);
    }
    let router = router
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    (router, openapi)
}

/// The HTTP router of the service.
pub fn router(state: AppState) -> Router {
    router_and_openapi(state).0
}
