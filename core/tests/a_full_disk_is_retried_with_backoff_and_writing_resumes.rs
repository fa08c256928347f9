//! A sink whose writes fail with ENOSPC keeps what it could not write and
//! tries again with a backoff (10 ms doubling to 1 s): a handful of
//! attempts, not a busy loop, while other sinks go on normally. When
//! space returns, everything held comes out once and in order.

mod common;
use common::{wait_until, WAIT};
use ringlog::sink::memory::MemorySink;
use ringlog::sink::Sink;
use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a test sees of a sink whose disk can be made full.
#[derive(Default)]
struct Disk {
    full: AtomicBool,
    /// Every write attempt, failed or not.
    attempts: Mutex<Vec<Instant>>,
    out: Mutex<Vec<u8>>,
}

struct FlakySink(Arc<Disk>);

impl Sink for FlakySink {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.attempts.lock().unwrap().push(Instant::now());
        // Ordering: SeqCst: a test switch flipped by the test thread; the
        // strongest ordering keeps the reasoning trivial.
        if self.0.full.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        self.0.out.lock().unwrap().extend_from_slice(buf);
        Ok(())
    }
}

use common::parse_lines as parse;

/// The `n` fields of the records with message `msg`, in output order.
fn numbers(lines: &[Value], msg: &str) -> Vec<u64> {
    lines
        .iter()
        .filter(|v| v["msg"] == msg)
        .map(|v| v["n"].as_u64().unwrap())
        .collect()
}

fn start(dir: &tempfile::TempDir, sinks: Vec<(&str, Box<dyn Sink>)>) -> Runtime {
    let mut b = Runtime::builder(Config {
        ring_dir: Some(dir.path().join("rings")),
        ..Config::default()
    })
    .replace_sinks();
    for (name, s) in sinks {
        b = b.sink(name, s);
    }
    b.start().unwrap()
}

#[test]
fn records_held_while_the_disk_is_full_come_out_once_in_order_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(Disk::default());
    // Ordering: SeqCst, as in `FlakySink::write_batch`.
    disk.full.store(true, Ordering::SeqCst);
    let (mem, mem_out) = MemorySink::new();
    let rt = start(
        &dir,
        vec![
            ("flaky", Box::new(FlakySink(disk.clone()))),
            ("mem", Box::new(mem)),
        ],
    );
    let log = rt.logger("app");
    for n in 0..1000 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    // The other sink goes on normally.
    let all: Vec<u64> = (0..1000).collect();
    assert_eq!(numbers(&parse(&mem_out.lock().unwrap()), "rec"), all);
    assert!(disk.out.lock().unwrap().is_empty());

    // Two seconds of a full disk, with records still arriving: the
    // attempts follow the backoff (about 9 in 2 s), never a busy loop.
    let window = Instant::now();
    let mut n = 1000;
    while window.elapsed() < Duration::from_secs(2) {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let attempts = disk.attempts.lock().unwrap().clone();
    assert!(
        (3..=30).contains(&attempts.len()),
        "{} attempts in 2 s",
        attempts.len()
    );
    // The k-th retry waits at least 10 ms * 2^k (at most 1 s) after the
    // attempt before it: a lower bound that load can only lengthen.
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    for (k, g) in gaps.iter().enumerate() {
        let min = Duration::from_millis(10 << k.min(7)).min(Duration::from_secs(1));
        assert!(*g >= min, "retry {k} after {g:?} (< {min:?}): {gaps:?}");
    }
    let st = rt.stats();
    let tries = disk.attempts.lock().unwrap().len() as u64;
    assert!(st.write_errors >= attempts.len() as u64 && st.write_errors <= tries);
    assert!(st.write_retries >= st.write_errors - 1 && st.write_retries <= tries);
    assert!(st.bytes_pending > 0, "{st:?}");
    assert_eq!(
        (st.records_lost, st.bytes_lost, st.sink_failures),
        (0, 0, 0)
    );

    // Space returns: the next retry (at most 1 s away) writes everything.
    // Ordering: SeqCst, as in `FlakySink::write_batch`.
    disk.full.store(false, Ordering::SeqCst);
    let total = n;
    wait_until("the held records are written", || {
        numbers(&parse(&disk.out.lock().unwrap()), "rec").len() as u64 == total
    });
    let out = parse(&disk.out.lock().unwrap());
    assert_eq!(numbers(&out, "rec"), (0..total).collect::<Vec<_>>());
    assert!(
        out.iter().all(|v| v["logger"] != "ringlog"),
        "nothing was lost, so no loss note"
    );
    assert_eq!(rt.stats().bytes_pending, 0);

    // Healthy again: no backoff left, a flush writes at once.
    log.info("after", &[Field::u64("n", 0)]).unwrap();
    rt.flush(WAIT).unwrap();
    assert_eq!(numbers(&parse(&disk.out.lock().unwrap()), "after"), [0]);
    rt.shutdown(WAIT).unwrap();
    let st = rt.stats();
    assert_eq!(
        (st.records_lost, st.bytes_lost, st.bytes_pending),
        (0, 0, 0)
    );
    assert_eq!(
        numbers(&parse(&mem_out.lock().unwrap()), "rec").len() as u64,
        total
    );
}

/// Writes the first half of the first batch, then the disk is full once.
struct CutShort {
    cut: bool,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Sink for CutShort {
    fn write_batch(&mut self, buf: &[u8]) -> io::Result<()> {
        let (_, r) = self.write_partial(buf);
        r
    }
    fn write_partial(&mut self, buf: &[u8]) -> (usize, io::Result<()>) {
        let mut out = self.out.lock().unwrap();
        if !self.cut && buf.len() > 1 {
            self.cut = true;
            let half = buf.len() / 2;
            out.extend_from_slice(&buf[..half]);
            return (half, Err(io::Error::from_raw_os_error(libc::ENOSPC)));
        }
        out.extend_from_slice(buf);
        (buf.len(), Ok(()))
    }
}

#[test]
fn a_write_cut_short_by_a_full_disk_goes_on_exactly_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let rt = start(
        &dir,
        vec![(
            "cut",
            Box::new(CutShort {
                cut: false,
                out: out.clone(),
            }),
        )],
    );
    let log = rt.logger("app");
    for n in 0..101 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    wait_until("the rest of the cut batch is written", || {
        out.lock().unwrap().iter().filter(|&&b| b == b'\n').count() == 101
    });
    // Every line whole (the cut record completed, not repeated).
    let lines = parse(&out.lock().unwrap());
    assert_eq!(numbers(&lines, "rec"), (0..101).collect::<Vec<_>>());
    let st = rt.stats();
    assert_eq!(st.write_errors, 1);
    assert_eq!(st.write_retries, 1);
    assert_eq!(st.bytes_written, out.lock().unwrap().len() as u64);
    rt.shutdown(WAIT).unwrap();
}

/// Full disk on the first write, then a pipe nobody reads.
struct FullThenBroken(Arc<Disk>);

impl Sink for FullThenBroken {
    fn write_batch(&mut self, _buf: &[u8]) -> io::Result<()> {
        let mut a = self.0.attempts.lock().unwrap();
        a.push(Instant::now());
        let e = if a.len() == 1 {
            libc::ENOSPC
        } else {
            libc::EPIPE
        };
        Err(io::Error::from_raw_os_error(e))
    }
}

#[test]
fn a_sink_that_breaks_for_good_while_retrying_is_given_up_and_what_it_held_is_counted_lost() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(Disk::default());
    // A flusher that wakes only for flushes and retries, so the records
    // logged right after the flush below are in the batch of the retry.
    let rt = Runtime::builder(Config {
        ring_dir: Some(dir.path().join("rings")),
        flush_interval_ms: 60_000,
        idle_interval_ms: 60_000,
        ..Config::default()
    })
    .replace_sinks()
    .sink("broken", Box::new(FullThenBroken(disk.clone())))
    .start()
    .unwrap();
    let log = rt.logger("app");
    for n in 0..100 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    for n in 100..150 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    // The retry (10 ms after the first failure) meets EPIPE: the sink is
    // given up, and everything it held or was handed is counted.
    wait_until("the sink is given up", || rt.stats().sink_failures == 1);
    for n in 150..200 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    rt.shutdown(WAIT).unwrap();
    let st = rt.stats();
    assert_eq!(st.records_lost, 200, "{st:?}");
    assert_eq!(
        (st.bytes_pending, st.write_errors, st.sink_failures),
        (0, 2, 1)
    );
    assert_eq!(disk.attempts.lock().unwrap().len(), 2, "never tried again");
}
