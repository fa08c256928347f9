//! `prog | head -1`: once the reader is gone, a write to the pipe raises
//! SIGPIPE, whose default action kills the process. ringlog's flusher
//! blocks it in its own thread, so the write fails with EPIPE instead:
//! the stdout sink is given up and counted, the host lives on, and the
//! other sinks get every record.

use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD: &str = "RINGLOG_TEST_EPIPE_CHILD";
const WAIT: Duration = Duration::from_secs(10);
/// The descriptor the pipe's write end has in the child until it becomes
/// the child's stdout.
const PIPE_FD: libc::c_int = 100;
/// Records logged after the reader went away.
const AFTER: u64 = 500;

/// The child half: a host with SIGPIPE at its default action, logging to
/// stdout (the pipe) and to a file.
fn child(dir: &Path) -> ! {
    // Restores the default action, as a C program has it (the Rust
    // runtime starts with SIGPIPE ignored); then moves the pipe onto fd 1.
    // SAFETY: plain calls; no other thread of this process writes to fd 1.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        assert_eq!(libc::dup2(PIPE_FD, 1), 1);
        libc::close(PIPE_FD);
    }
    let text = format!(
        r#"{{"ring_dir": {rd:?}, "level": "trace", "sinks": {{
            "out": {{"type": "stdout"}},
            "file": {{"type": "file", "path": {p:?}}}}}}}"#,
        rd = dir.join("rings"),
        p = dir.join("all.log"),
    );
    let rt = Runtime::start(Config::parse(&text).unwrap()).unwrap();
    let log = rt.logger("app");
    log.info("first", &[Field::u64("n", 0)]).unwrap();
    rt.flush(WAIT).unwrap();
    // The parent reads one line, closes its end, then closes our stdin.
    std::io::stdin().read_to_end(&mut Vec::new()).unwrap();
    for n in 1..=AFTER {
        log.info("rec", &[Field::u64("n", n)]).unwrap();
        if n % 100 == 0 {
            rt.flush(WAIT).unwrap();
        }
    }
    rt.shutdown(WAIT).unwrap();
    let s = rt.stats();
    let stats = format!(
        r#"{{"sink_failures": {}, "write_errors": {}, "records_lost": {}, "bytes_lost": {}, "bytes_pending": {}, "written": {}}}"#,
        s.sink_failures, s.write_errors, s.records_lost, s.bytes_lost, s.bytes_pending, s.written
    );
    std::fs::write(dir.join("stats.json"), stats).unwrap();
    // Leave without the test harness's report: stdout is the dead pipe.
    // SAFETY: ends the process; everything it wrote is in files already.
    unsafe { libc::_exit(0) }
}

#[test]
fn stdout_into_a_pipe_whose_reader_left_fails_its_sink_and_the_host_exits_normally() {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d));
    }
    let d = tempfile::tempdir().unwrap();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let w = write_end.as_raw_fd();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "stdout_into_a_pipe_whose_reader_left_fails_its_sink_and_the_host_exits_normally",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, d.path())
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe calls (dup2,
    // fcntl) on descriptors of the child.
    unsafe {
        cmd.pre_exec(move || {
            if w == PIPE_FD {
                libc::fcntl(w, libc::F_SETFD, 0);
            } else if libc::dup2(w, PIPE_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(write_end);

    // `head -1`: one line, then the reader goes away.
    let mut first = String::new();
    BufReader::new(std::fs::File::from(read_end))
        .read_line(&mut first)
        .unwrap();
    let v: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["msg"], "first");
    let mut stdin = child.stdin.take().unwrap();
    stdin.flush().unwrap();
    drop(stdin);

    let st = child.wait().unwrap();
    assert_eq!(st.signal(), None, "the child was killed: {st:?}");
    assert_eq!(st.code(), Some(0), "{st:?}");

    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["sink_failures"], 1, "{stats}");
    assert!(stats["write_errors"].as_u64().unwrap() >= 1, "{stats}");
    // Every record after the reader left was lost by the stdout sink (and
    // only by it), counted exactly; nothing is held at the end.
    assert_eq!(stats["records_lost"], AFTER, "{stats}");
    assert_eq!(stats["bytes_pending"], 0, "{stats}");
    assert_eq!(stats["written"], AFTER + 1, "{stats}");

    // The file sink in the same process has every record, once.
    let body = std::fs::read_to_string(d.path().join("all.log")).unwrap();
    let mut seen: HashMap<(String, u64), u32> = HashMap::new();
    for l in body.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        *seen
            .entry((
                v["msg"].as_str().unwrap().to_string(),
                v["n"].as_u64().unwrap(),
            ))
            .or_default() += 1;
    }
    assert_eq!(seen.len() as u64, AFTER + 1);
    assert_eq!(seen.get(&("first".into(), 0)), Some(&1));
    for n in 1..=AFTER {
        assert_eq!(seen.get(&("rec".into(), n)), Some(&1), "record {n}");
    }
}
