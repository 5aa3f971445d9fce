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

/// User plus system CPU seconds used so far by `pid` (`"self"` for this process).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
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
    }
}
