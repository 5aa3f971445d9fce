//! The results as markdown: one table for the request side, one for case-to-message, then
//! memory and the run's parameters. Latencies are printed in milliseconds.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::phases::{Delivery, Tally};
use crate::procfs::Memory;

/// The SLO the open-loop phase is judged against (issue: 1,000 updates/s).
const PUT_P99_TARGET_MS: f64 = 25.0;
const C2M_P99_TARGET_MS: f64 = 250.0;

/// One finished phase.
pub struct PhaseReport {
    /// e.g. `PUT closed`, `PUT open`, `batch`.
    pub name: String,
    /// e.g. `C=16`, `1000/s`, `4×500 lines`.
    pub load: String,
    /// Whether this phase is judged against the open-loop targets.
    pub open_loop: bool,
    /// Wall time of the load (without the drain).
    pub wall: Duration,
    pub tally: Tally,
    pub delivery: Delivery,
    /// CPU the service processes used, summed over them.
    pub service_cpu: CpuUse,
    /// CPU the PostgreSQL server used (every `postgres` process), when the service runs on
    /// PostgreSQL.
    pub postgres_cpu: Option<CpuUse>,
    /// CPU seconds this process (client and mock) used during the load.
    pub bench_cpu: Option<f64>,
    /// CPU seconds the whole machine was busy during the load (all cores).
    pub machine_cpu: Option<f64>,
}

/// CPU seconds one side used in a phase, if `/proc` told. Two spans: the load alone (for
/// the share of a core while loaded), and the load plus the drain, for the cost per update:
/// the pipeline keeps working off its backlog after the load stops, and that work belongs
/// to the updates of the phase.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    pub load: Option<f64>,
    pub through_drain: Option<f64>,
}

/// The run's context, printed under the tables.
pub struct RunInfo {
    pub command: String,
    pub cores: usize,
    pub load_average: String,
    /// One entry per service process, in start order.
    pub memory: Vec<Option<Memory>>,
    /// The service processes' log files.
    pub service_logs: Vec<String>,
    /// The database the service ran on (a fresh SQLite file unless `--database` was given).
    pub database: String,
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> String {
    if histogram.is_empty() {
        return "–".into();
    }
    format!(
        "{:.2}",
        histogram.value_at_quantile(quantile) as f64 / 1000.0
    )
}

fn max_ms(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        return "–".into();
    }
    format!("{:.2}", histogram.max() as f64 / 1000.0)
}

fn percent_of_core(cpu: Option<f64>, wall: Duration) -> String {
    match cpu {
        Some(seconds) if wall > Duration::ZERO => {
            format!("{:.0}%", 100.0 * seconds / wall.as_secs_f64())
        }
        _ => "?".into(),
    }
}

/// CPU milliseconds per accepted update, over the load and the drain.
fn ms_per_update(cpu: CpuUse, accepted: u64) -> String {
    match cpu.through_drain {
        Some(seconds) if accepted > 0 => format!("{:.2}", 1000.0 * seconds / accepted as f64),
        _ => "?".into(),
    }
}

/// The PostgreSQL columns of a phase's row (empty when the run is not on PostgreSQL).
fn postgres_cells(p: &PhaseReport) -> String {
    match p.postgres_cpu {
        Some(cpu) => format!(
            " {} | {} |",
            percent_of_core(cpu.load, p.wall),
            ms_per_update(cpu, p.tally.accepted)
        ),
        None => String::new(),
    }
}

/// The whole report.
pub fn markdown(phases: &[PhaseReport], info: &RunInfo) -> String {
    let mut out = String::new();
    let on_postgres = phases.iter().any(|p| p.postgres_cpu.is_some());
    let (postgres_head, postgres_rule) = if on_postgres {
        (" PostgreSQL CPU | PostgreSQL CPU ms/update |", "---:|---:|")
    } else {
        ("", "")
    };
    let _ = writeln!(out, "## closeloop load benchmark\n");
    let _ = writeln!(
        out,
        "| phase | load | wall s | requests | 2xx | errors | accepted updates/s | p50 ms | p99 ms | max ms | service CPU | service CPU ms/update |{postgres_head} loadgen+mock CPU | machine CPU |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|{postgres_rule}---:|---:|"
    );
    for p in phases {
        let t = &p.tally;
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |{} {} | {} |",
            p.name,
            p.load,
            p.wall.as_secs_f64(),
            t.requests,
            t.ok,
            t.errors,
            t.accepted as f64 / p.wall.as_secs_f64().max(1e-9),
            ms(&t.latency, 0.50),
            ms(&t.latency, 0.99),
            max_ms(&t.latency),
            percent_of_core(p.service_cpu.load, p.wall),
            ms_per_update(p.service_cpu, t.accepted),
            postgres_cells(p),
            percent_of_core(p.bench_cpu, p.wall),
            percent_of_core(p.machine_cpu, p.wall),
        );
    }
    let _ = writeln!(
        out,
        "\n### Case to message (PUT answered → Cloud API mock received)\n"
    );
    let _ = writeln!(
        out,
        "| phase | load | invitations expected | arrived | duplicates | arrived before answer | p50 ms | p99 ms | max ms | last arrival after load end s |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in phases {
        let d = &p.delivery;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            p.name,
            p.load,
            d.expected,
            d.arrived,
            d.duplicates,
            d.early,
            ms(&d.latency, 0.50),
            ms(&d.latency, 0.99),
            max_ms(&d.latency),
            d.tail.as_secs_f64(),
        );
    }
    for p in phases.iter().filter(|p| p.open_loop) {
        let put_p99 = p.tally.latency.value_at_quantile(0.99) as f64 / 1000.0;
        let c2m_p99 = p.delivery.latency.value_at_quantile(0.99) as f64 / 1000.0;
        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        let _ = writeln!(
            out,
            "\nTarget at {}: p99 PUT ≤ {PUT_P99_TARGET_MS} ms: {} ({put_p99:.2} ms); p99 case-to-message ≤ {C2M_P99_TARGET_MS} ms: {} ({c2m_p99:.2} ms); all invitations arrived: {}.",
            p.load,
            verdict(put_p99 <= PUT_P99_TARGET_MS && p.tally.errors == 0),
            verdict(c2m_p99 <= C2M_P99_TARGET_MS),
            verdict(p.delivery.arrived == p.delivery.expected),
        );
    }
    let errors: Vec<String> = phases
        .iter()
        .filter(|p| !p.tally.error_samples.is_empty())
        .map(|p| {
            format!(
                "{} {}: {}",
                p.name,
                p.load,
                p.tally.error_samples.join("; ")
            )
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nErrors seen: {}", errors.join(" · "));
    }
    let _ = writeln!(out, "\n{}", memory_line(&info.memory));
    let _ = writeln!(
        out,
        "\nRun: `{}` on {} cores (load average before: {}); database {}, {} service process(es); service log(s): {}.",
        info.command,
        info.cores,
        info.load_average,
        info.database,
        info.memory.len(),
        info.service_logs.join(", ")
    );
    out
}

/// The service's memory: the largest per-process peak (each process has its own limit to
/// meet, so a sum would not compare with the single-process target), and every process's
/// peak when there are several.
fn memory_line(memory: &[Option<Memory>]) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let known: Vec<Memory> = memory.iter().flatten().copied().collect();
    let (Some(peak), Some(current)) = (
        known.iter().map(|m| m.peak_kib).max(),
        known.iter().map(|m| m.current_kib).max(),
    ) else {
        return "Service memory: unknown (no /proc).".into();
    };
    let mut line = format!(
        "Service memory at the end: peak RSS (VmHWM) {:.1} MiB, RSS (VmRSS) {:.1} MiB",
        mib(peak),
        mib(current)
    );
    if memory.len() > 1 {
        let each: Vec<String> = memory
            .iter()
            .map(|m| m.map_or_else(|| "?".into(), |m| format!("{:.1}", mib(m.peak_kib))))
            .collect();
        line += &format!(
            " (largest of {} processes; peaks {} MiB)",
            memory.len(),
            each.join(" / ")
        );
    }
    line + "."
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(peak_kib: u64, current_kib: u64) -> Option<Memory> {
        Some(Memory {
            peak_kib,
            current_kib,
        })
    }

    #[test]
    fn memory_reports_the_largest_peak() {
        assert_eq!(
            memory_line(&[memory(2048, 1024)]),
            "Service memory at the end: peak RSS (VmHWM) 2.0 MiB, RSS (VmRSS) 1.0 MiB."
        );
        assert_eq!(
            memory_line(&[memory(2048, 1024), memory(3072, 512), None]),
            "Service memory at the end: peak RSS (VmHWM) 3.0 MiB, RSS (VmRSS) 1.0 MiB (largest of 3 processes; peaks 2.0 / 3.0 / ? MiB)."
        );
        assert_eq!(memory_line(&[None]), "Service memory: unknown (no /proc).");
    }

    #[test]
    fn cost_per_update_uses_the_drain_too() {
        let cpu = CpuUse {
            load: Some(1.0),
            through_drain: Some(1.5),
        };
        assert_eq!(ms_per_update(cpu, 1000), "1.50");
        assert_eq!(ms_per_update(cpu, 0), "?");
        assert_eq!(ms_per_update(CpuUse::default(), 10), "?");
    }
}
