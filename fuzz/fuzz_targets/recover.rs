//! The recovery scanner (`recover::recover_to`) over a ring directory built
//! from the input: one dead instance whose `ring-0` (and sometimes `ring-1`)
//! and `meta` come from the input (layout: `ringlog_fuzz::PREFIX`). Most
//! inputs get a well-formed ring header, so the fuzzer spends its time in
//! the frame walker, the record decoder and the metadata reader rather than
//! in header rejection.
//!
//! Properties checked:
//! * recovery never panics, and reports exactly one instance;
//! * every output line is one strict JSON object (no duplicate keys);
//! * the lines marked `"recovered": true` are exactly the records and drop
//!   reports the report counts;
//! * the instance directory is gone afterwards (its records were written).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlog::encode::json::{JsonEncoder, JsonOptions};
use ringlog::recover::{recover_to, Options};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The directory this process fuzzes in (removed at exit).
static DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_dir() {
    if let Some(d) = DIR.get() {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// One ring directory per fuzzing process, reused by every input: under
/// `TMPDIR` if it is set, else in memory (`/dev/shm`) where there is one,
/// which more than doubles the executions per second.
fn ring_dir() -> PathBuf {
    DIR.get_or_init(|| {
        let mut b = tempfile::Builder::new();
        b.prefix("ringlog-fuzz-");
        let shm = std::path::Path::new("/dev/shm");
        let t = if std::env::var_os("TMPDIR").is_none() && shm.is_dir() {
            b.tempdir_in(shm).or_else(|_| b.tempdir())
        } else {
            b.tempdir()
        }
        .expect("a temporary directory");
        // SAFETY: `remove_dir` is an `extern "C" fn()` that does not unwind
        // (it ignores every error), as `atexit` requires.
        unsafe { libc::atexit(remove_dir) };
        t.keep()
    })
    .join("rings")
}

fuzz_target!(|data: &[u8]| {
    let inst = ringlog_fuzz::instance(data);
    let rings = ring_dir();
    let dir = rings.join("4242-17-0123456789abcdef");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove a leftover instance");
    }
    // Recovery reads only a ring directory private to this user.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .expect("instance directory");
    std::fs::write(dir.join("lock"), b"").expect("lock file");
    std::fs::write(dir.join("ring-0"), &inst.ring).expect("ring-0");
    if inst.second_ring {
        std::fs::write(dir.join("ring-1"), &inst.ring).expect("ring-1");
    }
    if let Some(m) = &inst.meta {
        std::fs::write(dir.join(ringlog::fuzzing::META_FILE), m).expect("meta");
    }

    let mut enc = JsonEncoder::new(JsonOptions::default());
    let mut out = Vec::new();
    let opts = Options {
        ring_dir: rings,
        keep: false,
        skip: None,
    };
    let rep = recover_to(&opts, &mut enc, &mut out).expect("writing to a Vec cannot fail");
    assert_eq!((rep.instances, rep.live), (1, 0), "{rep:?}");
    let lines = ringlog_fuzz::check_json_lines(&out);
    let recovered = lines
        .iter()
        .filter(|v| v.get("recovered") == Some(&serde_json::Value::Bool(true)))
        .count() as u64;
    assert_eq!(recovered, rep.records + rep.drop_reports, "{rep:?}");
    assert!(!dir.exists(), "a recovered instance is removed");
});
