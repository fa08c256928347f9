mod common;
use ringlog::Field;

#[test]
fn flush_returns_after_all_prior_records_are_written() {
    let h = common::start(|c| c.flush_interval_ms = 60_000);
    let log = h.rt.logger("app");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..5000 {
                    log.info("tick", &[Field::i64("t", t), Field::i64("i", i)])
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // The flusher interval is a minute: only the flush can have written these.
    h.flush();
    assert_eq!(h.with_msg("tick").len(), 20_000);
    let s = h.rt.stats();
    assert_eq!(s.logged, 20_000);
    assert_eq!(s.written, 20_000);
    assert_eq!(s.dropped_full, 0);
}

#[test]
fn each_thread_keeps_its_own_sequence_and_order() {
    let h = common::start(|_| {});
    let log = h.rt.logger("app");
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..3000 {
                    log.info("n", &[Field::i64("t", t), Field::i64("i", i)])
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    h.flush();
    let mut next = std::collections::HashMap::new();
    for v in h.with_msg("n") {
        let t = v["t"].as_i64().unwrap();
        let e = next.entry(t).or_insert(0i64);
        assert_eq!(v["i"].as_i64().unwrap(), *e, "thread {t} out of order");
        assert_eq!(
            v["seq"].as_i64().unwrap(),
            *e,
            "seq follows the thread's records"
        );
        *e += 1;
    }
    assert_eq!(next.values().sum::<i64>(), 9000);
}
