//! Log rotation under a file sink. logrotate's `create` mode renames the
//! file (and creates a new one): the sink notices the path names another
//! file before its next write and reopens it, so every record lands in
//! exactly one of the two files. `copytruncate` cuts the file to nothing:
//! the sink notices the shrink, counts it, and goes on appending at the
//! new end (no hole of zeros where the old bytes were).

use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::{wait_until, WAIT};

fn start(dir: &Path, log: &Path) -> Runtime {
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "level": "trace",
            "full_policy": "block", "block_timeout_ms": 10000,
            "sinks": {{"file": {{"type": "file", "path": {p:?}}}}}}}"#,
        rd = dir.join("rings"),
        p = log,
    );
    Runtime::start(Config::parse(&text).unwrap()).unwrap()
}

/// The `n` of every record in the file, in file order.
fn numbers(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"));
            v["n"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn a_file_renamed_while_records_stream_in_is_reopened_and_each_record_lands_once() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("app.log");
    let rotated = d.path().join("app.log.1");
    let rt = start(d.path(), &path);
    let log = rt.logger("app");
    // A thread logs without pause until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (log, stop) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            // Ordering: SeqCst: a stop flag; the join below orders the rest.
            while !stop.load(Ordering::SeqCst) {
                log.info("rec", &[Field::u64("n", n)]).unwrap();
                n += 1;
                if n % 64 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            n
        })
    };
    wait_until("records in the first file", || {
        std::fs::metadata(&path).is_ok_and(|m| m.len() > 4096)
    });
    // logrotate `create`: rename, then a new empty file at the path. The
    // sink may make the new file first (it checks the path before each
    // write): the new file is opened without truncating, so nothing it
    // already wrote is lost.
    std::fs::rename(&path, &rotated).unwrap();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    wait_until("records in the new file", || {
        std::fs::metadata(&path).is_ok_and(|m| m.len() > 4096)
    });
    // Ordering: SeqCst, as in the producer's loop.
    stop.store(true, Ordering::SeqCst);
    let total = producer.join().unwrap();
    rt.shutdown(WAIT).unwrap();

    let old = numbers(&rotated);
    let new = numbers(&path);
    assert!(!old.is_empty() && !new.is_empty());
    // Each file in order, the new one after the old: together exactly
    // 0..total, each once.
    let all: Vec<u64> = old.iter().chain(new.iter()).copied().collect();
    assert_eq!(all, (0..total).collect::<Vec<_>>());
    assert_eq!(rt.stats().reopens, 1);
    assert_eq!(rt.stats().truncations, 0);
}

#[test]
fn a_deleted_file_is_created_again_with_the_sinks_mode() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("app.log");
    let rt = start(d.path(), &path);
    let log = rt.logger("app");
    for n in 0..100 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    std::fs::remove_file(&path).unwrap();
    for n in 100..200 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    assert_eq!(numbers(&path), (100..200).collect::<Vec<_>>());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o137, 0, "created 0640 or tighter: {mode:o}");
    assert_eq!(rt.stats().reopens, 1);
    rt.shutdown(WAIT).unwrap();
}

#[test]
fn a_copied_then_truncated_file_gets_new_records_from_its_new_start() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("app.log");
    let copy = d.path().join("app.log.1");
    let rt = start(d.path(), &path);
    let log = rt.logger("app");
    for n in 0..300 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    // logrotate `copytruncate`.
    std::fs::copy(&path, &copy).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    for n in 300..400 {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
    }
    rt.flush(WAIT).unwrap();
    assert_eq!(numbers(&copy), (0..300).collect::<Vec<_>>());
    // The same file (no reopen), holding just the new records from
    // offset 0: no zeros where the old bytes were.
    let body = std::fs::read(&path).unwrap();
    assert_eq!(body[0], b'{');
    assert!(!body.contains(&0));
    assert_eq!(numbers(&path), (300..400).collect::<Vec<_>>());
    let st = rt.stats();
    assert_eq!((st.truncations, st.reopens), (1, 0));
    rt.shutdown(WAIT).unwrap();
}
