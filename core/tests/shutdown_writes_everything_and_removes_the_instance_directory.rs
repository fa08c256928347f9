mod common;
use ringlog::{Field, LogError};
use std::time::Duration;

#[test]
fn shutdown_writes_everything_and_removes_the_instance_directory() {
    let h = common::start(|c| c.flush_interval_ms = 60_000);
    let log = h.rt.logger("app");
    let t = {
        let log = log.clone();
        std::thread::spawn(move || {
            for i in 0..10_000 {
                log.info("bg", &[Field::i64("i", i)]).unwrap();
            }
        })
    };
    for i in 0..10_000 {
        log.info("fg", &[Field::i64("i", i)]).unwrap();
    }
    t.join().unwrap();
    let dir = h.rt.instance_dir().to_path_buf();
    assert!(dir.join("lock").exists());
    h.rt.shutdown(common::WAIT).unwrap();
    assert_eq!(h.with_msg("fg").len(), 10_000);
    assert_eq!(h.with_msg("bg").len(), 10_000);
    assert!(
        !dir.exists(),
        "a clean shutdown leaves no instance directory"
    );
}

#[test]
fn logging_after_shutdown_is_refused_and_counted() {
    let h = common::start(|_| {});
    let log = h.rt.logger("app");
    log.info("before", &[]).unwrap();
    h.rt.shutdown(common::WAIT).unwrap();
    assert_eq!(log.info("after", &[]), Err(LogError::Shutdown));
    assert_eq!(
        h.rt.logger("new").info("after", &[]),
        Err(LogError::Shutdown)
    );
    assert_eq!(h.rt.stats().rejected_shutdown, 2);
    assert!(h.rt.flush(Duration::from_millis(100)).is_err());
    // A second shutdown is a no-op.
    h.rt.shutdown(common::WAIT).unwrap();
    assert_eq!(h.with_msg("before").len(), 1);
    assert_eq!(h.with_msg("after").len(), 0);
}
