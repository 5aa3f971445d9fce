//! The accept loop in front of the router: a cap on concurrent connections, a back-off when
//! `accept` fails (out of file descriptors), and a watchdog per connection that closes one
//! whose request head arrives too slowly or that sits idle between requests.
//!
//! `axum::serve` has none of these: a client sending its headers a byte a second, or a
//! thousand idle keep-alive sockets, held their connections for ever, and under
//! `ulimit -n 1024` starved `accept` of descriptors until `/healthz` stopped answering.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt as _;

/// The connection limits and timeouts of the HTTP server.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Connections served at once; further clients wait in the listen backlog until one
    /// closes (they are not accepted and dropped, so nothing they sent is lost).
    pub max_connections: u32,
    /// From the first byte of a request to the end of its headers; a slower client is
    /// disconnected.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request in flight and nothing read or written for
    /// this long is closed.
    pub idle_timeout: Duration,
    /// The whole body of a request must arrive within this; otherwise 408
    /// `request_timeout`. `cases:batch`, whose body is streamed and unbounded, must
    /// instead receive each piece within it.
    pub body_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
        }
    }
}

/// How long `accept` waits after a failure that is not the client's (no descriptors left),
/// instead of spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `stop` turns true, then stops accepting, lets the
/// requests in flight finish, closes idle connections and returns when all are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit,
            _ = stop.wait_for(|s| *s) => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if client_gone(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; backing off");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            connection(stream, app, limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// An accept error that concerns one client only: accept again at once.
fn client_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Serves one connection under the watchdog.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        let in_flight = InFlight::enter(requests.clone());
        async move {
            let response = app.oneshot(request.map(axum::body::Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    // The watchdog looks often enough that a deadline is not overrun by more than a
    // quarter of the shorter timeout.
    let tick = limits
        .header_read_timeout
        .min(limits.idle_timeout)
        .div_f64(4.0)
        .max(Duration::from_millis(10));
    let mut shutting_down = false;
    loop {
        let next = activity.deadline(&limits).min(Instant::now() + tick);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !shutting_down => {
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
            () = tokio::time::sleep_until(next) => {
                if Instant::now() >= activity.deadline(&limits) {
                    tracing::debug!("closing a connection that was idle or sent its headers too slowly");
                    return;
                }
            }
        }
    }
}

/// What the watchdog knows of a connection, in milliseconds since it was accepted.
struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// When the last request finished (or the connection opened).
    idle_since: AtomicU64,
    /// The first byte read since then: a request head is arriving.
    head_started: AtomicU64,
    /// The last byte written (a response body may still be going out).
    last_write: AtomicU64,
}

/// `head_started` when no byte of a new request has arrived.
const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Activity {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_started: AtomicU64::new(NONE),
            last_write: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// When the connection is to be closed if nothing changes: never while a request is
    /// being served; the header timeout after the first byte of a head; the idle timeout
    /// after the last response otherwise.
    fn deadline(&self, limits: &HttpLimits) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Instant::now() + limits.idle_timeout;
        }
        let head = self.head_started.load(Ordering::Acquire);
        if head != NONE {
            return self.at(head) + limits.header_read_timeout;
        }
        let quiet = self
            .idle_since
            .load(Ordering::Acquire)
            .max(self.last_write.load(Ordering::Acquire));
        self.at(quiet) + limits.idle_timeout
    }

    fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self.head_started.compare_exchange(
                NONE,
                self.now(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    fn wrote(&self) {
        self.last_write.store(self.now(), Ordering::Release);
    }
}

/// A request being served on a connection; when it ends, the connection is idle again.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.head_started.store(NONE, Ordering::Release);
        activity.idle_since.store(activity.now(), Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, noting reads and writes for the watchdog.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
