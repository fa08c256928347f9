mod common;
use ringlog::{Field, Level, TraceContext};

#[test]
fn records_from_several_threads_are_merged_by_timestamp() {
    // The flusher is held in the gated sink while three threads log, so
    // their records are collected in one batch.
    let (sink, gate, out) = common::GatedSink::new();
    let h = common::start_with(|_| {}, Box::new(sink), out);
    let log = h.rt.logger("app");
    log.log_with(Level::INFO, 1, None, b"first", &[] as &[Field])
        .unwrap();
    common::wait_until_stuck(&gate);
    let base = 1_700_000_000_000_000_000u64;
    let ts_of = move |t: u64, i: u64| base + i * 10 + t;
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..100u64 {
                    log.log_with(Level::INFO, ts_of(t, i), None, b"m", &[Field::u64("t", t)])
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    common::open_gate(&gate);
    h.flush();
    let ts: Vec<String> = h
        .with_msg("m")
        .iter()
        .map(|v| v["ts"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ts.len(), 300);
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted, "one batch comes out in time order");
}

#[test]
fn a_clock_stepped_back_does_not_reorder_a_threads_records() {
    let h = common::start(|c| c.flush_interval_ms = 60_000);
    let log = h.rt.logger("app");
    let other = log.clone();
    std::thread::spawn(move || {
        other
            .log_with(Level::INFO, 1_500, None, b"other", &[] as &[Field])
            .unwrap()
    })
    .join()
    .unwrap();
    for (i, ts) in [2_000u64, 1_000, 3_000].iter().enumerate() {
        log.log_with(
            Level::INFO,
            *ts,
            None,
            b"mine",
            &[Field::u64("i", i as u64)],
        )
        .unwrap();
    }
    h.flush();
    let mine: Vec<u64> = h
        .with_msg("mine")
        .iter()
        .map(|v| v["i"].as_u64().unwrap())
        .collect();
    assert_eq!(mine, vec![0, 1, 2]);
}

#[test]
fn the_trace_context_comes_from_the_call_or_the_thread() {
    let h = common::start(|_| {});
    let log = h.rt.logger("app");
    let a = TraceContext::new([0xaa; 16], [0xbb; 8], 1).unwrap();
    let b =
        TraceContext::parse_traceparent(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
            .unwrap();
    ringlog::context::set_current(Some(a));
    log.info("thread", &[]).unwrap();
    log.log_with(Level::INFO, 0, Some(&b), b"call", &[] as &[Field])
        .unwrap();
    ringlog::context::clear_current();
    log.info("none", &[]).unwrap();
    h.flush();
    let t = &h.with_msg("thread")[0];
    assert_eq!(t["trace_id"], "aa".repeat(16));
    assert_eq!(t["span_id"], "bb".repeat(8));
    assert_eq!(t["trace_flags"], "01");
    let c = &h.with_msg("call")[0];
    assert_eq!(c["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(c["trace_flags"], "00");
    assert!(h.with_msg("none")[0].get("trace_id").is_none());
}
