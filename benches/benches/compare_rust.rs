//! ringlog next to `tracing` + `tracing-subscriber` (JSON formatter) over
//! `tracing-appender`'s non-blocking writer, on the same workload: one
//! thread logs 1,000,000 records `"request handled"` with `user="alice"`
//! (str), `status=200` (i64) and `latency_ms=12.5` (f64), written as JSON
//! lines to a file. Neither side may lose a record: ringlog runs with
//! `full_policy: block`, tracing-appender with `lossy(false)`, and every
//! output file must have exactly one line per record.
//!
//! Each measurement runs in a fresh child process (this binary again), so
//! both libraries start cold and tracing gets its global subscriber:
//!
//! * `paced`: batches of 20 calls timed as a batch, a 50 us spinning pause
//!   between batches (as in `hot_path`), percentiles of ns per call. The
//!   first 20% of the batches warm up (ring pages, allocator, callsite
//!   caches) and are left out of the percentiles but not out of the file.
//! * `burst`: the calls back to back; caller ns per call is the loop's
//!   time / N, and end-to-end records/s is N / time until everything is in
//!   the file (ringlog: `Runtime::flush` returned; tracing: the
//!   `WorkerGuard` was dropped and the worker wrote the last line).
//!   Process CPU per record (all threads) is reported too.
//!
//! Rounds alternate which library goes first; the table shows medians over
//! rounds (`RINGLOG_COMPARE_ROUNDS`, default 3).
//!
//! `cargo bench -p ringlog-benches --bench compare_rust`

use ringlog::config::{FullPolicy, SinkConfig, SinkKind};
use ringlog::{Config, Field, Runtime};
use ringlog_benches::{bench_mode, count_lines, median, percentiles, process_cpu_time, spin_for};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "RINGLOG_COMPARE_CHILD";
const BATCH: usize = 20;
const PAUSE: Duration = Duration::from_micros(50);
const LIBS: [&str; 2] = ["ringlog", "tracing"];
const PHASES: [&str; 2] = ["paced", "burst"];

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    parent();
}

// ------------------------------------------------------------------ child

/// A backend set up to log into `path`, and how to wait until everything
/// it was given is in the file.
trait Backend {
    fn log(&self);
    fn finish(self: Box<Self>, n: u64);
}

struct Ringlog {
    rt: Runtime,
    l: ringlog::Logger,
}

impl Ringlog {
    fn start(path: &Path) -> Ringlog {
        let mut sink = SinkConfig::new(SinkKind::File);
        sink.path = Some(path.to_path_buf());
        let cfg = Config {
            ring_dir: Some(ringlog::default_ring_dir()),
            ring_capacity: 16 << 20,
            full_policy: FullPolicy::Block,
            block_timeout_ms: 60_000,
            sinks: [("file".to_string(), sink)].into_iter().collect(),
            ..Config::default()
        };
        let rt = Runtime::start(cfg).unwrap();
        let l = rt.logger("bench");
        Ringlog { rt, l }
    }
}

impl Backend for Ringlog {
    #[inline(always)]
    fn log(&self) {
        let r = self.l.info(
            "request handled",
            &[
                Field::str("user", "alice"),
                Field::i64("status", 200),
                Field::f64("latency_ms", 12.5),
            ],
        );
        if r.is_err() {
            panic!("ringlog refused a record: {r:?}");
        }
    }
    fn finish(self: Box<Self>, n: u64) {
        self.rt.flush(Duration::from_secs(120)).unwrap();
        let st = self.rt.stats();
        assert_eq!(st.dropped_full, 0, "ringlog dropped records");
        assert_eq!(st.written, n, "ringlog did not write every record");
    }
}

/// The file under tracing-appender's buffer: counts the lines that reach
/// the file, so the end of the run is known exactly.
struct Counting {
    file: std::fs::File,
    lines: Arc<AtomicU64>,
}

impl Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let k = self.file.write(b)?;
        let nl = b[..k].iter().filter(|&&c| c == b'\n').count() as u64;
        self.lines.fetch_add(nl, Ordering::Release);
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

struct Tracing {
    guard: tracing_appender::non_blocking::WorkerGuard,
    lines: Arc<AtomicU64>,
}

impl Tracing {
    fn start(path: &Path) -> Tracing {
        let lines = Arc::new(AtomicU64::new(0));
        let file = std::fs::File::create(path).unwrap();
        // A buffered file: the worker flushes after each batch it drains.
        let w = std::io::BufWriter::with_capacity(
            64 << 10,
            Counting {
                file,
                lines: lines.clone(),
            },
        );
        let (nb, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(w);
        let sub = tracing_subscriber::fmt()
            .json()
            .with_writer(nb)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(sub).unwrap();
        Tracing { guard, lines }
    }
}

impl Backend for Tracing {
    #[inline(always)]
    fn log(&self) {
        tracing::info!(
            user = "alice",
            status = 200i64,
            latency_ms = 12.5f64,
            "request handled"
        );
    }
    fn finish(self: Box<Self>, n: u64) {
        let Tracing { guard, lines } = *self;
        drop(guard);
        let deadline = Instant::now() + Duration::from_secs(120);
        while lines.load(Ordering::Acquire) < n {
            assert!(
                Instant::now() < deadline,
                "tracing-appender never caught up"
            );
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

fn child(spec: &str) {
    let parts: Vec<&str> = spec.splitn(4, ':').collect();
    let [lib, phase, n, dir] = parts[..] else {
        panic!("bad {CHILD}: {spec}");
    };
    let n: u64 = n.parse().unwrap();
    let path = PathBuf::from(dir).join(format!("{lib}-{phase}.log"));
    let _ = std::fs::remove_file(&path);
    let b: Box<dyn Backend> = match lib {
        "ringlog" => Box::new(Ringlog::start(&path)),
        "tracing" => Box::new(Tracing::start(&path)),
        _ => panic!("unknown library {lib}"),
    };
    let mut out = BTreeMap::new();
    match phase {
        "paced" => {
            let batches = (n as usize) / BATCH;
            let warm = batches / 5;
            let mut per_call = Vec::with_capacity(batches);
            for _ in 0..batches {
                let t0 = Instant::now();
                for _ in 0..BATCH {
                    b.log();
                }
                per_call.push(t0.elapsed().as_nanos() as f64 / BATCH as f64);
                spin_for(PAUSE);
            }
            b.finish(n);
            let p = percentiles(&mut per_call[warm..]);
            out.insert("p50_ns", p.p50);
            out.insert("p99_ns", p.p99);
            out.insert("p999_ns", p.p999);
            out.insert("mean_ns", p.mean);
        }
        "burst" => {
            let cpu0 = process_cpu_time();
            let t0 = Instant::now();
            for _ in 0..n {
                b.log();
            }
            let calls = t0.elapsed();
            b.finish(n);
            let e2e = t0.elapsed();
            let cpu = process_cpu_time() - cpu0;
            out.insert("caller_ns", calls.as_nanos() as f64 / n as f64);
            out.insert("e2e_rps", n as f64 / e2e.as_secs_f64());
            out.insert("cpu_ns_per_rec", cpu.as_nanos() as f64 / n as f64);
        }
        _ => panic!("unknown phase {phase}"),
    }
    let lines = count_lines(&path).unwrap();
    assert_eq!(
        lines, n,
        "{lib}/{phase}: {lines} lines in the file, {n} logged"
    );
    out.insert("lines", lines as f64);
    out.insert(
        "bytes_per_line",
        std::fs::metadata(&path).unwrap().len() as f64 / n as f64,
    );
    let first = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let kv: Vec<String> = out.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", kv.join(" "));
    println!("SAMPLE {first}");
}

// ----------------------------------------------------------------- parent

type Results = BTreeMap<(String, String), Vec<f64>>;

fn run_child(lib: &str, phase: &str, n: u64, dir: &Path, res: &mut Results) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{lib}:{phase}:{n}:{}", dir.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{lib}/{phase} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sample = String::new();
    for line in stdout.lines() {
        if let Some(r) = line.strip_prefix("RESULT ") {
            for kv in r.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap();
                res.entry((lib.to_string(), k.to_string()))
                    .or_default()
                    .push(v.parse().unwrap());
            }
        } else if let Some(s) = line.strip_prefix("SAMPLE ") {
            sample = s.to_string();
        }
    }
    sample
}

fn parent() {
    let full = bench_mode();
    let n: u64 = if full { 1_000_000 } else { 20_000 };
    let rounds: usize = std::env::var("RINGLOG_COMPARE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let dir = tempfile::tempdir().unwrap();
    let mut res = Results::new();
    let mut samples = BTreeMap::new();
    println!(
        "compare_rust: {n} records per run, {rounds} round(s), batches of {BATCH} with a {} us pause",
        PAUSE.as_micros()
    );
    for r in 0..rounds {
        let mut order = LIBS;
        if r % 2 == 1 {
            order.reverse();
        }
        for lib in order {
            for phase in PHASES {
                let s = run_child(lib, phase, n, dir.path(), &mut res);
                samples.insert(lib, s);
            }
        }
        eprintln!("compare_rust: round {} of {rounds} done", r + 1);
    }
    let med = |lib: &str, k: &str| {
        let mut v = res
            .get(&(lib.to_string(), k.to_string()))
            .cloned()
            .unwrap_or_default();
        if v.is_empty() {
            f64::NAN
        } else {
            median(&mut v)
        }
    };
    let rows: [(&str, &str, bool); 9] = [
        ("caller p50 ns/call (paced)", "p50_ns", false),
        ("caller p99 ns/call (paced)", "p99_ns", false),
        ("caller p99.9 ns/call (paced)", "p999_ns", false),
        ("caller mean ns/call (paced)", "mean_ns", false),
        ("caller ns/call (back-to-back)", "caller_ns", false),
        ("end-to-end records/s", "e2e_rps", true),
        ("process CPU ns/record", "cpu_ns_per_rec", false),
        ("bytes per line", "bytes_per_line", false),
        ("lines per file (each run)", "lines", true),
    ];
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>18}",
        "metric (median of rounds)", "ringlog", "tracing", "ringlog advantage"
    );
    for (name, k, higher_better) in rows {
        let (a, b) = (med("ringlog", k), med("tracing", k));
        let ratio = if k == "lines" || k == "bytes_per_line" {
            String::from("-")
        } else if higher_better {
            format!("{:.2}x", a / b)
        } else {
            format!("{:.2}x", b / a)
        };
        println!("{name:<32} {a:>14.1} {b:>14.1} {ratio:>18}");
    }
    println!();
    println!(
        "(ratio > 1: ringlog is better by that factor; lower ns and higher records/s are better)"
    );
    for (lib, s) in samples {
        println!("sample line, {lib}: {s}");
    }
}
