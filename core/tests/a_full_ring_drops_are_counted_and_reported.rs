mod common;
use ringlog::{Field, FullPolicy, LogError};

#[test]
fn a_full_ring_drops_are_counted_and_reported() {
    // The flusher is stuck in the gated sink, so the 4 KiB ring fills.
    let (h, gate, log) = common::start_stuck(FullPolicy::Drop, 100);
    let mut ok = 0u64;
    let mut dropped = Vec::new();
    for i in 0..500u64 {
        match log.info("r", &[Field::u64("i", i)]) {
            Ok(()) => ok += 1,
            Err(LogError::Full) => dropped.push(i + 1), // seq = i + 1 ("first" is 0)
            Err(e) => panic!("{e}"),
        }
    }
    assert!(!dropped.is_empty(), "the ring never filled");
    common::open_gate(&gate);
    h.flush();
    // The next record after space returns carries the drop report in-band.
    log.info("after", &[]).unwrap();
    h.flush();
    let s = h.rt.stats();
    assert_eq!(s.dropped_full, dropped.len() as u64);
    assert_eq!(s.logged, ok + 2);
    let reports = h.with_msg("ring full: records dropped");
    let total: u64 = reports.iter().map(|r| r["dropped"].as_u64().unwrap()).sum();
    assert_eq!(total, dropped.len() as u64, "reports: {reports:?}");
    assert_eq!(reports[0]["logger"], "ringlog");
    assert_eq!(reports[0]["level"], "warn");
    assert_eq!(reports[0]["first_seq"].as_u64().unwrap(), dropped[0]);
    assert_eq!(
        reports.last().unwrap()["last_seq"].as_u64().unwrap(),
        *dropped.last().unwrap()
    );
    // Every sequence number is either written or inside a reported range.
    let written: std::collections::HashSet<u64> = h
        .lines()
        .iter()
        .filter(|v| v["logger"] == "app")
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    for seq in 0..=501u64 {
        let in_report = reports.iter().any(|r| {
            (r["first_seq"].as_u64().unwrap()..=r["last_seq"].as_u64().unwrap()).contains(&seq)
        });
        assert!(
            written.contains(&seq) ^ in_report,
            "seq {seq} written={} reported={in_report}",
            written.contains(&seq)
        );
    }
}

#[test]
fn drops_of_an_exited_thread_are_still_reported() {
    // The flusher is stuck in the gated sink, so the 4 KiB ring fills.
    let (h, gate, log) = common::start_stuck(FullPolicy::Drop, 100);
    let l2 = log.clone();
    let n = std::thread::spawn(move || {
        (0..300u64)
            .filter(|i| l2.info("r", &[Field::u64("i", *i)]).is_err())
            .count() as u64
    })
    .join()
    .unwrap();
    assert!(n > 0);
    common::open_gate(&gate);
    h.flush();
    h.flush();
    let total: u64 = h
        .with_msg("ring full: records dropped")
        .iter()
        .map(|r| r["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(total, n);
    assert_eq!(h.rt.stats().dropped_full, n);
}
