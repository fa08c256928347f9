//! A registered call site writes records that read exactly like the same
//! record logged with keyed fields (logger, bound fields, trace context,
//! every value kind, escaping), refuses values that do not match its keys,
//! and its records are recovered from a killed process with their message
//! and keys.

mod common;
use ringlog::site::Kind;
use ringlog::{Config, Field, Level, LogError, RecordError, Runtime, TraceContext, Value};
use serde_json::Value as Json;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
const CHILD: &str = "RINGLOG_TEST_SITE_CHILD";

/// A line without the fields that differ between two records of the same
/// content (time, sequence number).
fn content(v: &Json) -> Json {
    let mut v = v.clone();
    let o = v.as_object_mut().unwrap();
    o.remove("ts");
    o.remove("seq");
    v
}

#[test]
fn a_site_record_reads_like_the_same_record_with_keyed_fields() {
    let h = common::start(|_| {});
    let log =
        h.rt.logger("api")
            .child(&[Field::str("req", "r-1")])
            .unwrap();
    let keys = [
        ("user", Kind::Str),
        ("status", Kind::I64),
        ("latency_ms", Kind::F64),
        ("big", Kind::U64),
        ("ok", Kind::Bool),
        ("raw", Kind::Bytes),
        ("none", Kind::Null),
        ("bad\nkey\u{1b}[31m", Kind::Str),
        // A record key named like the bound one is renamed, as for fields.
        ("req", Kind::Str),
    ];
    let msg = "line\nbreak \u{2028} \"quoted\"";
    let site = log.site(Level::WARN, msg, &keys).unwrap();
    assert_eq!((site.len(), site.level()), (keys.len(), Level::WARN));
    let values = [
        Value::Str(b"al\xffice\n"),
        Value::I64(-200),
        Value::F64(f64::NAN),
        Value::U64(u64::MAX),
        Value::Bool(true),
        Value::Bytes(&[0, 1, 255]),
        Value::Null,
        Value::Str(b"x"),
        Value::Str(b"r-2"),
    ];
    let fields: Vec<Field<'_>> = keys
        .iter()
        .zip(values.iter())
        .map(|((k, _), v)| Field::new(k, *v))
        .collect();
    let ctx = TraceContext::new([7; 16], [9; 8], 1).unwrap();
    ringlog::context::set_current(Some(ctx));
    site.log(&values).unwrap();
    log.warn(msg, &fields).unwrap();
    // A context given with the call wins over the thread's current one.
    let given = TraceContext::new([5; 16], [6; 8], 0).unwrap();
    site.log_args_with(Some(&given), &values).unwrap();
    log.log_with(Level::WARN, 0, Some(&given), msg.as_bytes(), &fields)
        .unwrap();
    ringlog::context::clear_current();
    site.log(&values).unwrap();
    log.warn(msg, &fields).unwrap();
    h.flush();
    let lines = h.lines();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert_eq!(content(&lines[0]), content(&lines[1]));
    assert_eq!(content(&lines[2]), content(&lines[3]));
    assert_eq!(content(&lines[4]), content(&lines[5]));
    assert_eq!(lines[0]["trace_id"], "07070707070707070707070707070707");
    assert_eq!(lines[2]["trace_id"], "05050505050505050505050505050505");
    assert_eq!(lines[2]["span_id"], "0606060606060606");
    assert!(lines[4].get("trace_id").is_none());
    assert_eq!(lines[0]["msg"], msg);
    assert_eq!(lines[0]["user"], "al\u{fffd}ice\n");
    assert_eq!(lines[0]["big"], u64::MAX);
    assert_eq!(lines[0]["req"], "r-1");
    assert_eq!(lines[0]["level"], "warn");
    // logfmt and console read the same view; one line per record there too.
    h.rt.shutdown(WAIT).unwrap();
}

#[test]
fn a_site_record_given_a_time_carries_it_as_a_keyed_record_does() {
    let h = common::start(|_| {});
    let log = h.rt.logger("api");
    let site = log
        .site(Level::INFO, "made earlier", &[("n", Kind::I64)])
        .unwrap();
    let ts = 1_700_000_000_123_456_789u64;
    site.log_args_at(ts, None, &[Value::I64(1)]).unwrap();
    log.log_with(
        Level::INFO,
        ts,
        None,
        b"made earlier",
        &[Field::i64("n", 1)],
    )
    .unwrap();
    // 0 stamps the record now, as `log_args_with` does.
    site.log_args_at(0, None, &[Value::I64(2)]).unwrap();
    h.flush();
    let lines = h.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["ts"], "2023-11-14T22:13:20.123456789Z");
    assert_eq!(lines[0]["ts"], lines[1]["ts"]);
    assert_eq!(content(&lines[0]), content(&lines[1]));
    let now = lines[2]["ts"].as_str().unwrap();
    assert!(now.starts_with("20") && now > "2024", "{now}");
    h.rt.shutdown(WAIT).unwrap();
}

#[test]
fn values_that_do_not_match_the_keys_are_refused_and_counted() {
    let h = common::start(|_| {});
    let log = h.rt.logger("api");
    let site = log
        .site(Level::INFO, "m", &[("a", Kind::I64), ("b", Kind::Str)])
        .unwrap();
    assert_eq!(
        site.log(&[Value::I64(1)]),
        Err(LogError::Invalid(RecordError::ArgCount {
            expected: 2,
            got: 1
        }))
    );
    assert_eq!(
        site.log(&[Value::I64(1), Value::I64(2)]),
        Err(LogError::Invalid(RecordError::ArgType { index: 1 }))
    );
    assert_eq!(
        site.log(&[Value::Str(b"1"), Value::Str(b"2")]),
        Err(LogError::Invalid(RecordError::ArgType { index: 0 }))
    );
    site.log(&[Value::I64(1), Value::Str(b"2")]).unwrap();
    // Below the level: skipped, not counted, and `enabled` says so.
    let quiet = log.site(Level::TRACE, "t", &[]).unwrap();
    h.rt.reconfigure(r#"{"level": "debug"}"#).unwrap();
    assert!(!quiet.enabled() && site.enabled());
    quiet.log(&[]).unwrap();
    // Keys too long are refused when the site is made.
    let long = "k".repeat(70_000);
    assert!(log.site(Level::INFO, "m", &[(&long, Kind::I64)]).is_err());
    h.flush();
    let lines = h.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        (lines[0]["a"].as_i64(), lines[0]["b"].as_str()),
        (Some(1), Some("2"))
    );
    let st = h.rt.stats();
    assert_eq!(st.rejected_invalid, 3);
    assert_eq!(st.logged, 1);
    h.rt.shutdown(WAIT).unwrap();
}

/// A value source that says its fixed-size values always read as words
/// (as the C ABI's union does), so the size pass looks only at its text.
/// `Lying` breaks that promise, as a buggy binding might: it gives text
/// for a key of a fixed-size kind.
#[derive(Clone, Copy)]
enum Typed<'a> {
    Word(u64),
    Text(&'a [u8]),
    Lying,
}

// SAFETY: immutable, so both passes get the same answer. `Lying` breaks
// only the `WORDS_ALWAYS_READ` promise, which the writer must survive.
unsafe impl ringlog::site::ArgSource for Typed<'_> {
    const WORDS_ALWAYS_READ: bool = true;

    fn arg(&self, _tag: u8) -> Result<ringlog::site::Arg<'_>, ringlog::site::ArgError> {
        use ringlog::site::Arg;
        match *self {
            Typed::Word(w) => Ok(Arg::Word(w)),
            Typed::Text(t) => Ok(Arg::Bytes(t)),
            Typed::Lying => Ok(Arg::Bytes(b"text much longer than the word sized for it")),
        }
    }
}

#[test]
fn a_source_whose_words_always_read_has_only_its_text_checked() {
    let h = common::start(|_| {});
    let log = h.rt.logger("api");
    let keys = [
        ("s", Kind::Str),
        ("i", Kind::I64),
        ("b", Kind::Bool),
        ("t", Kind::Bytes),
    ];
    let site = log.site(Level::INFO, "m", &keys).unwrap();
    let text = Typed::Text(b"long enough to take two words");
    site.log_args(&[text, Typed::Word(7), Typed::Word(2), Typed::Text(b"")])
        .unwrap();
    // Text and bytes are still checked: a word where text belongs.
    assert_eq!(
        site.log_args(&[Typed::Word(1), Typed::Word(7), Typed::Word(1), text]),
        Err(LogError::Invalid(RecordError::ArgType { index: 0 }))
    );
    assert_eq!(
        site.log_args(&[text, Typed::Word(7), Typed::Word(1), Typed::Word(3)]),
        Err(LogError::Invalid(RecordError::ArgType { index: 3 }))
    );
    // A fixed-size value that cannot be read after all is written as a
    // zero word in the space sized for it: the record and the ones after
    // it stay whole.
    site.log_args(&[text, Typed::Lying, Typed::Word(0), text])
        .unwrap();
    site.log_args(&[Typed::Text(b"after"), Typed::Word(9), Typed::Word(1), text])
        .unwrap();
    h.flush();
    let lines = h.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let row = |l: &Json| (l["s"].clone(), l["i"].as_i64(), l["b"].as_bool());
    assert_eq!(
        row(&lines[0]),
        (
            Json::from("long enough to take two words"),
            Some(7),
            Some(true)
        )
    );
    assert_eq!(
        row(&lines[1]),
        (
            Json::from("long enough to take two words"),
            Some(0),
            Some(false)
        )
    );
    assert_eq!(row(&lines[2]), (Json::from("after"), Some(9), Some(true)));
    let st = h.rt.stats();
    assert_eq!((st.rejected_invalid, st.logged, st.written), (2, 3, 3));
    h.rt.shutdown(WAIT).unwrap();
}

/// The child half of the recovery test: logs through sites and a plain
/// call with a flusher that only runs when woken, then SIGKILL.
fn child(dir: &Path) -> ! {
    let cfg = Config {
        ring_dir: Some(dir.join("rings")),
        flush_interval_ms: 60_000,
        idle_interval_ms: 60_000,
        ..Config::default()
    };
    let rt = Runtime::start(common::with_file_sink(cfg, &dir.join("before.log"))).unwrap();
    // A record flushed first keeps the flusher from going idle (when the
    // next record would wake it): it sleeps its minute from here on.
    rt.logger("warm").info("warm-up", &[]).unwrap();
    rt.flush(WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let log = rt
        .logger("pay")
        .child(&[Field::str("shard", "s1")])
        .unwrap();
    let charged = log
        .site(
            Level::INFO,
            "charged",
            &[("i", Kind::U64), ("who", Kind::Str)],
        )
        .unwrap();
    for i in 0..500u64 {
        charged.log(&[Value::U64(i), Value::Str(b"bob")]).unwrap();
    }
    // A site dropped before the kill: its definition stays until the
    // flusher drains its records, so recovery still names it.
    let once = log.site(Level::ERROR, "once", &[("n", Kind::I64)]).unwrap();
    once.log(&[Value::I64(-1)]).unwrap();
    drop(once);
    // SAFETY: kill on our own pid has no memory effects.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    unreachable!("SIGKILL")
}

#[test]
fn site_records_of_a_killed_process_are_recovered_with_message_and_keys() {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d));
    }
    let d = tempfile::tempdir().unwrap();
    let st = Command::new(std::env::current_exe().unwrap())
        .args([
            "site_records_of_a_killed_process_are_recovered_with_message_and_keys",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, d.path())
        .status()
        .unwrap();
    assert_eq!(st.signal(), Some(libc::SIGKILL), "child ended by {st:?}");
    let (rt, out) = common::start_in(&d.path().join("rings"));
    rt.flush(WAIT).unwrap();
    let before = std::fs::read(d.path().join("before.log")).unwrap_or_default();
    let before = common::parse_lines(
        &before[..before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)],
    );
    let after = common::parse_lines(&out.lock().unwrap());
    let mut seen = vec![0u32; 500];
    let mut once = 0;
    for v in before.iter().chain(after.iter()) {
        match v["msg"].as_str() {
            Some("charged") => {
                assert_eq!(v["who"], "bob");
                assert_eq!(v["shard"], "s1");
                assert_eq!(v["logger"], "pay");
                assert_eq!(v["level"], "info");
                seen[v["i"].as_u64().unwrap() as usize] += 1;
            }
            Some("once") => {
                assert_eq!(
                    (v["n"].as_i64(), v["level"].as_str()),
                    (Some(-1), Some("error"))
                );
                once += 1;
            }
            _ => {}
        }
    }
    // The dead process flushed nothing itself (its flusher slept), so
    // every record comes from recovery, each once.
    assert!(before.iter().all(|v| v["msg"] != "charged"));
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    assert_eq!(once, 1);
    assert!(after
        .iter()
        .filter(|v| v["msg"] == "charged")
        .all(|v| v["recovered"] == true));
    assert_eq!(rt.stats().recovery_bad_frames, 0);
    rt.shutdown(WAIT).unwrap();
}
