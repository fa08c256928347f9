//! Many runtimes starting and stopping at once in one ring directory,
//! each recovering at start: none sees another's instance as dead, none
//! fails to start, and none writes recovery notes about the others.
use ringlog::sink::memory::MemorySink;
use ringlog::{Config, Runtime};
use std::time::Duration;

#[test]
fn concurrent_starts_in_one_ring_directory_never_disturb_each_other() {
    let d = tempfile::tempdir().unwrap();
    let rings = d.path().join("rings");
    std::thread::scope(|s| {
        for t in 0..6 {
            let rings = rings.clone();
            s.spawn(move || {
                for k in 0..40 {
                    let (sink, out) = MemorySink::new();
                    let rt = Runtime::builder(Config {
                        ring_dir: Some(rings.clone()),
                        ..Config::default()
                    })
                    .replace_sinks()
                    .sink("mem", Box::new(sink))
                    .start()
                    .unwrap_or_else(|e| panic!("start {t}/{k}: {e}"));
                    rt.logger("w").info("hello", &[]).unwrap();
                    rt.shutdown(Duration::from_secs(10)).unwrap();
                    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
                    assert_eq!(text.lines().count(), 1, "{t}/{k}: {text}");
                    assert!(text.contains("hello"));
                    let st = rt.stats();
                    assert_eq!(
                        (st.recovered_instances, st.recovery_bad_files),
                        (0, 0),
                        "{t}/{k}"
                    );
                }
            });
        }
    });
    assert_eq!(std::fs::read_dir(&rings).unwrap().count(), 0);
}
