mod common;
use ringlog::{Field, FullPolicy, LogError};

#[test]
fn the_block_policy_waits_for_space_and_loses_nothing() {
    let h = common::start(|c| {
        c.ring_capacity = 4096;
        c.full_policy = FullPolicy::Block;
        c.block_timeout_ms = 10_000;
    });
    let log = h.rt.logger("app");
    for i in 0..20_000u64 {
        log.info(
            "r",
            &[Field::u64("i", i), Field::str("pad", "xxxxxxxxxxxxxxxx")],
        )
        .unwrap();
    }
    h.flush();
    assert_eq!(h.with_msg("r").len(), 20_000);
    assert_eq!(h.rt.stats().dropped_full, 0);
}

#[test]
fn the_default_policy_blocks_for_warn_and_drops_below() {
    let (h, gate, log) = common::start_stuck(FullPolicy::Default, 30_000);
    while log.info("fill", &[]).is_ok() {}
    // INFO is dropped at once; WARN waits: open the gate while it waits.
    assert_eq!(log.info("info", &[]), Err(LogError::Full));
    let g = gate.clone();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        common::open_gate(&g);
    });
    assert_eq!(log.warn("warn", &[]), Ok(()));
    opener.join().unwrap();
    h.flush();
    assert_eq!(h.with_msg("warn").len(), 1);
    assert_eq!(h.with_msg("info").len(), 0);
}

#[test]
fn a_blocked_record_is_dropped_and_counted_after_the_timeout() {
    let (h, gate, log) = common::start_stuck(FullPolicy::Block, 20);
    let mut n = 0;
    while log.error("fill", &[]).is_ok() {
        n += 1;
    }
    assert!(n > 0);
    assert_eq!(h.rt.stats().dropped_full, 1);
    common::open_gate(&gate);
    h.flush();
}
