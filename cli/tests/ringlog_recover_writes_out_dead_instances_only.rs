//! `ringlog recover` writes out the records of dead processes, in the
//! chosen format, to a file or standard output; it leaves live instances
//! alone, deletes recovered ones unless `--keep`, and fails cleanly when
//! it cannot write.

use ringlog::{Config, Field, Runtime};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "RINGLOG_CLI_TEST_CHILD";
const BIN: &str = env!("CARGO_BIN_EXE_ringlog");

/// Makes a dead instance under `rings`: this test binary again, as a
/// child that logs `n` records and kills itself.
fn dead_instance(test: &str, rings: &Path, n: u64) {
    let st = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, rings)
        .env("RINGLOG_TEST_N", n.to_string())
        .status()
        .unwrap();
    assert_eq!(st.signal(), Some(libc::SIGKILL));
}

fn child_role() -> bool {
    let Some(rings) = std::env::var_os(CHILD) else {
        return false;
    };
    let n: u64 = std::env::var("RINGLOG_TEST_N").unwrap().parse().unwrap();
    let mut cfg = Config {
        ring_dir: Some(PathBuf::from(rings)),
        flush_interval_ms: 60_000,
        idle_interval_ms: 60_000,
        ..Config::default()
    };
    cfg.sinks.clear();
    cfg.sinks.insert(
        "null".into(),
        serde_json::from_str(r#"{"type": "file", "path": "/dev/null"}"#).unwrap(),
    );
    let rt = Runtime::start(cfg).unwrap();
    // A record flushed first keeps the flusher from going idle (when the
    // next record would wake it).
    rt.logger("warm").info("warm-up", &[]).unwrap();
    rt.flush(Duration::from_secs(10)).unwrap();
    // Past the wake-up the flush may leave behind; then nothing wakes the
    // flusher for a minute, so the records stay in the ring.
    std::thread::sleep(Duration::from_millis(200));
    let log = rt
        .logger("jobs")
        .child(&[Field::str("job", "nightly")])
        .unwrap();
    for i in 0..n {
        log.info("step", &[Field::u64("i", i), Field::str("note", "a\nb")])
            .unwrap();
    }
    // SAFETY: kill on our own pid has no memory effects.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!()
}

fn instances(rings: &Path) -> usize {
    std::fs::read_dir(rings).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn recover_writes_json_to_a_file_then_removes_the_instance() {
    if child_role() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let rings = d.path().join("rings");
    dead_instance(
        "recover_writes_json_to_a_file_then_removes_the_instance",
        &rings,
        120,
    );
    let out = d.path().join("recovered.log");
    let o = Command::new(BIN)
        .args(["recover", "--dir"])
        .arg(&rings)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("120 record(s)"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let steps: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["msg"] == "step")
        .collect();
    assert_eq!(steps.len(), 120);
    for (i, v) in steps.iter().enumerate() {
        assert_eq!(v["i"], i as u64);
        assert_eq!(v["recovered"], true);
        assert_eq!(v["logger"], "jobs");
        assert_eq!(v["job"], "nightly");
        assert_eq!(v["note"], "a\nb");
    }
    assert_eq!(instances(&rings), 0);
    // Nothing left: a second run finds nothing and writes nothing more.
    let o = Command::new(BIN)
        .args(["recover", "--quiet", "--dir"])
        .arg(&rings)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(o.stderr.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn recover_keeps_with_keep_skips_live_instances_and_writes_logfmt_to_stdout() {
    if child_role() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let rings = d.path().join("rings");
    dead_instance(
        "recover_keeps_with_keep_skips_live_instances_and_writes_logfmt_to_stdout",
        &rings,
        30,
    );
    // A live instance in the same directory: ours.
    let live = Runtime::builder(Config {
        ring_dir: Some(rings.clone()),
        recover_on_start: false,
        ..Config::default()
    })
    .replace_sinks()
    .sink("mem", Box::new(ringlog::sink::memory::MemorySink::new().0))
    .start()
    .unwrap();
    live.logger("live").info("mine", &[]).unwrap();
    for _ in 0..2 {
        let o = Command::new(BIN)
            .args(["recover", "--keep", "--format", "logfmt", "--dir"])
            .arg(&rings)
            .output()
            .unwrap();
        assert!(o.status.success());
        let text = String::from_utf8(o.stdout).unwrap();
        let steps = text.lines().filter(|l| l.contains("msg=step")).count();
        assert_eq!(steps, 30, "{text}");
        assert!(text.contains("recovered=true"));
        assert!(!text.contains("mine"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("1 live instance(s) left alone"), "{err}");
        assert_eq!(instances(&rings), 2, "--keep keeps the dead one");
    }
    assert!(live.instance_dir().exists());
    live.shutdown(Duration::from_secs(10)).unwrap();
}

#[test]
fn recover_fails_cleanly_and_keeps_everything_when_it_cannot_write() {
    if child_role() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let rings = d.path().join("rings");
    dead_instance(
        "recover_fails_cleanly_and_keeps_everything_when_it_cannot_write",
        &rings,
        10,
    );
    // A symlink as the output is refused.
    let link = d.path().join("link.log");
    std::os::unix::fs::symlink(d.path().join("target.log"), &link).unwrap();
    let o = Command::new(BIN)
        .args(["recover", "--dir"])
        .arg(&rings)
        .arg("--out")
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open"));
    // A full device: the write fails, the instance stays for next time.
    let o = Command::new(BIN)
        .args(["recover", "--dir"])
        .arg(&rings)
        .args(["--out", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("writing failed"));
    assert_eq!(instances(&rings), 1);
    // Bad usage is an error with a message, not a crash.
    let o = Command::new(BIN)
        .args(["recover", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
