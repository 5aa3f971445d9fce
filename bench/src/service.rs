//! The service under test as a child process: the release binary, a temp config and a fresh
//! SQLite file, on a free loopback port. [`Service`] kills the child when dropped, so an
//! error anywhere in the run does not leave a server behind.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::mock;

/// How long the service may take to answer `/readyz` (migrations on a fresh file included).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running service. Field order matters: the child is killed (in `Drop`) before the temp
/// directory holding its database is removed.
pub struct Service {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where the child's stdout and stderr go.
    pub log: PathBuf,
    dir: tempfile::TempDir,
}

impl Service {
    /// Writes the config, starts `binary serve …` and waits until `/readyz` answers 200.
    pub async fn start(
        binary: &Path,
        api_base: &str,
        log: PathBuf,
        http: &reqwest::Client,
    ) -> anyhow::Result<Service> {
        if !binary.is_file() {
            bail!(
                "no service binary at {} (build it with `cargo build --release -p closeloop`, or pass --closeloop)",
                binary.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("closeloop-bench-")
            .tempdir()
            .context("cannot create a temp directory")?;
        let addr = free_loopback_addr()?;
        let url = format!("http://{addr}");
        let config = dir.path().join("bench.yaml");
        std::fs::write(&config, mock::config_yaml(api_base, &url))
            .with_context(|| format!("cannot write {}", config.display()))?;
        let database = format!("sqlite://{}", dir.path().join("bench.db").display());
        let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("cannot share the log file")?;
        let child = Command::new(binary)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--database")
            .arg(&database)
            .arg("--listen")
            .arg(addr.to_string())
            .env("WA_TOKEN", mock::TOKEN)
            .env("WA_APP_SECRET", mock::APP_SECRET)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut service = Service {
            child,
            url,
            log,
            dir,
        };
        service.wait_ready(http).await?;
        Ok(service)
    }

    /// The child's process id (for `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp directory with the config and the database.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let readyz = format!("{}/readyz", self.url);
        loop {
            if let Some(status) = self.child.try_wait().context("cannot poll the service")? {
                bail!(
                    "the service exited during startup ({status}); its log:\n{}",
                    tail(&self.log)
                );
            }
            if let Ok(response) = http.get(&readyz).send().await {
                if response.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "the service did not become ready in {READY_TIMEOUT:?}; its log:\n{}",
                    tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the child is still running (a crash mid-run should be reported, not hidden
    /// behind connection errors).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SIGKILL, not a graceful stop: the database is thrown away with the temp directory.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago. The service binds it right after; the window in which
/// another process could take it is small and the readiness check would report it.
fn free_loopback_addr() -> anyhow::Result<SocketAddr> {
    let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot bind 127.0.0.1:0")?;
    probe.local_addr().context("no local address")
}

/// The last lines of the service log, for error messages.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
