//! A process killed with SIGKILL leaves its unwritten records in its ring
//! files; the next start (or `recover_to`) writes them out, once, marked
//! `recovered`, with their logger names and bound fields, and skips and
//! counts whatever is damaged.

mod common;
use ringlog::encode::json::{JsonEncoder, JsonOptions};
use ringlog::recover::{recover_to, Options};
use ringlog::sink::memory::MemorySink;
use ringlog::{Config, Field, Runtime};
use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "RINGLOG_TEST_RECOVERY_CHILD";
const WAIT: Duration = Duration::from_secs(10);

/// Runs this test binary again as the child half of test `name`, which
/// logs into `dir` and kills itself.
fn run_child(name: &str, dir: &Path) {
    let st = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir)
        .status()
        .unwrap();
    assert_eq!(st.signal(), Some(libc::SIGKILL), "child ended by {st:?}");
}

/// The child half: a runtime whose flusher only runs when woken, records
/// from two threads, then SIGKILL.
fn child(dir: &Path, main_n: u64, other_n: u64) -> ! {
    let cfg = common::with_file_sink(
        Config {
            ring_dir: Some(dir.join("rings")),
            flush_interval_ms: 60_000,
            idle_interval_ms: 60_000,
            ..Config::default()
        },
        &dir.join("before.log"),
    );
    let rt = Runtime::start(cfg).unwrap();
    // Let the flusher's first cycles pass (the flush, and the wake-up its
    // unpark may leave behind), so what follows stays in the rings: from
    // here on nothing wakes the flusher for a minute. The flushed record
    // keeps it from going idle (after 100 ms of empty cycles, when the
    // next record would wake it), however late the flush comes.
    rt.logger("warm").info("warm-up", &[]).unwrap();
    rt.flush(WAIT).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let api = rt.logger("api").child(&[Field::str("req", "r-1")]).unwrap();
    for i in 0..main_n {
        api.info("main", &[Field::u64("i", i), Field::str("who", "main")])
            .unwrap();
    }
    let db = rt.logger("db");
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..other_n {
                db.warn("other", &[Field::u64("i", i)]).unwrap();
            }
            // Keep the thread (and its ring) alive: its exit would wake
            // the flusher.
            // SAFETY: kill on our own pid has no memory effects.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        });
    });
    unreachable!("SIGKILL")
}

fn child_role(main_n: u64, other_n: u64) -> bool {
    if let Some(d) = std::env::var_os(CHILD) {
        child(Path::new(&d), main_n, other_n);
    }
    false
}

use common::parse_lines as parse;

/// The dead process's own output: whole lines, and at the end, if it was
/// killed inside a write, one cut line (left out).
fn parse_cut(bytes: &[u8]) -> Vec<Value> {
    let whole = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => &bytes[..=i],
        None => &[][..],
    };
    parse(whole)
}

fn instances(rings: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(rings) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn records_left_in_a_killed_process_come_out_once_at_the_next_start() {
    const MAIN: u64 = 700;
    const OTHER: u64 = 300;
    if child_role(MAIN, OTHER) {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    run_child(
        "records_left_in_a_killed_process_come_out_once_at_the_next_start",
        d.path(),
    );
    let rings = d.path().join("rings");
    assert_eq!(instances(&rings).len(), 1, "the dead instance is left");

    let (rt, out) = common::start_in(&rings);
    rt.logger("new").info("after recovery", &[]).unwrap();
    rt.flush(WAIT).unwrap();
    let after = parse(&out.lock().unwrap());
    let before = parse_cut(&std::fs::read(d.path().join("before.log")).unwrap_or_default());

    // Every record exactly once across the dead process's own output and
    // the recovered output, except in one documented window: killed
    // between writing a batch and releasing its ring space, the process
    // leaves records that are both written and recovered. Those copies
    // have the same (ring, seq), so they can be told apart and dropped.
    let key = |v: &Value| (v["ring"].as_u64().unwrap(), v["seq"].as_u64().unwrap());
    let written: std::collections::HashSet<_> = before.iter().map(key).collect();
    let mut seen: HashMap<(String, u64), u32> = HashMap::new();
    let mut recovered = 0u64;
    let mut twice = 0u64;
    for (k, v) in before.iter().chain(after.iter()).enumerate() {
        let msg = v["msg"].as_str().unwrap().to_string();
        if msg == "main" || msg == "other" {
            if k >= before.len() && written.contains(&key(v)) {
                twice += 1;
                continue;
            }
            *seen.entry((msg, v["i"].as_u64().unwrap())).or_default() += 1;
        }
    }
    if twice > 0 {
        eprintln!("{twice} records were written and also recovered (killed mid-flush)");
    }
    for i in 0..MAIN {
        assert_eq!(seen.get(&("main".into(), i)), Some(&1), "main {i}");
    }
    for i in 0..OTHER {
        assert_eq!(seen.get(&("other".into(), i)), Some(&1), "other {i}");
    }
    // Recovered records are marked, keep their logger and bound fields,
    // come before the new process's records, and each ring is in order.
    let mut last_seq: HashMap<u64, u64> = HashMap::new();
    let new_at = after
        .iter()
        .position(|v| v["msg"] == "after recovery")
        .unwrap();
    for (k, v) in after.iter().enumerate() {
        let msg = v["msg"].as_str().unwrap();
        if msg != "main" && msg != "other" {
            continue;
        }
        recovered += 1;
        assert!(k < new_at, "recovered records come first");
        assert_eq!(v["recovered"], true);
        if msg == "main" {
            assert_eq!(v["logger"], "api");
            assert_eq!(v["req"], "r-1");
            assert_eq!(v["level"], "info");
        } else {
            assert_eq!(v["logger"], "db");
            assert_eq!(v["level"], "warn");
        }
        let ring = v["ring"].as_u64().unwrap();
        let seq = v["seq"].as_u64().unwrap();
        if let Some(prev) = last_seq.insert(ring, seq) {
            assert!(seq > prev, "ring {ring}: seq {seq} after {prev}");
        }
    }
    assert!(recovered > 0, "the dead process left records to recover");
    assert!(after[new_at].get("recovered").is_none());
    let note = after
        .iter()
        .find(|v| v["msg"] == "recovered records of a dead process")
        .expect("a summary note");
    assert_eq!(note["records"].as_u64(), Some(recovered));
    let st = rt.stats();
    assert_eq!(st.recovered, recovered);
    assert_eq!(st.recovered_instances, 1);
    assert_eq!((st.recovery_bad_frames, st.recovery_bad_files), (0, 0));
    // The dead instance is gone; only our own remains.
    assert_eq!(instances(&rings), vec![rt.instance_dir().to_path_buf()]);
    rt.shutdown(WAIT).unwrap();
}

/// Kills a child that logged `n` records on one thread and returns the
/// dead instance's directory.
fn dead_instance(test: &str, d: &Path) -> PathBuf {
    run_child(test, d);
    let mut v = instances(&d.join("rings"));
    assert_eq!(v.len(), 1);
    v.pop().unwrap()
}

fn recover_json(rings: &Path, keep: bool) -> (ringlog::recover::Report, Vec<Value>) {
    let mut enc = JsonEncoder::new(JsonOptions::default());
    let mut out = Vec::new();
    let rep = recover_to(
        &Options {
            ring_dir: rings.to_path_buf(),
            keep,
            skip: None,
        },
        &mut enc,
        &mut out,
    )
    .unwrap();
    (rep, parse(&out))
}

#[test]
fn damaged_ring_and_metadata_files_are_skipped_and_counted_and_good_records_still_come_out() {
    if child_role(400, 0) {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let inst = dead_instance(
        "damaged_ring_and_metadata_files_are_skipped_and_counted_and_good_records_still_come_out",
        d.path(),
    );
    let ring0 = inst.join("ring-0");
    let good = std::fs::read(&ring0).unwrap();
    // Files that are not rings, each skipped with its reason.
    let bad = |name: &str, bytes: &[u8]| std::fs::write(inst.join(name), bytes).unwrap();
    bad("ring-90", b"");
    let mut wrong_magic = good.clone();
    wrong_magic[0] ^= 1;
    bad("ring-91", &wrong_magic);
    bad("ring-92", &good[..5000]);
    let mut wrong_version = good.clone();
    wrong_version[8] = 99;
    bad("ring-93", &wrong_version);
    bad("ring-94", &vec![0xA5; 8192]);
    // A FIFO and a symlink at ring paths are refused, not opened.
    let fifo = std::ffi::CString::new(inst.join("ring-95").to_str().unwrap()).unwrap();
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink(&ring0, inst.join("ring-96")).unwrap();

    // Damage inside ring 0: flip bits in the body of its record 200, and
    // keep an intact copy as ring 1 to compare against.
    let mut copy = good.clone();
    copy[28..32].copy_from_slice(&1u32.to_ne_bytes()); // header ring_id
    std::fs::write(inst.join("ring-1"), &copy).unwrap();
    // The ring's first frame is the child's flushed warm-up record; then
    // "main" 0, 1, ...
    let mut at = 4096;
    for _ in 0..201 {
        let w0 = u32::from_ne_bytes(good[at..at + 4].try_into().unwrap());
        at += 8 + (w0 as usize & 0x0fff_ffff).div_ceil(8) * 8;
    }
    let mut hit = good.clone();
    hit[at + 8 + 20] ^= 0xff;
    hit[at + 8 + 21] ^= 0x10;
    std::fs::write(&ring0, &hit).unwrap();
    // The metadata file loses its tail (the last definition cut short).
    let meta = inst.join("meta");
    let m = std::fs::read(&meta).unwrap();
    std::fs::write(&meta, &m[..m.len() - 3]).unwrap();

    let (rep, lines) = recover_json(&d.path().join("rings"), false);
    assert_eq!(rep.instances, 1);
    assert_eq!(rep.bad_files, 8, "{:#?}", rep.problems);
    assert_eq!(rep.bad_frames, 1, "{:#?}", rep.problems);
    for why in [
        "empty file",
        "wrong magic",
        "truncated",
        "version",
        "not a regular file",
        "metadata",
    ] {
        assert!(
            rep.problems.iter().any(|p| p.contains(why)),
            "{why}: {:#?}",
            rep.problems
        );
    }
    // The intact copy gives all 400; the damaged ring all but the one hit.
    let mut per_ring: HashMap<u64, Vec<u64>> = HashMap::new();
    for v in &lines {
        if v["msg"] == "main" {
            assert_eq!(v["recovered"], true);
            per_ring
                .entry(v["ring"].as_u64().unwrap())
                .or_default()
                .push(v["i"].as_u64().unwrap());
        }
    }
    let all: Vec<u64> = (0..400).collect();
    assert_eq!(per_ring.values().filter(|v| **v == all).count(), 1);
    let damaged = per_ring.values().find(|v| **v != all).unwrap();
    assert_eq!(damaged.len(), 399);
    assert!(!damaged.contains(&200));
    // One note per damaged file, and the instance is gone.
    let notes = lines
        .iter()
        .filter(|v| v["msg"] == "recovery skipped damaged data")
        .count();
    assert_eq!(notes, 9);
    assert!(!inst.exists());
}

#[test]
fn a_live_instance_is_never_touched_and_keep_leaves_a_dead_one_in_place() {
    if child_role(50, 0) {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let inst = dead_instance(
        "a_live_instance_is_never_touched_and_keep_leaves_a_dead_one_in_place",
        d.path(),
    );
    let rings = d.path().join("rings");
    let live = Runtime::builder(Config {
        ring_dir: Some(rings.clone()),
        recover_on_start: false,
        ..Config::default()
    })
    .replace_sinks()
    .sink("mem", Box::new(MemorySink::new().0))
    .start()
    .unwrap();
    live.logger("live").info("mine", &[]).unwrap();

    let (rep, lines) = recover_json(&rings, true);
    assert_eq!((rep.instances, rep.live, rep.records), (1, 1, 50));
    assert!(lines.iter().all(|v| v["msg"] != "mine"));
    assert!(inst.exists(), "--keep keeps it");
    // Recovered again (keep), then removed.
    let (rep, _) = recover_json(&rings, false);
    assert_eq!(rep.records, 50);
    assert!(!inst.exists());
    assert!(live.instance_dir().exists());
    live.shutdown(WAIT).unwrap();
}

/// A sink that writes each batch to a file and then kills the process:
/// the moment between a sink write and the release of the ring space.
struct KillAfterWrite(std::fs::File);

impl ringlog::sink::Sink for KillAfterWrite {
    fn write_batch(&mut self, buf: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.0.write_all(buf)?;
        // SAFETY: kill on our own pid has no memory effects.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        Ok(())
    }
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn records_killed_between_write_and_release_come_out_twice_with_the_same_ring_and_seq() {
    if let Some(d) = std::env::var_os(CHILD) {
        let d = PathBuf::from(d);
        let file = std::fs::File::create(d.join("before.log")).unwrap();
        let rt = Runtime::builder(Config {
            ring_dir: Some(d.join("rings")),
            flush_interval_ms: 60_000,
            idle_interval_ms: 60_000,
            ..Config::default()
        })
        .replace_sinks()
        .sink("kill", Box::new(KillAfterWrite(file)))
        .start()
        .unwrap();
        // Nothing to write yet: the sink is not called. From here on the
        // flusher sleeps until the flush below, so the batch is all 300.
        rt.flush(WAIT).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let log = rt.logger("api");
        for i in 0..300u64 {
            log.info("main", &[Field::u64("i", i)]).unwrap();
        }
        let _ = rt.flush(WAIT);
        unreachable!("the sink kills the process");
    }
    let d = tempfile::tempdir().unwrap();
    run_child(
        "records_killed_between_write_and_release_come_out_twice_with_the_same_ring_and_seq",
        d.path(),
    );
    let before = parse(&std::fs::read(d.path().join("before.log")).unwrap());
    let (rep, after) = recover_json(&d.path().join("rings"), false);
    let written: Vec<&Value> = before.iter().filter(|v| v["msg"] == "main").collect();
    let again: Vec<&Value> = after.iter().filter(|v| v["msg"] == "main").collect();
    assert_eq!(written.len(), 300, "the whole batch was written");
    assert_eq!(again.len(), 300, "and, never released, recovered too");
    assert_eq!(rep.records, 300);
    // Each copy matches its original on time, ring, seq and content, and
    // only the copy says `recovered`; (ring, seq) tells them apart from
    // every other record.
    for (a, b) in written.iter().zip(&again) {
        for k in ["time", "ring", "seq", "i", "logger", "msg", "level"] {
            let ka = if a.get(k).is_some() { k } else { "ts" };
            assert_eq!(a[ka], b[ka], "{k}");
        }
        assert!(a.get("recovered").is_none());
        assert_eq!(b["recovered"], true);
    }
    let keys: std::collections::HashSet<(u64, u64)> = written
        .iter()
        .map(|v| (v["ring"].as_u64().unwrap(), v["seq"].as_u64().unwrap()))
        .collect();
    assert_eq!(keys.len(), 300);
}

#[test]
fn a_ring_directory_others_can_write_is_refused_and_left_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let rings = d.path().join("rings");
    // Something shaped like a dead instance, in a directory anyone could
    // have written it into.
    let inst = rings.join("123-456-0123456789abcdef");
    std::fs::create_dir_all(&inst).unwrap();
    std::fs::write(inst.join("lock"), b"").unwrap();
    std::fs::set_permissions(&rings, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (rep, lines) = recover_json(&rings, false);
    assert_eq!((rep.instances, rep.records), (0, 0));
    assert!(
        rep.problems.iter().any(|p| p.contains("refused")),
        "{:?}",
        rep.problems
    );
    assert!(lines.is_empty());
    assert!(inst.exists(), "nothing deleted");
}
