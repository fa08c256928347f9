//! Attaching the fatal-signal handler to one runtime, then another, again
//! and again, keeps one crash ring per runtime (its own process: the
//! handler, once installed, stays installed).
use ringlog::{Config, Runtime};

#[test]
fn attaching_the_handler_again_and_again_reuses_one_crash_ring_per_runtime() {
    let d = tempfile::tempdir().unwrap();
    let start = |name: &str| {
        Runtime::builder(Config {
            ring_dir: Some(d.path().join(name)),
            ..Config::default()
        })
        .replace_sinks()
        .sink("mem", Box::new(ringlog::sink::memory::MemorySink::new().0))
        .start()
        .unwrap()
    };
    let (a, b) = (start("a"), start("b"));
    for _ in 0..50 {
        ringlog::crash::install_for(&a).unwrap();
        ringlog::crash::install_for(&b).unwrap();
    }
    assert_eq!(a.stats().rings_active, 1);
    assert_eq!(b.stats().rings_active, 1);
    a.shutdown(std::time::Duration::from_secs(10)).unwrap();
    b.shutdown(std::time::Duration::from_secs(10)).unwrap();
}
