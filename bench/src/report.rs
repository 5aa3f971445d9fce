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
    /// CPU seconds the service used during the load, if `/proc` told.
    pub service_cpu: Option<f64>,
    /// CPU seconds this process (client and mock) used during the load.
    pub bench_cpu: Option<f64>,
}

/// The run's context, printed under the tables.
pub struct RunInfo {
    pub command: String,
    pub cores: usize,
    pub load_average: String,
    pub memory: Option<Memory>,
    pub service_log: String,
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

/// The whole report.
pub fn markdown(phases: &[PhaseReport], info: &RunInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## closeloop load benchmark\n");
    let _ = writeln!(
        out,
        "| phase | load | wall s | requests | 2xx | errors | accepted updates/s | p50 ms | p99 ms | max ms | service CPU | loadgen+mock CPU |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in phases {
        let t = &p.tally;
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
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
            percent_of_core(p.service_cpu, p.wall),
            percent_of_core(p.bench_cpu, p.wall),
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
    let _ = writeln!(out);
    match info.memory {
        Some(m) => {
            let _ = writeln!(
                out,
                "Service memory at the end: peak RSS (VmHWM) {:.1} MiB, RSS (VmRSS) {:.1} MiB.",
                m.peak_kib as f64 / 1024.0,
                m.current_kib as f64 / 1024.0
            );
        }
        None => {
            let _ = writeln!(out, "Service memory: unknown (no /proc).");
        }
    }
    let _ = writeln!(
        out,
        "\nRun: `{}` on {} cores (load average before: {}); service log: {}.",
        info.command, info.cores, info.load_average, info.service_log
    );
    out
}
