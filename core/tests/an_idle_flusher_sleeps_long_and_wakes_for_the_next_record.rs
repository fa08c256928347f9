mod common;
use std::time::{Duration, Instant};

#[test]
fn an_idle_flusher_wakes_for_the_next_record() {
    // A long idle interval: only the producer's wake-up can write the
    // record quickly.
    let h = common::start(|c| {
        c.flush_interval_ms = 5;
        c.idle_interval_ms = 30_000;
    });
    let log = h.rt.logger("app");
    log.info("warm", &[]).unwrap();
    h.flush();
    std::thread::sleep(Duration::from_millis(400)); // well past going idle
    let t0 = Instant::now();
    log.info("after idle", &[]).unwrap();
    while h.with_msg("after idle").is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the record waited for the idle interval"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn flush_and_shutdown_wake_an_idle_flusher() {
    let h = common::start(|c| c.idle_interval_ms = 60_000);
    let log = h.rt.logger("app");
    std::thread::sleep(Duration::from_millis(300));
    log.info("one", &[]).unwrap();
    h.flush();
    assert_eq!(h.with_msg("one").len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    log.info("two", &[]).unwrap();
    let t0 = Instant::now();
    h.rt.shutdown(common::WAIT).unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(h.with_msg("two").len(), 1);
}
