//! Writes the seed corpus of the fuzz targets:
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --example make_corpus -- fuzz/corpus
//! ```
//!
//! A child process (this program again) starts a runtime with the smallest
//! ring, logs records of every field type through a child logger with bound
//! fields and a trace context, overflows its ring so that drops are counted
//! in-band and pending, wraps around the buffer, and kills itself with
//! SIGKILL. Its ring file and metadata file become `recover` seeds (whole,
//! and rebuilt through each header mode), the record bodies in the ring
//! become `record_decode` seeds, and a few configuration documents become
//! `config` seeds. Existing files in the three corpus directories are
//! replaced.

use ringlog::fuzzing::{self as fz, RingHeaderFields};
use ringlog::sink::Sink;
use ringlog::{Config, Field, FullPolicy, Level, Runtime, TraceContext};
use ringlog_fuzz::{mode, recover_input, Val};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const CHILD: &str = "RINGLOG_MAKE_CORPUS_CHILD";
const WAIT: Duration = Duration::from_secs(10);

/// Set once the child's ring must keep what is logged next.
static GATE_CLOSED: AtomicBool = AtomicBool::new(false);

/// A sink that discards batches until the gate closes, then holds the
/// flusher inside its write, so it never releases ring space again.
struct GateSink;

impl Sink for GateSink {
    fn write_batch(&mut self, _buf: &[u8]) -> io::Result<()> {
        while GATE_CLOSED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(1));
        }
        Ok(())
    }
}

fn child(dir: &Path) -> ! {
    let cfg = Config {
        ring_dir: Some(dir.join("rings")),
        ring_capacity: 4096,
        flush_interval_ms: 60_000,
        idle_interval_ms: 60_000,
        full_policy: FullPolicy::Drop,
        level: Level::TRACE,
        recover_on_start: false,
        ..Config::default()
    };
    let rt = Runtime::builder(cfg)
        .replace_sinks()
        .sink("gate", Box::new(GateSink))
        .start()
        .unwrap();
    rt.flush(WAIT).unwrap();
    let inner = [
        Field::bool("odd", true),
        Field::new("n", ringlog::Value::Null),
    ];
    let api = rt
        .logger("api.http")
        .child(&[Field::str("req", "r-1"), Field::group("peer", &inner)])
        .unwrap();
    let db = rt.logger("db");
    let every = |i: u64| {
        let g = [Field::i64("t", -3), Field::group("in", &inner)];
        api.info(
            "every type",
            &[
                Field::str("s", "t\"q\"\n\u{e9}"),
                Field::i64("neg", -(i as i64) - 1),
                Field::u64("i", i),
                Field::f64("f", i as f64 + 0.25),
                Field::bool("ok", i.is_multiple_of(2)),
                Field::bytes("raw", &[0, 0xff, b'\n', b'"']),
                Field::new("none", ringlog::Value::Null),
                Field::group("g", &g),
                Field::str("req", "dup key"),
            ],
        )
    };
    // Overflow the ring: drops are counted and left pending.
    for i in 0..200 {
        let _ = every(i);
    }
    // Let the flusher drain, so the next records wrap around the buffer
    // and report the drops in-band first; then stop it, so every record
    // from here on stays in the ring.
    rt.flush(WAIT).unwrap();
    GATE_CLOSED.store(true, Ordering::SeqCst);
    for i in 200..212 {
        let _ = every(i);
    }
    let ctx = TraceContext::new([0x4b; 16], [0x0f; 8], 1).unwrap();
    ringlog::context::set_current(Some(ctx));
    let _ = db.warn("with a trace context", &[Field::f64("nan", f64::NAN)]);
    ringlog::context::clear_current();
    let _ = db.error("", &[]);
    let _ = rt
        .logger("")
        .log(Level::from_number(24).unwrap(), "fatal4", &[]);
    let _ = db.info("after the drain", &[Field::str("k", "v")]);
    // Overflow again: these drops stay pending in the header.
    for i in 212..230 {
        let _ = every(i);
    }
    // SAFETY: kill on our own pid has no memory effects.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!("SIGKILL")
}

/// Record bodies between the ring's cursors (frames of kind RECORD).
fn record_bodies(ring: &[u8], h: &RingHeaderFields) -> Vec<Vec<u8>> {
    let area = &ring[fz::RING_HEADER_SIZE as usize..];
    let mask = h.capacity - 1;
    let mut out = Vec::new();
    let mut pos = h.head;
    while pos < h.tail {
        let idx = (pos & mask) as usize;
        let (kind, body, _) = fz::parse_frame_header(area[idx..idx + 8].try_into().unwrap());
        if kind == fz::KIND_RECORD {
            out.push(area[idx + 8..idx + 8 + body as usize].to_vec());
        }
        pos += fz::frame_len(body);
    }
    out
}

const CONFIGS: &[(&str, &str)] = &[
    ("empty.json", "{}"),
    (
        "full.json",
        r#"{
  "ring_dir": "rings",
  "ring_capacity": 65536,
  "flush_interval_ms": 5,
  "idle_interval_ms": 250,
  "full_policy": "block",
  "block_timeout_ms": 100,
  "level": "debug",
  "levels": {"db": "warn", "db.pool": 5, "http": "trace"},
  "shutdown_timeout_ms": 5000,
  "recover_on_start": true,
  "sinks": {
    "app": {"type": "file", "path": "app.log", "encoder": "json", "level": "info",
            "sync": "interval", "sync_interval_ms": 1000,
            "json": {"keys": {"time": "@timestamp", "thread": "", "message": "message"},
                     "time_format": "unix_ms"}},
    "console": {"type": "stderr", "encoder": "console",
                "console": {"color": "always", "prefix": "{time} {level} {logger}: ",
                            "time_format": "rfc3339_us"}},
    "lf": {"type": "stdout", "encoder": "logfmt", "logfmt": {"keys": {"level": "lvl"}}}
  }
}"#,
    ),
    (
        "key-clash.json",
        r#"{"sinks": {"a": {"type": "stdout", "json": {"keys": {"time": "level", "level": "msg", "message": "ts", "recovered": "seq"}}}}}"#,
    ),
    (
        "levels.json",
        r#"{"level": "warn", "levels": {"a.b": "error", "a": 1}}"#,
    ),
    (
        "reconfigure.json",
        r#"{"level": "debug", "levels": {"x": "off"}, "sinks": {"a": {"level": "warn"}}}"#,
    ),
];

/// A call-site record body (flag bit 1): no message, values in whole
/// words. The fuzz target takes the key types from the sequence bytes:
/// str, i64, bool, null, f64, bytes, u64, str.
fn site_body() -> Vec<u8> {
    let types = [1u8, 2, 5, 0, 4, 6, 3, 1];
    let mut b = Vec::new();
    b.extend_from_slice(&7u64.to_ne_bytes());
    b.extend_from_slice(&types);
    b.extend_from_slice(&3u64.to_ne_bytes());
    b.extend_from_slice(&[9, 2]);
    b.extend_from_slice(&8u16.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    let text = |b: &mut Vec<u8>, s: &[u8]| {
        b.extend_from_slice(&(s.len() as u64).to_ne_bytes());
        b.extend_from_slice(s);
        b.resize(b.len().div_ceil(8) * 8, 0);
    };
    text(&mut b, b"u1\n\x1b[31m");
    b.extend_from_slice(&(-5i64).to_ne_bytes());
    b.extend_from_slice(&1u64.to_ne_bytes());
    b.extend_from_slice(&f64::NAN.to_bits().to_ne_bytes());
    text(&mut b, b"\x00\xff");
    b.extend_from_slice(&u64::MAX.to_ne_bytes());
    text(&mut b, b"");
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn fresh(dir: PathBuf) -> PathBuf {
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn main() {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d));
    }
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: make_corpus CORPUS_DIR"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let st = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, tmp.path())
        .status()
        .unwrap();
    assert_eq!(st.signal(), Some(libc::SIGKILL), "child ended by {st:?}");
    let inst = std::fs::read_dir(tmp.path().join("rings"))
        .unwrap()
        .next()
        .expect("the dead instance")
        .unwrap()
        .path();
    let ring = std::fs::read(inst.join("ring-0")).unwrap();
    let meta = std::fs::read(inst.join(fz::META_FILE)).unwrap();
    let h = fz::parse_ring_header(&ring).unwrap();
    assert!(h.tail > h.head, "the ring holds records");

    let rec_dir = fresh(out.join("recover"));
    let modes = [
        ("ring-file", mode::RAW_FILE, false),
        ("built", mode::SANE | mode::PENDING, false),
        (
            "built-counters",
            mode::SANE | mode::FIX_FRAME_CRC | mode::PENDING,
            true,
        ),
        ("two-rings", mode::SANE | mode::SECOND_RING, true),
        (
            "cursors",
            mode::RAW_CURSORS | mode::PENDING | mode::FIX_META_CRC,
            true,
        ),
        ("no-meta", mode::SANE | mode::NO_META, false),
    ];
    for (name, m, counters) in modes {
        write(
            &rec_dir,
            name,
            &recover_input(m, counters, &ring, &meta, &h),
        );
    }
    // A metadata file without its magic, rebuilt by the META_MAGIC bit.
    write(
        &rec_dir,
        "meta-magic-bit",
        &recover_input(
            mode::SANE | mode::META_MAGIC,
            false,
            &ring,
            &meta[fz::META_MAGIC.len()..],
            &h,
        ),
    );

    let dec_dir = fresh(out.join("record_decode"));
    let mut bodies = record_bodies(&ring, &h);
    // One of each length is plenty (the same call site at other counters).
    bodies.sort_by_key(|b| b.len());
    bodies.dedup_by_key(|b| b.len());
    for (i, b) in bodies.iter().enumerate() {
        write(&dec_dir, &format!("ring-record-{i}"), b);
    }
    let deep = (0..ringlog::record::MAX_DEPTH).fold(vec![(&b"x"[..], Val::I64(1))], |acc, _| {
        vec![(&b"g"[..], Val::Group(acc))]
    });
    let built = [
        ringlog_fuzz::record_body(1, 0, 9, None, b"", &[]),
        ringlog_fuzz::record_body(u64::MAX, 1, 24, Some(([1; 16], [2; 8], 0)), b"m", &deep),
        ringlog_fuzz::record_body(
            5,
            2,
            1,
            None,
            b"\xff\xfe bad utf-8 \xe2\x80\xa8",
            &[
                (b"\xc3", Val::Str(b"\xc3")),
                (b"", Val::Bytes(b"")),
                (b"ts", Val::F64(f64::INFINITY)),
                (b"ts", Val::U64(0)),
            ],
        ),
    ];
    for (i, b) in built.iter().enumerate() {
        write(&dec_dir, &format!("built-record-{i}"), b);
    }
    write(&dec_dir, "built-site-record", &site_body());

    let cfg_dir = fresh(out.join("config"));
    for (name, text) in CONFIGS {
        Config::parse(text)
            .or_else(|_| ringlog::config::LevelChanges::parse(text).map(|_| Config::default()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        write(&cfg_dir, name, text.as_bytes());
    }
    println!(
        "corpus: {} recover, {} record_decode, {} config inputs in {}",
        modes.len() + 1,
        bodies.len() + built.len() + 1,
        CONFIGS.len(),
        out.display()
    );
}
