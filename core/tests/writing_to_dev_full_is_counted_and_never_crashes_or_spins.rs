//! A file sink on `/dev/full` (every write fails with ENOSPC, for ever):
//! the errors are counted, the sink holds at most its retry buffer and
//! counts every record it discards, the flusher retries with a backoff
//! instead of spinning, and the other sink gets every record.

use ringlog::sink::memory::MemorySink;
use ringlog::{Config, Field, Runtime};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// On-CPU nanoseconds of the flusher threads of this process (the only
/// runtime in this test binary).
fn flusher_cpu_ns() -> u64 {
    let mut total = 0;
    let mut found = false;
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let t = e.unwrap().path();
        let comm = std::fs::read_to_string(t.join("comm")).unwrap_or_default();
        if comm.trim() != "ringlog-flusher" {
            continue;
        }
        found = true;
        total += match std::fs::read_to_string(t.join("schedstat")) {
            Ok(s) => s.split_whitespace().next().unwrap().parse::<u64>().unwrap(),
            // Without schedstats: utime + stime from `stat`, in ticks.
            Err(_) => {
                let s = std::fs::read_to_string(t.join("stat")).unwrap();
                let after = &s[s.rfind(')').unwrap() + 2..];
                let f: Vec<&str> = after.split_whitespace().collect();
                // SAFETY: sysconf has no preconditions.
                let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
                (f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()) * 1_000_000_000 / hz
            }
        };
    }
    assert!(found, "no flusher thread");
    total
}

#[test]
fn dev_full_errors_are_counted_retried_with_backoff_and_lost_records_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "level": "trace",
            "sinks": {{"full": {{"type": "file", "path": "/dev/full", "retry_buffer_bytes": 4096}}}}}}"#,
        rd = dir.path().join("rings"),
    );
    let (mem, out) = MemorySink::new();
    let rt = Runtime::builder(Config::parse(&text).unwrap())
        .sink("mem", Box::new(mem))
        .start()
        .unwrap();
    let log = rt.logger("app");
    let mut n = 0u64;
    for _ in 0..2000 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
        n += 1;
    }
    rt.flush(WAIT).unwrap();
    let st = rt.stats();
    assert!(st.write_errors >= 1);
    assert!(
        st.bytes_pending > 0 && st.bytes_pending <= 4096,
        "holds at most its retry buffer: {st:?}"
    );
    assert!(st.records_lost > 0 && st.bytes_lost > 0, "{st:?}");

    // Two seconds of a disk that stays full: a few attempts, and the
    // flusher sleeps between them. Its CPU time stays far below the
    // window (about 35 ms in a debug build, with a record every 50 ms);
    // a busy loop takes most of a core.
    let errors_before = st.write_errors;
    let cpu_before = flusher_cpu_ns();
    let window = Instant::now();
    while window.elapsed() < Duration::from_secs(2) {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let cpu = flusher_cpu_ns() - cpu_before;
    let st = rt.stats();
    let attempts = st.write_errors - errors_before;
    assert!(
        (1..=30).contains(&attempts),
        "{attempts} attempts in 2 s: {st:?}"
    );
    assert!(
        cpu < 250_000_000,
        "the flusher used {cpu} ns of CPU in a 2 s window"
    );
    assert_eq!(st.write_retries, st.write_errors - 1);
    assert_eq!(st.sink_failures, 0, "ENOSPC can heal: the sink is kept");

    rt.shutdown(WAIT).unwrap();
    // The other sink has every record; the full one lost each of them,
    // counted exactly (the same records, encoded the same way).
    let got = out.lock().unwrap().clone();
    let lines = String::from_utf8(got.clone()).unwrap();
    assert_eq!(lines.lines().count() as u64, n);
    let st = rt.stats();
    assert_eq!(st.records_lost, n, "{st:?}");
    assert_eq!(st.bytes_lost, got.len() as u64);
    assert_eq!(
        st.bytes_written,
        got.len() as u64,
        "only the memory sink wrote"
    );
    assert_eq!(st.bytes_pending, 0);
}
