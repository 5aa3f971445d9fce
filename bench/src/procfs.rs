//! What `/proc` tells about a process: memory high-water mark and CPU time. Linux only; on
//! other systems the numbers are reported as unknown rather than failing the run.

/// Kernel clock ticks per second for `/proc/<pid>/stat` times. `USER_HZ` is 100 on every
/// Linux architecture Rust targets, and reading it via `sysconf` would need `unsafe`.
const TICKS_PER_SECOND: f64 = 100.0;

/// `VmHWM` (peak resident set) and `VmRSS` (current), in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub peak_kib: u64,
    pub current_kib: u64,
}

/// The memory of process `pid`, if `/proc` has it.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(Memory {
        peak_kib: field("VmHWM:")?,
        current_kib: field("VmRSS:")?,
    })
}

/// The CPU times of `/proc/<pid>/stat`, in seconds: the process's own user and system
/// time, and those of the children it has waited for (`cutime`, `cstime`).
struct Times {
    own: f64,
    reaped_children: f64,
}

fn times(pid: &str) -> Option<Times> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14 to 17 of the line, 12 to 15 after the name.
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some(Times {
        own: (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND,
        reaped_children: (ticks(13)? + ticks(14)?) / TICKS_PER_SECOND,
    })
}

/// User plus system CPU seconds used so far by `pid` (`"self"` for this process).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    times(pid).map(|t| t.own)
}

/// The summed [`cpu_seconds`] of several processes; unknown if any of them is.
pub fn cpu_seconds_of(pids: &[u32]) -> Option<f64> {
    pids.iter().map(|pid| cpu_seconds(&pid.to_string())).sum()
}

/// CPU seconds the whole machine has been busy (all cores: user, nice, system, irq,
/// softirq, steal; not idle or iowait), from `/proc/stat`. Compared with the processes the
/// run measures, it shows how much other load (a compiler, another test suite) took.
pub fn machine_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| ticks.get(i).copied().unwrap_or(0.0))
        .sum::<f64>();
    Some(busy / TICKS_PER_SECOND)
}

/// The process ids whose `/proc/<pid>/comm` is `name` (every PostgreSQL server process has
/// `postgres` there, whatever its title in `ps`).
pub fn pids_named(name: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// CPU seconds used so far by every process named `name`, plus the children they have
/// reaped; unknown if there is no such process. PostgreSQL forks a backend per connection
/// and short-lived workers (autovacuum); one that exits during a phase takes its CPU time out
/// of a sum over live processes, but the postmaster's `cutime`/`cstime` gain it when it
/// reaps the child, so the difference of two such sums still counts it.
pub fn cpu_seconds_named(name: &str) -> Option<f64> {
    let per_process: Vec<f64> = pids_named(name)
        .iter()
        .filter_map(|pid| times(pid))
        .map(|t| t.own + t.reaped_children)
        .collect();
    (!per_process.is_empty()).then(|| per_process.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let memory = memory(me).expect("VmHWM and VmRSS on Linux");
        assert!(memory.peak_kib >= memory.current_kib && memory.current_kib > 0);
        assert!(cpu_seconds("self").is_some());
        assert!(cpu_seconds_of(&[me, me]).is_some());
        assert!(machine_cpu_seconds().is_some_and(|s| s > 0.0));
    }

    #[test]
    fn finds_processes_by_command_name() {
        let comm = std::fs::read_to_string("/proc/self/comm").expect("comm on Linux");
        let me = std::process::id().to_string();
        assert!(pids_named(comm.trim_end()).contains(&me));
        assert!(cpu_seconds_named(comm.trim_end()).is_some());
        assert!(cpu_seconds_named("no-such-command-name").is_none());
    }
}
