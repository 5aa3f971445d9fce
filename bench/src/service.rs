//! The service under test as child processes: the release binary, one temp config and a
//! database (a fresh SQLite file, or the PostgreSQL database given), each process on a free
//! loopback port. [`Service`] kills its child when dropped, so an error anywhere in the run
//! does not leave a server behind.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::mock;

/// How long the service may take to answer `/readyz` (migrations on a fresh file included).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `url` names a PostgreSQL database (the prefixes the store accepts).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The service processes sharing one config and one database. Field order matters: the
/// children are killed (in their `Drop`) before the temp directory holding a SQLite database
/// is removed.
pub struct Services {
    /// In start order; the first one takes the mock's webhooks and the batches.
    pub processes: Vec<Service>,
    /// The database URL every process was given.
    pub database: String,
    dir: tempfile::TempDir,
}

impl Services {
    /// Writes the config and starts `count` processes on `database` (default: a fresh SQLite
    /// file in the temp directory). The first must answer `/readyz` before the others start,
    /// so only it runs the migrations. Logs go to `service.log`, `service-2.log`, … in `log_dir`.
    pub async fn start(
        binary: &Path,
        api_base: &str,
        database: Option<&str>,
        count: usize,
        log_dir: &Path,
        http: &reqwest::Client,
    ) -> anyhow::Result<Services> {
        if count == 0 {
            bail!("at least one service process is needed");
        }
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
        let addrs = free_loopback_addrs(count)?;
        let first_url = format!("http://{}", addrs[0]);
        // One config for all, as in production: survey links point at the first process.
        let config = dir.path().join("bench.yaml");
        std::fs::write(&config, mock::config_yaml(api_base, &first_url))
            .with_context(|| format!("cannot write {}", config.display()))?;
        let database = database.map_or_else(
            || format!("sqlite://{}", dir.path().join("bench.db").display()),
            str::to_string,
        );
        let mut processes = Vec::with_capacity(count);
        for (i, addr) in addrs.into_iter().enumerate() {
            let log = log_dir.join(log_name(i));
            let launch = Launch {
                binary,
                config: &config,
                database: &database,
                addr,
            };
            processes.push(Service::start(&launch, log, http).await?);
        }
        Ok(Services {
            processes,
            database,
            dir,
        })
    }

    /// The first process (webhooks, batches).
    pub fn first(&self) -> &Service {
        &self.processes[0]
    }

    /// The children's process ids (for `/proc`).
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(Service::pid).collect()
    }

    /// The temp directory with the config (and the SQLite database, if that is used).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The first process that is no longer running, if any (a crash mid-run should be
    /// reported, not hidden behind connection errors).
    pub fn dead(&mut self) -> Option<&Service> {
        let i = self.processes.iter_mut().position(|p| !p.alive())?;
        Some(&self.processes[i])
    }
}

/// `service.log` for the first process (the name the README gives), `service-N.log` after.
fn log_name(index: usize) -> String {
    match index {
        0 => "service.log".into(),
        i => format!("service-{}.log", i + 1),
    }
}

/// What every process is started with.
struct Launch<'a> {
    binary: &'a Path,
    config: &'a Path,
    database: &'a str,
    addr: SocketAddr,
}

/// One running service process.
pub struct Service {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where the child's stdout and stderr go.
    pub log: PathBuf,
}

impl Service {
    /// Starts `binary serve …` and waits until `/readyz` answers 200.
    async fn start(
        launch: &Launch<'_>,
        log: PathBuf,
        http: &reqwest::Client,
    ) -> anyhow::Result<Service> {
        let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("cannot share the log file")?;
        let child = Command::new(launch.binary)
            .arg("serve")
            .arg("--config")
            .arg(launch.config)
            .arg("--database")
            .arg(launch.database)
            .arg("--listen")
            .arg(launch.addr.to_string())
            .env("WA_TOKEN", mock::TOKEN)
            .env("WA_APP_SECRET", mock::APP_SECRET)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", launch.binary.display()))?;
        let mut service = Service {
            child,
            url: format!("http://{}", launch.addr),
            log,
        };
        service.wait_ready(http).await?;
        Ok(service)
    }

    /// The child's process id (for `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
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

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SIGKILL, not a graceful stop: the database is thrown away afterwards (or, for a
        // PostgreSQL database, by whoever created it), and leases let go by expiring.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `count` distinct ports that were free a moment ago. The probes stay bound until all are
/// picked, so the kernel cannot hand out one port twice; the services bind them right after,
/// and the window in which another process could take one is small (the readiness check
/// would report it).
fn free_loopback_addrs(count: usize) -> anyhow::Result<Vec<SocketAddr>> {
    let probes = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot bind 127.0.0.1:0"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    probes
        .iter()
        .map(|p| p.local_addr().context("no local address"))
        .collect()
}

/// The last lines of the service log, for error messages.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised() {
        assert!(is_postgres("postgres://postgres@127.0.0.1:5432/bench"));
        assert!(is_postgres("postgresql://u@h/db"));
        assert!(!is_postgres("sqlite:///tmp/bench.db"));
    }

    #[test]
    fn logs_are_numbered_from_the_second_process() {
        assert_eq!(log_name(0), "service.log");
        assert_eq!(log_name(1), "service-2.log");
    }

    #[test]
    fn free_ports_are_distinct() {
        let addrs = free_loopback_addrs(4).expect("loopback ports");
        let mut ports: Vec<u16> = addrs.iter().map(SocketAddr::port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 4);
    }
}
