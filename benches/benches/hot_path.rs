//! Hot path: one C-ABI `ringlog_log` call with a message and three fields
//! (str, i64, f64), and the same record through a registered call site
//! (`ringlog_log_site` with three values), measured the way Quill's benchmark does: batches of 20
//! calls timed as a batch, a pause between batches so the flusher keeps up,
//! and percentiles of the per-call time. The run asserts that nothing was
//! dropped, so it measures logging, not the drop path.
//!
//! `cargo bench -p ringlog-benches --bench hot_path`

use criterion::{criterion_group, criterion_main, Criterion};
use ringlog_benches::percentiles;
use ringlog_ffi::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCH: u32 = 20;

fn fields(user: &[u8], status: i64, latency: f64) -> [ringlog_field; 3] {
    [
        ringlog_field {
            key: b"user".as_ptr().cast(),
            key_len: 4,
            r#type: RINGLOG_FIELD_STR,
            value: ringlog_value {
                str: ringlog_bytes {
                    ptr: user.as_ptr().cast(),
                    len: user.len(),
                },
            },
        },
        ringlog_field {
            key: b"status".as_ptr().cast(),
            key_len: 6,
            r#type: RINGLOG_FIELD_I64,
            value: ringlog_value { i64: status },
        },
        ringlog_field {
            key: b"latency_ms".as_ptr().cast(),
            key_len: 10,
            r#type: RINGLOG_FIELD_F64,
            value: ringlog_value { f64: latency },
        },
    ]
}

fn init() -> *mut ringlog_logger {
    let dir = std::env::temp_dir().join(format!("ringlog-bench-{}", std::process::id()));
    let cfg = format!(
        r#"{{"ring_dir": {:?}, "ring_capacity": 4194304, "full_policy": "drop",
            "sinks": {{"null": {{"type": "file", "path": "/dev/null"}}}}}}"#,
        dir
    );
    // SAFETY: valid pointers and lengths.
    unsafe {
        assert_eq!(ringlog_init(cfg.as_ptr().cast(), cfg.len()), RINGLOG_OK);
        let mut l = std::ptr::null_mut();
        assert_eq!(
            ringlog_logger_get(b"bench".as_ptr().cast(), 5, &mut l),
            RINGLOG_OK
        );
        l
    }
}

fn stats() -> ringlog_stats {
    let mut s = ringlog_stats::default();
    // SAFETY: valid out-pointer.
    unsafe { ringlog_stats_get(&mut s) };
    s
}

#[inline(always)]
fn log_one(l: *const ringlog_logger, f: &[ringlog_field; 3]) {
    let msg = b"request handled";
    // SAFETY: valid logger, message and fields.
    let rc = unsafe {
        ringlog_log(
            l,
            RINGLOG_LEVEL_INFO,
            msg.as_ptr().cast(),
            msg.len(),
            f.as_ptr(),
            3,
        )
    };
    black_box(rc);
}

/// The same record as a call site registered once: message and keys.
fn site(l: *const ringlog_logger) -> *mut ringlog_site {
    let key = |k: &'static [u8], t| ringlog_site_key {
        key: k.as_ptr().cast(),
        key_len: k.len(),
        r#type: t,
    };
    let keys = [
        key(b"user", RINGLOG_FIELD_STR),
        key(b"status", RINGLOG_FIELD_I64),
        key(b"latency_ms", RINGLOG_FIELD_F64),
    ];
    let msg = b"request handled";
    let mut s = std::ptr::null_mut();
    // SAFETY: valid logger, message, keys and out-pointer.
    let rc = unsafe {
        ringlog_site_new(
            l,
            RINGLOG_LEVEL_INFO,
            msg.as_ptr().cast(),
            msg.len(),
            keys.as_ptr(),
            3,
            &mut s,
        )
    };
    assert_eq!(rc, RINGLOG_OK);
    s
}

fn values(user: &[u8], status: i64, latency: f64) -> [ringlog_value; 3] {
    [
        ringlog_value {
            str: ringlog_bytes {
                ptr: user.as_ptr().cast(),
                len: user.len(),
            },
        },
        ringlog_value { i64: status },
        ringlog_value { f64: latency },
    ]
}

#[inline(always)]
fn log_site_one(s: *const ringlog_site, v: &[ringlog_value; 3]) {
    // SAFETY: valid site and values.
    black_box(unsafe { ringlog_log_site(s, v.as_ptr(), 3) });
}

/// One way of logging the common record, given the status to log.
#[derive(Clone, Copy)]
enum Call {
    Fields(*const ringlog_logger),
    Site(*const ringlog_site),
}

/// Times `batches` batches of 20 calls; returns ns per call for each batch.
fn paced_batches(call: Call, batches: usize, pause: Duration) -> Vec<f64> {
    let user = b"alice";
    let mut out = Vec::with_capacity(batches);
    for b in 0..batches {
        let status = 200 + (b % 5) as i64;
        let dt = match call {
            Call::Fields(l) => {
                let f = fields(user, status, 12.5);
                let t0 = Instant::now();
                for _ in 0..BATCH {
                    log_one(l, &f);
                }
                t0.elapsed()
            }
            Call::Site(s) => {
                let v = values(user, status, 12.5);
                let t0 = Instant::now();
                for _ in 0..BATCH {
                    log_site_one(s, &v);
                }
                t0.elapsed()
            }
        };
        out.push(dt.as_nanos() as f64 / BATCH as f64);
        let until = Instant::now() + pause;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    out
}

fn clock_cost_ns(clock: fn() -> u64) -> f64 {
    let n = 2_000_000;
    let t0 = Instant::now();
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(clock());
    }
    black_box(acc);
    t0.elapsed().as_nanos() as f64 / n as f64
}

fn bench(c: &mut Criterion) {
    let l = init();
    let s = site(l);
    let before = stats();
    // Warm up: the first record creates this thread's ring, and 300 ms of
    // logging lets the flusher calibrate the producers' clock.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(300) {
        paced_batches(Call::Fields(l), 100, Duration::from_micros(20));
        paced_batches(Call::Site(s), 100, Duration::from_micros(20));
    }

    let mut g = c.benchmark_group("hot_path");
    for (name, call) in [
        ("ringlog_log_3_fields_batch20_paced", Call::Fields(l)),
        ("ringlog_log_site_3_values_batch20_paced", Call::Site(s)),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters.div_ceil(BATCH as u64) {
                    let per_call = paced_batches(call, 1, Duration::from_micros(20));
                    total += Duration::from_nanos((per_call[0] * BATCH as f64) as u64);
                }
                total
            })
        });
    }
    g.bench_function("level_off_check", |b| {
        b.iter(|| {
            // SAFETY: a valid logger.
            black_box(unsafe { ringlog_logger_enabled(l, RINGLOG_LEVEL_DEBUG) })
        })
    });
    g.bench_function("clock_gettime_realtime", |b| {
        b.iter(|| black_box(ringlog::os::now_ns()))
    });
    g.bench_function("producer_clock", |b| {
        b.iter(|| black_box(ringlog::clock::now_ns()))
    });
    g.finish();

    // Percentiles over 200,000 paced batches (4 M calls) of each kind of
    // call, alternating in rounds of 10,000 batches so that both see the
    // same moments of a noisy machine.
    let (mut plain, mut sited) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        plain.extend(paced_batches(
            Call::Fields(l),
            10_000,
            Duration::from_micros(20),
        ));
        sited.extend(paced_batches(
            Call::Site(s),
            10_000,
            Duration::from_micros(20),
        ));
    }
    let p = percentiles(&mut plain);
    let q = percentiles(&mut sited);
    // SAFETY: no other thread uses ringlog here.
    unsafe { ringlog_flush(10_000) };
    let after = stats();
    let realtime = clock_cost_ns(ringlog::os::now_ns);
    let clock = clock_cost_ns(ringlog::clock::now_ns);
    for (name, p) in [
        ("ringlog_log (3 keyed fields)", &p),
        ("ringlog_log_site (3 values)", &q),
    ] {
        println!(
            "{name}: ns per call, batches of {BATCH}, 20 us pause: p50 {:.1}  p99 {:.1}  p99.9 {:.1}  mean {:.1}",
            p.p50, p.p99, p.p999, p.mean
        );
    }
    println!(
        "producer clock (ringlog::clock::now_ns): {clock:.1} ns = {:.0}% of the median keyed call, {:.0}% of the median site call; clock_gettime(CLOCK_REALTIME): {realtime:.1} ns",
        100.0 * clock / p.p50,
        100.0 * clock / q.p50
    );
    println!(
        "records logged {} dropped {} written {}",
        after.logged - before.logged,
        after.dropped_full - before.dropped_full,
        after.written - before.written
    );
    assert_eq!(
        after.dropped_full, before.dropped_full,
        "records were dropped while measuring"
    );
    // SAFETY: end of the run.
    unsafe {
        ringlog_site_free(s);
        ringlog_shutdown()
    };
}

criterion_group!(benches, bench);
criterion_main!(benches);
