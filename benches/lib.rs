//! Shared helpers for the ringlog benchmarks (see `benches/README.md`).

use std::time::Duration;

/// Percentiles of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Mean.
    pub mean: f64,
}

/// Sorts `v` and reads its percentiles.
pub fn percentiles(v: &mut [f64]) -> Percentiles {
    assert!(!v.is_empty());
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        mean: v.iter().sum::<f64>() / v.len() as f64,
    }
}

/// CPU time (user + system) this thread has used.
pub fn thread_cpu_time() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time (user + system) the whole process has used.
pub fn process_cpu_time() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer and clock id.
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used by the thread named `name` in this process, read from
/// `/proc/self/task/*/stat` (utime + stime, in clock ticks).
pub fn named_thread_cpu_time(name: &str) -> Option<Duration> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    for e in std::fs::read_dir("/proc/self/task").ok()? {
        let p = e.ok()?.path();
        let comm = std::fs::read_to_string(p.join("comm")).ok()?;
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(p.join("stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            return Some(Duration::from_nanos(ticks * 1_000_000_000 / hz));
        }
    }
    None
}
