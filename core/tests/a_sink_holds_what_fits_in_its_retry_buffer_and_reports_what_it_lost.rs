//! A file that cannot grow (here: past `RLIMIT_FSIZE`, which fails writes
//! with EFBIG and raises SIGXFSZ, whose default action kills the process)
//! makes its sink hold what it could not write, up to
//! `retry_buffer_bytes`, and discard (and count) the rest. When the file
//! can grow again, the held records come out, then one WARN record from
//! logger `ringlog` saying how many records and bytes were lost, then
//! the new records. No line is ever cut.

use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "RINGLOG_TEST_RETRY_BUFFER_CHILD";
const WAIT: Duration = Duration::from_secs(10);
const LIMIT: u64 = 256 * 1024;
const RETRY_BUFFER: u64 = 16 * 1024;
const N: u64 = 4000;

fn set_file_size_limit(soft: libc::rlim_t) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid out-pointer, then a valid in-pointer.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut r), 0);
        r.rlim_cur = soft.min(r.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &r), 0);
    }
}

/// The child half: its own process, as the size limit is process-wide.
/// With `RINGLOG_TEST_BIG`, records are larger than the retry buffer, so
/// the rest of a record the limit cut does not fit in it either.
fn child(dir: &Path) {
    let big = std::env::var_os("RINGLOG_TEST_BIG").is_some();
    let (retry_buffer, n_recs, pad) = if big {
        (100, 400, "p".repeat(700))
    } else {
        (RETRY_BUFFER, N, String::new())
    };
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "level": "trace", "ring_capacity": 65536,
            "full_policy": "block", "block_timeout_ms": 10000,
            "sinks": {{"file": {{"type": "file", "path": {p:?}, "retry_buffer_bytes": {retry_buffer}}}}}}}"#,
        rd = dir.join("rings"),
        p = dir.join("app.log"),
    );
    let rt = Runtime::start(Config::parse(&text).unwrap()).unwrap();
    let log = rt.logger("app");
    log.info("start", &[]).unwrap();
    rt.flush(WAIT).unwrap();
    set_file_size_limit(LIMIT);
    for n in 0..n_recs {
        if big {
            log.info("rec", &[Field::u64("n", n), Field::str("pad", &pad)])
                .unwrap();
        } else {
            log.info("rec", &[Field::u64("n", n)]).unwrap();
        }
    }
    rt.flush(WAIT).unwrap();
    if big {
        // Let a few retries fail with nothing written, holding only the
        // rest of the cut record (more than the buffer's size).
        std::thread::sleep(Duration::from_millis(150));
    }
    let during = rt.stats();
    // The file can grow again: the next retry (at most 1 s away) writes
    // what was held.
    set_file_size_limit(libc::RLIM_INFINITY);
    let deadline = Instant::now() + WAIT;
    while rt.stats().bytes_pending > 0 {
        assert!(
            Instant::now() < deadline,
            "the held bytes were never written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    log.info("after", &[]).unwrap();
    rt.shutdown(WAIT).unwrap();
    let end = rt.stats();
    let stats = format!(
        r#"{{"during_pending": {}, "during_lost": {}, "records_lost": {}, "bytes_lost": {}, "write_errors": {}, "write_retries": {}, "bytes_pending": {}, "sink_failures": {}}}"#,
        during.bytes_pending,
        during.records_lost,
        end.records_lost,
        end.bytes_lost,
        end.write_errors,
        end.write_retries,
        end.bytes_pending,
        end.sink_failures
    );
    std::fs::write(dir.join("stats.json"), stats).unwrap();
}

/// Runs test `name`'s child half in its own process (with big records
/// when `big`) and returns its directory and the stats it saved.
fn run_child(name: &str, big: bool) -> (tempfile::TempDir, Value) {
    let d = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--test-threads=1"])
        .env(CHILD, d.path())
        .stdout(Stdio::null());
    if big {
        cmd.env("RINGLOG_TEST_BIG", "1");
    }
    let st = cmd.status().unwrap();
    assert_eq!(st.signal(), None, "the child was killed: {st:?}");
    assert!(st.success(), "{st:?}");
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("stats.json")).unwrap())
            .unwrap();
    (d, stats)
}

#[test]
fn a_file_that_cannot_grow_keeps_its_retry_buffer_and_then_reports_exactly_what_it_lost() {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d));
        return;
    }
    let (d, stats) = run_child(
        "a_file_that_cannot_grow_keeps_its_retry_buffer_and_then_reports_exactly_what_it_lost",
        false,
    );
    let get = |k: &str| stats[k].as_u64().unwrap();
    // While the file could not grow: at most the retry buffer held (plus
    // the rest of the record the limit cut), the rest discarded.
    assert!(get("during_pending") > 0, "{stats}");
    assert!(get("during_pending") <= RETRY_BUFFER + 512, "{stats}");
    assert!(get("during_lost") > 0, "{stats}");
    assert!(
        get("write_errors") >= 1 && get("write_retries") >= 1,
        "{stats}"
    );
    assert_eq!(
        (get("bytes_pending"), get("sink_failures")),
        (0, 0),
        "{stats}"
    );

    // Every line whole; the records that made it are a prefix 0..k, then
    // the loss note accounts for the others, then the record logged after.
    let body = std::fs::read_to_string(d.path().join("app.log")).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("cut line {l:?}: {e}")))
        .collect();
    assert_eq!(lines[0]["msg"], "start");
    let recs: Vec<u64> = lines
        .iter()
        .filter(|v| v["msg"] == "rec")
        .map(|v| v["n"].as_u64().unwrap())
        .collect();
    let k = recs.len() as u64;
    assert_eq!(recs, (0..k).collect::<Vec<_>>());
    assert!(k > 0 && k < N);
    let note_at = lines
        .iter()
        .position(|v| v["logger"] == "ringlog")
        .expect("a loss note");
    let note = &lines[note_at];
    assert_eq!(note["msg"], "sink write failed: records lost");
    assert_eq!(note["level"], "warn");
    assert_eq!(note["sink"], "file");
    assert_eq!(note["lost"].as_u64().unwrap(), N - k);
    assert_eq!(note["lost"].as_u64().unwrap(), get("records_lost"));
    assert_eq!(note["bytes"].as_u64().unwrap(), get("bytes_lost"));
    assert_eq!(
        note_at as u64,
        1 + k,
        "the note sits where the records are missing"
    );
    assert_eq!(lines[note_at + 1]["msg"], "after");
    assert_eq!(lines.len() as u64, k + 3);
}

#[test]
fn records_larger_than_the_retry_buffer_are_never_left_cut_and_their_loss_is_reported() {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d));
        return;
    }
    let (d, stats) = run_child(
        "records_larger_than_the_retry_buffer_are_never_left_cut_and_their_loss_is_reported",
        true,
    );
    let body = std::fs::read_to_string(d.path().join("app.log")).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("cut line {l:?}: {e}")))
        .collect();
    let k = lines.iter().filter(|v| v["msg"] == "rec").count() as u64;
    assert!(k < 400, "the limit cost records: {stats}");
    let note = lines
        .iter()
        .find(|v| v["logger"] == "ringlog")
        .unwrap_or_else(|| panic!("a loss note: {stats}"));
    assert_eq!(note["lost"].as_u64().unwrap(), 400 - k, "{stats}");
    assert_eq!(lines.last().unwrap()["msg"], "after");
}
