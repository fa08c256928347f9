//! The fatal-signal handler is opt-in (`"crash_handler": true`, default
//! false, parsed strictly, or `ringlog::crash::install_for`). With it, a
//! process that dies of a fatal signal still dies of that signal, after
//! the handler wrote a last FATAL record and the flusher wrote everything
//! logged before. (The C tests in `ffi/tests/fatal_signal.c` cover the
//! other cases: chaining, two threads, stack overflow, the watchdog, a
//! blocked flusher and recovery.)
mod common;

use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

const CHILD: &str = "RINGLOG_TEST_CRASH_CHILD";

#[test]
fn the_crash_handler_key_is_off_by_default_and_parsed_strictly() {
    assert!(!Config::default().crash_handler);
    assert!(!Config::parse("{}").unwrap().crash_handler);
    assert!(
        Config::parse(r#"{"crash_handler": true}"#)
            .unwrap()
            .crash_handler
    );
    assert!(
        !Config::parse(r#"{"crash_handler": false}"#)
            .unwrap()
            .crash_handler
    );
    for doc in [
        r#"{"crash_handler": "true"}"#,
        r#"{"crash_handler": 1}"#,
        r#"{"crash_handler": null}"#,
        r#"{"crash_handler": {}}"#,
    ] {
        let e = Config::parse(doc).unwrap_err().to_string();
        assert!(e.contains("crash_handler"), "{doc} -> {e}");
    }
    let e = Config::parse(r#"{"crash_handlers": true}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("crash_handlers"), "{e}");
}

#[test]
fn without_the_key_no_handler_is_installed() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        ring_dir: Some(dir.path().join("rings")),
        ..Config::default()
    };
    let rt = Runtime::builder(cfg)
        .replace_sinks()
        .sink("mem", Box::new(ringlog::sink::memory::MemorySink::new().0))
        .start()
        .unwrap();
    rt.logger("t").info("x", &[]).unwrap();
    assert!(!ringlog::crash::is_installed());
    rt.shutdown(std::time::Duration::from_secs(10)).unwrap();
}

/// Runs this test binary again as the child half of test `name`; returns
/// how it ended and its pid.
fn run_child(name: &str, dir: &Path, mode: &str) -> (std::process::ExitStatus, u32) {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{mode}:{}", dir.display()))
        .spawn()
        .unwrap();
    let pid = c.id();
    (c.wait().unwrap(), pid)
}

/// The child half: a runtime with a file sink and the handler, 300
/// records from two threads, then the crash.
fn child(arg: &str) -> ! {
    let (mode, dir) = arg.split_once(':').unwrap();
    let dir = Path::new(dir);
    let cfg = common::with_file_sink(
        Config {
            ring_dir: Some(dir.join("rings")),
            crash_handler: mode == "config",
            ..Config::default()
        },
        &dir.join("out.log"),
    );
    let rt = Runtime::start(cfg).unwrap();
    if mode == "api" {
        ringlog::crash::install_for(&rt).unwrap();
    }
    assert!(ringlog::crash::is_installed());
    let log = rt.logger("test");
    for i in 0..200u64 {
        log.info("record", &[Field::u64("i", i)]).unwrap();
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 200..300u64 {
                log.info("record", &[Field::u64("i", i)]).unwrap();
            }
        });
    });
    if mode == "config" {
        // SAFETY: raise has no preconditions.
        unsafe { libc::raise(libc::SIGSEGV) };
    } else {
        std::process::abort();
    }
    unreachable!("still alive after the fatal signal");
}

fn check_output(dir: &Path, sig: i32, name: &str, pid: u32) {
    let text = std::fs::read_to_string(dir.join("out.log")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    let mut idx: Vec<u64> = lines
        .iter()
        .filter(|v| v["msg"] == "record")
        .map(|v| v["i"].as_u64().unwrap())
        .collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..300).collect::<Vec<_>>(), "records the drain wrote");
    let fatal: Vec<&Value> = lines
        .iter()
        .filter(|v| v["msg"] == "fatal signal")
        .collect();
    assert_eq!(fatal.len(), 1, "{text}");
    let f = fatal[0];
    assert_eq!(f["logger"], "ringlog");
    assert_eq!(f["level"], "fatal");
    assert_eq!(f["signal"], sig);
    assert_eq!(f["signal_name"], name);
    assert!(f["thread_id"].as_u64().unwrap() > 0);
    assert_eq!(f["pid"], pid);
    // A sent signal has no fault address.
    assert!(f.get("fault_addr").is_none(), "{f}");
}

#[test]
fn a_runtime_with_the_key_dies_by_the_same_signal_after_writing_everything() {
    if let Some(arg) = std::env::var_os(CHILD) {
        child(arg.to_str().unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let (st, pid) = run_child(
        "a_runtime_with_the_key_dies_by_the_same_signal_after_writing_everything",
        dir.path(),
        "config",
    );
    assert_eq!(st.signal(), Some(libc::SIGSEGV), "child ended by {st:?}");
    check_output(dir.path(), libc::SIGSEGV, "SIGSEGV", pid);
}

#[test]
fn install_for_attaches_a_running_runtime_and_abort_ends_by_sigabrt() {
    if let Some(arg) = std::env::var_os(CHILD) {
        child(arg.to_str().unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let (st, pid) = run_child(
        "install_for_attaches_a_running_runtime_and_abort_ends_by_sigabrt",
        dir.path(),
        "api",
    );
    assert_eq!(st.signal(), Some(libc::SIGABRT), "child ended by {st:?}");
    check_output(dir.path(), libc::SIGABRT, "SIGABRT", pid);
}
