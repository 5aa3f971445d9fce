//! The running service: shared state, the HTTP router, and start/stop of the server and
//! its workers. `serve`, `demo` and the integration tests all start it through [`start`].

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use closeloop_store::{Backend, Store, WalCheckpoint};
use closeloop_whatsapp::client::CloudClient;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub use crate::http::server::HttpLimits;
pub use crate::runtime::clock::Clock;
pub use crate::runtime::metrics::Metrics;
pub use crate::runtime::secret::SecretKey;

use crate::http::{AppState, Services};
use crate::runtime::ids::new_id;
use crate::runtime::intake::IntakeGate;
use crate::runtime::live::LiveConfig;
use crate::runtime::rate::SendWindows;
use crate::runtime::sandbox::SandboxLog;
use crate::usecase::{ingest, Context};
use crate::worker;

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
    /// The key secrets written through the API are sealed with (`CLOSELOOP_SECRET_KEY`);
    /// without it such a write answers 422, and a database holding sealed secrets is
    /// refused.
    pub secret_key: Option<SecretKey>,
    /// The HTTP server's connection limits and timeouts.
    pub http: HttpLimits,
    /// How much SQLite log a commit leaves before it is copied into the database.
    pub wal_checkpoint: WalCheckpoint,
}

/// A started service.
pub struct Running {
    /// The address it listens on (the real port when 0 was asked).
    pub addr: SocketAddr,
    ctx: Arc<Context>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Opens the database, applies migrations, binds the listener and starts the HTTP server
/// and the workers.
///
/// # Errors
/// When the database cannot be opened or migrated, the config with the API's changes does
/// not load (a stored secret does not open without the key or with this one), the address is not loopback while no users are configured (the API would be
/// open to the network), or it cannot be bound.
pub async fn start(options: StartOptions) -> anyhow::Result<Running> {
    let store = Store::open_with(&options.database_url, options.wal_checkpoint).await?;
    store.migrate().await?;
    let taken_back = store.take_back_leases().await?;
    if taken_back > 0 {
        tracing::info!(
            leases = taken_back,
            "took back the leases a previous process left; their work is due now"
        );
    }
    let (live, warnings) = LiveConfig::open(
        options.document,
        options.secret_key,
        &store,
        options.clock.now(),
    )
    .await?;
    for warning in &warnings {
        tracing::warn!(path = %warning.path, "{}", warning.message);
    }
    if live.get().users.is_empty() && !options.listen.ip().is_loopback() {
        anyhow::bail!("refusing to listen on {} with no users configured: the API would be open to the network; add users to the config or listen on 127.0.0.1", options.listen);
    }
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let (ingest, ingest_queue) = ingest::channel();
    let ctx = Arc::new(Context {
        live,
        store,
        metrics: Metrics::new(),
        clock: options.clock,
        wake_events: Notify::new(),
        wake_dispatch: Notify::new(),
        ingest,
    });
    ctx.store
        .set_queue_rules(&ctx.live.snapshot().queue_rules, ctx.clock.now_ms())
        .await?;
    let intake = Arc::new(IntakeGate::default());
    let sandbox = Arc::new(SandboxLog::default());
    let (shutdown, stop) = watch::channel(false);
    let workers = worker::Workers {
        ctx: ctx.clone(),
        instance: new_id("proc"),
        intake: intake.clone(),
        dispatch: worker::dispatch::Dispatcher {
            ctx: ctx.clone(),
            cloud: CloudClient::new(std::time::Duration::from_secs(20)),
            sandbox: sandbox.clone(),
            windows: Arc::new(SendWindows::default()),
        },
    };
    let mut tasks = workers.spawn_all(&stop);
    tasks.push(spawn_group_commit(ctx.clone(), ingest_queue, stop.clone())?);
    let state: AppState = Arc::new(Services {
        ctx: ctx.clone(),
        intake,
        sandbox,
        openapi: OnceLock::new(),
        http: options.http,
    });
    let app = crate::http::router(state);
    tasks.push(tokio::spawn(crate::http::server::serve(
        listener,
        app,
        options.http,
        stop.clone(),
    )));
    tracing::info!(%addr, "closeloop listening");
    Ok(Running {
        addr,
        ctx,
        shutdown,
        tasks,
    })
}

/// Starts the group-commit writer. On SQLite it gets a thread of its own: its statements
/// run in place on the writing connection, and there they keep no HTTP or worker task
/// waiting. PostgreSQL's statements wait on the network, so it is one more task.
fn spawn_group_commit(
    ctx: Arc<Context>,
    queue: ingest::IngestQueue,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    if ctx.store.backend() != Backend::Sqlite {
        return Ok(tokio::spawn(ingest::run(ctx, queue, stop)));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ended, end) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("closeloop-writer".into())
        .spawn(move || {
            runtime.block_on(ingest::run(ctx, queue, stop));
            let _ = ended.send(());
        })?;
    Ok(tokio::spawn(async move {
        let _ = end.await;
    }))
}

impl Running {
    /// Stops accepting requests, lets workers finish the unit of work they are in
    /// (anything unfinished stays leased and is reclaimed after a restart), and closes
    /// the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.ctx.wake_events.notify_waiters();
        self.ctx.wake_dispatch.notify_waiters();
        for task in self.tasks {
            let _ = task.await;
        }
        self.ctx.store.close().await;
    }

    /// The service's metrics (benchmarks watch them).
    pub fn metrics(&self) -> &Metrics {
        &self.ctx.metrics
    }

    /// The base URL of the running service.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
