//! The running service: shared state, the HTTP router, and start/stop of the server and
//! its workers. `serve`, `demo` and the integration tests all start it through [`start`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use closeloop_domain::config::Config;
use closeloop_store::Store;
use closeloop_whatsapp::client::CloudClient;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::sandbox::Sandbox;
use crate::{api, auth, ops, survey_page, webhook, worker};

/// The largest request body accepted (a batch of case updates fits; anything bigger is 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Everything a handler or worker needs.
pub struct Services {
    /// The loaded configuration.
    pub config: Config,
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
}

/// Shared handle to the services.
pub type AppState = Arc<Services>;

/// How to start the service.
pub struct StartOptions {
    /// The configuration.
    pub config: Config,
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
/// When the database cannot be opened or migrated, or the address cannot be bound.
pub async fn start(options: StartOptions) -> anyhow::Result<Running> {
    let store = Store::open(&options.database_url).await?;
    store.migrate().await?;
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let (ingest, ingest_queue) = crate::ingest::channel();
    let state: AppState = Arc::new(Services {
        config: options.config,
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
    });
    state
        .store
        .set_queue_rules(worker::schedule::queue_rules(&state), state.clock.now_ms())
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

/// The HTTP router of the service (tests and the binary build the same one).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/cases/{id}",
            get(api::cases::get_case)
                .put(api::cases::put_case)
                .patch(api::cases::patch_case),
        )
        .route("/cases:batch", post(api::cases::batch))
        .route("/cases/{id}/trace", get(api::trace::get_trace))
        .route("/cases/{id}/messages", post(api::messages::create))
        .route("/invites", get(api::invites::list))
        .route("/invites/{id}", get(api::invites::get_one))
        .route(
            "/suppressions",
            get(api::suppressions::list).post(api::suppressions::create),
        )
        .route(
            "/suppressions/{phone}",
            axum::routing::delete(api::suppressions::delete),
        )
        .route("/accounts", get(api::accounts::list))
        .route("/accounts/{id}/resume", post(api::accounts::resume))
        .route("/distributions", get(api::distributions::list))
        .route("/distributions/{id}", get(api::distributions::get_one))
        .route(
            "/distributions/{id}/preview",
            get(api::distributions::preview),
        )
        .route(
            "/distributions/{id}/test",
            post(api::distributions::test_send),
        )
        .route("/surveys", get(api::surveys::list))
        .route("/surveys/{id}", get(api::surveys::get_one))
        .route("/sandbox/messages", get(api::sandbox::list))
        .route("/analytics", get(api::analytics::get_analytics))
        .fallback(api::not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/webhooks/whatsapp",
            get(webhook::verify).post(webhook::receive),
        )
        .route(
            "/s/{token}",
            get(survey_page::show).post(survey_page::submit_form),
        )
        .route("/s/{token}/answers", post(survey_page::submit_json))
        .route(
            "/s/{token}/unsubscribe",
            get(survey_page::unsubscribe_confirm).post(survey_page::unsubscribe),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
