//! Flusher throughput and idle cost.
//!
//! Throughput: four producer threads fill their rings while the flusher
//! sleeps (`flush_interval_ms` 60000, rings at least twice the data so no
//! producer passes the half-capacity wake-up mark), then stay parked on a
//! barrier while `Runtime::flush` is timed. That time is the flusher's own
//! work on one core: drain, merge by timestamp, encode, write. Each record
//! is `"request handled"` with `user` (str), `status` (i64) and
//! `latency_ms` (f64). Criterion reports time per record (and records/s);
//! a summary line per case adds the flusher's CPU time over the timed
//! flushes, and the checks: nothing dropped, every record written, and for
//! the file sink one output line per record. Records a flusher cycle
//! drained before the timed flush (normally none) are not credited to it
//! and are reported.
//!
//! Idle: a runtime with the default 5 ms interval logs one record, flushes,
//! and the flusher's CPU time is read over 5 s of doing nothing.
//!
//! `cargo bench -p ringlog-benches --bench flusher`

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use ringlog::config::EncoderKind;
use ringlog::sink::file::FileSink;
use ringlog::{Config, Field, Runtime};
use ringlog_benches::{bench_mode, count_lines, named_thread_sched, SchedStat};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PRODUCERS: u64 = 4;
/// Records per fill-and-flush round (all producers together).
const CHUNK: u64 = 1_000_000;
const FLUSHER: &str = "ringlog-flusher";
const WAIT: Duration = Duration::from_secs(60);

fn log_one(l: &ringlog::Logger) {
    l.info(
        "request handled",
        &[
            Field::str("user", "alice"),
            Field::i64("status", 200),
            Field::f64("latency_ms", 12.5),
        ],
    )
    .expect("record refused");
}

fn config(ring_capacity: u64) -> Config {
    Config {
        ring_dir: Some(ringlog::default_ring_dir()),
        ring_capacity,
        flush_interval_ms: 60_000,
        ..Config::default()
    }
}

/// Bytes one record takes in a ring, measured: log some on one thread with
/// the flusher asleep, then read the flusher's high-water mark.
fn frame_bytes() -> u64 {
    const K: u64 = 1000;
    let rt = Runtime::builder(config(1 << 20))
        .replace_sinks()
        .sink(
            "null",
            Box::new(FileSink::open(Path::new("/dev/null")).unwrap()),
        )
        .start()
        .unwrap();
    let l = rt.logger("bench");
    std::thread::scope(|s| {
        s.spawn(|| (0..K).for_each(|_| log_one(&l)));
    });
    rt.flush(WAIT).unwrap();
    let hw = rt.stats().ring_high_water;
    rt.shutdown(WAIT).unwrap();
    assert!(hw > 0, "no high-water mark recorded");
    hw.div_ceil(K)
}

/// Where the output goes.
#[derive(Clone, Copy, Debug)]
enum Case {
    JsonDevNull,
    JsonFile,
    LogfmtDevNull,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::JsonDevNull => "json_dev_null",
            Case::JsonFile => "json_file",
            Case::LogfmtDevNull => "logfmt_dev_null",
        }
    }
}

/// A runtime, its sink file (if any) and four producer threads that log
/// `per_thread` records each time they pass the `go` barrier.
struct Rig {
    rt: Runtime,
    file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    per_thread: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    go: Arc<Barrier>,
    done: Arc<Barrier>,
    threads: Vec<JoinHandle<()>>,
    totals: Totals,
}

#[derive(Default, Debug)]
struct Totals {
    records: u64,
    flush_wall: Duration,
    flusher: SchedStat,
    lines: u64,
    logged: u64,
    early: u64,
}

impl Rig {
    fn new(case: Case, ring_capacity: u64) -> Rig {
        let (sink, enc, file, dir) = match case {
            Case::JsonDevNull | Case::LogfmtDevNull => (
                FileSink::open(Path::new("/dev/null")).unwrap(),
                if matches!(case, Case::LogfmtDevNull) {
                    EncoderKind::Logfmt
                } else {
                    EncoderKind::Json
                },
                None,
                None,
            ),
            Case::JsonFile => {
                let d = tempfile::tempdir().unwrap();
                let p = d.path().join("flusher.log");
                (
                    FileSink::open(&p).unwrap(),
                    EncoderKind::Json,
                    Some(p),
                    Some(d),
                )
            }
        };
        let rt = Runtime::builder(config(ring_capacity))
            .replace_sinks()
            .sink_with("out", Box::new(sink), enc)
            .start()
            .unwrap();
        let per_thread = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let go = Arc::new(Barrier::new(PRODUCERS as usize + 1));
        let done = Arc::new(Barrier::new(PRODUCERS as usize + 1));
        let threads = (0..PRODUCERS)
            .map(|i| {
                let l = rt.logger("bench");
                let (n, stop, go, done) =
                    (per_thread.clone(), stop.clone(), go.clone(), done.clone());
                std::thread::Builder::new()
                    .name(format!("producer-{i}"))
                    .spawn(move || loop {
                        go.wait();
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        for _ in 0..n.load(Ordering::Acquire) {
                            log_one(&l);
                        }
                        done.wait();
                    })
                    .unwrap()
            })
            .collect();
        Rig {
            rt,
            file,
            _dir: dir,
            per_thread,
            stop,
            go,
            done,
            threads,
            totals: Totals::default(),
        }
    }

    /// Fills the rings with about `n` records and times the flush that
    /// drains them. Returns (records, flush time).
    fn round(&mut self, n: u64) -> (u64, Duration) {
        let per = n.div_ceil(PRODUCERS).max(1);
        let n = per * PRODUCERS;
        self.per_thread.store(per, Ordering::Release);
        let before = self.rt.stats();
        self.go.wait();
        self.done.wait();
        // The producers are parked on `go` again: the flusher has the
        // machine to itself from here.
        let mid = self.rt.stats();
        assert_eq!(mid.logged - before.logged, n, "records were not logged");
        assert_eq!(mid.dropped_full, 0, "records were dropped");
        // Normally 0. It is not when the flusher ran during the fill: a
        // wake-up left over from the previous flush (an unpark that arrived
        // while it was still busy) can make it run one more cycle after
        // the producers have started. Those records are not credited to
        // the timed flush below, and the summary reports how many there were.
        let early = mid.written - before.written;
        self.totals.early += early;
        let s0 = named_thread_sched(FLUSHER).unwrap_or_default();
        let t0 = Instant::now();
        self.rt.flush(WAIT).unwrap();
        let dt = t0.elapsed();
        let s1 = named_thread_sched(FLUSHER).unwrap_or_default();
        let after = self.rt.stats();
        assert_eq!(after.written - before.written, n, "records not written");
        assert_eq!(after.dropped_full, 0, "records were dropped");
        assert_eq!(after.write_errors, 0, "sink write errors");
        if let Some(p) = &self.file {
            let lines = count_lines(p).unwrap();
            assert_eq!(lines, n, "output lines != records logged");
            self.totals.lines += lines;
            // O_APPEND: the next batch lands at the new end, offset 0.
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        let timed = n - early;
        self.totals.logged += n;
        self.totals.records += timed;
        self.totals.flush_wall += dt;
        let d = s1.since(&s0);
        self.totals.flusher.on_cpu += d.on_cpu;
        self.totals.flusher.timeslices += d.timeslices;
        (timed, dt)
    }

    /// Time for `iters` records, in rounds of at most `CHUNK`.
    fn measure(&mut self, iters: u64) -> Duration {
        let mut left = iters;
        let (mut done, mut total) = (0u64, Duration::ZERO);
        while left > 0 {
            let k = left.min(CHUNK);
            let (n, dt) = self.round(k);
            done += n;
            total += dt;
            left -= k;
        }
        // Time per record the timed flushes drained, times `iters` (rounds
        // log whole records per producer, and may lose a few to an early
        // cycle).
        total.mul_f64(iters as f64 / done.max(1) as f64)
    }

    fn finish(mut self, case: Case) -> Totals {
        self.stop.store(true, Ordering::Release);
        self.go.wait();
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        let st = self.rt.stats();
        self.rt.shutdown(WAIT).unwrap();
        assert_eq!(st.dropped_full, 0);
        assert_eq!(st.logged, st.written);
        let t = std::mem::take(&mut self.totals);
        if t.records == 0 {
            // Filtered out on the command line.
            return t;
        }
        let secs = t.flush_wall.as_secs_f64();
        let cpu = t.flusher.on_cpu.as_secs_f64();
        println!(
            "flusher/{}: {} records in {:.3} s of timed flushes = {:.2} M records/s (wall); \
             flusher thread on CPU {:.3} s = {:.0}% of the flush wall time, {:.2} M records per CPU-second; \
             dropped {}, drained by a cycle before the timed flush {}{}",
            case.name(),
            t.records,
            secs,
            t.records as f64 / secs / 1e6,
            cpu,
            100.0 * cpu / secs,
            t.records as f64 / cpu / 1e6,
            st.dropped_full,
            t.early,
            if self.file.is_some() {
                format!(", output lines {} of {} records logged", t.lines, t.logged)
            } else {
                String::new()
            }
        );
        t
    }
}

fn idle(seconds: u64) {
    let rt = Runtime::builder(Config {
        ring_dir: Some(ringlog::default_ring_dir()),
        ..Config::default()
    })
    .replace_sinks()
    .sink(
        "null",
        Box::new(FileSink::open(Path::new("/dev/null")).unwrap()),
    )
    .start()
    .unwrap();
    log_one(&rt.logger("bench"));
    rt.flush(WAIT).unwrap();
    let s0 = named_thread_sched(FLUSHER).expect("flusher thread not found");
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let s1 = named_thread_sched(FLUSHER).expect("flusher thread not found");
    let wall = t0.elapsed().as_secs_f64();
    let d = s1.since(&s0);
    rt.shutdown(WAIT).unwrap();
    println!(
        "flusher/idle: flush_interval_ms 5, {wall:.2} s idle: flusher on CPU {:.3} ms = {:.3}% of one core, \
         {} wake-ups ({:.0}/s, {:.1} us each)",
        d.on_cpu.as_secs_f64() * 1e3,
        100.0 * d.on_cpu.as_secs_f64() / wall,
        d.timeslices,
        d.timeslices as f64 / wall,
        if d.timeslices > 0 {
            d.on_cpu.as_secs_f64() * 1e6 / d.timeslices as f64
        } else {
            f64::NAN
        }
    );
}

fn bench(c: &mut Criterion) {
    let frame = frame_bytes();
    // Twice the data per ring, so no producer reaches the wake-up mark.
    let per_ring = CHUNK.div_ceil(PRODUCERS) * frame;
    let cap = (2 * per_ring + 4096)
        .next_power_of_two()
        .min(ringlog::MAX_CAPACITY);
    println!(
        "flusher: {frame} ring bytes per record; {PRODUCERS} rings of {} MiB; rounds of {CHUNK} records",
        cap >> 20
    );
    assert!(cap >= 2 * per_ring, "rings too small for a round");

    let mut g = c.benchmark_group("flusher");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Elements(1));
    for case in [Case::JsonDevNull, Case::JsonFile, Case::LogfmtDevNull] {
        let rig = RefCell::new(Rig::new(case, cap));
        g.bench_function(case.name(), |b| {
            b.iter_custom(|iters| rig.borrow_mut().measure(iters))
        });
        rig.into_inner().finish(case);
    }
    g.finish();

    idle(if bench_mode() { 5 } else { 1 });
}

criterion_group!(benches, bench);
criterion_main!(benches);
