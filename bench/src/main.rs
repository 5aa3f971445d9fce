//! `loadgen`: drives the real closeloop service (one or several child processes) against the
//! in-process Cloud API mock, on loopback only, and reports throughput, latency,
//! case-to-message time, CPU and peak memory as a markdown table. See bench/README.md.

mod mock;
mod phases;
mod procfs;
mod report;
mod service;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};

use crate::phases::Ctx;
use crate::report::{CpuUse, PhaseReport, RunInfo};
use crate::service::Services;

/// Limits on the knobs, so every run ends by itself in bounded time.
const MAX_DURATION: Duration = Duration::from_secs(600);
const MAX_CONCURRENCY: usize = 1024;
const MAX_RATE: u32 = 100_000;
const MAX_BATCH_LINES: usize = 100_000;
/// More service processes than this on one machine only measure the scheduler.
const MAX_PROCESSES: usize = 16;
/// A request that takes longer than this is counted as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Load generator for closeloop.
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
struct Args {
    /// The service binary (build it with `cargo build --release -p closeloop`).
    #[arg(long, default_value = "target/release/closeloop")]
    closeloop: PathBuf,
    /// Closed-loop PUT concurrency levels, one phase each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Load time of each phase (e.g. 500ms, 10s, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Open-loop PUT rate (updates/s); replaces the closed-loop concurrency sweep.
    #[arg(long)]
    rate: Option<u32>,
    /// Most outstanding PUTs in open-loop mode.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Lines per NDJSON batch.
    #[arg(long, default_value_t = 500)]
    batch_lines: usize,
    /// Concurrent batch senders.
    #[arg(long, default_value_t = 4)]
    batch_tasks: usize,
    /// Which phases run.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    mode: Mode,
    /// Longest wait, after each phase, for its invitations to arrive at the mock.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Where the markdown report is written (its directory is created).
    #[arg(long, default_value = "bench/out/results.md")]
    out: PathBuf,
    /// The service's database URL (an existing PostgreSQL database, say); default: a fresh
    /// SQLite file in the temp directory.
    #[arg(long)]
    database: Option<String>,
    /// `closeloop serve` processes sharing the database (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    processes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Single-case PUTs only (closed loop, or open loop with --rate).
    Put,
    /// NDJSON batches only.
    Batch,
    /// PUTs, then batches.
    All,
}

/// `500ms`, `10s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

impl Args {
    fn check(&self) -> anyhow::Result<()> {
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            bail!("--duration must be between 0 and {MAX_DURATION:?}");
        }
        if self.drain_timeout > MAX_DURATION {
            bail!("--drain-timeout must be at most {MAX_DURATION:?}");
        }
        if self
            .concurrency
            .iter()
            .any(|&c| c == 0 || c > MAX_CONCURRENCY)
        {
            bail!("--concurrency levels must be between 1 and {MAX_CONCURRENCY}");
        }
        if self.rate.is_some_and(|r| r == 0 || r > MAX_RATE) {
            bail!("--rate must be between 1 and {MAX_RATE}");
        }
        if self.max_in_flight == 0 || self.max_in_flight > MAX_CONCURRENCY {
            bail!("--max-in-flight must be between 1 and {MAX_CONCURRENCY}");
        }
        if self.batch_lines == 0 || self.batch_lines > MAX_BATCH_LINES {
            bail!("--batch-lines must be between 1 and {MAX_BATCH_LINES}");
        }
        if self.batch_tasks == 0 || self.batch_tasks > MAX_CONCURRENCY {
            bail!("--batch-tasks must be between 1 and {MAX_CONCURRENCY}");
        }
        if self.processes == 0 || self.processes > MAX_PROCESSES {
            bail!("--processes must be between 1 and {MAX_PROCESSES}");
        }
        // SQLite is one process's database (one writer connection, no cross-process claims).
        if self.processes > 1 && !self.on_postgres() {
            bail!("--processes above 1 needs a PostgreSQL --database");
        }
        Ok(())
    }

    fn on_postgres(&self) -> bool {
        self.database.as_deref().is_some_and(service::is_postgres)
    }
}

/// One load phase to run.
enum Phase {
    Closed(usize),
    Open(u32),
    Batch,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.check()?;
    let out_dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into());

    // no_proxy: a proxy from the environment must never see (or reroute) loopback traffic.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .build()
        .context("cannot build the HTTP client")?;
    let mock = mock::start().await;
    let mut services = Services::start(
        &args.closeloop,
        &mock.api_base(),
        args.database.as_deref(),
        args.processes,
        &out_dir,
        &http,
    )
    .await?;
    mock.set_webhook_url(&format!("{}/webhooks/whatsapp", services.first().url));
    for service in &services.processes {
        eprintln!(
            "loadgen: service pid {} on {} (config in {}, database {}), mock at {}",
            service.pid(),
            service.url,
            services.dir().display(),
            services.database,
            mock.api_base()
        );
    }

    let ctx = Arc::new(Ctx {
        http,
        api: services
            .processes
            .iter()
            .map(|s| format!("{}/api/v1", s.url))
            .collect(),
        seq: workload::Sequence::default(),
    });
    let mut plan = Vec::new();
    if args.mode != Mode::Batch {
        match args.rate {
            Some(rate) => plan.push(Phase::Open(rate)),
            None => plan.extend(args.concurrency.iter().map(|&c| Phase::Closed(c))),
        }
    }
    if args.mode != Mode::Put {
        plan.push(Phase::Batch);
    }

    let mut reports = Vec::new();
    for phase in plan {
        let report = run_phase(&ctx, &mock, &args, &phase, &services.pids()).await?;
        eprintln!(
            "loadgen: {} {}: {} requests, {} errors, {}/{} invitations",
            report.name,
            report.load,
            report.tally.requests,
            report.tally.errors,
            report.delivery.arrived,
            report.delivery.expected
        );
        reports.push(report);
        if let Some(dead) = services.dead() {
            bail!(
                "the service (pid {}) died during the run; its log:\n{}",
                dead.pid(),
                service::tail(&dead.log)
            );
        }
    }

    let info = RunInfo {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average,
        memory: services.pids().into_iter().map(procfs::memory).collect(),
        service_logs: services
            .processes
            .iter()
            .map(|s| s.log.display().to_string())
            .collect(),
        database: match &args.database {
            Some(url) => format!("`{url}`"),
            None => "a fresh SQLite file".into(),
        },
    };
    let markdown = report::markdown(&reports, &info);
    print!("{markdown}");
    std::fs::write(&args.out, &markdown)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("loadgen: report written to {}", args.out.display());
    // The service processes are killed when `services` drops here.
    Ok(())
}

/// Runs one phase, then waits for its invitations.
async fn run_phase(
    ctx: &Arc<Ctx>,
    mock: &closeloop_wamock::MockCloud,
    args: &Args,
    phase: &Phase,
    pids: &[u32],
) -> anyhow::Result<PhaseReport> {
    let seen_before = mock.received().len();
    let service_cpu = CpuClock::start(|| procfs::cpu_seconds_of(pids));
    let postgres_cpu = args
        .on_postgres()
        .then(|| CpuClock::start(|| procfs::cpu_seconds_named("postgres")));
    let bench_cpu = procfs::cpu_seconds("self");
    let machine_cpu = procfs::machine_cpu_seconds();
    let start = Instant::now();
    let (name, load, tally) = match *phase {
        Phase::Closed(c) => (
            "PUT closed",
            format!("C={c}"),
            phases::put_closed(ctx, c, args.duration).await,
        ),
        Phase::Open(rate) => (
            "PUT open",
            format!("{rate}/s"),
            phases::put_open(ctx, rate, args.duration, args.max_in_flight).await?,
        ),
        Phase::Batch => (
            "batch",
            format!("{}×{} lines", args.batch_tasks, args.batch_lines),
            phases::batch(ctx, args.batch_tasks, args.batch_lines, args.duration).await,
        ),
    };
    let load_end = Instant::now();
    let wall = load_end - start;
    let since = |now: Option<f64>, before: Option<f64>| Some(now? - before?);
    let bench_cpu = since(procfs::cpu_seconds("self"), bench_cpu);
    let machine_cpu = since(procfs::machine_cpu_seconds(), machine_cpu);
    let service_cpu = service_cpu.lap();
    let postgres_cpu = postgres_cpu.map(CpuClock::lap);
    let delivery = phases::drain(
        mock,
        &tally.expected,
        seen_before,
        load_end,
        args.drain_timeout,
    )
    .await;
    Ok(PhaseReport {
        name: name.into(),
        load,
        open_loop: matches!(phase, Phase::Open(_)),
        wall,
        tally,
        delivery,
        service_cpu: service_cpu.stop(),
        postgres_cpu: postgres_cpu.map(CpuClock::stop),
        bench_cpu,
        machine_cpu,
    })
}

/// Measures one side's CPU over a phase: [`CpuClock::lap`] at the end of the load,
/// [`CpuClock::stop`] after the drain. `read` gives the CPU seconds used so far.
struct CpuClock<F> {
    read: F,
    start: Option<f64>,
    load: Option<f64>,
}

impl<F: Fn() -> Option<f64>> CpuClock<F> {
    fn start(read: F) -> CpuClock<F> {
        let start = read();
        CpuClock {
            read,
            start,
            load: None,
        }
    }

    fn since_start(&self) -> Option<f64> {
        Some((self.read)()? - self.start?)
    }

    fn lap(mut self) -> CpuClock<F> {
        self.load = self.since_start();
        self
    }

    fn stop(self) -> CpuUse {
        CpuUse {
            load: self.load,
            through_drain: self.since_start(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_processes_need_postgres() {
        let args = |extra: &[&str]| {
            let mut argv = vec!["loadgen"];
            argv.extend_from_slice(extra);
            Args::parse_from(argv)
        };
        assert!(args(&[]).check().is_ok());
        assert!(args(&["--processes", "2"]).check().is_err());
        assert!(args(&["--processes", "0"]).check().is_err());
        let on_postgres = args(&["--processes", "2", "--database", "postgres://u@h/db"]);
        assert!(on_postgres.on_postgres() && on_postgres.check().is_ok());
        assert!(!args(&["--database", "sqlite:///tmp/x.db"]).on_postgres());
    }

    #[test]
    fn cpu_clock_splits_load_and_drain() {
        let ticks = std::cell::Cell::new(0.0);
        let clock = CpuClock::start(|| {
            ticks.set(ticks.get() + 1.0);
            Some(ticks.get())
        });
        let used = clock.lap().stop();
        assert_eq!((used.load, used.through_drain), (Some(1.0), Some(2.0)));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
