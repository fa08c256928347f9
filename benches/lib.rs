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

/// Scheduler accounting for a set of threads, from
/// `/proc/self/task/*/schedstat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Time spent running on a CPU (nanosecond resolution).
    pub on_cpu: Duration,
    /// Times the threads were scheduled in (roughly: wake-ups).
    pub timeslices: u64,
}

impl SchedStat {
    /// `self - earlier`, saturating.
    pub fn since(&self, earlier: &SchedStat) -> SchedStat {
        SchedStat {
            on_cpu: self.on_cpu.saturating_sub(earlier.on_cpu),
            timeslices: self.timeslices.saturating_sub(earlier.timeslices),
        }
    }
}

/// On-CPU time and scheduling count summed over the threads named `name`
/// in this process. Reads `schedstat` (nanoseconds) where the kernel has
/// it, else falls back to [`named_thread_cpu_time`] (clock ticks, with
/// `timeslices` 0). `None` when no thread has that name.
pub fn named_thread_sched(name: &str) -> Option<SchedStat> {
    let mut found = false;
    let mut total = SchedStat::default();
    for e in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(e) = e else { continue };
        let p = e.path();
        let Ok(comm) = std::fs::read_to_string(p.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let s = std::fs::read_to_string(p.join("schedstat")).ok()?;
        let mut f = s.split_whitespace();
        let ns: u64 = f.next()?.parse().ok()?;
        let slices: u64 = f.nth(1)?.parse().ok()?;
        total.on_cpu += Duration::from_nanos(ns);
        total.timeslices += slices;
        found = true;
    }
    if !found {
        return None;
    }
    if total == SchedStat::default() {
        // schedstat present but empty (accounting off): use clock ticks.
        return named_thread_cpu_time(name).map(|on_cpu| SchedStat {
            on_cpu,
            timeslices: 0,
        });
    }
    Some(total)
}

/// Number of `\n` bytes in the file at `path`.
pub fn count_lines(path: &std::path::Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok(n);
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// True when the binary runs as a benchmark (`cargo bench` passes
/// `--bench`), false under `cargo test --benches`, where the benches
/// should only check that they work, quickly.
pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Spins until `d` has passed (a pause that keeps the core, like the
/// paced batches in `hot_path`).
pub fn spin_for(d: Duration) {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Median of `v` (sorts it).
pub fn median(v: &mut [f64]) -> f64 {
    assert!(!v.is_empty());
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
