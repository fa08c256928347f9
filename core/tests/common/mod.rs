//! Shared set-up for the behaviour tests: a runtime with an in-memory sink
//! and a private ring directory, and helpers to read its output back.
#![allow(dead_code)]

use ringlog::sink::memory::MemorySink;
use ringlog::sink::Sink;
use ringlog::{Config, FullPolicy, Logger, Runtime};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Harness {
    pub rt: Runtime,
    pub out: Arc<Mutex<Vec<u8>>>,
    pub dir: tempfile::TempDir,
}

pub fn config(dir: &tempfile::TempDir) -> Config {
    Config {
        ring_dir: Some(dir.path().join("rings")),
        level: ringlog::Level::TRACE,
        ..Config::default()
    }
}

/// A runtime writing JSON to memory, with `tweak` applied to the config.
pub fn start(tweak: impl FnOnce(&mut Config)) -> Harness {
    let (sink, out) = MemorySink::new();
    start_with(tweak, Box::new(sink), out)
}

pub fn start_with(
    tweak: impl FnOnce(&mut Config),
    sink: Box<dyn Sink>,
    out: Arc<Mutex<Vec<u8>>>,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&dir);
    tweak(&mut c);
    let rt = Runtime::builder(c)
        .replace_sinks()
        .sink("mem", sink)
        .start()
        .unwrap();
    Harness { rt, out, dir }
}

impl Harness {
    /// Every output line, parsed.
    pub fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.out.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }

    /// Output lines with this message.
    pub fn with_msg(&self, msg: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|v| v["msg"] == msg)
            .collect()
    }

    pub fn flush(&self) {
        self.rt.flush(WAIT).unwrap();
    }
}

/// A sink that blocks every write until the gate is opened, so tests can
/// fill a ring while the flusher is stuck.
/// The gate (open flag and condvar) and a flag the sink sets once the
/// flusher is inside a write, waiting at the gate.
pub type Gate = Arc<(
    Mutex<bool>,
    std::sync::Condvar,
    std::sync::atomic::AtomicBool,
)>;

pub struct GatedSink {
    pub inner: MemorySink,
    pub gate: Gate,
}

impl GatedSink {
    pub fn new() -> (Self, Gate, Arc<Mutex<Vec<u8>>>) {
        let (inner, out) = MemorySink::new();
        let gate = Arc::new((
            Mutex::new(false),
            std::sync::Condvar::new(),
            std::sync::atomic::AtomicBool::new(false),
        ));
        (
            GatedSink {
                inner,
                gate: gate.clone(),
            },
            gate,
            out,
        )
    }
}

/// Polls until `f` holds, or fails after `WAIT` naming `what`.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Waits until the flusher is held at the gate (it has taken a batch).
pub fn wait_until_stuck(gate: &Gate) {
    let deadline = std::time::Instant::now() + WAIT;
    while !gate.2.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the flusher never reached the sink"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

pub fn open_gate(gate: &Gate) {
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
}

impl Sink for GatedSink {
    fn write_batch(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let (m, cv, entered) = &*self.gate;
        entered.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut open = m.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        drop(open);
        self.inner.write_batch(buf)
    }
}

/// A runtime with a 4 KiB ring whose flusher is held in a gated sink right
/// after it picked up a first record, so the ring fills up. Returns the
/// harness, the gate and the logger `app` (which logged `"first"`, seq 0).
pub fn start_stuck(policy: FullPolicy, block_timeout_ms: u64) -> (Harness, Gate, Logger) {
    let (sink, gate, out) = GatedSink::new();
    let h = start_with(
        |c| {
            c.ring_capacity = 4096;
            c.full_policy = policy;
            c.block_timeout_ms = block_timeout_ms;
        },
        Box::new(sink),
        out,
    );
    let log = h.rt.logger("app");
    log.info("first", &[]).unwrap();
    wait_until_stuck(&gate);
    (h, gate, log)
}

/// Parses NDJSON output, one value per line (every line must be JSON).
pub fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// `cfg` with its sinks replaced by one JSON file sink, `file`, at `path`.
pub fn with_file_sink(mut cfg: Config, path: &std::path::Path) -> Config {
    cfg.sinks.clear();
    let json = format!(r#"{{"type": "file", "path": "{}"}}"#, path.display());
    cfg.sinks
        .insert("file".into(), serde_json::from_str(&json).unwrap());
    cfg
}

/// A runtime with the defaults in ring directory `rings`, writing JSON to
/// memory: at start it recovers what dead instances there left.
pub fn start_in(rings: &std::path::Path) -> (Runtime, Arc<Mutex<Vec<u8>>>) {
    let (sink, out) = MemorySink::new();
    let cfg = Config {
        ring_dir: Some(rings.to_path_buf()),
        ..Config::default()
    };
    let rt = Runtime::builder(cfg)
        .replace_sinks()
        .sink("mem", Box::new(sink))
        .start()
        .unwrap();
    (rt, out)
}
